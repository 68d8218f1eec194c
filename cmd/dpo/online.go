package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"dpoplayground/core/data"
	"dpoplayground/core/online"
	"dpoplayground/core/train"
)

// cmdOnline is online DPO (TRL's OnlineDPOTrainer): every K DPO steps the
// policy answers each prompt of -data twice, -judge picks the better
// answer, and the decided pairs join the run. With -judge rm the run first
// trains its own reward model on -data (after SFT, -rm-steps at -rm-lr).
func cmdOnline(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("online", stderr)
	dataPath := fs.String("data", "", "preference pairs file: the run's first pairs, and its prompts")
	judgeSpec := fs.String("judge", "", "judge of two samples: "+online.JudgeSpecs)
	outDir := fs.String("out", "", "folder to write the trained policy into (optional)")
	pairsOut := fs.String("pairs-out", "", "write the judged pairs to this file as JSONL (prompt, chosen, rejected)")
	asJSON := fs.Bool("json", false, "print one JSON line per step")
	oc := online.DefaultConfig()
	fs.IntVar(&oc.Every, "every", oc.Every, "sample, judge and add pairs every K DPO steps")
	fs.Float64Var(&oc.Temperature, "temperature", oc.Temperature, "sampling temperature")
	fs.IntVar(&oc.MaxTokens, "max-tokens", oc.MaxTokens, "new tokens per sample")
	fs.IntVar(&oc.Reward.Steps, "rm-steps", oc.Reward.Steps, "with -judge rm: reward-model steps after SFT")
	fs.Float64Var(&oc.Reward.LR, "rm-lr", oc.Reward.LR, "with -judge rm: the reward model's learning rate")
	rmOut := fs.String("rm-out", "", "with -judge rm: folder to write the trained reward model into (optional)")
	var tf trainFlags
	tf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data", "judge"); err != nil {
		return err
	}
	judge, err := online.ParseJudge(*judgeSpec)
	if err != nil {
		return fmt.Errorf("-judge: %w", err)
	}
	if err := oc.Validate(); err != nil {
		return err
	}
	if err := tf.finish(); err != nil {
		return err
	}
	w, err := tf.weights()
	if err != nil {
		return err
	}
	pairs, err := readPairs(*dataPath)
	if err != nil {
		return err
	}
	oc.Seed, oc.Reward.Seed = tf.cfg.Seed, tf.cfg.Seed
	if *rmOut != "" && *judgeSpec != "rm" {
		return fmt.Errorf("-rm-out: only -judge rm trains a reward model")
	}
	tr, err := online.New(tf.cfg, oc, pairs, w, judge)
	if err != nil {
		return err
	}
	cfg := tf.cfg
	if !*asJSON {
		mc := tr.Train().Policy().Cfg
		fmt.Fprintf(stderr, "%d pairs; model %d layers × %d wide; judge %s, sampling every %d DPO steps\n",
			len(pairs), mc.NLayer, mc.NEmbd, judge, oc.Every)
	}
	enc := json.NewEncoder(stdout)
	prog := newProgress(stderr, cfg.SFTSteps, cfg.Steps)
	prog.total += tr.RewardSteps()
	prog.phaseSteps[online.PhaseReward] = tr.RewardSteps()
	var first, last *online.Metrics
	var lastStep train.StepResult
	for !tr.Done() {
		r, err := tr.Step()
		if err != nil {
			prog.finish()
			if werr := writePairs(*pairsOut, tr.Judged()); werr != nil {
				return fmt.Errorf("%v (and -pairs-out: %v)", err, werr)
			}
			return err
		}
		lastStep = r.StepResult
		if r.Online != nil {
			if first == nil {
				first = r.Online
			}
			last = r.Online
		}
		switch {
		case *asJSON:
			if err := enc.Encode(r); err != nil {
				return err
			}
		case r.Reward != nil:
			prog.draw(online.PhaseReward, r.Reward.Step, r.Reward.Loss, fmt.Sprintf("  accuracy %.2f  margin %.3f", r.Reward.Accuracy, r.Reward.Margin))
		default:
			prog.update(r.StepResult)
		}
	}
	prog.finish()
	if err := writePairs(*pairsOut, tr.Judged()); err != nil {
		return err
	}
	if *outDir != "" {
		if err := tr.Train().Policy().SaveDir(*outDir); err != nil {
			return err
		}
	}
	if *rmOut != "" && tr.RewardModel() != nil {
		if err := tr.RewardModel().SaveDir(*rmOut); err != nil {
			return err
		}
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "after %d DPO steps: loss %.4f, rewards/margins %.4f; %d judged pairs\n",
			lastStep.Step, lastStep.Loss, lastStep.RewardsMargins, len(tr.Judged()))
		if first != nil {
			fmt.Fprintf(stdout, "rounds %d to %d: objective/scores %.4f → %.4f, objective/kl %.4f → %.4f, val/contain_eos_token %.3f → %.3f\n",
				first.Round, last.Round, first.Scores, last.Scores, first.KL, last.KL, first.ContainEOS, last.ContainEOS)
		}
		if *pairsOut != "" {
			fmt.Fprintf(stdout, "wrote %s\n", *pairsOut)
		}
		if *outDir != "" {
			fmt.Fprintf(stdout, "wrote %s/model.safetensors and %s/config.json\n", *outDir, *outDir)
		}
		if *rmOut != "" && tr.RewardModel() != nil {
			fmt.Fprintf(stdout, "wrote the reward model to %s\n", *rmOut)
		}
	}
	return nil
}

// writePairs writes pairs to path as TRL JSONL; no path, no file.
func writePairs(path string, pairs []data.Pair) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	for _, p := range pairs {
		if err := enc.Encode(struct {
			Prompt   string `json:"prompt"`
			Chosen   string `json:"chosen"`
			Rejected string `json:"rejected"`
		}{p.Prompt, p.Chosen, p.Rejected}); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
