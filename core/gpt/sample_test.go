package gpt

import (
	"math"
	"testing"
	"unicode/utf8"
)

func TestGreedyAgainstGolden(t *testing.T) {
	g := loadGolden(t)
	p := loadGoldenModel(t, "policy")
	got, err := Generate(p, []byte(g.Pairs[0].Prompt), SampleConfig{MaxTokens: 16})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(g.Greedy) {
		t.Fatalf("greedy %v, want %v", got, g.Greedy)
	}
	for i := range got {
		if got[i] != g.Greedy[i] {
			t.Fatalf("greedy %v, want %v", got, g.Greedy)
		}
	}
}

// The cached decoder must give the logits of the full forward pass at every
// position (checked through the log-prob of each next token).
func TestDecoderMatchesForward(t *testing.T) {
	g := loadGolden(t)
	p := loadGoldenModel(t, "policy")
	ids := g.Pairs[2].ChosenIDs
	var b Batch
	if err := b.Add(ids, 0); err != nil {
		t.Fatal(err)
	}
	out, err := NewModel(p).Forward(&b)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(p)
	for i := 0; i+1 < len(ids); i++ {
		logits, err := d.Push(ids[i])
		if err != nil {
			t.Fatal(err)
		}
		var se float64
		for _, v := range logits {
			se += math.Exp(float64(v))
		}
		lp := float64(logits[ids[i+1]]) - math.Log(se)
		if math.Abs(lp-float64(out.TokenLogp[i])) > 1e-4 {
			t.Errorf("position %d: decoder log-prob %.7g, forward %.7g", i, lp, out.TokenLogp[i])
		}
	}
}

func TestSamplingSeededAndBounded(t *testing.T) {
	p := NewParams(Config{NLayer: 1, NHead: 2, NEmbd: 8, NPositions: 32})
	p.Init(7)
	cfg := SampleConfig{Temperature: 1, MaxTokens: 20, Seed: 3}
	a, err := Generate(p, []byte("hi"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(p, []byte("hi"), cfg)
	if len(a) == 0 || len(a) > 20 || string(Text(a)) != string(Text(b)) || len(a) != len(b) {
		t.Fatalf("same seed gave %v and %v", a, b)
	}
	cfg.Seed = 4
	c, _ := Generate(p, []byte("hi"), cfg)
	same := len(a) == len(c)
	for i := 0; same && i < len(a); i++ {
		same = a[i] == c[i]
	}
	if same {
		t.Errorf("seeds 3 and 4 gave the same %d tokens from a near-uniform model", len(a))
	}
	// top-k 1 is greedy whatever the temperature.
	greedy, _ := Generate(p, []byte("hi"), SampleConfig{MaxTokens: 10})
	top1, _ := Generate(p, []byte("hi"), SampleConfig{Temperature: 2, TopK: 1, MaxTokens: 10, Seed: 9})
	for i := range greedy {
		if greedy[i] != top1[i] {
			t.Fatalf("top-k 1 %v differs from greedy %v", top1, greedy)
		}
	}
	// The context bounds generation: 32 positions hold [EOS] + 2 prompt bytes + 29 more.
	long, _ := Generate(p, []byte("hi"), SampleConfig{Temperature: 1, MaxTokens: 1000, Seed: 1})
	if n := len(long); n > 30 {
		t.Errorf("generated %d tokens past a 32-position context", n)
	}
	if _, err := Generate(p, nil, SampleConfig{MaxTokens: 0}); err == nil {
		t.Error("MaxTokens 0 accepted")
	}
	if _, err := Generate(p, nil, SampleConfig{MaxTokens: 5, Temperature: -1}); err == nil {
		t.Error("negative temperature accepted")
	}
}

// With top-k 2 only the two most likely tokens may appear.
func TestTopK(t *testing.T) {
	logits := make([]float32, VocabSize)
	logits[10], logits[20], logits[30] = 5, 4.5, 4.4
	r := NewRand(1)
	probs := make([]float64, VocabSize)
	seen := map[int32]int{}
	for i := 0; i < 2000; i++ {
		seen[pick(logits, SampleConfig{Temperature: 1, TopK: 2}, r, probs)]++
	}
	if len(seen) != 2 || seen[10] == 0 || seen[20] == 0 {
		t.Errorf("top-2 draws %v", seen)
	}
	// At temperature 1, P(10)/P(20) = e^0.5 ≈ 1.65.
	if ratio := float64(seen[10]) / float64(seen[20]); ratio < 1.4 || ratio > 1.95 {
		t.Errorf("ratio %v, want ≈ 1.65", ratio)
	}
}

func TestText(t *testing.T) {
	// "é" is 0xC3 0xA9; a cut after 0xC3 must still render.
	got := Text([]int32{'c', 'a', 'f', 0xC3, EOS})
	if !utf8.ValidString(got) || got != "caf\uFFFD" {
		t.Errorf("Text = %q", got)
	}
	if got := Text([]int32{'c', 'a', 'f', 0xC3, 0xA9}); got != "café" {
		t.Errorf("Text = %q", got)
	}
}

// Same seed, same weights: Init is a pure function of the seed, and the
// presets have the advertised sizes.
func TestInitAndPresets(t *testing.T) {
	for _, pr := range Presets() {
		a, b := NewParams(pr.Config), NewParams(pr.Config)
		a.Init(42)
		b.Init(42)
		for i := range a.Data {
			if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
				t.Fatalf("%s: Init(42) differs at %d", pr.Name, i)
			}
		}
		if err := pr.Config.Validate(); err != nil {
			t.Error(err)
		}
	}
	want := map[string]int{"nano": 29952, "micro": 124736, "small": 842624}
	for name, n := range want {
		c, err := PresetConfig(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.NumParams(); got != n {
			t.Errorf("%s: %d parameters, want %d", name, got, n)
		}
	}
	// GPT-2 init statistics on the micro preset.
	c, _ := PresetConfig("micro")
	p := NewParams(c)
	p.Init(1)
	std := func(s []float32) float64 {
		var ss float64
		for _, v := range s {
			ss += float64(v) * float64(v)
		}
		return math.Sqrt(ss / float64(len(s)))
	}
	if s := std(p.H[0].FcW); math.Abs(s-0.02) > 0.001 {
		t.Errorf("c_fc std %v, want 0.02", s)
	}
	if s := std(p.H[0].FcProjW); math.Abs(s-0.02/2) > 0.0005 {
		t.Errorf("mlp.c_proj std %v, want 0.01 (0.02/sqrt(2·2))", s)
	}
	if p.H[1].Ln2W[5] != 1 || p.LnfB[3] != 0 || p.H[0].AttnB[7] != 0 {
		t.Error("LayerNorm weights must start at 1 and biases at 0")
	}
}
