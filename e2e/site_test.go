//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// loadTimeout covers compiling two multi-megabyte wasm modules on a slow,
// shared CI machine.
const loadTimeout = 90 * time.Second

// The main page loads app.wasm, starts the worker, shows that the worker
// answered, and logs no error on the way.
func TestPageLoadsUIAndWorker(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.Navigate(t, srv.URL)

	want := "engine ready (" + runtime.Version() + ")"
	if got := p.WaitText(t, `.engine[data-state="ready"]`, want, loadTimeout); got != want {
		t.Errorf("engine status %q, want %q", got, want)
	}
	text := p.WaitText(t, ".playground", "DPO Playground", 5*time.Second)
	for _, s := range []string{"Direct Preference Optimization", "Everything runs in your browser; nothing is sent anywhere."} {
		if !strings.Contains(text, s) {
			t.Errorf("page text lacks %q:\n%s", s, text)
		}
	}
	if class, _ := p.Attribute(t, ".playground", "class"); class != "playground" {
		t.Errorf("class = %q, want the full-page layout", class)
	}
	p.Screenshot(t, "index.png")
	p.RequireNoErrors(t)
}

func TestEmbedPageLoadsCompact(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.Navigate(t, srv.URL+"embed.html")
	p.WaitText(t, `.engine[data-state="ready"]`, "engine ready (go", loadTimeout)
	if class, _ := p.Attribute(t, ".playground", "class"); class != "playground embed" {
		t.Errorf("class = %q, want the embed layout", class)
	}
	p.Screenshot(t, "embed.png")
	p.RequireNoErrors(t)
}

// A page on another origin can frame embed.html, and the browser refuses
// to frame the main page (frame-ancestors 'none').
func TestOnlyTheEmbedPageCanBeFramed(t *testing.T) {
	srv := StartServer(t)
	blog := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>a blog</title>
<iframe id="embed" src="%sembed.html" width="800" height="400"></iframe>
<iframe id="main" src="%s" width="800" height="400"></iframe>`, srv.URL, srv.URL)
	}))
	defer blog.Close()

	p := NewPage(t)
	p.Navigate(t, blog.URL)
	frames, err := chromedp.Run(p.Ctx, chromedp.Nodes(chromedp.CSS("#embed")))
	if err != nil || len(frames) != 1 {
		t.Fatalf("finding the embed iframe: %v (%d nodes)", err, len(frames))
	}
	status, err := chromedp.Run(p.Ctx, chromedp.Poll[string](
		`(() => { const el = document.querySelector('.engine[data-state="ready"]'); return el && el.textContent; })()`,
		chromedp.WithPollingInFrame(frames[0]), chromedp.WithPollingTimeout(loadTimeout)))
	if err != nil {
		t.Fatalf("the framed embed page did not get ready: %v; errors: %q", err, p.Errors())
	}
	if !strings.HasPrefix(status, "engine ready (go") {
		t.Errorf("framed embed page shows %q", status)
	}

	// The refusal of the main page reaches the console as an error.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var refused, other []string
		for _, e := range p.Errors() {
			if strings.Contains(e, "frame-ancestors") {
				refused = append(refused, e)
			} else {
				other = append(other, e)
			}
		}
		if len(refused) > 0 {
			for _, e := range refused {
				if strings.Contains(e, "embed") {
					t.Errorf("the embed page was refused too: %s", e)
				}
			}
			if len(other) > 0 {
				t.Errorf("unexpected errors: %q", other)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no frame-ancestors refusal of the main page; errors: %q", p.Errors())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
