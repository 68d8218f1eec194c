package bench

import (
	"fmt"
	"math"
	"time"

	"dpoplayground/core/gpt"
	"dpoplayground/core/ppo"
	"dpoplayground/core/reward"
	"dpoplayground/core/rlhf"
)

// RLHFResult times RLHF's steps on the bench config beside the DPO step:
// a reward-model step over the bench pairs (TRL's RewardTrainer loss, all
// pairs in the step, as the DPO step), and PPO's two halves on the pairs'
// prompts: the rollout (sampling a completion per prompt with the key/value
// cache, then the reference, reward and value passes over the batch) and
// the update (the PPO epochs over that batch).
type RLHFResult struct {
	RewardStepMS Timing `json:"reward_step_ms"`
	// PPO: prompts per rollout batch and the most new tokens per completion.
	Prompts        int     `json:"ppo_prompts"`
	ResponseLength int     `json:"response_length"`
	Epochs         int     `json:"ppo_epochs"`
	RolloutMS      Timing  `json:"rollout_ms"`
	RolloutTokensS float64 `json:"rollout_tokens_per_s"` // sampled tokens per second of rollout (median)
	PPOUpdateMS    Timing  `json:"ppo_update_ms"`
}

// rlhfRuns caps the timed RLHF steps: a PPO step samples hundreds of tokens.
const rlhfRuns = 5

// RunRLHF runs the RLHF half of the benchmark: the reward model and PPO
// start from the preset's seeded weights (π_ref, as in NewTrainer), and the
// PPO policy samples for the bench pairs' prompts with the default PPO
// settings but o.Response new tokens at most.
func RunRLHF(o Options) (*RLHFResult, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	mc, err := gpt.PresetConfig(o.Preset)
	if err != nil {
		return nil, err
	}
	ref := gpt.NewParams(mc)
	ref.Init(1)
	pairs := Pairs(o.Pairs, o.SeqLen, o.Response, 1)
	rcfg := reward.DefaultConfig()
	rcfg.Steps = 1_000_000
	rm, err := reward.New(rcfg, pairs, ref)
	if err != nil {
		return nil, err
	}
	runs := min(o.Runs, rlhfRuns)
	var rsteps []time.Duration
	for i := range o.Warmup + runs {
		t0 := time.Now()
		if _, err := rm.Step(); err != nil {
			return nil, err
		}
		if i >= o.Warmup {
			rsteps = append(rsteps, time.Since(t0))
		}
	}
	pcfg := ppo.DefaultConfig()
	pcfg.Steps = 1_000_000
	pcfg.BatchSize = o.Pairs
	pcfg.ResponseLength = o.Response
	prompts := rlhf.Prompts(pairs, mc.NPositions)
	if len(prompts) == 0 {
		return nil, fmt.Errorf("bench: no prompts")
	}
	pt, err := ppo.New(pcfg, prompts, ref, rm.Model())
	if err != nil {
		return nil, err
	}
	var rollouts, updates []time.Duration
	var rates []float64
	for i := range min(o.Warmup, 1) + runs {
		sampled := pt.Passes().Sampled
		t0 := time.Now()
		m, err := pt.Rollout()
		if err != nil {
			return nil, err
		}
		t1 := time.Now()
		if _, err := pt.Update(m); err != nil {
			return nil, err
		}
		t2 := time.Now()
		if i >= min(o.Warmup, 1) {
			rollouts = append(rollouts, t1.Sub(t0))
			updates = append(updates, t2.Sub(t1))
			rates = append(rates, float64(pt.Passes().Sampled-sampled)/t1.Sub(t0).Seconds())
		}
	}
	return &RLHFResult{
		RewardStepMS: timing(rsteps), Prompts: pcfg.BatchSize, ResponseLength: pcfg.ResponseLength,
		Epochs: pcfg.NumPPOEpochs, RolloutMS: timing(rollouts), RolloutTokensS: math.Round(median(rates)),
		PPOUpdateMS: timing(updates),
	}, nil
}
