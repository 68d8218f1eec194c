package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"dpoplayground/core/gpt"
	"dpoplayground/core/rlhf"
	"dpoplayground/core/train"
)

// raceResult is one method's run and its final yardsticks.
type raceResult struct {
	Steps      int     `json:"steps"`
	Seconds    float64 `json:"seconds"`
	Forward    int     `json:"forward_passes"`
	Backward   int     `json:"backward_passes"`
	Sampled    int     `json:"sampled_tokens"`
	ModelBytes int     `json:"model_bytes"`
	rlhf.Yardsticks
	Sample string `json:"sample"`
}

// cmdRace trains DPO and RLHF from the same π_ref and seed and compares them
// with the same yardsticks, the race's reward model scoring both policies.
func cmdRace(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("race", stderr)
	dataPath := fs.String("data", "", "preference pairs file")
	asJSON := fs.Bool("json", false, "print one JSON object {\"dpo\": …, \"rlhf\": …}")
	var rf rlhfFlags
	rf.register(fs)
	steps := fs.Int("steps", 60, "DPO steps")
	lr := fs.Float64("lr", 1e-3, "DPO learning rate")
	samples := fs.Int("samples", 4, "samples per prompt for the KL and score yardsticks")
	var lf lossFlags
	lf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data"); err != nil {
		return err
	}
	cfg, err := rf.config()
	if err != nil {
		return err
	}
	dcfg := cfg.SFT
	dcfg.Steps, dcfg.LR = *steps, *lr
	if dcfg.Config, err = lf.config(); err != nil {
		return err
	}
	if err := dcfg.Validate(); err != nil {
		return err
	}
	pairs, err := readPairs(*dataPath)
	if err != nil {
		return err
	}

	// π_ref, shared: DPO's SFT phase.
	start := time.Now()
	sft, err := train.New(cfg.SFT, pairs, train.Weights{})
	if err != nil {
		return err
	}
	for !sft.Done() {
		if _, err := sft.Step(); err != nil {
			return err
		}
	}
	ref := sft.Reference()
	sftSeconds := time.Since(start).Seconds()

	start = time.Now()
	dcfg.SFTSteps = 0
	dt, err := train.New(dcfg, pairs, train.Weights{Reference: ref})
	if err != nil {
		return err
	}
	for !dt.Done() {
		if _, err := dt.Step(); err != nil {
			return err
		}
	}
	batch := dcfg.BatchSize
	if batch == 0 || batch > len(pairs) {
		batch = len(pairs)
	}
	n := len(ref.Data)
	// π_ref scores every pair once; each step runs a batch's chosen and
	// rejected answers through the policy forward and backward.
	dres := raceResult{Steps: dcfg.Steps, Seconds: time.Since(start).Seconds(),
		Forward: 2*len(pairs) + 2*batch*dcfg.Steps, Backward: 2 * batch * dcfg.Steps, ModelBytes: 16*n + 4*n}

	start = time.Now()
	p, err := rlhf.New(cfg, pairs, train.Weights{Reference: ref})
	if err != nil {
		return err
	}
	for !p.Done() {
		if _, err := p.Step(); err != nil {
			return err
		}
	}
	tot := p.Passes().Total()
	rres := raceResult{Steps: cfg.Reward.Steps + cfg.PPO.Steps, Seconds: time.Since(start).Seconds(),
		Forward: tot.Forward, Backward: tot.Backward, Sampled: tot.Sampled, ModelBytes: p.ModelBytes().Total()}

	mc := rlhf.MeasureConfig{Beta: dcfg.Beta, SamplesPerPrompt: *samples, Temperature: cfg.PPO.Temperature,
		ResponseLength: cfg.PPO.ResponseLength, Seed: cfg.SFT.Seed}
	prompt := []byte(pairs[0].Prompt)
	for _, r := range []struct {
		res    *raceResult
		policy *gpt.Params
	}{{&dres, dt.Policy()}, {&rres, p.Policy()}} {
		if r.res.Yardsticks, err = rlhf.Measure(r.policy, ref, p.RewardModel(), pairs, mc); err != nil {
			return err
		}
		ids, err := gpt.Generate(r.policy, prompt, gpt.SampleConfig{MaxTokens: cfg.PPO.ResponseLength})
		if err != nil {
			return err
		}
		r.res.Sample = gpt.Text(ids)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]raceResult{"dpo": dres, "rlhf": rres})
	}
	fmt.Fprintf(stdout, "π_ref: %d SFT steps in %.1f s, shared by both methods\n\n", cfg.SFT.SFTSteps, sftSeconds)
	fmt.Fprintf(stdout, "%-28s %14s %14s\n", "", "DPO", "RLHF (RM+PPO)")
	row := func(name, format string, d, r any) {
		fmt.Fprintf(stdout, "%-28s %14s %14s\n", name, fmt.Sprintf(format, d), fmt.Sprintf(format, r))
	}
	row("steps", "%d", dres.Steps, rres.Steps)
	row("seconds", "%.2f", dres.Seconds, rres.Seconds)
	row("forward passes", "%d", dres.Forward, rres.Forward)
	row("backward passes", "%d", dres.Backward, rres.Backward)
	row("sampled tokens", "%d", dres.Sampled, rres.Sampled)
	row("model bytes", "%d", dres.ModelBytes, rres.ModelBytes)
	row("rewards/accuracies", "%.3f", dres.Accuracy, rres.Accuracy)
	row("rewards/margins", "%.4f", dres.Margin, rres.Margin)
	row("objective/kl", "%.4f", dres.KL, rres.KL)
	row("objective/scores", "%.4f", dres.Scores, rres.Scores)
	fmt.Fprintf(stdout, "\ngreedy sample for %q:\n  DPO:  %q\n  RLHF: %q\n", pairs[0].Prompt, dres.Sample, rres.Sample)
	return nil
}
