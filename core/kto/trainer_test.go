package kto

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/train"
)

// seedExamples is the seed preset's pairs, unpaired (chosen → true,
// rejected → false).
func seedExamples(t testing.TB) []data.Example {
	ds, err := data.Parse([]byte(data.Presets()[0].Text))
	if err != nil {
		t.Fatal(err)
	}
	return data.Unpair(ds.Pairs)
}

// tinyWeights are a policy and a different reference of a tiny model.
func tinyWeights() train.Weights {
	c := gpt.Config{NLayer: 1, NHead: 2, NEmbd: 8, NPositions: 32}
	pol, ref := gpt.NewParams(c), gpt.NewParams(c)
	pol.Init(1)
	ref.Init(2)
	return train.Weights{Policy: pol, Reference: ref}
}

// The gradient of a KTO step against central differences of the batch loss
// recomputed from the model's log-probs, the reference point held at its
// value (TRL detaches it), for both losses.
func TestStepGradientFiniteDifferences(t *testing.T) {
	ex := seedExamples(t)[:6]
	for _, lt := range LossTypes() {
		cfg := DefaultConfig()
		cfg.SFTSteps, cfg.Steps, cfg.Clip, cfg.BatchSize = 0, 1, 0, 4
		cfg.Loss = Loss{Type: lt, Beta: 2, DesirableWeight: 1.3, UndesirableWeight: 0.8}
		tr, err := New(cfg, ex, tinyWeights())
		if err != nil {
			t.Fatal(err)
		}
		tr.nextBatch()
		kl, err := tr.batchKL()
		if err != nil {
			t.Fatal(err)
		}
		for _, kl := range []float64{kl, 0.75} {
			if _, err := tr.gradAt(kl); err != nil {
				t.Fatal(err)
			}
			grad := append([]float32(nil), tr.model.Grads.Data...)
			p := tr.model.Params
			idx := append([]int(nil), tr.idx...)
			lp := make([]float64, len(idx))
			loss := func() float64 {
				if err := tr.scoreWith(p, idx, false, lp, nil); err != nil {
					t.Fatal(err)
				}
				var sum float64
				for k, i := range idx {
					ratio := lp[k] - tr.refLP[i]
					w := map[bool]float64{true: 1.3, false: 0.8}[ex[i].Label]
					sum += w * refLoss(lt, 2, ratio, kl, ex[i].Label)
				}
				return sum / float64(len(idx))
			}
			for _, s := range gpt.Layout(p.Cfg) {
				gs := grad[s.Offset : s.Offset+s.Size]
				best := 0
				for i := range gs {
					if math.Abs(float64(gs[i])) > math.Abs(float64(gs[best])) {
						best = i
					}
				}
				k := s.Offset + best
				orig := p.Data[k]
				const h = 1e-2
				p.Data[k] = orig + h
				up := loss()
				p.Data[k] = orig - h
				down := loss()
				p.Data[k] = orig
				num := (up - down) / (float64(orig+h) - float64(orig-h))
				if an := float64(gs[best]); math.Abs(num-an) > 3e-2*math.Abs(an)+1e-5 {
					t.Errorf("%s kl %v, %s[%d]: analytic %.6g, numeric %.6g", lt, kl, s.Name, best, an, num)
				}
			}
		}
	}
}

// The KL reference point of a step is the mean over the batch of the
// policy-minus-reference log-probs of its KL sequences, clamped at 0.
func TestStepReferencePoint(t *testing.T) {
	ex := seedExamples(t)
	cfg := DefaultConfig()
	cfg.SFTSteps, cfg.Steps, cfg.BatchSize = 0, 1, 5
	tr, err := New(cfg, ex, tinyWeights())
	if err != nil {
		t.Fatal(err)
	}
	tr.nextBatch()
	idx := append([]int(nil), tr.idx...)
	kl, err := tr.batchKL()
	if err != nil {
		t.Fatal(err)
	}
	// Score each KL sequence on its own: prompt of i, completion of KLCompletions.
	pol, ref := gpt.NewModel(tr.Policy()), gpt.NewModel(tr.Reference())
	shift := KLCompletions(len(ex), 5)
	var sum float64
	for k, i := range idx {
		s, _ := data.EncodeExample(ex[i].Prompt, ex[shift[i]].Completion, 32)
		var b gpt.Batch
		if err := b.Add(s.IDs, s.PromptLen); err != nil {
			t.Fatal(err)
		}
		op, err := pol.Forward(&b)
		if err != nil {
			t.Fatal(err)
		}
		lpPol := op.SeqLogp[0]
		or, err := ref.Forward(&b)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(tr.lp[k]-lpPol) > 1e-4 || math.Abs(tr.refKL[i]-or.SeqLogp[0]) > 1e-4 {
			t.Errorf("example %d: KL log-probs %v and %v, want %v and %v", i, tr.lp[k], tr.refKL[i], lpPol, or.SeqLogp[0])
		}
		sum += lpPol - or.SeqLogp[0]
	}
	t.Logf("mean KL log-ratio %.4f", sum/float64(len(idx)))
	want := math.Max(0, sum/float64(len(idx)))
	if math.Abs(kl-want) > 1e-4*(1+math.Abs(want)) {
		t.Errorf("kl %v, want %v", kl, want)
	}
}

