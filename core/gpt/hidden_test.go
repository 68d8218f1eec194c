package gpt

import (
	"math"
	"slices"
	"testing"
)

// hiddenFixture is a small random model and a batch of three sequences of
// different lengths.
func hiddenFixture(t testing.TB) (*Model, *Batch) {
	c := Config{NLayer: 2, NHead: 2, NEmbd: 16, NPositions: 32}
	p := NewParams(c)
	p.Init(7)
	// Non-trivial biases and norms, so every tensor has a gradient worth checking.
	r := NewRand(11)
	for i := range p.Data {
		p.Data[i] += float32(0.05 * r.Normal())
	}
	var b Batch
	for s, text := range []string{"ab cd", "hello world!", "xyz"} {
		ids := append([]int32{EOS}, bytesToIDs(text)...)
		ids = append(ids, EOS)
		if err := b.Add(ids, 1+s); err != nil {
			t.Fatal(err)
		}
	}
	m := NewModel(p)
	m.EnableGrads()
	return m, &b
}

func bytesToIDs(s string) []int32 {
	ids := make([]int32, len(s))
	for i := range s {
		ids[i] = int32(s[i])
	}
	return ids
}

func randomVec(r *Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.Normal())
	}
	return v
}

// The last input of each sequence is the byte before its trailing EOS.
func TestLastInputs(t *testing.T) {
	_, b := hiddenFixture(t)
	got := LastInputs(nil, b)
	for s, p := range got {
		if b.Targets[p] != EOS || b.Inputs[p] == EOS {
			t.Errorf("sequence %d: last input %d has input %d, target %d", s, p, b.Inputs[p], b.Targets[p])
		}
		if s+1 < len(got) && b.Pos[p+1] != 0 {
			t.Errorf("sequence %d: position %d is not the end of its segment", s, p)
		}
	}
	if want := int32(b.NumTokens() - 1); got[len(got)-1] != want {
		t.Errorf("last sequence ends at %d, want %d", got[len(got)-1], want)
	}
}

// ForwardHidden skips the LM head but computes the same hidden states as
// Forward, and BackwardHidden with a zero hidden gradient is Backward.
func TestHiddenMatchesForwardAndBackward(t *testing.T) {
	m, b := hiddenFixture(t)
	pos := b.Scored
	h, err := m.ForwardHidden(b, pos)
	if err != nil {
		t.Fatal(err)
	}
	h = slices.Clone(h)
	if _, err := m.Forward(b); err != nil {
		t.Fatal(err)
	}
	if h2 := m.Hidden(pos); !slices.Equal(h, h2) {
		t.Fatal("ForwardHidden and Forward give different hidden states")
	}
	dTok := randomVec(NewRand(3), len(b.Scored))
	m.ZeroGrads()
	m.Backward(b, dTok)
	want := slices.Clone(m.Grads.Data)
	if _, err := m.Forward(b); err != nil { // Backward spent the logits
		t.Fatal(err)
	}
	m.ZeroGrads()
	m.BackwardHidden(b, dTok, pos, make([]float32, len(pos)*m.Cfg.NEmbd))
	if !slices.Equal(want, m.Grads.Data) {
		t.Error("BackwardHidden with a zero hidden gradient differs from Backward")
	}
}

// The gradient of L = Σ dTok·logp + Σ w·hidden against central differences,
// for a reward model's positions (last inputs, no LM head) and a policy with
// a value head (every scored position, LM head and hidden together).
func TestHiddenGradientFiniteDifferences(t *testing.T) {
	cases := []struct {
		name    string
		lmHead  bool
		scored  bool
		repeats bool
	}{
		{name: "reward/last inputs", lmHead: false, scored: false},
		{name: "value/scored positions", lmHead: false, scored: true},
		{name: "policy and value", lmHead: true, scored: true},
		{name: "repeated positions", lmHead: false, scored: false, repeats: true},
	}
	for ci, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, b := hiddenFixture(t)
			pos := LastInputs(nil, b)
			if tc.scored {
				pos = slices.Clone(b.Scored)
			}
			if tc.repeats {
				pos = append(pos, pos[0], pos[0])
			}
			r := NewRand(uint64(100 + ci))
			w := randomVec(r, len(pos)*m.Cfg.NEmbd)
			var dTok []float32
			if tc.lmHead {
				dTok = randomVec(r, len(b.Scored))
			}
			frozen := NewModel(m.Params)
			loss := func() float64 {
				var l float64
				var h []float32
				if tc.lmHead {
					out, err := frozen.Forward(b)
					if err != nil {
						t.Fatal(err)
					}
					for i, lp := range out.TokenLogp {
						l += float64(dTok[i]) * float64(lp)
					}
					h = frozen.Hidden(pos)
				} else {
					var err error
					if h, err = frozen.ForwardHidden(b, pos); err != nil {
						t.Fatal(err)
					}
				}
				for i := range h {
					l += float64(w[i]) * float64(h[i])
				}
				return l
			}
			if tc.lmHead {
				if _, err := m.Forward(b); err != nil {
					t.Fatal(err)
				}
			} else if _, err := m.ForwardHidden(b, pos); err != nil {
				t.Fatal(err)
			}
			m.ZeroGrads()
			m.BackwardHidden(b, dTok, pos, w)
			for _, s := range Layout(m.Cfg) {
				data := m.Params.Data[s.Offset : s.Offset+s.Size]
				gs := m.Grads.Data[s.Offset : s.Offset+s.Size]
				best := 0
				for i := range gs {
					if math.Abs(float64(gs[i])) > math.Abs(float64(gs[best])) {
						best = i
					}
				}
				orig := data[best]
				const h = 1e-2
				data[best] = orig + h
				up := loss()
				data[best] = orig - h
				down := loss()
				data[best] = orig
				num := (up - down) / (float64(orig+h) - float64(orig-h))
				an := float64(gs[best])
				if math.Abs(num-an) > 2e-2*math.Abs(an)+1e-3 {
					t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", s.Name, best, an, num)
				}
			}
		})
	}
}

// A hidden-state step allocates nothing once the buffers have grown.
func TestHiddenStepAllocatesNothing(t *testing.T) {
	m, b := hiddenFixture(t)
	pos := LastInputs(nil, b)
	dh := make([]float32, len(pos)*m.Cfg.NEmbd)
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := m.ForwardHidden(b, pos); err != nil {
			t.Fatal(err)
		}
		m.BackwardHidden(b, nil, pos, dh)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per hidden step", allocs)
	}
}

// Positions outside the batch are an error, not a panic.
func TestForwardHiddenRejectsBadPositions(t *testing.T) {
	m, b := hiddenFixture(t)
	for _, p := range []int32{-1, int32(b.NumTokens())} {
		if _, err := m.ForwardHidden(b, []int32{0, p}); err == nil {
			t.Errorf("position %d accepted", p)
		}
	}
}
