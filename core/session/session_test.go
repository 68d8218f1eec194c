package session

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"dpoplayground/core/data"
	"dpoplayground/core/train"
)

func quick() Settings {
	st := DefaultSettings()
	st.Start = StartRandom
	st.FollowStart(StartBase) // random weights' SFT learning rate
	st.Preset, st.SFTSteps, st.Steps = "nano", 3, 3
	return st
}

func TestRunThroughSession(t *testing.T) {
	s := New()
	if s.Phase() != "idle" {
		t.Fatalf("phase %s before Configure", s.Phase())
	}
	if _, err := s.Step(); err != ErrNoRun {
		t.Fatalf("Step before Configure: %v", err)
	}
	c, err := s.Configure(quick())
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := data.Parse([]byte(data.Presets()[0].Text))
	if c.Pairs != len(seed.Pairs) || c.Phase != "sft" || c.Model.Params != 29952 || c.Format != seed.Format || len(c.Prompts) != c.Pairs {
		t.Fatalf("configured %+v", c)
	}
	var last StepEvent
	for n := 0; ; n++ {
		ev, err := s.Step()
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		metrics := m["metrics"].(map[string]any)
		if metrics["phase"] != string(ev.Metrics.Phase) || metrics["step"] == nil || m["done"] != ev.Done {
			t.Fatalf("event JSON %s", b)
		}
		last = ev
		if ev.Done {
			break
		}
		if n > 10 {
			t.Fatal("run did not finish")
		}
	}
	if last.Metrics.Phase != "dpo" || last.Metrics.Step != 3 || len(last.Pairs) != c.Pairs || s.Phase() != "done" {
		t.Fatalf("last event %+v", last)
	}
	if _, err := s.Step(); err == nil {
		t.Error("Step after the end succeeded")
	}

	// Samples: the same seed gives the same text; both models answer.
	req := SampleRequest{Prompt: "What is 2 + 2?\n"}
	req.Temperature, req.Seed, req.MaxTokens = 0.8, 5, 20
	a, err := s.Sample(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Sample(req)
	if a != b || a.RefIsPolicy || a.Prompt != req.Prompt {
		t.Errorf("samples %+v then %+v", a, b)
	}

	// The per-byte view sums to the pair's sequence log-probs.
	ev, err := s.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Pair(0)
	if err != nil {
		t.Fatal(err)
	}
	if d.Chosen.Bytes[len(d.Chosen.Bytes)-1] != data.EOS || string(bytesOf(d.Chosen.Bytes)) != seed.Pairs[0].Chosen {
		t.Errorf("chosen bytes %v", d.Chosen.Bytes)
	}
	var sumPol, sumRef float64
	for i := range d.Chosen.Policy {
		sumPol += float64(d.Chosen.Policy[i])
		sumRef += float64(d.Chosen.Reference[i])
	}
	beta := quick().Beta
	if got := beta * (sumPol - sumRef); math.Abs(got-ev.Rows[0].RewardChosen) > 1e-3 {
		t.Errorf("β·Σ(policy − reference) = %v, evaluation's chosen reward %v", got, ev.Rows[0].RewardChosen)
	}
	if _, err := s.Pair(len(seed.Pairs)); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("out-of-range pair: %v", err)
	}
}

func bytesOf(ids []int) []byte {
	var b []byte
	for _, id := range ids {
		if id < 256 {
			b = append(b, byte(id))
		}
	}
	return b
}

func TestExportImport(t *testing.T) {
	s := New()
	st := quick()
	if _, err := s.Configure(st); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Export("reference"); err == nil {
		t.Error("exported a reference during SFT")
	}
	for !strings.HasPrefix(s.Phase(), "done") {
		if _, err := s.Step(); err != nil {
			t.Fatal(err)
		}
	}
	cfg, w, err := s.Export("policy")
	if err != nil {
		t.Fatal(err)
	}
	// Use the exported policy as the reference of a new run: no SFT phase,
	// and the policy starts equal to it, so the first DPO step has margin 0.
	info, err := s.Import("reference", cfg, w)
	if err != nil || info.Params != 29952 {
		t.Fatalf("import: %+v %v", info, err)
	}
	st.Reference = RefImported
	c, err := s.Configure(st)
	if err != nil {
		t.Fatal(err)
	}
	if c.Phase != "dpo" || c.SFTSteps != 0 {
		t.Fatalf("configured %+v", c)
	}
	ev, err := s.Step()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ev.Metrics.RewardsMargins) > 1e-6 || math.Abs(ev.Metrics.Loss-math.Ln2) > 1e-6 {
		t.Errorf("first step against an identical reference: margin %v, loss %v", ev.Metrics.RewardsMargins, ev.Metrics.Loss)
	}
	if _, err := s.Import("reference", cfg, w[:10]); err == nil {
		t.Error("imported a truncated file")
	}
	if _, err := s.Import("critic", cfg, w); err == nil {
		t.Error("imported with an unknown role")
	}
	s.ClearImports()
	if _, err := s.Configure(st); err == nil || !strings.Contains(err.Error(), "import a model") {
		t.Errorf("imported reference without an import: %v", err)
	}
}

