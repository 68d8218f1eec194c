package pretrain

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dpoplayground/core/corpus"
	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
)

func nanoConfig(steps int) Config {
	c := DefaultConfig()
	c.Preset, c.Steps, c.BatchSize, c.Warmup = "nano", steps, 16, 10
	return c
}

func TestShortRunLowersHeldOutLoss(t *testing.T) {
	tr, err := New(nanoConfig(150))
	if err != nil {
		t.Fatal(err)
	}
	before, err := tr.HeldOutLoss()
	if err != nil {
		t.Fatal(err)
	}
	// A model that has learnt nothing predicts 257 tokens about evenly.
	if math.Abs(before-math.Log(data.VocabSize)) > 0.5 {
		t.Fatalf("held-out loss %g at initialisation, far from ln 257 = %g", before, math.Log(data.VocabSize))
	}
	var first, last float64
	for !tr.Done() {
		r, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		if r.Step == 1 {
			first = r.Loss
		}
		last = r.Loss
	}
	after, err := tr.HeldOutLoss()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("training loss %.3f → %.3f, held-out loss %.3f → %.3f", first, last, before, after)
	if !(after < before-1) {
		t.Fatalf("held-out loss %g → %g: did not fall by a nat", before, after)
	}
	if !(last < first-1) {
		t.Fatalf("training loss %g → %g: did not fall by a nat", first, last)
	}
}

// The held-out loss is the mean NLL of the held-out answers, computed here
// from the model's per-sequence log-probabilities one prompt at a time.
func TestHeldOutLossIsMeanAnswerNLL(t *testing.T) {
	c, _ := gpt.PresetConfig("nano")
	p := gpt.NewParams(c)
	p.Init(5)
	got, err := HeldOutLoss(p)
	if err != nil {
		t.Fatal(err)
	}
	var nll float64
	var n int
	m := gpt.NewModel(p)
	for _, e := range corpus.HeldOut() {
		var b gpt.Batch
		s := e.Seq()
		if err := b.Add(s.IDs, s.PromptLen); err != nil {
			t.Fatal(err)
		}
		o, err := m.Forward(&b)
		if err != nil {
			t.Fatal(err)
		}
		nll -= o.SeqLogp[0]
		n += len(e.Response) + 1
	}
	if want := nll / float64(n); math.Abs(got-want) > 1e-6*want {
		t.Fatalf("HeldOutLoss = %g, want %g", got, want)
	}
}

func TestResumeMatchesUninterruptedRun(t *testing.T) {
	tests := []struct {
		name  string
		dtype string
	}{
		{"F32 model file", "F32"},
		{"F16 model file", "F16"},
	}
	const total, cut = 24, 9
	whole, err := New(nanoConfig(total))
	if err != nil {
		t.Fatal(err)
	}
	for !whole.Done() {
		if _, err := whole.Step(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(nanoConfig(total))
			if err != nil {
				t.Fatal(err)
			}
			for range cut {
				if _, err := a.Step(); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			if err := a.Save(dir, tc.dtype); err != nil {
				t.Fatal(err)
			}
			b, err := Resume(dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			if b.StepsDone() != cut || b.CorpusPos() != a.CorpusPos() {
				t.Fatalf("resumed at step %d, corpus %d; want %d, %d", b.StepsDone(), b.CorpusPos(), cut, a.CorpusPos())
			}
			for !b.Done() {
				if _, err := b.Step(); err != nil {
					t.Fatal(err)
				}
			}
			for i, v := range whole.Params().Data {
				if b.Params().Data[i] != v {
					t.Fatalf("weight %d: resumed %g, uninterrupted %g", i, b.Params().Data[i], v)
				}
			}
			// The HF folder loads as a model.
			if _, err := gpt.LoadDir(dir); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestResumeErrors(t *testing.T) {
	a, err := New(nanoConfig(10))
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := a.Step(); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if err := a.Save(dir, "F32"); err != nil {
		t.Fatal(err)
	}
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, StateFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		dir   string
		steps int
		want  string
	}{
		{"fewer steps than taken", dir, 3, "fewer than the 4"},
		{"no checkpoint", t.TempDir(), 0, StateFile},
		{"bad state", broken, 0, StateFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Resume(tc.dir, tc.steps)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		field string
		edit  func(*Config)
	}{
		{"preset", func(c *Config) { c.Preset = "huge" }},
		{"steps", func(c *Config) { c.Steps = 0 }},
		{"batch_size", func(c *Config) { c.BatchSize = 0 }},
		{"lr", func(c *Config) { c.LR = math.NaN() }},
		{"warmup", func(c *Config) { c.Warmup = -1 }},
		{"weight_decay", func(c *Config) { c.WeightDecay = 2 }},
		{"clip", func(c *Config) { c.Clip = math.Inf(1) }},
		{"schedule", func(c *Config) { c.Schedule = "linear" }},
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default: %v", err)
	}
	for _, tc := range tests {
		c := DefaultConfig()
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %v", tc.field, err)
		}
	}
}

// A steady-state step on a batch of the warm-up's size allocates nothing.
func TestStepAllocatesNothing(t *testing.T) {
	tr, err := New(nanoConfig(1000))
	if err != nil {
		t.Fatal(err)
	}
	var b gpt.Batch
	s := corpus.New(9).Stream(0)
	for range 16 {
		e := s.Next().Seq()
		if err := b.Add(e.IDs, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.stepOn(&b); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := tr.stepOn(&b); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%g allocations per step", allocs)
	}
}
