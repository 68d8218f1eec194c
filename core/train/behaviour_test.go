package train

import (
	"testing"

	"dpoplayground/core/data"
)

// seedPairs is the seed article's example plus a handful of pairs in its spirit.
var seedPairs = []data.Pair{
	{Prompt: "What is 2 + 2?\n", Chosen: "2 + 2 = 4", Rejected: "2 + 2 = 5, trust me!"},
	{Prompt: "What is 3 + 3?\n", Chosen: "3 + 3 = 6", Rejected: "3 + 3 = 7, trust me!"},
	{Prompt: "What is 1 + 2?\n", Chosen: "1 + 2 = 3", Rejected: "1 + 2 = 4, trust me!"},
	{Prompt: "What is 2 + 3?\n", Chosen: "2 + 3 = 5", Rejected: "2 + 3 = 6, trust me!"},
	{Prompt: "What is 4 + 4?\n", Chosen: "4 + 4 = 8", Rejected: "4 + 4 = 9, trust me!"},
	{Prompt: "What is 1 + 1?\n", Chosen: "1 + 1 = 2", Rejected: "1 + 1 = 3, trust me!"},
}

// margin is log π(chosen) − log π(rejected) of pair i under the evaluated model.
func margin(ev Evaluation, i int) float64 {
	return ev.Pairs[i].PolicyChosen - ev.Pairs[i].PolicyRejected
}

// The seed article's pipeline: micro SFT on chosen builds the reference, then
// DPO orders every pair, the loss falls, and the policy prefers "2 + 2 = 4"
// by more than the reference does.
func TestSFTThenDPOLearnsPreferences(t *testing.T) {
	cfg := DefaultConfig()
	tr, err := New(cfg, seedPairs, Weights{})
	if err != nil {
		t.Fatal(err)
	}
	var first, last StepResult
	for !tr.Done() {
		r, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		if r.Phase == PhaseSFT && r.Step == cfg.SFTSteps {
			t.Logf("SFT done: loss %.4f", r.Loss)
		}
		if r.Phase == PhaseDPO && r.Step == 1 {
			first = r
		}
		last = r
	}
	ev, err := tr.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	refMargin := tr.refLP[0].PolicyChosen - tr.refLP[0].PolicyRejected
	t.Logf("DPO loss %.4f → %.4f (after: %.4f), accuracy %.2f → %.2f, margins %.3f; 2+2 margin: reference %.3f, policy %.3f",
		first.Loss, last.Loss, ev.Metrics.Loss, first.RewardsAccuracy, ev.Metrics.RewardsAccuracy, ev.Metrics.RewardsMargins, refMargin, margin(ev, 0))
	if ev.Metrics.RewardsAccuracy != 1 {
		t.Errorf("rewards/accuracies %.2f after DPO, want 1", ev.Metrics.RewardsAccuracy)
	}
	if !(ev.Metrics.Loss < first.Loss) || !(last.Loss < first.Loss) {
		t.Errorf("loss did not fall: first %.4f, last %.4f, after %.4f", first.Loss, last.Loss, ev.Metrics.Loss)
	}
	if !(margin(ev, 0) > refMargin) {
		t.Errorf("2 + 2 margin: policy %.3f, reference %.3f", margin(ev, 0), refMargin)
	}
}
