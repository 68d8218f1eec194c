package train

import (
	"reflect"
	"testing"

	"dpoplayground/core/data"
)

var addedPairs = []data.Pair{
	{Prompt: "What is 3 + 3?\n", Chosen: "3 + 3 = 6", Rejected: "3 + 3 = 7. Trust me!"},
	{Prompt: "What is 5 + 2?\n", Chosen: "5 + 2 = 7", Rejected: "5 + 2 = 8. Trust me!"},
}

// addPairsRun takes before steps (after sft SFT steps), adds addedPairs when
// add is set, then takes after more steps, and returns every step's metrics.
func addPairsRun(t *testing.T, sft, before, after int, add bool) ([]StepResult, *Trainer) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Preset, cfg.SFTSteps, cfg.Steps, cfg.BatchSize, cfg.Seed = "nano", sft, before+after, 0, 3
	tr, err := New(cfg, seedPairs, Weights{})
	if err != nil {
		t.Fatal(err)
	}
	var out []StepResult
	step := func() {
		r, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		r.Pairs = append([]PairReward(nil), r.Pairs...)
		out = append(out, r)
	}
	for range sft + before {
		step()
	}
	if add {
		if err := tr.AddPairs(addedPairs); err != nil {
			t.Fatal(err)
		}
	}
	for range after {
		step()
	}
	return out, tr
}

func TestAddPairs(t *testing.T) {
	for _, sft := range []int{0, 2} {
		plain, trPlain := addPairsRun(t, sft, 3, 3, false)
		added, trAdded := addPairsRun(t, sft, 3, 3, true)
		n := sft + 3
		if !reflect.DeepEqual(plain[:n], added[:n]) {
			t.Errorf("sft %d: the steps before AddPairs changed", sft)
		}
		if got, want := trAdded.NumPairs(), trPlain.NumPairs()+len(addedPairs); got != want {
			t.Errorf("sft %d: %d pairs after AddPairs, want %d", sft, got, want)
		}
		// A full batch takes the new pairs from the next step on.
		next := added[n]
		if len(next.Pairs) != len(seedPairs)+len(addedPairs) {
			t.Errorf("sft %d: the step after AddPairs has %d pairs, want %d", sft, len(next.Pairs), len(seedPairs)+len(addedPairs))
		}
		if reflect.DeepEqual(plain[n].Metrics, next.Metrics) {
			t.Errorf("sft %d: the step after AddPairs did not change", sft)
		}
		again, _ := addPairsRun(t, sft, 3, 3, true)
		if !reflect.DeepEqual(added, again) {
			t.Errorf("sft %d: two runs with the same AddPairs differ", sft)
		}
	}
}

// TestAddPairsReference: pairs added before the first DPO step are scored
// with the reference, which is the policy then, so their rewards are 0.
func TestAddPairsReference(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Preset, cfg.SFTSteps, cfg.Steps, cfg.Seed = "nano", 0, 2, 3
	tr, err := New(cfg, seedPairs, Weights{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.AddPairs(addedPairs); err != nil {
		t.Fatal(err)
	}
	r, err := tr.Step()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Pairs {
		if p.RewardChosen != 0 || p.RewardRejected != 0 {
			t.Errorf("pair %d: rewards %v, %v at the first step, want 0", p.Index, p.RewardChosen, p.RewardRejected)
		}
	}
	// Added after DPO steps, they are scored with the frozen reference,
	// not the moved policy.
	if err := tr.AddPairs(seedPairs[:1]); err != nil {
		t.Fatal(err)
	}
	ev, err := tr.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	last := ev.Pairs[len(ev.Pairs)-1]
	if last.RefChosen != ev.Pairs[0].RefChosen || last.RefChosen == last.PolicyChosen {
		t.Errorf("the pair added after a step has reference log-prob %v, the same pair from New %v (policy %v)",
			last.RefChosen, ev.Pairs[0].RefChosen, last.PolicyChosen)
	}
	if err := tr.AddPairs([]data.Pair{{Prompt: "x", Chosen: "a", Rejected: "a"}}); err == nil {
		t.Error("AddPairs took a pair whose answers are identical")
	}
}
