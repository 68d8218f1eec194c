package main

import (
	"flag"
	"fmt"
	"os"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
)

// lossFlags are the loss settings shared by train and eval.
type lossFlags struct {
	beta, labelSmoothing, simpoGamma, rpoAlpha float64
	loss                                       string
	referenceFree                              bool
}

func (l *lossFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&l.beta, "beta", 0.1, "β, the KL strength (λ for orpo)")
	fs.StringVar(&l.loss, "loss", "sigmoid", "loss: sigmoid, robust, hinge, ipo, simpo, orpo or sft")
	fs.Float64Var(&l.labelSmoothing, "label-smoothing", 0, "label smoothing ε (sigmoid, robust, simpo)")
	fs.BoolVar(&l.referenceFree, "reference-free", false, "take the reference log-probs as 0")
	fs.Float64Var(&l.simpoGamma, "simpo-gamma", 0.5, "SimPO γ; the margin used is γ/β, as in TRL")
	fs.Float64Var(&l.rpoAlpha, "rpo-alpha", 0, "weight of an NLL term on the chosen response (RPO)")
}

func (l *lossFlags) config() (dpo.Config, error) {
	c := dpo.Config{Loss: dpo.LossType(l.loss), Beta: l.beta, LabelSmoothing: l.labelSmoothing,
		ReferenceFree: l.referenceFree, RPOAlpha: l.rpoAlpha}
	if c.Loss == dpo.SimPO {
		c.SimPOGamma = l.simpoGamma
	}
	return c, c.Validate()
}

// readPairs parses a preference file in any supported format.
func readPairs(path string) ([]data.Pair, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ds, err := data.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ds.Pairs, nil
}
