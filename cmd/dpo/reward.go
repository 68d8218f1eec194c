package main

import (
	"encoding/json"
	"fmt"
	"io"

	"dpoplayground/core/gpt"
	"dpoplayground/core/reward"
	"dpoplayground/core/train"
)

// cmdReward trains a reward model from π_ref (a folder, or SFT from a
// preset as dpo train builds it), or with -score scores one completion.
func cmdReward(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("reward", stderr)
	score := fs.Bool("score", false, "score -completion for -prompt with the reward model in -model")
	modelDir := fs.String("model", "", "reward model folder to score with (with -score)")
	prompt := fs.String("prompt", "", "prompt to score (with -score)")
	completion := fs.String("completion", "", "completion to score (with -score)")
	initDir := fs.String("init", "", "π_ref model folder the reward model starts from (without it, SFT builds one)")
	dataPath := fs.String("data", "", "preference pairs file")
	outDir := fs.String("out", "", "folder to write the reward model into (GPT2ForSequenceClassification)")
	asJSON := fs.Bool("json", false, "print one JSON line per step")
	sft := train.DefaultConfig()
	fs.StringVar(&sft.Preset, "preset", sft.Preset, "model size without -init: nano, micro or small")
	fs.IntVar(&sft.SFTSteps, "sft-steps", sft.SFTSteps, "SFT steps that build π_ref without -init")
	fs.StringVar(&sft.SFTOn, "sft-on", sft.SFTOn, "SFT on the chosen responses or on both")
	fs.Float64Var(&sft.SFTLR, "sft-lr", sft.SFTLR, "SFT learning rate")
	cfg := reward.DefaultConfig()
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the initial weights, the score head and the batch order")
	fs.IntVar(&cfg.Steps, "steps", cfg.Steps, "reward-model steps")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "reward-model learning rate")
	fs.Float64Var(&cfg.WeightDecay, "weight-decay", 0, "AdamW decoupled weight decay")
	fs.Float64Var(&cfg.Clip, "clip", cfg.Clip, "global gradient-norm limit (0: none)")
	fs.IntVar(&cfg.BatchSize, "batch", 0, "pairs per step (0: all pairs)")
	fs.IntVar(&cfg.Warmup, "warmup", 0, "linear warm-up steps")
	fs.Float64Var(&cfg.CenterRewardsCoefficient, "center-rewards", 0, "TRL's center_rewards_coefficient (0: off)")
	schedule := fs.String("schedule", "constant", "learning rate after warm-up: constant or cosine")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *score {
		if err := required(fs, "model"); err != nil {
			return err
		}
		m, err := reward.LoadDir(*modelDir)
		if err != nil {
			return err
		}
		r, err := m.Score([]byte(*prompt), []byte(*completion))
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(map[string]float64{"score": r})
		}
		fmt.Fprintf(stdout, "%.6f\n", r)
		return nil
	}
	if err := required(fs, "data", "out"); err != nil {
		return err
	}
	var err error
	if cfg.Schedule, err = train.ParseSchedule(*schedule); err != nil {
		return err
	}
	pairs, err := readPairs(*dataPath)
	if err != nil {
		return err
	}
	var ref *gpt.Params
	if *initDir != "" {
		if ref, err = gpt.LoadDir(*initDir); err != nil {
			return err
		}
	} else {
		// π_ref as dpo train builds it: SFT from a fresh preset model.
		sft.Seed, sft.Steps = cfg.Seed, 0
		st, err := train.New(sft, pairs, train.Weights{})
		if err != nil {
			return err
		}
		for !st.Done() {
			if _, err := st.Step(); err != nil {
				return err
			}
		}
		ref = st.Reference()
	}
	tr, err := reward.New(cfg, pairs, ref)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	var last reward.StepResult
	for !tr.Done() {
		r, err := tr.Step()
		if err != nil {
			return err
		}
		last = r
		if *asJSON {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	}
	if err := tr.Model().SaveDir(*outDir); err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "after %d reward-model steps: loss %.4f, accuracy %.3f, margin %.4f (rewards %.4f to %.4f)\n",
			last.Step, last.Loss, last.Accuracy, last.Margin, last.MinReward, last.MaxReward)
		fmt.Fprintf(stdout, "wrote %s/model.safetensors and %s/config.json\n", *outDir, *outDir)
	}
	return nil
}
