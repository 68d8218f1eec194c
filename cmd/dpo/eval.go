package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/train"
)

type evalPair struct {
	PolicyChosenLogp   float64 `json:"policy_chosen_logp"`
	PolicyRejectedLogp float64 `json:"policy_rejected_logp"`
	RefChosenLogp      float64 `json:"ref_chosen_logp"`
	RefRejectedLogp    float64 `json:"ref_rejected_logp"`
	ChosenTokens       int     `json:"chosen_tokens"`
	RejectedTokens     int     `json:"rejected_tokens"`
	RewardChosen       float64 `json:"reward_chosen"`
	RewardRejected     float64 `json:"reward_rejected"`
	Loss               float64 `json:"loss"`
}

func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	policyDir := fs.String("policy", "", "policy model folder")
	refDir := fs.String("ref", "", "reference model folder")
	dataPath := fs.String("data", "", "preference pairs file")
	asJSON := fs.Bool("json", false, "print one JSON object")
	var lf lossFlags
	lf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "policy", "ref", "data"); err != nil {
		return err
	}
	loss, err := lf.config()
	if err != nil {
		return err
	}
	policy, err := gpt.LoadDir(*policyDir)
	if err != nil {
		return err
	}
	ref, err := gpt.LoadDir(*refDir)
	if err != nil {
		return err
	}
	pairs, err := readPairs(*dataPath)
	if err != nil {
		return err
	}
	enc := make([]data.EncodedPair, len(pairs))
	for i, p := range pairs {
		enc[i] = data.EncodePair(p, policy.Cfg.NPositions)
	}
	ev, err := train.EvaluatePairs(policy, ref, enc, loss)
	if err != nil {
		return err
	}
	out := make([]evalPair, len(ev.Pairs))
	for i, p := range ev.Pairs {
		r := ev.Results[i]
		out[i] = evalPair{p.PolicyChosen, p.PolicyRejected, p.RefChosen, p.RefRejected,
			p.ChosenTokens, p.RejectedTokens, r.RewardChosen, r.RewardRejected, r.Loss}
	}
	m := ev.Metrics
	metrics := map[string]float64{
		"loss": m.Loss, "rewards/chosen": m.RewardsChosen, "rewards/rejected": m.RewardsRejected,
		"rewards/margins": m.RewardsMargins, "rewards/accuracies": m.RewardsAccuracy,
		"logps/chosen": m.LogpsChosen, "logps/rejected": m.LogpsRejected,
		"logits/chosen": m.LogitsChosen, "logits/rejected": m.LogitsRejected,
		"entropy": m.Entropy, "mean_token_accuracy": m.MeanTokenAccuracy,
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			Pairs   []evalPair         `json:"pairs"`
			Loss    float64            `json:"loss"`
			Metrics map[string]float64 `json:"metrics"`
		}{out, m.Loss, metrics})
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pair\tlogπ(chosen)\tlogπ(rejected)\tlogπref(chosen)\tlogπref(rejected)\treward chosen\treward rejected\tloss\t")
	for i, p := range out {
		fmt.Fprintf(tw, "%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t\n", i+1,
			p.PolicyChosenLogp, p.PolicyRejectedLogp, p.RefChosenLogp, p.RefRejectedLogp, p.RewardChosen, p.RewardRejected, p.Loss)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%s loss %.6f over %d pairs\n", loss, m.Loss, len(out))
	fmt.Fprintf(stdout, "rewards/chosen %.4f  rewards/rejected %.4f  rewards/margins %.4f  rewards/accuracies %.3f\n",
		m.RewardsChosen, m.RewardsRejected, m.RewardsMargins, m.RewardsAccuracy)
	fmt.Fprintf(stdout, "logps/chosen %.4f  logps/rejected %.4f  logits/chosen %.4f  logits/rejected %.4f\n",
		m.LogpsChosen, m.LogpsRejected, m.LogitsChosen, m.LogitsRejected)
	fmt.Fprintf(stdout, "entropy %.4f  mean_token_accuracy %.3f\n", m.Entropy, m.MeanTokenAccuracy)
	return nil
}
