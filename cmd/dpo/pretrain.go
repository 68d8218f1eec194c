package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"dpoplayground/core/pretrain"
	"dpoplayground/core/train"
)

// pretrainFixed are the flags a resumed run takes from its checkpoint.
var pretrainFixed = []string{"preset", "seed", "lr", "batch", "warmup", "schedule", "weight-decay", "clip"}

func cmdPretrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("pretrain", stderr)
	outDir := fs.String("out", "", "checkpoint folder to write (a Hugging Face model folder plus the run's state)")
	resumeDir := fs.String("resume", "", "checkpoint folder to continue from (its settings are kept)")
	f16 := fs.Bool("f16", false, "store model.safetensors as float16 (the resume state stays float32)")
	evalEvery := fs.Int("eval-every", 100, "steps between held-out losses")
	saveEvery := fs.Int("save-every", 500, "steps between checkpoints (one is always written at the end)")
	logEvery := fs.Int("log-every", 10, "steps between progress lines")
	cfg := pretrain.DefaultConfig()
	fs.StringVar(&cfg.Preset, "preset", cfg.Preset, "model size: nano, micro or small")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the initial weights and the corpus")
	fs.IntVar(&cfg.Steps, "steps", cfg.Steps, "total steps (with -resume: the new total; 0 keeps the checkpoint's)")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "peak learning rate")
	fs.IntVar(&cfg.BatchSize, "batch", cfg.BatchSize, "corpus examples per step")
	fs.IntVar(&cfg.Warmup, "warmup", cfg.Warmup, "linear warm-up steps")
	schedule := fs.String("schedule", string(cfg.Schedule), "learning rate after warm-up: constant or cosine")
	fs.Float64Var(&cfg.WeightDecay, "weight-decay", cfg.WeightDecay, "AdamW decoupled weight decay")
	fs.Float64Var(&cfg.Clip, "clip", cfg.Clip, "global gradient-norm limit (0: none)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "out"); err != nil {
		return err
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"eval-every", *evalEvery}, {"save-every", *saveEvery}, {"log-every", *logEvery}} {
		if c.v < 1 {
			return fmt.Errorf("-%s: %d is not a positive number of steps", c.name, c.v)
		}
	}
	var err error
	if cfg.Schedule, err = train.ParseSchedule(*schedule); err != nil {
		return fmt.Errorf("-schedule: %w", err)
	}
	var t *pretrain.Trainer
	if *resumeDir != "" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for _, n := range pretrainFixed {
			if set[n] {
				return fmt.Errorf("-%s: a resumed run keeps its checkpoint's settings", n)
			}
		}
		steps := 0
		if set["steps"] {
			steps = cfg.Steps
		}
		if t, err = pretrain.Resume(*resumeDir, steps); err != nil {
			return err
		}
	} else if t, err = pretrain.New(cfg); err != nil {
		return err
	}
	dtype := "F32"
	if *f16 {
		dtype = "F16"
	}
	c := t.Config()
	fmt.Fprintf(stdout, "pretrain %s: %d steps of %d examples, lr %g (%s, warm-up %d), seed %d, from step %d\n",
		c.Preset, c.Steps, c.BatchSize, c.LR, c.Schedule, c.Warmup, c.Seed, t.StepsDone())
	start, startStep := time.Now(), t.StepsDone()
	tokens := 0
	heldOut := "-"
	for !t.Done() {
		r, err := t.Step()
		if err != nil {
			return err
		}
		tokens += r.Tokens
		if r.Step%*evalEvery == 0 || t.Done() {
			h, err := t.HeldOutLoss()
			if err != nil {
				return err
			}
			right, total, err := pretrain.HeldOutPreference(t.Params())
			if err != nil {
				return err
			}
			heldOut = fmt.Sprintf("%.4f (right sum preferred %d/%d)", h, right, total)
		}
		if r.Step%*logEvery == 0 || r.Step%*evalEvery == 0 || t.Done() {
			elapsed := time.Since(start).Seconds()
			rate := float64(tokens) / elapsed
			eta := time.Duration(elapsed / float64(r.Step-startStep) * float64(c.Steps-r.Step) * float64(time.Second))
			fmt.Fprintf(stdout, "step %d/%d  loss %.4f  held-out %s  lr %.3g  %.0f tokens/s  ETA %s\n",
				r.Step, c.Steps, r.Loss, heldOut, r.LearningRate, rate, eta.Round(time.Second))
		}
		if r.Step%*saveEvery == 0 || t.Done() {
			if err := t.Save(*outDir, dtype); err != nil {
				return err
			}
		}
	}
	_, err = fmt.Fprintf(stdout, "wrote %s (model.safetensors as %s)\n", *outDir, dtype)
	return err
}
