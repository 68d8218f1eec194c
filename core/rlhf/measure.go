package rlhf

import (
	"fmt"
	"math"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
	"dpoplayground/core/gpt"
	"dpoplayground/core/ppo"
	"dpoplayground/core/reward"
	"dpoplayground/core/train"
)

// MeasureConfig is how Measure estimates the yardsticks.
type MeasureConfig struct {
	// Beta is DPO's β of the implicit rewards β·(log π − log π_ref).
	Beta float64 `json:"beta"`
	// SamplesPerPrompt completions are drawn from the policy for each
	// distinct prompt, at Temperature (the log-probs of both models are
	// taken at it, as TRL's PPO does), of at most ResponseLength tokens.
	SamplesPerPrompt int     `json:"samples_per_prompt"`
	Temperature      float64 `json:"temperature"`
	ResponseLength   int     `json:"response_length"`
	Seed             uint64  `json:"seed"`
}

// DefaultMeasureConfig matches DPO's β and PPO's sampling defaults.
func DefaultMeasureConfig() MeasureConfig {
	c := ppo.DefaultConfig()
	return MeasureConfig{Beta: 0.1, SamplesPerPrompt: 4, Temperature: c.Temperature, ResponseLength: c.ResponseLength, Seed: 1}
}

// Yardsticks measure any policy against π_ref on a set of pairs, the same
// way for DPO's policy and PPO's, under TRL's names.
type Yardsticks struct {
	// DPO's implicit rewards on the pairs: the fraction of pairs with
	// β·(Δ log π(y_w) − Δ log π(y_l)) > 0, and the mean of that margin.
	Accuracy float64 `json:"rewards/accuracies"`
	Margin   float64 `json:"rewards/margins"`
	// KL(π‖π_ref) estimated from the policy's own samples of the pairs'
	// prompts: the mean over samples of Σ_t log π(y_t) − log π_ref(y_t).
	KL float64 `json:"objective/kl"`
	// The reward model's mean score of those samples; Scored says it was
	// taken (Measure without a reward model leaves it for Score).
	Scores float64 `json:"objective/scores"`
	Scored bool    `json:"-"`
	// Samples holds the completions the KL and the scores were taken on,
	// SamplesPerPrompt per prompt, prompt by prompt, without the EOS.
	Samples []string `json:"-"`

	// unscored holds the samples as the reward model reads them, until
	// Score scores them.
	unscored *gpt.Batch
}

// Score takes the reward model's mean score of the samples a Measure made
// without one: a policy measured before the reward model existed (DPO's,
// in a race) is scored on its own samples of that time.
func (y *Yardsticks) Score(rm *reward.Model) error {
	if y.Scored {
		return nil
	}
	if y.unscored == nil {
		return fmt.Errorf("rlhf: measure: no samples to score")
	}
	scores, err := rm.ScoreBatch(nil, y.unscored)
	if err != nil {
		return err
	}
	y.Scores = 0
	for _, sc := range scores {
		y.Scores += sc
	}
	y.Scores /= float64(len(scores))
	if math.IsNaN(y.Scores) {
		return fmt.Errorf("rlhf: measure: the score is not a number")
	}
	y.Scored, y.unscored = true, nil
	return nil
}

// Measure computes the yardsticks of policy against ref on pairs, scoring
// samples with rm; with rm nil the score waits for Yardsticks.Score. The samples are drawn from cfg.Seed's stream, so the
// same models and seed give the same numbers.
func Measure(policy, ref *gpt.Params, rm *reward.Model, pairs []data.Pair, cfg MeasureConfig) (Yardsticks, error) {
	var y Yardsticks
	switch {
	case len(pairs) == 0:
		return y, fmt.Errorf("rlhf: measure: no preference pairs")
	case cfg.SamplesPerPrompt < 1:
		return y, fmt.Errorf("rlhf: measure: samples_per_prompt %d is below 1", cfg.SamplesPerPrompt)
	case policy.Cfg != ref.Cfg || rm != nil && rm.Cfg != ref.Cfg:
		return y, fmt.Errorf("rlhf: measure: the policy (%+v), the reference (%+v) and the reward model (%+v) differ in shape", policy.Cfg, ref.Cfg, rm.Cfg)
	}
	npos := ref.Cfg.NPositions
	enc := make([]data.EncodedPair, len(pairs))
	for i, p := range pairs {
		enc[i] = data.EncodePair(p, npos)
	}
	ev, err := train.EvaluatePairs(policy, ref, enc, dpo.Config{Loss: dpo.Sigmoid, Beta: cfg.Beta})
	if err != nil {
		return y, err
	}
	y.Accuracy, y.Margin = ev.Metrics.RewardsAccuracy, ev.Metrics.RewardsMargins

	sampler, err := ppo.NewSampler(policy, cfg.Temperature, cfg.ResponseLength, cfg.Seed)
	if err != nil {
		return y, err
	}
	prompts := Prompts(pairs, npos)
	comps := make([]ppo.Completion, 0, len(prompts)*cfg.SamplesPerPrompt)
	var b gpt.Batch
	var ids []int32
	for _, pr := range prompts {
		for range cfg.SamplesPerPrompt {
			c := ppo.Completion{Prompt: pr}
			if err := sampler.Sample(&c, npos); err != nil {
				return y, err
			}
			comps = append(comps, c)
			ids = c.IDs(ids)
			if err := b.Add(ids, len(pr)-1); err != nil {
				return y, err
			}
		}
	}
	// π_ref's log-probs at the sampling temperature: the head is tied to the
	// embedding and reads only ln_f, so ln_f scaled by 1/T scales the logits.
	tempered := ref.Clone()
	s := float32(1 / (cfg.Temperature + 1e-7))
	for i := range tempered.LnfW {
		tempered.LnfW[i] *= s
		tempered.LnfB[i] *= s
	}
	o, err := gpt.NewModel(tempered).Forward(&b)
	if err != nil {
		return y, err
	}
	k := 0
	for _, c := range comps {
		for _, lp := range c.Logps {
			y.KL += lp - float64(o.TokenLogp[k])
			k++
		}
	}
	y.KL /= float64(len(comps))
	// The reward model reads the completion's last token as an input.
	b.Reset()
	for _, c := range comps {
		ids = append(c.IDs(ids), gpt.EOS)
		if err := b.Add(ids, len(c.Prompt)-1); err != nil {
			return y, err
		}
		y.Samples = append(y.Samples, gpt.Text(c.Tokens))
	}
	if math.IsNaN(y.KL) {
		return y, fmt.Errorf("rlhf: measure: the KL is not a number")
	}
	y.unscored = &b
	if rm == nil {
		return y, nil
	}
	return y, y.Score(rm)
}
