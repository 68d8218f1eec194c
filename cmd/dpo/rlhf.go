package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"dpoplayground/core/ppo"
	"dpoplayground/core/rlhf"
	"dpoplayground/core/train"
)

// rlhfFlags are the settings of the RLHF pipeline's three phases.
type rlhfFlags struct {
	cfg         rlhf.Config
	sftSchedule string
	klEstimator string
}

func (f *rlhfFlags) register(fs *flag.FlagSet) {
	f.cfg = rlhf.DefaultConfig()
	s, r, p := &f.cfg.SFT, &f.cfg.Reward, &f.cfg.PPO
	fs.StringVar(&s.Preset, "preset", s.Preset, "model size: nano, micro or small")
	fs.Uint64Var(&s.Seed, "seed", s.Seed, "seed of the initial weights, the batch orders, the score head and the samples")
	fs.IntVar(&s.SFTSteps, "sft-steps", s.SFTSteps, "SFT steps that build π_ref")
	fs.StringVar(&s.SFTOn, "sft-on", s.SFTOn, "SFT on the chosen responses or on both")
	fs.Float64Var(&s.SFTLR, "sft-lr", s.SFTLR, "SFT learning rate")
	fs.IntVar(&s.BatchSize, "batch", 0, "SFT pairs per step (0: all pairs)")
	fs.IntVar(&s.Warmup, "warmup", 0, "SFT linear warm-up steps")
	fs.StringVar(&f.sftSchedule, "schedule", "constant", "SFT learning rate after warm-up: constant or cosine")
	fs.IntVar(&r.Steps, "rm-steps", r.Steps, "reward-model steps")
	fs.Float64Var(&r.LR, "rm-lr", r.LR, "reward-model learning rate")
	fs.IntVar(&r.BatchSize, "rm-batch", 0, "reward-model pairs per step (0: all pairs)")
	fs.Float64Var(&r.CenterRewardsCoefficient, "center-rewards", 0, "TRL's center_rewards_coefficient (0: off)")
	fs.IntVar(&p.Steps, "ppo-steps", p.Steps, "PPO updates, one rollout batch each (TRL's num_total_batches)")
	fs.IntVar(&p.BatchSize, "ppo-batch", p.BatchSize, "prompts sampled per rollout batch (TRL's batch_size)")
	fs.IntVar(&p.NumMiniBatches, "mini-batches", p.NumMiniBatches, "minibatches per PPO epoch (TRL's num_mini_batches)")
	fs.IntVar(&p.NumPPOEpochs, "ppo-epochs", p.NumPPOEpochs, "PPO epochs over each rollout batch (TRL's num_ppo_epochs)")
	fs.IntVar(&p.ResponseLength, "response-length", p.ResponseLength, "most new tokens per sampled completion")
	fs.Float64Var(&p.Temperature, "temperature", p.Temperature, "sampling temperature")
	fs.Float64Var(&p.MissingEOSPenalty, "missing-eos-penalty", 0, "subtracted from the score of a completion without EOS")
	fs.Float64Var(&p.KLCoef, "kl-coef", p.KLCoef, "per-token KL penalty coefficient")
	fs.StringVar(&f.klEstimator, "kl-estimator", string(p.KLEstimator), "KL estimator: k1 or k3")
	fs.Float64Var(&p.ClipRange, "cliprange", p.ClipRange, "policy ratio clip range")
	fs.Float64Var(&p.ClipRangeValue, "cliprange-value", p.ClipRangeValue, "value clip range")
	fs.Float64Var(&p.VFCoef, "vf-coef", p.VFCoef, "value loss coefficient")
	fs.Float64Var(&p.Gamma, "gamma", p.Gamma, "GAE discount γ")
	fs.Float64Var(&p.Lam, "lam", p.Lam, "GAE λ")
	fs.BoolVar(&p.WhitenRewards, "whiten-rewards", false, "whiten the rewards before GAE")
	fs.Float64Var(&p.LearningRate, "ppo-lr", p.LearningRate, "PPO learning rate (policy and value)")
	fs.Float64Var(&p.MaxGradNorm, "ppo-clip", p.MaxGradNorm, "PPO global gradient-norm limit (0: none)")
}

