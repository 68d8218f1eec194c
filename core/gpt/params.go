// Package gpt is the byte-level GPT-2 of the playground, exactly Hugging Face's
// GPT2LMHeadModel: learned token and position embeddings, pre-LayerNorm blocks
// (x += attn(ln_1(x)); x += mlp(ln_2(x))), causal attention, gelu_new, a final
// ln_f and an output head tied to the token embedding. Vocabulary: bytes
// 0..255 plus <|endoftext|> = 256.
//
// Parameters live in one float32 allocation with named views; gradients and
// optimiser moments use the same layout, so an optimiser is one flat loop.
package gpt

import (
	"fmt"
)

// EOS is <|endoftext|>, GPT-2's BOS and EOS token.
const EOS = 256

// VocabSize is 256 bytes plus EOS.
const VocabSize = 257

// Config is the architecture (HF GPT2Config's n_layer, n_head, n_embd, n_positions).
type Config struct {
	NLayer     int `json:"n_layer"`
	NHead      int `json:"n_head"`
	NEmbd      int `json:"n_embd"`
	NPositions int `json:"n_positions"`
}

// Validate reports a configuration the model cannot run.
func (c Config) Validate() error {
	switch {
	case c.NLayer < 1 || c.NLayer > 64:
		return fmt.Errorf("gpt: n_layer %d out of range [1, 64]", c.NLayer)
	case c.NHead < 1 || c.NHead > 64:
		return fmt.Errorf("gpt: n_head %d out of range [1, 64]", c.NHead)
	case c.NEmbd < 1 || c.NEmbd > 4096:
		return fmt.Errorf("gpt: n_embd %d out of range [1, 4096]", c.NEmbd)
	case c.NEmbd%c.NHead != 0:
		return fmt.Errorf("gpt: n_embd %d is not divisible by n_head %d", c.NEmbd, c.NHead)
	case c.NPositions < 2 || c.NPositions > 8192:
		return fmt.Errorf("gpt: n_positions %d out of range [2, 8192]", c.NPositions)
	}
	return nil
}

// NumParams is the number of float32 parameters (lm_head is tied, not counted twice).
func (c Config) NumParams() int {
	n := 0
	for _, t := range Layout(c) {
		n += t.Size
	}
	return n
}

// TensorSpec names one parameter tensor and places it in the flat allocation.
type TensorSpec struct {
	Name   string // HF name without the "transformer." prefix, e.g. "h.0.attn.c_attn.weight"
	Shape  []int  // HF shape; Conv1D weights are (in, out)
	Offset int
	Size   int
}

// Layout lists the parameter tensors in HF's named_parameters order.
func Layout(c Config) []TensorSpec {
	C, V, P := c.NEmbd, VocabSize, c.NPositions
	var specs []TensorSpec
	off := 0
	add := func(name string, shape ...int) {
		size := 1
		for _, d := range shape {
			size *= d
		}
		specs = append(specs, TensorSpec{Name: name, Shape: shape, Offset: off, Size: size})
		off += size
	}
	add("wte.weight", V, C)
	add("wpe.weight", P, C)
	for l := 0; l < c.NLayer; l++ {
		h := fmt.Sprintf("h.%d.", l)
		add(h+"ln_1.weight", C)
		add(h+"ln_1.bias", C)
		add(h+"attn.c_attn.weight", C, 3*C)
		add(h+"attn.c_attn.bias", 3*C)
		add(h+"attn.c_proj.weight", C, C)
		add(h+"attn.c_proj.bias", C)
		add(h+"ln_2.weight", C)
		add(h+"ln_2.bias", C)
		add(h+"mlp.c_fc.weight", C, 4*C)
		add(h+"mlp.c_fc.bias", 4*C)
		add(h+"mlp.c_proj.weight", 4*C, C)
		add(h+"mlp.c_proj.bias", C)
	}
	add("ln_f.weight", C)
	add("ln_f.bias", C)
	return specs
}

// Block holds the views of one transformer block's parameters.
type Block struct {
	Ln1W, Ln1B           []float32 // (C)
	AttnW, AttnB         []float32 // (C, 3C), (3C)
	AttnProjW, AttnProjB []float32 // (C, C), (C)
	Ln2W, Ln2B           []float32 // (C)
	FcW, FcB             []float32 // (C, 4C), (4C)
	FcProjW, FcProjB     []float32 // (4C, C), (C)
}

// Params is a flat parameter vector (or a gradient, or an optimiser moment)
// with a view per tensor.
type Params struct {
	Cfg        Config
	Data       []float32
	Wte, Wpe   []float32 // (V, C), (P, C)
	H          []Block
	LnfW, LnfB []float32 // (C)
}

// NewParams allocates a zeroed parameter vector for c.
func NewParams(c Config) *Params {
	return ParamsOn(c, make([]float32, c.NumParams()))
}

// ParamsOn lays c's parameter views over data, which must hold NumParams values.
func ParamsOn(c Config, data []float32) *Params {
	specs := Layout(c)
	last := specs[len(specs)-1]
	if len(data) != last.Offset+last.Size {
		panic(fmt.Sprintf("gpt: ParamsOn: %d values for a model of %d parameters", len(data), last.Offset+last.Size))
	}
	v := func(i int) []float32 {
		s := specs[i]
		return data[s.Offset : s.Offset+s.Size : s.Offset+s.Size]
	}
	p := &Params{Cfg: c, Data: data, Wte: v(0), Wpe: v(1), H: make([]Block, c.NLayer)}
	for l := range p.H {
		i := 2 + 12*l
		p.H[l] = Block{
			Ln1W: v(i), Ln1B: v(i + 1), AttnW: v(i + 2), AttnB: v(i + 3),
			AttnProjW: v(i + 4), AttnProjB: v(i + 5), Ln2W: v(i + 6), Ln2B: v(i + 7),
			FcW: v(i + 8), FcB: v(i + 9), FcProjW: v(i + 10), FcProjB: v(i + 11),
		}
	}
	n := len(specs)
	p.LnfW, p.LnfB = v(n-2), v(n-1)
	return p
}

// Clone returns a deep copy.
func (p *Params) Clone() *Params {
	return ParamsOn(p.Cfg, append([]float32(nil), p.Data...))
}

// Tensor returns the view of the named tensor (HF name, with or without the
// "transformer." prefix) and its spec.
func (p *Params) Tensor(name string) ([]float32, TensorSpec, bool) {
	name = trimPrefix(name)
	for _, s := range Layout(p.Cfg) {
		if s.Name == name {
			return p.Data[s.Offset : s.Offset+s.Size], s, true
		}
	}
	return nil, TensorSpec{}, false
}

func trimPrefix(name string) string {
	const prefix = "transformer."
	if len(name) > len(prefix) && name[:len(prefix)] == prefix {
		return name[len(prefix):]
	}
	return name
}
