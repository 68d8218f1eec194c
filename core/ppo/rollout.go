package ppo

import (
	"fmt"

	"dpoplayground/core/gpt"
	"dpoplayground/core/pmath"
)

// Completion is one sampled response to a prompt.
type Completion struct {
	// Prompt is [EOS] + the prompt's bytes, as the model reads them.
	Prompt []int32
	// Tokens are the sampled response; it ends with EOS when the policy
	// stopped by itself (Stopped), else it ran into the token limit.
	Tokens  []int32
	Stopped bool
	// Logps are the sampling log-probabilities of Tokens under the policy at
	// the sampling temperature, log softmax(z/(T + 1e-7)) as TRL computes them.
	Logps []float64
}

// IDs appends Prompt and Tokens to dst: the sequence a gpt.Batch reads,
// with len(Prompt) − 1 prompt bytes.
func (c *Completion) IDs(dst []int32) []int32 {
	return append(append(dst[:0], c.Prompt...), c.Tokens...)
}

// Sampler draws completions from a model with a key/value cache
// (gpt.Decoder), so a completion of n tokens costs n positions' work, not a
// pass over the whole prefix per token.
type Sampler struct {
	dec       *gpt.Decoder
	rng       *gpt.Rand
	temp      float64 // T + 1e-7, as TRL's generation_kwargs
	maxTokens int
	rel       []float64 // (V) logits less their maximum, then probabilities
}

// NewSampler samples from p at temperature (> 0) up to maxTokens new tokens,
// from the random stream seeded by seed.
func NewSampler(p *gpt.Params, temperature float64, maxTokens int, seed uint64) (*Sampler, error) {
	if !(temperature > 0 && temperature <= 100) {
		return nil, fmt.Errorf("ppo: temperature %v is not in (0, 100]", temperature)
	}
	if maxTokens < 1 {
		return nil, fmt.Errorf("ppo: response_length %d is below 1", maxTokens)
	}
	return &Sampler{dec: gpt.NewDecoder(p), rng: gpt.NewRand(seed), temp: temperature + 1e-7,
		maxTokens: maxTokens, rel: make([]float64, gpt.VocabSize)}, nil
}

// Rand is the sampler's random stream (its state is part of a run's state).
func (s *Sampler) Rand() *gpt.Rand { return s.rng }

// Sample fills c.Tokens, c.Logps and c.Stopped with a completion of
// c.Prompt: at most maxTokens tokens, fewer when the context fills up, ending
// at the first EOS.
func (s *Sampler) Sample(c *Completion, npos int) error {
	s.dec.Reset()
	c.Tokens, c.Logps, c.Stopped = c.Tokens[:0], c.Logps[:0], false
	room := npos - len(c.Prompt) // positions left for the response
	if room < 1 {
		return fmt.Errorf("ppo: a prompt of %d tokens leaves no room in a context of %d", len(c.Prompt), npos)
	}
	var logits []float32
	var err error
	for _, t := range c.Prompt {
		if logits, err = s.dec.Push(t); err != nil {
			return err
		}
	}
	for len(c.Tokens) < min(s.maxTokens, room) {
		zmax := logits[0]
		for _, z := range logits {
			zmax = max(zmax, z)
		}
		for j, z := range logits {
			s.rel[j] = float64(z - zmax)
		}
		tok, lp := draw(s.rel, s.temp, s.rng)
		c.Tokens = append(c.Tokens, tok)
		c.Logps = append(c.Logps, lp)
		if tok == gpt.EOS {
			c.Stopped = true
			break
		}
		if len(c.Tokens) < min(s.maxTokens, room) {
			if logits, err = s.dec.Push(tok); err != nil {
				return err
			}
		}
	}
	return nil
}

// draw picks a token from softmax(rel/temp), rel being the logits less their
// maximum (overwritten with unnormalised probabilities), and returns it with
// its log-probability.
func draw(rel []float64, temp float64, r *gpt.Rand) (int32, float64) {
	var sum float64
	for j, d := range rel {
		e := pmath.Exp(d / temp)
		rel[j] = e
		sum += e
	}
	u := r.Float64() * sum
	tok := 0
	for j, e := range rel {
		if e == 0 {
			continue
		}
		tok = j // the last possible token, should rounding leave u ≥ 0
		if u -= e; u < 0 {
			break
		}
	}
	return int32(tok), pmath.Log(rel[tok] / sum)
}