func TestConfigureErrors(t *testing.T) {
	s := New()
	cases := map[string]func(*Settings){
		"prompt: a\nchosen: b\n": nil,
		`reference: "teacher"`:   func(st *Settings) { st.Reference = "teacher" },
		"steps":                  func(st *Settings) { st.Steps = -1 },
		`unknown preset "giant"`: func(st *Settings) { st.Preset = "giant" },
		`unknown loss "kto"`:     func(st *Settings) { st.Loss = "kto" },
	}
	for want, f := range cases {
		st := quick()
		if f == nil {
			st.Pairs = want
			want = "rejected"
		} else {
			f(&st)
		}
		if _, err := s.Configure(st); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one containing %q", err, want)
		}
	}
	// A failed Configure keeps no half-built run.
	if s.Phase() != "idle" {
		t.Errorf("phase %s after failed configures", s.Phase())
	}
}

// Settings round-trip through JSON, as the share link carries them.
func TestSettingsJSON(t *testing.T) {
	st := quick()
	st.Loss, st.Beta, st.LabelSmoothing = "robust", 0.3, 0.1
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"pairs"`, `"reference":"sft-chosen"`, `"loss":"robust"`, `"beta":0.3`, `"label_smoothing":0.1`, `"preset":"nano"`, `"sft_steps":3`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("settings JSON lacks %s: %s", k, b)
		}
	}
	var back Settings
	if err := json.Unmarshal(b, &back); err != nil || back != st {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

// Two sessions splitting each step give the run of one session, within
// float32 rounding, and stay in sync with each other.
func TestDataParallelSessions(t *testing.T) {
	st := quick()
	st.SFTSteps, st.Steps = 2, 3
	one, a, b := New(), New(), New()
	for _, s := range []*Session{one, a, b} {
		if _, err := s.Configure(st); err != nil {
			t.Fatal(err)
		}
	}
	for step := 0; step < 5; step++ {
		want, err := one.Step()
		if err != nil {
			t.Fatal(err)
		}
		sa, ga, err := a.ShardGrad(0, 2)
		if err != nil {
			t.Fatal(err)
		}
		sum := append([]float32(nil), ga...)
		sb, gb, err := b.ShardGrad(1, 2)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range gb {
			sum[i] += v
		}
		shards := []train.Shard{sa, sb}
		ea, err := a.ApplyGrad(append([]float32(nil), sum...), shards)
		if err != nil {
			t.Fatal(err)
		}
		eb, err := b.ApplyGrad(sum, shards)
		if err != nil {
			t.Fatal(err)
		}
		if ea.Metrics.Loss != eb.Metrics.Loss || ea.Done != eb.Done {
			t.Fatalf("step %d: the two workers disagree: %v vs %v", step+1, ea.Metrics.Loss, eb.Metrics.Loss)
		}
		if math.Abs(ea.Metrics.Loss-want.Metrics.Loss) > 1e-4*math.Max(1, math.Abs(want.Metrics.Loss)) || ea.Metrics.Step != want.Metrics.Step || ea.Metrics.Phase != want.Metrics.Phase {
			t.Fatalf("step %d: split run %+v, single run %+v", step+1, ea.Metrics, want.Metrics)
		}
	}
	pa, _, _ := a.Export("policy")
	_, wa, _ := a.Export("policy")
	_, wb, _ := b.Export("policy")
	if len(pa) == 0 || string(wa) != string(wb) {
		t.Error("the two workers' policies differ after the run")
	}
}