// runAll steps tr to the end, returning every step's result.
func runAll(t testing.TB, tr *Trainer) []StepResult {
	var rs []StepResult
	for !tr.Done() {
		r, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		r.Examples = append([]ExampleReward(nil), r.Examples...)
		rs = append(rs, r)
	}
	return rs
}

// meanMargin is the mean log-prob of the desirable completions minus that of
// the undesirable ones, under the evaluated policy.
func meanMargin(ev Evaluation) (logps, rewards float64) {
	var lc, lr, rc, rr, nc, nr float64
	for i, e := range ev.Examples {
		if e.Label {
			lc, rc, nc = lc+e.Policy, rc+ev.Results[i].Reward, nc+1
		} else {
			lr, rr, nr = lr+e.Policy, rr+ev.Results[i].Reward, nr+1
		}
	}
	return lc/nc - lr/nr, rc/nc - rr/nr
}

// KTO learns on the seed article's pairs unpaired: SFT on the desirable
// completions builds π_ref; KTO then raises the desirable completions'
// implicit rewards over the undesirable ones' and widens their log-prob
// margin beyond π_ref's.
func TestKTOLearnsUnpairedSeedPairs(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Preset, cfg.SFTSteps, cfg.Steps, cfg.BatchSize, cfg.LR = "nano", 40, 40, 8, 2e-3
	tr, err := New(cfg, seedExamples(t), train.Weights{})
	if err != nil {
		t.Fatal(err)
	}
	var before Evaluation
	var first, last StepResult
	for !tr.Done() {
		if tr.Phase() == PhaseKTO && tr.StepInPhase() == 0 {
			if before, err = tr.Evaluate(); err != nil {
				t.Fatal(err)
			}
		}
		r, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		if r.Phase == PhaseKTO && r.Step == 1 {
			first = r
		}
		last = r
	}
	after, err := tr.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	lpBefore, rwBefore := meanMargin(before)
	lpAfter, rwAfter := meanMargin(after)
	t.Logf("log-prob margin %.3f → %.3f, reward margin %.4f → %.4f (rewards/margins %.4f), loss %.4f → %.4f, kl %.4f",
		lpBefore, lpAfter, rwBefore, rwAfter, after.Metrics.RewardsMargins, first.Loss, after.Metrics.Loss, after.Metrics.KL)
	if rwBefore != 0 {
		t.Errorf("reward margin at π_ref is %v, want 0", rwBefore)
	}
	if !(lpAfter > lpBefore+1) {
		t.Errorf("log-prob margin %.3f → %.3f: KTO did not widen it by a nat", lpBefore, lpAfter)
	}
	if !(rwAfter > 0.1) || math.Abs(rwAfter-after.Metrics.RewardsMargins) > 1e-9 {
		t.Errorf("reward margin after KTO %.4f (rewards/margins %.4f), want above 0.1", rwAfter, after.Metrics.RewardsMargins)
	}
	if !(after.Metrics.Loss < first.Loss) || !(last.Loss < first.Loss) {
		t.Errorf("loss did not fall: first %.4f, last %.4f, after %.4f", first.Loss, last.Loss, after.Metrics.Loss)
	}
}

