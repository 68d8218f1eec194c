package reward

import (
	"math"
	"slices"
	"testing"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
)

// The loss and its derivatives against the formula in float64, written
// out here, and against central differences of Loss itself.
func TestLossAgainstFormula(t *testing.T) {
	cases := []struct {
		name           string
		rc, rr, margin []float64
		center         float64
	}{
		{"one pair", []float64{0.3}, []float64{-0.2}, nil, 0},
		{"three pairs", []float64{1, -2, 0.5}, []float64{0, 3, 0.5}, nil, 0},
		{"centred", []float64{1, -2, 0.5}, []float64{0, 3, 0.7}, nil, 0.01},
		{"margin", []float64{1, -2}, []float64{0.2, 3}, []float64{0.5, 1}, 0.1},
		{"large gap", []float64{40, -40}, []float64{-40, 40}, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			B := len(tc.rc)
			var want float64
			for i := range tc.rc {
				d := tc.rc[i] - tc.rr[i]
				if tc.margin != nil {
					d -= tc.margin[i]
				}
				want += -math.Log(1/(1+math.Exp(-d)))/float64(B) + tc.center*(tc.rc[i]+tc.rr[i])*(tc.rc[i]+tc.rr[i])/float64(B)
			}
			dC, dR := make([]float64, B), make([]float64, B)
			got := Loss(tc.rc, tc.rr, tc.margin, tc.center, dC, dR)
			if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
				t.Errorf("loss %.15g, want %.15g", got, want)
			}
			scratchC, scratchR := make([]float64, B), make([]float64, B)
			const h = 1e-6
			for i := range B {
				for side, v := range [][]float64{tc.rc, tc.rr} {
					orig := v[i]
					v[i] = orig + h
					up := Loss(tc.rc, tc.rr, tc.margin, tc.center, scratchC, scratchR)
					v[i] = orig - h
					down := Loss(tc.rc, tc.rr, tc.margin, tc.center, scratchC, scratchR)
					v[i] = orig
					num := (up - down) / (2 * h)
					an := dC[i]
					if side == 1 {
						an = dR[i]
					}
					if math.Abs(num-an) > 1e-6 {
						t.Errorf("pair %d side %d: analytic %.9g, numeric %.9g", i, side, an, num)
					}
				}
			}
		})
	}
}

// fixture: the seed article's pairs and a small π_ref.
func fixture(t testing.TB) ([]data.Pair, *gpt.Params) {
	ds, err := data.Parse([]byte(data.Presets()[0].Text))
	if err != nil {
		t.Fatal(err)
	}
	c := gpt.Config{NLayer: 2, NHead: 2, NEmbd: 32, NPositions: 256}
	p := gpt.NewParams(c)
	p.Init(3)
	return ds.Pairs, p
}

// The gradient of a whole step's loss (body and score head) against
// central differences of the loss recomputed with Score.
func TestTrainerGradientFiniteDifferences(t *testing.T) {
	pairs, init := fixture(t)
	pairs = pairs[:3]
	for _, center := range []float64{0, 0.5} {
		cfg := DefaultConfig()
		cfg.Steps, cfg.Clip, cfg.CenterRewardsCoefficient = 1, 0, center
		tr, err := New(cfg, pairs, init)
		if err != nil {
			t.Fatal(err)
		}
		tr.nextBatch()
		if _, err := tr.batchGrad(); err != nil {
			t.Fatal(err)
		}
		m := tr.model
		probe := m.Clone()
		loss := func() float64 {
			copy(probe.Data, m.Data)
			var l float64
			for _, i := range tr.idx {
				p := pairs[i]
				rc, err := probe.Score([]byte(p.Prompt), []byte(p.Chosen))
				if err != nil {
					t.Fatal(err)
				}
				rr, err := probe.Score([]byte(p.Prompt), []byte(p.Rejected))
				if err != nil {
					t.Fatal(err)
				}
				l += math.Log1p(math.Exp(-(rc - rr))) + center*(rc+rr)*(rc+rr)
			}
			return l / float64(len(tr.idx))
		}
		specs := append(gpt.Layout(m.Cfg), gpt.TensorSpec{Name: "score.weight", Offset: m.Cfg.NumParams(), Size: m.Cfg.NEmbd})
		for _, s := range specs {
			gs := tr.grads[s.Offset : s.Offset+s.Size]
			best := 0
			for i := range gs {
				if math.Abs(float64(gs[i])) > math.Abs(float64(gs[best])) {
					best = i
				}
			}
			k := s.Offset + best
			orig := m.Data[k]
			const h = 1e-2
			m.Data[k] = orig + h
			up := loss()
			m.Data[k] = orig - h
			down := loss()
			m.Data[k] = orig
			num := (up - down) / (float64(orig+h) - float64(orig-h))
			if an := float64(gs[best]); math.Abs(num-an) > 3e-2*math.Abs(an)+1e-4 {
				t.Errorf("center %v, %s[%d]: analytic %.6g, numeric %.6g", center, s.Name, best, an, num)
			}
		}
	}
}

