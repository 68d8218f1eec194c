//go:build e2e

// Package e2e holds the browser end-to-end tests: they serve the built site
// with the real server binary and drive it in headless Chromium through
// chromedp. The helpers here (StartServer, NewPage and Page's methods) are
// meant for every such test.
//
// Run with ./build.sh test, or after ./build.sh with
// go test -tags e2e ./e2e/... (the harness runs ./build.sh itself unless
// DPO_E2E_SKIP_BUILD=1).
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// RepoRoot is the repository root: the parent of this package's folder,
// where go test runs the tests.
func RepoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

var buildOnce struct {
	sync.Once
	err error
}

// EnsureBuilt runs ./build.sh once per test binary so public/ holds fresh
// wasm; build.sh test, which has just built, skips it with
// DPO_E2E_SKIP_BUILD=1.
func EnsureBuilt(t testing.TB) {
	t.Helper()
	if os.Getenv("DPO_E2E_SKIP_BUILD") == "1" {
		return
	}
	buildOnce.Do(func() {
		cmd := exec.Command("./build.sh")
		cmd.Dir = RepoRoot(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("./build.sh: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
}

// Server is the site served by the repository's own server binary.
type Server struct {
	// URL is the site's root, e.g. "http://127.0.0.1:41234/".
	URL string
	cmd *exec.Cmd
}

// StartServer builds the root package, serves public/ on a free loopback
// port and stops the server (SIGTERM, then SIGKILL) when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	EnsureBuilt(t)
	root := RepoRoot(t)
	bin := filepath.Join(t.TempDir(), "dpo-serve")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build of the server: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-dir", filepath.Join(root, "public"))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the server: %v", err)
	}
	s := &Server{cmd: cmd}
	t.Cleanup(s.stop)

	// The first line is "serving DIR on URL (Ctrl-C stops)".
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("the server printed no address: %v", lines.Err())
	}
	first := lines.Text()
	if i := strings.Index(first, "http://"); i >= 0 {
		s.URL = strings.Fields(first[i:])[0]
	}
	if s.URL == "" {
		t.Fatalf("no URL in the server's first line %q", first)
	}
	go func() { // keep reading so the server never blocks on a full pipe
		for lines.Scan() {
			t.Log("server:", lines.Text())
		}
	}()
	resp, err := http.Get(s.URL + "healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: %s", resp.Status)
	}
	return s
}

func (s *Server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// Page is one browser tab in its own headless Chromium, with the console
// errors and uncaught exceptions it has seen.
type Page struct {
	// Ctx is the chromedp context of the tab, for chromedp.Run and chromedp.Do.
	Ctx context.Context

	mu     sync.Mutex
	errors []string
}

// NewPage starts headless Chromium (found on PATH by chromedp) with a
// throw-away profile and closes it when the test ends.
func NewPage(t testing.TB) *Page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.NoSandbox, // CI runs the tests as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1200, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	p := &Page{Ctx: ctx}
	messages := chromedp.Console(ctx) // subscribes now, so nothing is missed
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				p.record(m)
			}
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v (is chromium installed? ./build.sh test installs it)", err)
	}
	return p
}

func (p *Page) record(m chromedp.ConsoleMessage) {
	msg := m.String()
	if m.Source != "" {
		msg = m.Source + " " + msg
	}
	if m.URL != "" {
		msg += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
	}
	p.mu.Lock()
	p.errors = append(p.errors, msg)
	p.mu.Unlock()
}

// Errors returns the console errors, failed loads, CSP violations and
// uncaught exceptions seen so far.
func (p *Page) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// RequireNoErrors fails the test if the page reported any error.
func (p *Page) RequireNoErrors(t testing.TB) {
	t.Helper()
	if errs := p.Errors(); len(errs) > 0 {
		t.Errorf("the page reported %d error(s):\n  %s", len(errs), strings.Join(errs, "\n  "))
	}
}

// Navigate opens url and waits for its load event.
func (p *Page) Navigate(t testing.TB, url string) {
	t.Helper()
	if err := chromedp.Do(p.Ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigating to %s: %v", url, err)
	}
}

// Eval evaluates a JavaScript expression in the page and decodes its value
// into a T, failing the test on an exception.
func Eval[T any](t testing.TB, p *Page, expression string) T {
	t.Helper()
	v, err := chromedp.Run(p.Ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expression, err)
	}
	return v
}

// element is what elementState reports of the first match of a selector.
type element struct {
	Found bool   `json:"found"`
	Text  string `json:"text"`
}

func elementState(selector string) string {
	return fmt.Sprintf(`(() => { const el = document.querySelector(%q);
		return el ? {found: true, text: el.textContent} : {found: false, text: ""}; })()`, selector)
}

