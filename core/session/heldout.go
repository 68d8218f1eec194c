package session

import (
	"fmt"

	"dpoplayground/core/corpus"
	"dpoplayground/core/gpt"
)

// HeldOutPrompts are the base model's held-out prompts, one wording each:
// sums no pretraining example adds and no preset asks.
func HeldOutPrompts() []string {
	var out []string
	for _, e := range corpus.HeldOut() {
		if len(e.Prompt) > 0 && e.Prompt[len(e.Prompt)-1] == '\n' {
			out = append(out, e.Prompt)
		}
	}
	return out
}

// HeldOutRequest asks for the greedy answers of the reference and the
// policy to prompts the pairs may not contain.
type HeldOutRequest struct {
	Prompts   []string `json:"prompts"`
	MaxTokens int      `json:"max_tokens"` // 0: 32
}

// HeldOutAnswer is one prompt's greedy answers and their implicit rewards
// β·(log π(y|x) − log π_ref(y|x)) (the answer with its final EOS when the
// model ended it): where the reference's answer falls and the policy's
// rises, the preference learned on the pairs carried over to this prompt.
type HeldOutAnswer struct {
	Prompt          string  `json:"prompt"`
	Reference       string  `json:"reference"`
	Policy          string  `json:"policy"`
	ReferenceReward float64 `json:"reference_reward"`
	PolicyReward    float64 `json:"policy_reward"`
}

// HeldOut answers req with the run's models (before the reference exists,
// the policy is both).
func (s *Session) HeldOut(req HeldOutRequest) ([]HeldOutAnswer, error) {
	pol, ref, ok := s.models()
	if !ok {
		return nil, ErrNoRun
	}
	if len(req.Prompts) == 0 {
		return nil, fmt.Errorf("held-out prompts: none given")
	}
	if len(req.Prompts) > 32 {
		return nil, fmt.Errorf("held-out prompts: %d given, at most 32", len(req.Prompts))
	}
	if req.MaxTokens == 0 {
		req.MaxTokens = 32
	}
	sc := gpt.SampleConfig{MaxTokens: req.MaxTokens}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	if ref == nil {
		ref = pol
	}
	beta := s.beta()
	npos := pol.Cfg.NPositions
	out := make([]HeldOutAnswer, len(req.Prompts))
	var b gpt.Batch
	for i, p := range req.Prompts {
		prompt := []byte(p)
		if keep := npos - 2; len(prompt) > keep {
			prompt = prompt[len(prompt)-keep:]
		}
		out[i].Prompt = p
		for k, m := range []*gpt.Params{ref, pol} {
			ans, err := gpt.Generate(m, prompt, sc)
			if err != nil {
				return nil, err
			}
			if k == 0 {
				out[i].Reference = gpt.Text(ans)
			} else {
				out[i].Policy = gpt.Text(ans)
			}
			ids := make([]int32, 0, 2+len(prompt)+len(ans))
			ids = append(ids, gpt.EOS)
			for _, c := range prompt {
				ids = append(ids, int32(c))
			}
			ids = append(ids, ans...)
			if len(ids) > npos+1 {
				ids = ids[:npos+1]
			}
			if len(ans) == 0 || len(ids) <= len(prompt)+1 {
				// Nothing to score: the model ended at once (or the context is full).
				ids = append(ids[:len(prompt)+1], gpt.EOS)
			}
			if err := b.Add(ids, len(prompt)); err != nil {
				return nil, err
			}
		}
	}
	lp := func(m *gpt.Params) ([]float64, error) {
		o, err := gpt.NewModel(m).Forward(&b)
		if err != nil {
			return nil, err
		}
		return append([]float64(nil), o.SeqLogp...), nil
	}
	lpPol, err := lp(pol)
	if err != nil {
		return nil, err
	}
	lpRef, err := lp(ref)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].ReferenceReward = beta * (lpPol[2*i] - lpRef[2*i])
		out[i].PolicyReward = beta * (lpPol[2*i+1] - lpRef[2*i+1])
	}
	return out, nil
}
