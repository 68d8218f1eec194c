//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// A plain Playwright script drives the page: its string evaluations go
// through the page's window.eval, which app.js must hand to the browser.
func TestPlaywrightScriptDrivesThePage(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: install Node.js 20 or newer to run the Playwright test")
	}
	root := RepoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("playwright-core is not installed (npm ci installs it): %v", err)
	}
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not on PATH (./build.sh test installs it): %v", err)
	}
	srv := StartServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(root, "e2e", "testdata", "playwright-probe.mjs"), srv.URL, browser)
	cmd.Dir = root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the Playwright script failed: %v\n%s%s", err, out, stderr.String())
	}
	var got struct {
		Engine string  `json:"engine"`
		Sum    float64 `json:"sum"`
		Title  string  `json:"title"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("the script printed %q: %v", out, err)
	}
	if !strings.HasPrefix(got.Engine, "engine ready") || got.Sum != 7 || !strings.Contains(got.Title, "DPO Playground") {
		t.Errorf("the script read %+v, want the ready engine, 7 and the page title", got)
	}
}

// An evaluation as Playwright's utility script makes it (globalThis.eval of
// an expression, inside a DevTools evaluation) works, while eval from page
// code is still refused by the Content-Security-Policy.
func TestEvalAnswersAutomationNotPageCode(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.Navigate(t, srv.URL)
	p.WaitText(t, `.engine[data-state="ready"]`, "engine ready", loadTimeout)

	if got := Eval[float64](t, p, `globalThis.eval("window.__probe = 40 + 2, window.__probe")`); got != 42 {
		t.Errorf("globalThis.eval through DevTools = %v, want 42", got)
	}
	no, yes := false, true
	res, err := chromedp.Call(p.Ctx, runtime.Evaluate, runtime.EvaluateParams{
		Expression:                  `(() => { try { eval("1 + 1"); return "allowed"; } catch (e) { return e.name; } })()`,
		AllowUnsafeEvalBlockedByCSP: &no,
		ReturnByValue:               &yes,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExceptionDetails != nil {
		t.Fatalf("exception: %s", res.ExceptionDetails.Text)
	}
	if got := strings.Trim(string(res.Result.Value), `"`); got != "EvalError" {
		t.Errorf("eval from page code gave %q, want the policy's EvalError", got)
	}
}
