package online

import (
	"fmt"

	"dpoplayground/core/gpt"
	"dpoplayground/core/pmath"
	"dpoplayground/core/ppo"
)

// sample is one completion with what the metrics need.
type sample struct {
	ppo.Completion
	text string // the response as text, EOS dropped (gpt.Text)
}

// promptIDs is [EOS] + prompt as the model reads it, keeping the prompt's
// end (as gpt.Generate does) so that at least one token fits after it.
func promptIDs(prompt string, npos int) []int32 {
	b := []byte(prompt)
	if keep := npos - 2; len(b) > keep {
		b = b[len(b)-keep:]
	}
	ids := make([]int32, 0, len(b)+1)
	ids = append(ids, gpt.EOS)
	for _, c := range b {
		ids = append(ids, int32(c))
	}
	return ids
}

// sample2 draws two completions of prompt from s, one after the other.
func sample2(s *ppo.Sampler, prompt string, npos int) ([2]sample, error) {
	var out [2]sample
	ids := promptIDs(prompt, npos)
	for k := range out {
		out[k].Prompt = ids
		if err := s.Sample(&out[k].Completion, npos); err != nil {
			return out, err
		}
		out[k].text = gpt.Text(out[k].Tokens)
	}
	return out, nil
}

// Sample2 draws two completions of prompt from policy at temperature (> 0),
// at most maxTokens new tokens each, from the random stream seeded by seed
// (a, then b, from the same stream: different draws, the same pair for the
// same seed). They are text, the final EOS dropped.
func Sample2(policy *gpt.Params, prompt string, temperature float64, maxTokens int, seed uint64) (a, b string, err error) {
	if policy == nil {
		return "", "", fmt.Errorf("online: no policy to sample from")
	}
	s, err := ppo.NewSampler(policy, temperature, maxTokens, seed)
	if err != nil {
		return "", "", err
	}
	out, err := sample2(s, prompt, policy.Cfg.NPositions)
	if err != nil {
		return "", "", err
	}
	return out[0].text, out[1].text, nil
}

// tokenLogps returns the log-probabilities of c.Tokens after c.Prompt under
// d's model at temperature temp (log softmax(z/temp), as the sampler's),
// reusing dst.
func tokenLogps(d *gpt.Decoder, c *ppo.Completion, temp float64, dst []float64) ([]float64, error) {
	d.Reset()
	dst = dst[:0]
	var logits []float32
	var err error
	for _, t := range c.Prompt {
		if logits, err = d.Push(t); err != nil {
			return dst, err
		}
	}
	for i, tok := range c.Tokens {
		// The sampler's arithmetic (ppo's draw), so that the policy's own
		// log-probs come out the same, bit for bit.
		zmax := logits[0]
		for _, z := range logits {
			zmax = max(zmax, z)
		}
		var sum, e float64
		for j, z := range logits {
			v := pmath.Exp(float64(z-zmax) / temp)
			sum += v
			if j == int(tok) {
				e = v
			}
		}
		dst = append(dst, pmath.Log(e/sum))
		if i+1 < len(c.Tokens) {
			if logits, err = d.Push(tok); err != nil {
				return dst, err
			}
		}
	}
	return dst, nil
}
