//go:build e2e

package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"dpoplayground/core/data"
)

// unpairedSeed is the seed pairs unpaired as TRL does it: each chosen
// answer a desirable example (true), each rejected one undesirable (false).
func unpairedSeed(t *testing.T) string {
	t.Helper()
	ds, err := data.Parse([]byte(data.Presets()[0].Text))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range data.Unpair(ds.Pairs) {
		b.WriteString("prompt: " + strings.TrimSuffix(e.Prompt, "\n") + "\ncompletion: " + e.Completion + "\nlabel: " + strconv.FormatBool(e.Label) + "\n\n")
	}
	return b.String()
}

// KTO in the page: the unpaired seed pairs pasted, Train trains KTO; the
// run bar reads KTO's desirable, undesirable and kl, the desirable reward
// ends above the undesirable one, the loss ends below KTO's starting 0.5,
// the charts are KTO's and the table lists each completion's label and reward.
func TestKTOInTheBrowser(t *testing.T) {
	srv := StartServer(t)
	p := NewPage(t)
	p.SetViewport(t, 1400, 1000)
	p.Navigate(t, srv.URL)
	waitReady(t, p)
	p.Type(t, "#pairs", unpairedSeed(t))
	p.WaitText(t, "#data-summary", "16 unpaired examples (8 desirable, 8 undesirable)", 10*time.Second)
	p.WaitText(t, "#kto-ratio", "within TRL's recommended", 5*time.Second)
	if p.Exists(t, "#loss") {
		t.Errorf("the DPO loss menu shows for unpaired data")
	}
	p.Type(t, "#sft-steps", strconv.Itoa(e2eSFTSteps))
	p.Type(t, "#steps", strconv.Itoa(e2eDPOSteps))
	p.WaitText(t, `[data-metric="total"]`, strconv.Itoa(e2eSFTSteps+e2eDPOSteps), 5*time.Second)
	p.Click(t, "#train")
	waitDone(t, p)
	des, und := metricFloat(t, p, "rewards/chosen"), metricFloat(t, p, "rewards/rejected")
	t.Logf("after %d SFT and %d KTO steps: desirable %v, undesirable %v, loss %v, kl %v", e2eSFTSteps, e2eDPOSteps, des, und, metricFloat(t, p, "loss"), metricFloat(t, p, "kl"))
	if !(des > und) {
		t.Errorf("desirable reward %v not above undesirable %v", des, und)
	}
	if kl := metricFloat(t, p, "kl"); !(kl >= 0) {
		t.Errorf("kl %v", kl)
	}
	if loss := metricFloat(t, p, "loss"); !(loss < 0.5) {
		t.Errorf("KTO loss %v did not fall below 0.5", loss)
	}
	p.WaitText(t, ".runbar .readouts", "desirable", 5*time.Second)
	p.WaitText(t, "#chart-loss", "KTO loss", 5*time.Second)
	p.WaitText(t, "#chart-kl", "kl", 5*time.Second)
	p.WaitText(t, "#chart-rewards", "undesirable", 5*time.Second)
	table := p.WaitText(t, ".pair-table", "false · undesirable", 5*time.Second)
	if !strings.Contains(table, "true · desirable") {
		t.Errorf("table lacks desirable labels: %q", table)
	}
	if n := Eval[int](t, p, `[...document.querySelectorAll(".pair-table td.reward")].filter(td => td.textContent !== "—").length`); n == 0 {
		t.Errorf("no per-example rewards in the table")
	}
	shot(t, p, "kto.png")
	p.RequireNoErrors(t)
}
