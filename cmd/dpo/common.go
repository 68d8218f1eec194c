package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
)

// lossFlags are the loss settings shared by train and eval.
type lossFlags struct {
	beta, labelSmoothing, simpoGamma, rpoAlpha float64
	discopopTau, fAlpha                        float64
	loss, lossWeights, fDivergence             string
	referenceFree, useWeighting                bool
	ldAlpha                                    dpo.LDAlpha
}

// lossNames lists the losses, in lines of at most 76 characters after the
// usage text's indent.
func lossNames() string {
	var b strings.Builder
	line := 0
	for i, l := range dpo.Losses() {
		name := string(l.Type)
		if i > 0 {
			name = ", " + name
		}
		if line+len(name) > 76 {
			b.WriteString(",\n  ")
			name, line = name[2:], 0
		}
		b.WriteString(name)
		line += len(name)
	}
	return b.String()
}

func (l *lossFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&l.beta, "beta", 0.1, "β, the KL strength (λ for orpo)")
	fs.StringVar(&l.loss, "loss", "sigmoid", "loss, or a comma list of losses summed (TRL's loss_type); dpo -h lists them")
	fs.StringVar(&l.lossWeights, "loss-weights", "", "comma list of weights, one per -loss entry (TRL's loss_weights; default 1 each)")
	fs.Float64Var(&l.labelSmoothing, "label-smoothing", 0, "label smoothing ε (sigmoid, robust, exo_pair, aot, aot_unpaired, simpo)")
	fs.BoolVar(&l.referenceFree, "reference-free", false, "take the reference log-probs as 0")
	fs.Float64Var(&l.simpoGamma, "simpo-gamma", 0.5, "SimPO γ; the margin used is γ/β, as in TRL")
	fs.Float64Var(&l.rpoAlpha, "rpo-alpha", 0, "shorthand for adding sft with this weight to -loss (RPO)")
	fs.Float64Var(&l.discopopTau, "discopop-tau", 0.05, "DiscoPOP's temperature τ")
	fs.StringVar(&l.fDivergence, "f-divergence", string(dpo.ReverseKL), "f-divergence of the log-ratios: reverse_kl, forward_kl, js_divergence or alpha_divergence")
	fs.Float64Var(&l.fAlpha, "f-alpha", 0.5, "α of alpha_divergence (TRL's f_alpha_divergence_coef)")
	fs.BoolVar(&l.useWeighting, "use-weighting", false, "weigh each pair by its WPO weight (TRL's use_weighting)")
	fs.Func("ld-alpha", "LD-DPO's α in [0, 1]: response tokens past the shorter response count α times (default: off)", func(s string) error {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		l.ldAlpha = dpo.LD(v)
		return nil
	})
}

// flagOf names the flag of each loss setting, by its JSON name.
var flagOf = map[string]string{
	dpo.ParamBeta: "-beta", "loss": "-loss", "loss_weights": "-loss-weights", dpo.ParamLabelSmoothing: "-label-smoothing",
	dpo.ParamSimPOGamma: "-simpo-gamma", "rpo_alpha": "-rpo-alpha", dpo.ParamDiscoPOPTau: "-discopop-tau",
	dpo.ParamFDivergence: "-f-divergence", "f_alpha_divergence_coef": "-f-alpha", dpo.ParamUseWeighting: "-use-weighting",
	dpo.ParamLDAlpha: "-ld-alpha",
}

func (l *lossFlags) config() (dpo.Config, error) {
	c := dpo.Config{Loss: dpo.LossType(l.loss), Beta: l.beta, LabelSmoothing: l.labelSmoothing,
		ReferenceFree: l.referenceFree, RPOAlpha: l.rpoAlpha, DiscoPOPTau: l.discopopTau,
		FAlpha: l.fAlpha, UseWeighting: l.useWeighting, LDAlpha: l.ldAlpha}
	if l.fDivergence != string(dpo.ReverseKL) {
		c.FDivergence = dpo.FDivergence(l.fDivergence)
	}
	if l.lossWeights != "" {
		var ws []float64
		for i, s := range strings.Split(l.lossWeights, ",") {
			w, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return c, fmt.Errorf("-loss-weights: weight %d, %q, is not a number", i+1, s)
			}
			ws = append(ws, w)
		}
		var err error
		if c.LossWeights, err = dpo.WeightsOf(ws...); err != nil {
			return c, flagError(err)
		}
	}
	for _, t := range c.Terms() {
		if t.Loss == dpo.SimPO {
			c.SimPOGamma = l.simpoGamma
		}
	}
	return c, flagError(c.Validate())
}

// flagError rewrites the dpo package's "dpo: field ..." errors to name the flag.
func flagError(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), "dpo: ")
	field, rest, _ := strings.Cut(msg, " ")
	field = strings.TrimSuffix(field, ":")
	if f, ok := flagOf[field]; ok {
		return fmt.Errorf("%s: %s", f, strings.TrimPrefix(rest, ": "))
	}
	return err
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
