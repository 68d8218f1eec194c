package train

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"dpoplayground/core/gpt"
)

// runFingerprint trains a short SFT+DPO run and hashes the bits of every
// step's metrics, of the final weights and of a seeded sample from them.
func runFingerprint(t *testing.T) (string, []StepResult) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Preset, cfg.SFTSteps, cfg.Steps, cfg.BatchSize, cfg.Seed = "micro", 4, 4, 4, 7
	cfg.Schedule, cfg.Warmup, cfg.WeightDecay = Cosine, 2, 0.01
	tr, err := New(cfg, seedPairs, Weights{})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	put := func(v float64) { binary.Write(h, binary.LittleEndian, math.Float64bits(v)) }
	var steps []StepResult
	for !tr.Done() {
		r, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, r)
		m := r.Metrics
		for _, v := range []float64{m.Loss, m.GradNorm, m.LearningRate, m.RewardsChosen, m.RewardsRejected, m.RewardsAccuracy, m.LogpsChosen, m.LogitsRejected} {
			put(v)
		}
		binary.Write(h, binary.LittleEndian, int64(r.Epoch))
	}
	binary.Write(h, binary.LittleEndian, tr.Policy().Data)
	sample, err := gpt.Generate(tr.Policy(), []byte(seedPairs[0].Prompt), gpt.SampleConfig{Temperature: 0.9, TopK: 20, MaxTokens: 24, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	binary.Write(h, binary.LittleEndian, sample)
	t.Logf("sample: %q", gpt.Text(sample))
	return fmt.Sprintf("%x", h.Sum(nil)), steps
}

// The same config and seed give bit-identical runs and samples. build.sh runs this test
// natively, then in the browser with DPO_NATIVE_FINGERPRINT set to the
// native run's fingerprint, so the numbers people see in the page are the
// numbers the CLI computes.
func TestDeterministicRun(t *testing.T) {
	a, steps := runFingerprint(t)
	b, _ := runFingerprint(t)
	if a != b {
		t.Fatalf("two runs of one config differ: %s vs %s", a, b)
	}
	if len(steps) != 8 || steps[3].Phase != PhaseSFT || steps[4].Phase != PhaseDPO || steps[7].Epoch != 2 {
		t.Errorf("unexpected step sequence: %+v", steps)
	}
	t.Logf("fingerprint: %s", a)
	if want := os.Getenv("DPO_NATIVE_FINGERPRINT"); want != "" {
		if a != want {
			t.Fatalf("this platform's run (%s) differs from the native run (%s)", a, want)
		}
	}
}

// A step whose gradient or loss is not finite is refused and leaves the
// weights as they were.
func TestNonFiniteStepRefused(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Preset, cfg.SFTSteps, cfg.Steps = "nano", 0, 3
	tr, err := New(cfg, seedPairs, Weights{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	before := append([]float32(nil), tr.Policy().Data...)
	tr.Policy().Wte[5] = float32(math.Inf(1)) // poison one weight: the loss becomes NaN
	_, err = tr.Step()
	if err == nil {
		t.Fatal("a step with an infinite weight was accepted")
	}
	want := "dpo step 2"
	if msg := err.Error(); !strings.Contains(msg, want) || !strings.Contains(msg, "NaN") || !strings.Contains(msg, "step 1") {
		t.Errorf("error %q should name %q, NaN and the last good step", msg, want)
	}
	if tr.StepInPhase() != 1 {
		t.Errorf("step counter moved to %d", tr.StepInPhase())
	}
	for i, v := range tr.Policy().Data {
		if i != 5 && v != before[i] {
			t.Fatalf("weight %d changed by a refused step", i)
		}
	}
	tr.Policy().Wte[5] = before[5]
	if _, err := tr.Step(); err != nil {
		t.Fatalf("training did not resume after the bad value was fixed: %v", err)
	}
}