// WaitText waits until the first element matching the CSS selector contains
// text, and returns the element's whole text. On timeout it fails the test
// with what the page shows and the errors it reported.
func (p *Page) WaitText(t testing.TB, selector, text string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last element
	for {
		el, err := chromedp.Run(p.Ctx, chromedp.Evaluate[element](elementState(selector)))
		if err == nil {
			last = el
			if el.Found && strings.Contains(el.Text, text) {
				return el.Text
			}
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(p.Ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("waited %v for %q in %s (found: %v, text: %q, last error: %v); the page shows:\n%s\nerrors: %q",
				timeout, text, selector, last.Found, last.Text, err, body, p.Errors())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Attribute returns the attribute name of the first element matching the
// CSS selector; ok is false when there is no such element or attribute.
func (p *Page) Attribute(t testing.TB, selector, name string) (value string, ok bool) {
	t.Helper()
	v := Eval[*string](t, p, fmt.Sprintf(`(() => { const el = document.querySelector(%q);
		return el ? el.getAttribute(%q) : null; })()`, selector, name))
	if v == nil {
		return "", false
	}
	return *v, true
}

// ScreenshotDir is where screenshots go: $DPO_E2E_SCREENSHOTS when set
// (build.sh test uses build/e2e/screenshots), else a folder removed after
// the test.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("DPO_E2E_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Screenshot saves the full page as PNG under ScreenshotDir and returns the
// file's path.
func (p *Page) Screenshot(t testing.TB, name string) string {
	t.Helper()
	png, err := chromedp.Run(p.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(ScreenshotDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// Click clicks the first element matching the CSS selector, as a person
// does (mouse events at its centre, after scrolling it into view).
func (p *Page) Click(t testing.TB, selector string) {
	t.Helper()
	// A click on a disabled button is lost without a word (as Playwright
	// knows, waiting for actionability): wait until it is enabled, e.g.
	// Step while the base model is still loading on a slow machine.
	p.WaitFor(t, selector+" to be enabled", fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && !el.disabled; })()`, selector), loadTimeout)
	if err := chromedp.Do(p.Ctx, chromedp.Click(chromedp.CSS(selector))); err != nil {
		t.Fatalf("clicking %s: %v; errors: %q", selector, err, p.Errors())
	}
}

// Type replaces the value of the input or textarea matching selector with
// text, the way typing or pasting does: it focuses the element, selects
// its content and inserts text, so the page sees the input events a
// person's edit causes.
func (p *Page) Type(t testing.TB, selector, text string) {
	t.Helper()
	found := Eval[bool](t, p, fmt.Sprintf(`(() => { const el = document.querySelector(%q);
		if (!el) return false; el.focus(); el.select(); return true; })()`, selector))
	if !found {
		t.Fatalf("no %s to type into", selector)
	}
	if text == "" {
		if err := chromedp.Do(p.Ctx, chromedp.KeyEvent(kbDelete)); err != nil {
			t.Fatalf("clearing %s: %v", selector, err)
		}
		return
	}
	if _, err := chromedp.Call(p.Ctx, input.InsertText, input.InsertTextParams{Text: text}); err != nil {
		t.Fatalf("typing into %s: %v", selector, err)
	}
}

// kbDelete is the Delete key, which clears a selection.
const kbDelete = "\u007f"

// Value returns the value property of the first element matching selector.
func (p *Page) Value(t testing.TB, selector string) string {
	t.Helper()
	v := Eval[*string](t, p, fmt.Sprintf(`(() => { const el = document.querySelector(%q);
		return el ? String(el.value) : null; })()`, selector))
	if v == nil {
		t.Fatalf("no %s", selector)
	}
	return *v
}

// Exists reports whether an element matches selector.
func (p *Page) Exists(t testing.TB, selector string) bool {
	t.Helper()
	return Eval[bool](t, p, fmt.Sprintf(`document.querySelector(%q) !== null`, selector))
}

// WaitFor polls a JavaScript expression until it is true, failing the test
// with what the page shows after timeout.
func (p *Page) WaitFor(t testing.TB, what, expression string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(p.Ctx, chromedp.Evaluate[bool](expression))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(p.Ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("waited %v for %s (%s; last error: %v); the page shows:\n%s\nerrors: %q",
				timeout, what, expression, err, body, p.Errors())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SetViewport gives the tab a viewport of width × height CSS pixels.
func (p *Page) SetViewport(t testing.TB, width, height int64) {
	t.Helper()
	if err := chromedp.Do(p.Ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("setting the viewport: %v", err)
	}
}

// RunBeforeScripts makes src run in every document the tab opens, before
// the page's own scripts (instrumentation such as PerformanceObservers).
func (p *Page) RunBeforeScripts(t testing.TB, src string) {
	t.Helper()
	if _, err := chromedp.Call(p.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		t.Fatalf("adding the instrumentation script: %v", err)
	}
}

// AllowDownloads saves the tab's downloads into dir under their own names.
func (p *Page) AllowDownloads(t testing.TB, dir string) {
	t.Helper()
	events := true
	if _, err := chromedp.CallBrowser(p.Ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, EventsEnabled: &events,
	}); err != nil {
		t.Fatalf("allowing downloads: %v", err)
	}
}

// WaitDownload waits until dir holds a complete file called name and
// returns its bytes.
func WaitDownload(t testing.TB, dir, name string, timeout time.Duration) []byte {
	t.Helper()
	deadline := time.Now().Add(timeout)
	path := filepath.Join(dir, name)
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			if _, err := os.Stat(path + ".crdownload"); os.IsNotExist(err) {
				return b
			}
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Fatalf("no download %s within %v; the folder holds %q", name, timeout, names)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SetFiles picks files (paths on this machine) in the file input matching
// selector, as a person choosing them in the file dialog; the input sees a
// change event.
func (p *Page) SetFiles(t testing.TB, selector string, paths ...string) {
	t.Helper()
	if err := chromedp.Do(p.Ctx, chromedp.SetUploadFiles(chromedp.CSS(selector), paths, chromedp.NodeReady)); err != nil {
		t.Fatalf("picking files in %s: %v", selector, err)
	}
}
