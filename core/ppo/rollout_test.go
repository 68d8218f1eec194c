package ppo

import (
	"math"
	"testing"

	"dpoplayground/core/gpt"
)

func testParams(t testing.TB, preset string, seed uint64) *gpt.Params {
	t.Helper()
	c, err := gpt.PresetConfig(preset)
	if err != nil {
		t.Fatal(err)
	}
	p := gpt.NewParams(c)
	p.Init(seed)
	return p
}

// naiveSample recomputes the whole prefix for every token: the log-prob of
// each of the 257 candidates is a full forward pass of prefix + candidate.
func naiveSample(t *testing.T, p *gpt.Params, prompt []int32, temp float64, maxTokens int, seed uint64) ([]int32, []float64) {
	m := gpt.NewModel(p)
	r := gpt.NewRand(seed)
	ids := append([]int32(nil), prompt...)
	var toks []int32
	var logps []float64
	rel := make([]float64, gpt.VocabSize)
	for len(toks) < maxTokens {
		var b gpt.Batch
		for c := int32(0); c < gpt.VocabSize; c++ {
			seq := append(append([]int32(nil), ids...), c)
			if err := b.Add(seq, len(seq)-2); err != nil {
				t.Fatal(err)
			}
		}
		o, err := m.Forward(&b)
		if err != nil {
			t.Fatal(err)
		}
		best := math.Inf(-1)
		for _, lp := range o.TokenLogp {
			best = max(best, float64(lp))
		}
		for c, lp := range o.TokenLogp {
			rel[c] = float64(lp) - best // z_c − z_max
		}
		tok, lp := draw(rel, temp+1e-7, r)
		toks = append(toks, tok)
		logps = append(logps, lp)
		if tok == gpt.EOS {
			break
		}
		ids = append(ids, tok)
	}
	return toks, logps
}

func TestSamplerMatchesFullRecompute(t *testing.T) {
	p := testParams(t, "nano", 3)
	prompt := []int32{gpt.EOS, 'W', 'h', 'a', 't', '?', '\n'}
	for _, c := range []struct {
		temp float64
		seed uint64
	}{{0.7, 1}, {1, 2}, {2.5, 3}} {
		s, err := NewSampler(p, c.temp, 12, c.seed)
		if err != nil {
			t.Fatal(err)
		}
		comp := Completion{Prompt: prompt}
		if err := s.Sample(&comp, p.Cfg.NPositions); err != nil {
			t.Fatal(err)
		}
		toks, logps := naiveSample(t, p, prompt, c.temp, 12, c.seed)
		if len(toks) != len(comp.Tokens) {
			t.Fatalf("T %v: cached %v, naive %v", c.temp, comp.Tokens, toks)
		}
		for i := range toks {
			if toks[i] != comp.Tokens[i] || math.Abs(logps[i]-comp.Logps[i]) > 1e-4 {
				t.Fatalf("T %v token %d: cached %d (%v), naive %d (%v)", c.temp, i, comp.Tokens[i], comp.Logps[i], toks[i], logps[i])
			}
		}
		if comp.Stopped != (toks[len(toks)-1] == gpt.EOS) {
			t.Errorf("T %v: Stopped %v for %v", c.temp, comp.Stopped, toks)
		}
	}
}

func TestSamplerStopsAtTheContext(t *testing.T) {
	p := testParams(t, "nano", 3)
	s, err := NewSampler(p, 1, 50, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := Completion{Prompt: make([]int32, p.Cfg.NPositions-3)}
	c.Prompt[0] = gpt.EOS
	if err := s.Sample(&c, p.Cfg.NPositions); err != nil {
		t.Fatal(err)
	}
	if len(c.Prompt)+len(c.Tokens) > p.Cfg.NPositions {
		t.Errorf("%d prompt + %d response tokens exceed the context of %d", len(c.Prompt), len(c.Tokens), p.Cfg.NPositions)
	}
	c.Prompt = make([]int32, p.Cfg.NPositions)
	if err := s.Sample(&c, p.Cfg.NPositions); err == nil {
		t.Error("a prompt filling the context was accepted")
	}
	if _, err := NewSampler(p, 0, 5, 1); err == nil {
		t.Error("temperature 0 was accepted")
	}
}
