package gpt

import (
	"fmt"
	"math"
	"strings"

	"dpoplayground/core/pmath"
	"dpoplayground/core/tensor"
)

// SampleConfig controls generation. Temperature 0 is greedy decoding; TopK 0
// keeps the whole vocabulary.
type SampleConfig struct {
	Temperature float64 `json:"temperature"`
	TopK        int     `json:"top_k"`
	MaxTokens   int     `json:"max_tokens"`
	Seed        uint64  `json:"seed"`
}

// Validate reports settings that cannot be used.
func (c SampleConfig) Validate() error {
	switch {
	case !(c.Temperature >= 0) || c.Temperature > 100:
		return fmt.Errorf("gpt: temperature %v is not in [0, 100]", c.Temperature)
	case c.TopK < 0 || c.TopK > VocabSize:
		return fmt.Errorf("gpt: top-k %d is not in [0, %d]", c.TopK, VocabSize)
	case c.MaxTokens < 1 || c.MaxTokens > 100_000:
		return fmt.Errorf("gpt: max tokens %d is not in [1, 100000]", c.MaxTokens)
	}
	return nil
}

// Decoder generates one token at a time with a key/value cache, so each new
// token costs one position's work instead of a pass over the whole prefix.
type Decoder struct {
	p      *Params
	n      int         // positions in the cache
	k, v   [][]float32 // per layer (NPositions, C)
	x, ln  []float32   // (C)
	qkv    []float32   // (3C)
	att    []float32   // (C)
	proj   []float32   // (C)
	fc     []float32   // (4C)
	scores []float32   // (NPositions)
	logits []float32   // (V)
	mean   []float32   // (1) LayerNorm scratch
	rstd   []float32
}

// NewDecoder prepares a decoder for p.
func NewDecoder(p *Params) *Decoder {
	c := p.Cfg
	C := c.NEmbd
	d := &Decoder{p: p, x: make([]float32, C), ln: make([]float32, C), qkv: make([]float32, 3*C),
		att: make([]float32, C), proj: make([]float32, C), fc: make([]float32, 4*C),
		scores: make([]float32, c.NPositions), logits: make([]float32, VocabSize),
		mean: make([]float32, 1), rstd: make([]float32, 1)}
	d.k = make([][]float32, c.NLayer)
	d.v = make([][]float32, c.NLayer)
	for l := range d.k {
		d.k[l] = make([]float32, c.NPositions*C)
		d.v[l] = make([]float32, c.NPositions*C)
	}
	return d
}

// Reset empties the cache.
func (d *Decoder) Reset() { d.n = 0 }

// Len is the number of positions consumed.
func (d *Decoder) Len() int { return d.n }

// Push feeds one token and returns the logits of the next (owned by d).
func (d *Decoder) Push(tok int32) ([]float32, error) {
	c := d.p.Cfg
	if d.n >= c.NPositions {
		return nil, fmt.Errorf("gpt: context of %d positions is full", c.NPositions)
	}
	if tok < 0 || tok >= VocabSize {
		return nil, fmt.Errorf("gpt: token id %d outside the vocabulary", tok)
	}
	C, NH := c.NEmbd, c.NHead
	hs := C / NH
	scale := float32(1 / math.Sqrt(float64(hs)))
	p, t := d.p, d.n
	tensor.Add(d.x, p.Wte[int(tok)*C:int(tok)*C+C], p.Wpe[t*C:t*C+C])
	for l := range p.H {
		w := &p.H[l]
		tensor.LayerNorm(d.ln, d.mean, d.rstd, d.x, w.Ln1W, w.Ln1B, 1, C)
		tensor.Linear(d.qkv, d.ln, w.AttnW, w.AttnB, 1, C, 3*C)
		copy(d.k[l][t*C:t*C+C], d.qkv[C:2*C])
		copy(d.v[l][t*C:t*C+C], d.qkv[2*C:3*C])
		for h := 0; h < NH; h++ {
			q := d.qkv[h*hs : h*hs+hs]
			row := d.scores[:t+1]
			maxv := float32(math.Inf(-1))
			for u := range row {
				k := d.k[l][u*C+h*hs : u*C+h*hs+hs]
				var s float32
				for i, qv := range q {
					s += qv * k[i]
				}
				s *= scale
				row[u] = s
				maxv = max(maxv, s)
			}
			var sum float32
			for u := range row {
				e := pmath.Exp32(row[u] - maxv)
				row[u] = e
				sum += e
			}
			inv := 1 / sum
			o := d.att[h*hs : h*hs+hs]
			clear(o)
			for u, pu := range row {
				pu *= inv
				v := d.v[l][u*C+h*hs : u*C+h*hs+hs]
				for i, vv := range v {
					o[i] += pu * vv
				}
			}
		}
		tensor.Linear(d.proj, d.att, w.AttnProjW, w.AttnProjB, 1, C, C)
		tensor.AddTo(d.x, d.proj)
		tensor.LayerNorm(d.ln, d.mean, d.rstd, d.x, w.Ln2W, w.Ln2B, 1, C)
		tensor.Linear(d.fc, d.ln, w.FcW, w.FcB, 1, C, 4*C)
		tensor.GELU(d.fc, d.fc)
		tensor.Linear(d.proj, d.fc, w.FcProjW, w.FcProjB, 1, 4*C, C)
		tensor.AddTo(d.x, d.proj)
	}
	tensor.LayerNorm(d.ln, d.mean, d.rstd, d.x, p.LnfW, p.LnfB, 1, C)
	tensor.MatMulBT(d.logits, d.ln, p.Wte, 1, C, VocabSize, false)
	d.n++
	return d.logits, nil
}