// rlhfFlagOf names the flag of each setting, by its phase and JSON name.
var rlhfFlagOf = map[string]string{
	"sft: train: preset": "-preset", "sft: train: sft_steps": "-sft-steps", "sft: train: sft_on": "-sft-on",
	"sft: train: sft_lr": "-sft-lr", "sft: train: batch_size": "-batch", "sft: train: warmup": "-warmup",
	"reward: reward: steps": "-rm-steps", "reward: reward: learning_rate": "-rm-lr", "reward: reward: batch_size": "-rm-batch",
	"reward: reward: center_rewards_coefficient": "-center-rewards",
	"ppo: ppo: num_total_batches":                "-ppo-steps", "ppo: ppo: batch_size": "-ppo-batch",
	"ppo: ppo: num_mini_batches": "-mini-batches", "ppo: ppo: num_ppo_epochs": "-ppo-epochs",
	"ppo: ppo: response_length": "-response-length", "ppo: ppo: temperature": "-temperature",
	"ppo: ppo: missing_eos_penalty": "-missing-eos-penalty", "ppo: ppo: kl_coef": "-kl-coef",
	"ppo: ppo: kl_estimator": "-kl-estimator", "ppo: ppo: cliprange": "-cliprange",
	"ppo: ppo: cliprange_value": "-cliprange-value", "ppo: ppo: vf_coef": "-vf-coef", "ppo: ppo: gamma": "-gamma",
	"ppo: ppo: lam": "-lam", "ppo: ppo: learning_rate": "-ppo-lr", "ppo: ppo: max_grad_norm": "-ppo-clip",
}

// config completes the configuration from the flags: the seed of every
// phase, and the settings parsed from strings; an error names the flag.
func (f *rlhfFlags) config() (rlhf.Config, error) {
	c := f.cfg
	c.SFT.Steps = 0
	c.Reward.Seed, c.PPO.Seed = c.SFT.Seed, c.SFT.Seed
	var err error
	if c.SFT.Schedule, err = train.ParseSchedule(f.sftSchedule); err != nil {
		return c, fmt.Errorf("-schedule: %w", err)
	}
	if c.PPO.KLEstimator, err = ppo.ParseKLEstimator(f.klEstimator); err != nil {
		return c, fmt.Errorf("-kl-estimator: %w", err)
	}
	if err := c.Validate(); err != nil {
		msg := strings.TrimPrefix(err.Error(), "rlhf: ")
		for key, name := range rlhfFlagOf {
			if rest, ok := strings.CutPrefix(msg, key+": "); ok {
				return c, fmt.Errorf("%s: %s", name, rest)
			}
		}
		return c, err
	}
	return c, nil
}

// cmdRLHF runs SFT, the reward model and PPO on the pairs.
func cmdRLHF(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rlhf", stderr)
	dataPath := fs.String("data", "", "preference pairs file")
	outDir := fs.String("out", "", "folder to write the policy (policy/) and the reward model (reward/) into")
	asJSON := fs.Bool("json", false, "print one JSON line per step")
	var rf rlhfFlags
	rf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data", "out"); err != nil {
		return err
	}
	cfg, err := rf.config()
	if err != nil {
		return err
	}
	pairs, err := readPairs(*dataPath)
	if err != nil {
		return err
	}
	p, err := rlhf.New(cfg, pairs, train.Weights{})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	last := map[rlhf.Phase]rlhf.StepResult{}
	for !p.Done() {
		r, err := p.Step()
		if err != nil {
			return err
		}
		last[r.Phase] = r
		if *asJSON {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	}
	policyDir, rewardDir := filepath.Join(*outDir, "policy"), filepath.Join(*outDir, "reward")
	if err := p.Policy().SaveDir(policyDir); err != nil {
		return err
	}
	if err := p.RewardModel().SaveDir(rewardDir); err != nil {
		return err
	}
	if !*asJSON {
		if r, ok := last[rlhf.PhaseReward]; ok {
			fmt.Fprintf(stdout, "after %d reward-model steps: loss %.4f, accuracy %.3f, margin %.4f\n",
				r.Step, r.Reward.Loss, r.Reward.Accuracy, r.Reward.Margin)
		}
		if r, ok := last[rlhf.PhasePPO]; ok {
			m := r.PPO.Metrics
			fmt.Fprintf(stdout, "after %d PPO updates: objective/scores %.4f, objective/kl %.4f, objective/rlhf_reward %.4f, policy/clipfrac_avg %.3f\n",
				r.Step, m.Scores, m.KL, m.RLHFReward, m.PGClipFrac)
		}
		fmt.Fprintf(stdout, "wrote the policy to %s and the reward model to %s\n", policyDir, rewardDir)
	}
	return nil
}
