package session

import (
	"math"
	"strings"
	"testing"

	"dpoplayground/core/gpt"
)

func nanoHF(t *testing.T, seed uint64) (cfg, weights []byte, p *gpt.Params) {
	t.Helper()
	c, _ := gpt.PresetConfig("nano")
	p = gpt.NewParams(c)
	p.Init(seed)
	cfg, weights, err := p.MarshalHF()
	if err != nil {
		t.Fatal(err)
	}
	return cfg, weights, p
}

// A run set to start from the base model needs it, starts from its weights,
// and an imported reference replaces it; a random start ignores it.
func TestStartFromBase(t *testing.T) {
	s := New()
	st := quick()
	st.Start = StartBase
	if _, err := s.Configure(st); err == nil || !strings.HasPrefix(err.Error(), "start:") {
		t.Fatalf("start from a base never given: %v, want an error naming start", err)
	}
	cfg, w, base := nanoHF(t, 77)
	if _, err := s.Import("base", cfg, w); err != nil || !s.HasBase() {
		t.Fatalf("import base: %v", err)
	}
	st.SFTSteps = 0 // the base is the reference, so both are its weights
	if _, err := s.Configure(st); err != nil {
		t.Fatal(err)
	}
	for i, v := range base.Data {
		if s.tr.Policy().Data[i] != v || s.tr.Reference().Data[i] != v {
			t.Fatalf("weight %d: policy %v, reference %v; base %v", i, s.tr.Policy().Data[i], s.tr.Reference().Data[i], v)
		}
	}
	st.Start = StartRandom
	if _, err := s.Configure(st); err != nil {
		t.Fatal(err)
	}
	same := 0
	for i, v := range base.Data {
		if s.tr.Policy().Data[i] == v {
			same++
		}
	}
	if same == len(base.Data) {
		t.Error("a random start took the base's weights")
	}
	st.Start = "somewhere"
	if _, err := s.Configure(st); err == nil || !strings.Contains(err.Error(), "start") {
		t.Errorf("start %q: %v, want an error naming start", st.Start, err)
	}
	s.ClearImports()
	if !s.HasBase() {
		t.Error("ClearImports dropped the base model, which is the page's, not an import")
	}
}

// HeldOut answers each prompt with both models' greedy answers and their
// implicit rewards, computed here again one sequence at a time.
func TestHeldOutAnswers(t *testing.T) {
	s := New()
	if _, err := s.HeldOut(HeldOutRequest{Prompts: HeldOutPrompts()}); err != ErrNoRun {
		t.Fatalf("before a run: %v", err)
	}
	st := quick()
	st.LR = 1e-2
	if _, err := s.Configure(st); err != nil {
		t.Fatal(err)
	}
	prompts := HeldOutPrompts()[:4]
	for !s.tr.Done() {
		if _, err := s.Step(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.HeldOut(HeldOutRequest{Prompts: prompts, MaxTokens: 12})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(prompts) {
		t.Fatalf("%d answers for %d prompts", len(got), len(prompts))
	}
	beta := s.tr.Config().Beta
	// answer holds token ids (its text is lossy for bytes that are not UTF-8).
	logp := func(p *gpt.Params, prompt string, answer []int32) float64 {
		ids := []int32{gpt.EOS}
		for _, c := range []byte(prompt) {
			ids = append(ids, int32(c))
		}
		ids = append(ids, answer...)
		var b gpt.Batch
		if err := b.Add(ids, len(prompt)); err != nil {
			t.Fatal(err)
		}
		o, err := gpt.NewModel(p).Forward(&b)
		if err != nil {
			t.Fatal(err)
		}
		return o.SeqLogp[0]
	}
	moved := false
	for i, a := range got {
		if a.Prompt != prompts[i] {
			t.Errorf("answer %d is for %q, want %q", i, a.Prompt, prompts[i])
		}
		for _, c := range []struct {
			who, answer string
			reward      float64
			m           *gpt.Params
		}{{"reference", a.Reference, a.ReferenceReward, s.tr.Reference()}, {"policy", a.Policy, a.PolicyReward, s.tr.Policy()}} {
			ids, err := gpt.Generate(c.m, []byte(a.Prompt), gpt.SampleConfig{MaxTokens: 12})
			if err != nil {
				t.Fatal(err)
			}
			if gpt.Text(ids) != c.answer {
				t.Errorf("%q: %s answer %q, greedy decoding gives %q", a.Prompt, c.who, c.answer, gpt.Text(ids))
			}
			want := beta * (logp(s.tr.Policy(), a.Prompt, ids) - logp(s.tr.Reference(), a.Prompt, ids))
			if math.Abs(c.reward-want) > 1e-4*math.Max(1, math.Abs(want)) {
				t.Errorf("%q: %s reward %v, want %v", a.Prompt, c.who, c.reward, want)
			}
			moved = moved || c.reward != 0
		}
	}
	if !moved {
		t.Error("every implicit reward is 0 after DPO steps at lr 1e-2")
	}
	if _, err := s.HeldOut(HeldOutRequest{}); err == nil {
		t.Error("no prompts: no error")
	}
	if _, err := s.HeldOut(HeldOutRequest{Prompts: prompts, MaxTokens: -1}); err == nil {
		t.Error("max tokens -1: no error")
	}
}

func TestHeldOutPromptsAreTheCorpusHeldOutSums(t *testing.T) {
	ps := HeldOutPrompts()
	if len(ps) != 16 {
		t.Fatalf("%d held-out prompts, want the corpus's 16 sums", len(ps))
	}
	for _, p := range ps {
		if !strings.HasPrefix(p, "What is ") || !strings.HasSuffix(p, "?\n") {
			t.Errorf("held-out prompt %q", p)
		}
	}
}
