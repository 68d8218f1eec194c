//go:build e2e

package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// labelKey presses key with no element focused (the keys are page-wide)
// and waits for the panel to show a fresh offer (each pick asks for the
// next one).
func labelKey(t *testing.T, p *Page, key string) {
	t.Helper()
	before := Eval[string](t, p, `document.querySelector("#label-count").textContent`)
	Eval[bool](t, p, `(document.activeElement && document.activeElement.blur && document.activeElement.blur(), true)`)
	if err := chromedp.Do(p.Ctx, chromedp.KeyEvent(key)); err != nil {
		t.Fatalf("pressing %q: %v", key, err)
	}
	// Every key changes the count (a label more, or one undone); until it
	// has, the panel still shows the offer the key answered.
	p.WaitFor(t, "the count to change and a fresh offer after "+key,
		fmt.Sprintf(`document.querySelector("#label-count").textContent !== %q && document.querySelector("#label-panel").dataset.state === "offer"`, before), 30*time.Second)
}

// Issue 16's Label panel: a run set up by Step, four labels by keyboard
// (1, 2, T, space) and an undo (U, of the skip); the two chosen pairs join
// the pairs (8 → 10, badged "labelled") and the run (its next step takes
// them without an error), and a reload keeps them and their badges.
func TestLabelPanelInTheBrowser(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.SetViewport(t, 1400, 1000)
	p.Navigate(t, srv.URL)
	waitReady(t, p)
	p.WaitText(t, "#data-summary", "8 pairs", 10*time.Second)
	p.Click(t, "#step")
	p.WaitFor(t, "the run to be set up", `!document.querySelector("#label-sample").disabled`, 60*time.Second)
	p.Click(t, "#label-sample")
	p.WaitFor(t, "two answers", `document.querySelector("#label-panel").dataset.state === "offer"`, 30*time.Second)
	// A 1 typed into a text field is typing, not a label.
	Eval[bool](t, p, `(document.querySelector("#label-prompt").focus(), true)`)
	if err := chromedp.Do(p.Ctx, chromedp.KeyEvent("1")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if got := Eval[string](t, p, `document.querySelector("#label-count").textContent`); got != "0 labels, 0 labelled pairs" {
		t.Errorf("a 1 typed in #label-prompt labelled: %q", got)
	}
	p.Type(t, "#label-prompt", "")
	for _, k := range []string{"1", "2", "t", " ", "u"} {
		labelKey(t, p, k)
	}
	// Four answered (1, 2, tie, skip), the skip undone: three labels.
	p.WaitText(t, "#label-count", "3 labels, 2 labelled pairs", 5*time.Second)
	p.WaitText(t, "#data-summary", "10 pairs", 10*time.Second)
	if n := Eval[int](t, p, `document.querySelectorAll(".badge.labelled").length`); n != 2 {
		t.Errorf("%d labelled badges, want 2", n)
	}
	p.Click(t, "#step")
	time.Sleep(2 * time.Second)
	if p.Exists(t, "#label-error") {
		t.Errorf("label error: %s", p.WaitText(t, "#label-error", "", time.Second))
	}
	shot(t, p, "label.png")
	time.Sleep(time.Second) // the save follows the last change
	p.Navigate(t, srv.URL)
	waitReady(t, p)
	p.WaitText(t, "#data-summary", "10 pairs", 10*time.Second)
	p.WaitFor(t, "the labelled badges after a reload", `document.querySelectorAll(".badge.labelled").length === 2`, 10*time.Second)
	p.RequireNoErrors(t)
}