// Same seed, same run: every step's numbers are identical; another seed
// differs.
func TestDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Preset, cfg.SFTSteps, cfg.Steps, cfg.BatchSize = "nano", 3, 4, 5
	results := func(seed uint64) []StepResult {
		c := cfg
		c.Seed = seed
		tr, err := New(c, seedExamples(t), train.Weights{})
		if err != nil {
			t.Fatal(err)
		}
		return runAll(t, tr)
	}
	a, b, c := results(1), results(1), results(2)
	if len(a) != 7 {
		t.Fatalf("%d steps, want 7", len(a))
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two runs with seed 1 differ")
	}
	if reflect.DeepEqual(a, c) {
		t.Errorf("seeds 1 and 2 gave the same run")
	}
	for i, r := range a {
		wantPhase := train.PhaseSFT
		if i >= 3 {
			wantPhase = PhaseKTO
		}
		if r.Phase != wantPhase {
			t.Errorf("step %d phase %s, want %s", i, r.Phase, wantPhase)
		}
	}
}

// A step's JSON line has the phase and TRL's KTO names.
func TestStepJSON(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Preset, cfg.SFTSteps, cfg.Steps = "nano", 1, 1
	tr, err := New(cfg, seedExamples(t), train.Weights{})
	if err != nil {
		t.Fatal(err)
	}
	rs := runAll(t, tr)
	var sft, kto map[string]any
	for i, dst := range []*map[string]any{&sft, &kto} {
		b, err := json.Marshal(rs[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
	if sft["phase"] != "sft" || sft["step"] != 1.0 || len(sft) != 6 {
		t.Errorf("SFT line %v", sft)
	}
	if kto["phase"] != "kto" || kto["step"] != 1.0 || kto["epoch"] != 1.0 {
		t.Errorf("KTO line %v", kto)
	}
	for _, k := range []string{"loss", "kl", "rewards/chosen", "rewards/rejected", "rewards/margins", "logps/chosen",
		"logps/rejected", "logits/chosen", "logits/rejected", "entropy", "num_tokens", "grad_norm", "learning_rate"} {
		if _, ok := kto[k]; !ok {
			t.Errorf("%q missing from the KTO line %v", k, kto)
		}
	}
	if kto["num_tokens"].(float64) <= 0 || kto["learning_rate"].(float64) != cfg.LR {
		t.Errorf("num_tokens %v, learning_rate %v", kto["num_tokens"], kto["learning_rate"])
	}
}

// A step whose loss or gradient is not finite is refused and leaves the
// weights and the batch order as they were.
func TestNonFiniteStepRefused(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SFTSteps, cfg.Steps, cfg.BatchSize = 0, 2, 4
	w := tinyWeights()
	w.Policy.Data[0] = float32(math.Inf(1))
	tr, err := New(cfg, seedExamples(t), w)
	if err != nil {
		t.Fatal(err)
	}
	before := append([]float32(nil), tr.Policy().Data...)
	order := append([]int(nil), tr.order...)
	if _, err := tr.Step(); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("error %v, want a refused step", err)
	}
	if !reflect.DeepEqual(order, tr.order) || tr.StepInPhase() != 0 || tr.epoch != 0 {
		t.Errorf("batch order moved on a refused step")
	}
	for i, v := range tr.Policy().Data {
		if v != before[i] && !(math.IsInf(float64(v), 1) && math.IsInf(float64(before[i]), 1)) {
			t.Fatalf("weight %d changed: %v → %v", i, before[i], v)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	ex := seedExamples(t)
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Loss.Type = "sigmoid" }, "loss_type"},
		{func(c *Config) { c.Beta = -1 }, "beta"},
		{func(c *Config) { c.DesirableWeight = math.NaN() }, "desirable_weight"},
		{func(c *Config) { c.UndesirableWeight = -2 }, "undesirable_weight"},
		{func(c *Config) { c.LR = 0 }, "lr"},
		{func(c *Config) { c.BatchSize = -1 }, "batch_size"},
		{func(c *Config) { c.Schedule = "zigzag" }, "zigzag"},
	} {
		cfg := DefaultConfig()
		c.edit(&cfg)
		if _, err := New(cfg, ex, train.Weights{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one naming %s", err, c.want)
		}
	}
	undesirable := []data.Example{{Prompt: "a\n", Completion: "b", Label: false, Line: 1}}
	if _, err := New(DefaultConfig(), undesirable, train.Weights{}); err == nil || !strings.Contains(err.Error(), "desirable") {
		t.Errorf("SFT without desirable completions: %v", err)
	}
	if _, err := New(DefaultConfig(), nil, train.Weights{}); err == nil {
		t.Errorf("no examples accepted")
	}
}
