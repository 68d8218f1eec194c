package gpt

import (
	"fmt"
	"math"
	"math/bits"
	"strings"

	"dpoplayground/core/pmath"
)

// Preset is a named model size the playground offers.
type Preset struct {
	Name        string
	Description string
	Config      Config
}

// Presets lists the model sizes from smallest to largest.
func Presets() []Preset {
	return []Preset{
		{"nano", "1 layer, 36 wide: trains instantly", Config{NLayer: 1, NHead: 4, NEmbd: 36, NPositions: 128}},
		{"micro", "2 layers, 64 wide, 4 heads", Config{NLayer: 2, NHead: 4, NEmbd: 64, NPositions: 128}},
		{"small", "4 layers, 128 wide, 4 heads: minutes", Config{NLayer: 4, NHead: 4, NEmbd: 128, NPositions: 128}},
	}
}

// PresetConfig returns the configuration of the named preset.
func PresetConfig(name string) (Config, error) {
	var names []string
	for _, p := range Presets() {
		if p.Name == name {
			return p.Config, nil
		}
		names = append(names, p.Name)
	}
	return Config{}, fmt.Errorf("gpt: unknown preset %q (one of %s)", name, strings.Join(names, ", "))
}

// Init fills p as GPT-2 initialises a new model, from seed: weights and
// embeddings ~ N(0, 0.02²), the two residual projections (attn.c_proj and
// mlp.c_proj) scaled by 1/sqrt(2·n_layer), biases 0, LayerNorm weights 1.
// The random stream is integer arithmetic plus pmath.Log and math.Sqrt, so the
// same seed gives bit-identical weights natively and in WebAssembly.
func (p *Params) Init(seed uint64) {
	r := NewRand(seed)
	normal := func(s []float32, std float64) {
		for i := range s {
			s[i] = float32(std * r.Normal())
		}
	}
	const std = 0.02
	normal(p.Wte, std)
	normal(p.Wpe, std)
	proj := std / math.Sqrt(2*float64(p.Cfg.NLayer))
	for l := range p.H {
		b := &p.H[l]
		fill(b.Ln1W, 1)
		clear(b.Ln1B)
		normal(b.AttnW, std)
		clear(b.AttnB)
		normal(b.AttnProjW, proj)
		clear(b.AttnProjB)
		fill(b.Ln2W, 1)
		clear(b.Ln2B)
		normal(b.FcW, std)
		clear(b.FcB)
		normal(b.FcProjW, proj)
		clear(b.FcProjB)
	}
	fill(p.LnfW, 1)
	clear(p.LnfB)
}

func fill(s []float32, v float32) {
	for i := range s {
		s[i] = v
	}
}

// Rand is a small seeded generator (SplitMix64) whose every output is defined
// by integer arithmetic, so streams agree across platforms.
type Rand struct{ state uint64 }

// NewRand seeds a generator.
func NewRand(seed uint64) *Rand { return &Rand{state: seed} }

// Uint64 returns the next 64 random bits.
func (r *Rand) Uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Float64 returns a uniform value in [0, 1).
func (r *Rand) Float64() float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// Intn returns a uniform value in [0, n), n > 0.
func (r *Rand) Intn(n int) int {
	// Lemire's multiply-shift with rejection: unbiased.
	bound := uint64(n)
	for {
		x := r.Uint64()
		hi, lo := bits.Mul64(x, bound)
		if lo >= bound || lo >= -bound%bound {
			return int(hi)
		}
	}
}

// Normal returns a standard normal value (Marsaglia's polar method).
func (r *Rand) Normal() float64 {
	for {
		u := 2*r.Float64() - 1
		v := 2*r.Float64() - 1
		s := u*u + v*v
		if s > 0 && s < 1 {
			return u * math.Sqrt(-2*pmath.Log(s)/s)
		}
	}
}

// Shuffle permutes idx in place (Fisher–Yates).
func (r *Rand) Shuffle(idx []int) {
	for i := len(idx) - 1; i > 0; i-- {
		j := r.Intn(i + 1)
		idx[i], idx[j] = idx[j], idx[i]
	}
}
