//go:build e2e

package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// choose picks an option of a <select> the way a person's choice does: it
// sets the value and sends the change event.
func choose(t *testing.T, p *Page, selector, value string) {
	t.Helper()
	ok := Eval[bool](t, p, fmt.Sprintf(`(() => { const s = document.querySelector(%q);
		if (!s || ![...s.options].some(o => o.value === %q)) return false;
		s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, selector, value, value))
	if !ok {
		t.Fatalf("%s has no option %q", selector, value)
	}
}

// Three losses race on one chart: sigmoid, nca_pair and apo_zero train one
// after the other from the same settings; the loss chart keeps the first
// two faded and labelled by their loss, beside the live apo_zero run.
func TestThreeLossesRaceOnOneChart(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.SetViewport(t, 1400, 900)
	p.Navigate(t, srv.URL)
	waitReady(t, p)
	p.Type(t, "#sft-steps", strconv.Itoa(e2eSFTSteps))
	p.Type(t, "#steps", strconv.Itoa(e2eDPOSteps))
	p.WaitText(t, `[data-metric="total"]`, strconv.Itoa(e2eSFTSteps+e2eDPOSteps), 5*time.Second)

	for i, loss := range []string{"sigmoid", "nca_pair", "apo_zero"} {
		choose(t, p, "#loss", loss)
		p.WaitFor(t, "the menu to show "+loss, fmt.Sprintf(`document.querySelector("#loss").value === %q`, loss), 5*time.Second)
		if i > 0 {
			p.WaitText(t, ".runbar .changed", "Settings changed", 5*time.Second)
		}
		p.Click(t, "#train")
		p.WaitFor(t, loss+" to start", `document.querySelector('[data-metric="phase"]').textContent !== "done"`, 30*time.Second)
		waitDone(t, p)
		if acc := metricFloat(t, p, "rewards/accuracies"); !(acc >= 0 && acc <= 1) {
			t.Errorf("%s: accuracy %v", loss, acc)
		}
	}
	chart := p.WaitText(t, "#chart-loss", "nca_pair", 10*time.Second)
	for _, want := range []string{"sigmoid", "nca_pair"} {
		if !strings.Contains(chart, want) {
			t.Errorf("the loss chart does not name the faded %s run: %q", want, chart)
		}
	}
	if got := p.Value(t, "#loss"); got != "apo_zero" {
		t.Errorf("#loss = %q after the race", got)
	}
	shot(t, p, "three-losses.png")

	// A combined loss: sigmoid + 0.005·sft, named as the CLI names it.
	p.Click(t, "#add-loss-term")
	p.WaitFor(t, "the second term", `!!document.querySelector("#term-1-weight")`, 5*time.Second)
	p.Type(t, "#term-1-weight", "0.005")
	p.WaitText(t, ".loss-field", "apo_zero+0.005·sft", 5*time.Second)
	p.RequireNoErrors(t)
}