func run(t testing.TB, cfg Config) ([]StepResult, *Trainer) {
	pairs, init := fixture(t)
	tr, err := New(cfg, pairs, init)
	if err != nil {
		t.Fatal(err)
	}
	var rs []StepResult
	for !tr.Done() {
		r, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return rs, tr
}

// On the seed article's pairs the reward model learns to rank every chosen
// answer above its rejected one, and the centring term keeps rewards near 0.
func TestTrainerLearnsSeedPairs(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Steps, cfg.CenterRewardsCoefficient = 40, 0.01
	rs, tr := run(t, cfg)
	first, last := rs[0], rs[len(rs)-1]
	if last.Accuracy != 1 || !(last.Loss < first.Loss/4) {
		t.Errorf("after %d steps accuracy %v, loss %v (first %v)", len(rs), last.Accuracy, last.Loss, first.Loss)
	}
	pairs, _ := fixture(t)
	m := tr.Model()
	for i, p := range pairs {
		rc, err := m.Score([]byte(p.Prompt), []byte(p.Chosen))
		if err != nil {
			t.Fatal(err)
		}
		rr, err := m.Score([]byte(p.Prompt), []byte(p.Rejected))
		if err != nil {
			t.Fatal(err)
		}
		if !(rc > rr) {
			t.Errorf("pair %d: chosen %v, rejected %v", i, rc, rr)
		}
	}
	if !(last.MinReward <= last.MeanReward && last.MeanReward <= last.MaxReward) || last.Margin <= 0 {
		t.Errorf("metrics out of order: %+v", last.Metrics)
	}
}

// Same seed, same numbers; another seed, another head.
func TestTrainerDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Steps, cfg.BatchSize = 6, 3
	a, ta := run(t, cfg)
	b, tb := run(t, cfg)
	if !slices.Equal(a, b) || !slices.Equal(ta.model.Data, tb.model.Data) {
		t.Error("two runs with the same seed differ")
	}
	cfg.Seed = 2
	c, _ := run(t, cfg)
	if slices.Equal(a, c) {
		t.Error("runs with seeds 1 and 2 agree")
	}
}

// Steps allocate nothing after warm-up, and batch scoring neither.
func TestStepAllocatesNothing(t *testing.T) {
	pairs, init := fixture(t)
	cfg := DefaultConfig()
	cfg.Steps, cfg.BatchSize = 100, 4
	tr, err := New(cfg, pairs, init)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(5, func() {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per step", n)
	}
	m := tr.Model()
	prompts := [][]byte{[]byte("a"), []byte("bc")}
	completions := [][]byte{[]byte("xy"), []byte("z")}
	dst, _ := m.ScoreTexts(prompts, completions, nil)
	if n := testing.AllocsPerRun(5, func() {
		if _, err := m.ScoreTexts(prompts, completions, dst); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per ScoreTexts", n)
	}
}

// A non-finite step is refused and leaves weights and batch order alone.
func TestTrainerRefusesNonFiniteStep(t *testing.T) {
	pairs, init := fixture(t)
	cfg := DefaultConfig()
	cfg.Steps, cfg.BatchSize = 4, 2
	tr, err := New(cfg, pairs, init)
	if err != nil {
		t.Fatal(err)
	}
	tr.model.Weight[0] = float32(math.Inf(1))
	before := slices.Clone(tr.model.Data)
	order := slices.Clone(tr.order)
	if _, err := tr.Step(); err == nil {
		t.Fatal("a step with an infinite weight was accepted")
	}
	if !slices.Equal(before, tr.model.Data) || !slices.Equal(order, tr.order) || tr.StepsDone() != 0 || tr.cursor != 0 || tr.epoch != 0 {
		t.Error("the refused step changed the trainer")
	}
}

// Score equals ScoreTexts and the reward of a batch, and is the score head
// over the last input's hidden state.
func TestScoreIsHeadAtLastInput(t *testing.T) {
	_, init := fixture(t)
	m := NewModel(init, 5)
	prompt, completion := []byte("Q: why?\nA:"), []byte(" because.")
	got, err := m.Score(prompt, completion)
	if err != nil {
		t.Fatal(err)
	}
	ids := appendIDs(nil, prompt, completion)
	var b gpt.Batch
	if err := b.Add(ids, len(prompt)); err != nil {
		t.Fatal(err)
	}
	net := gpt.NewModel(m.Body)
	h, err := net.ForwardHidden(&b, []int32{int32(len(ids) - 2)})
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	for c := range h {
		want += float64(m.Weight[c]) * float64(h[c])
	}
	if got != want {
		t.Errorf("Score %v, head at the last input %v", got, want)
	}
	long := make([]byte, init.Cfg.NPositions)
	if _, err := m.Score(long, nil); err == nil {
		t.Error("a sequence longer than the context was scored")
	}
}

// The score head is drawn N(0, 0.02²) from the seed.
func TestScoreHeadInit(t *testing.T) {
	_, init := fixture(t)
	a, b := NewModel(init, 1), NewModel(init, 1)
	if !slices.Equal(a.Weight, b.Weight) || slices.Equal(a.Weight, NewModel(init, 2).Weight) {
		t.Error("score head is not seeded")
	}
	var s2 float64
	for _, v := range a.Weight {
		s2 += float64(v) * float64(v)
	}
	if sd := math.Sqrt(s2 / float64(len(a.Weight))); sd < 0.01 || sd > 0.03 {
		t.Errorf("score head std %v, want about %v", sd, InitializerRange)
	}
	if !slices.Equal(a.Body.Data, init.Data) {
		t.Error("body differs from π_ref")
	}
}