// Generate continues [EOS] + prompt and returns the new tokens, ending with
// EOS when the model chose to stop. It stops at MaxTokens or when the context
// is full; a prompt longer than the context keeps its end.
func Generate(p *Params, prompt []byte, cfg SampleConfig) ([]int32, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := NewDecoder(p)
	if keep := p.Cfg.NPositions - 2; len(prompt) > keep {
		prompt = prompt[len(prompt)-keep:]
	}
	logits, err := d.Push(EOS)
	if err != nil {
		return nil, err
	}
	for _, b := range prompt {
		if logits, err = d.Push(int32(b)); err != nil {
			return nil, err
		}
	}
	r := NewRand(cfg.Seed)
	var out []int32
	probs := make([]float64, VocabSize)
	for len(out) < cfg.MaxTokens {
		tok := pick(logits, cfg, r, probs)
		out = append(out, tok)
		if tok == EOS || d.Len() >= p.Cfg.NPositions {
			break
		}
		if logits, err = d.Push(tok); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pick chooses the next token: argmax (the lowest id on ties) at
// temperature 0, else a draw from softmax(logits/T) over the top k.
func pick(logits []float32, cfg SampleConfig, r *Rand, probs []float64) int32 {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	if cfg.Temperature == 0 {
		return int32(best)
	}
	// The k-th largest logit is the cut-off; ties at the cut-off stay in.
	cut := math.Inf(-1)
	if cfg.TopK > 0 && cfg.TopK < len(logits) {
		cut = kthLargest(logits, cfg.TopK)
	}
	var sum float64
	for i, v := range logits {
		probs[i] = 0
		if float64(v) >= cut {
			probs[i] = pmath.Exp(float64(v-logits[best]) / cfg.Temperature)
			sum += probs[i]
		}
	}
	u := r.Float64() * sum
	for i, pr := range probs {
		if pr == 0 {
			continue
		}
		u -= pr
		if u < 0 {
			return int32(i)
		}
	}
	return int32(best)
}

func kthLargest(v []float32, k int) float64 {
	top := make([]float32, 0, k)
	for _, x := range v {
		if len(top) < k {
			top = append(top, x)
		} else {
			// replace the smallest of top when x beats it
			mi := 0
			for i := range top {
				if top[i] < top[mi] {
					mi = i
				}
			}
			if x > top[mi] {
				top[mi] = x
			}
			continue
		}
	}
	m := top[0]
	for _, x := range top {
		m = min(m, x)
	}
	return float64(m)
}

// Text renders generated tokens for people: bytes as UTF-8, EOS dropped, and
// any byte sequence that is not valid UTF-8 (such as a character cut by the
// token limit) shown as U+FFFD.
func Text(ids []int32) string {
	b := make([]byte, 0, len(ids))
	for _, id := range ids {
		if id >= 0 && id < 256 {
			b = append(b, byte(id))
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
