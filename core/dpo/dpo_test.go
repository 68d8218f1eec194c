package dpo

import (
	"math"
	"testing"

	"dpoplayground/testdata"
)

// goldenConfigs maps golden.json's loss names to configurations.
var goldenConfigs = map[string]Config{
	"sigmoid":         {Loss: Sigmoid, Beta: 0.1},
	"sigmoid_ls0.1":   {Loss: Sigmoid, Beta: 0.1, LabelSmoothing: 0.1},
	"robust_ls0.1":    {Loss: Robust, Beta: 0.1, LabelSmoothing: 0.1},
	"hinge":           {Loss: Hinge, Beta: 0.1},
	"ipo":             {Loss: IPO, Beta: 0.1},
	"sigmoid_reffree": {Loss: Sigmoid, Beta: 0.1, ReferenceFree: true},
	"simpo_b2_g0.5":   {Loss: SimPO, Beta: 2, SimPOGamma: 1}, // γ/β = 0.5
	"orpo_l0.1":       {Loss: ORPO, Beta: 0.1},
}

func goldenStats(g *testdata.GoldenFile) []PairStats {
	var ps []PairStats
	for _, p := range g.Pairs {
		ps = append(ps, PairStats{PairLogps: PairLogps{
			PolicyChosen: p.PolicyChosenLogp, PolicyRejected: p.PolicyRejectedLogp,
			RefChosen: p.RefChosenLogp, RefRejected: p.RefRejectedLogp,
			ChosenTokens: p.ChosenTokens, RejectedTokens: p.RejectedTokens,
		}})
	}
	return ps
}

// near is the golden tolerance: relative 1e-4, absolute 1e-4 near 0. The
// inputs here are the float64 log-probs PyTorch computed, so the formulas
// themselves are held to 1e-9.
func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestLossesAgainstGolden(t *testing.T) {
	g, err := testdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Losses) != len(goldenConfigs) {
		t.Fatalf("golden has %d losses, the test knows %d", len(g.Losses), len(goldenConfigs))
	}
	ps := goldenStats(g)
	for name, want := range g.Losses {
		c, ok := goldenConfigs[name]
		if !ok {
			t.Fatalf("no config for golden loss %q", name)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		res := make([]PairResult, len(ps))
		m := c.Batch(ps, res)
		if !near(m.Loss, want.Mean, 1e-9) {
			t.Errorf("%s: mean %.12g, want %.12g", name, m.Loss, want.Mean)
		}
		for i, r := range res {
			if !near(r.Loss, want.PerPair[i], 1e-9) {
				t.Errorf("%s pair %d: loss %.12g, want %.12g", name, i, r.Loss, want.PerPair[i])
			}
			if !near(r.DChosen, want.DChosen[i], 1e-9) || !near(r.DRejected, want.DRejected[i], 1e-9) {
				t.Errorf("%s pair %d: d/dchosen %.12g d/drejected %.12g, want %.12g %.12g",
					name, i, r.DChosen, r.DRejected, want.DChosen[i], want.DRejected[i])
			}
		}
	}
}

func TestMetricsAgainstGolden(t *testing.T) {
	g, err := testdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	ps := goldenStats(g)
	m := Config{Loss: Sigmoid, Beta: g.Beta}.Batch(ps, make([]PairResult, len(ps)))
	got := map[string]float64{
		"rewards/chosen": m.RewardsChosen, "rewards/rejected": m.RewardsRejected,
		"rewards/accuracies": m.RewardsAccuracy, "rewards/margins": m.RewardsMargins,
		"logps/chosen": m.LogpsChosen, "logps/rejected": m.LogpsRejected,
	}
	for k, want := range g.Metrics {
		v, ok := got[k]
		if !ok {
			t.Errorf("metric %q not computed", k)
			continue
		}
		if !near(v, want, 1e-9) {
			t.Errorf("%s = %.12g, want %.12g", k, v, want)
		}
	}
}

// Finite differences check every loss's derivatives away from the golden
// points too, including the SFT loss and the RPO term that have no golden.
func TestDerivativesNumerically(t *testing.T) {
	x := PairLogps{PolicyChosen: -23.5, PolicyRejected: -31.25, RefChosen: -25, RefRejected: -29, ChosenTokens: 9, RejectedTokens: 13}
	cfgs := []Config{{Loss: SFT, Beta: 0.1}, {Loss: Sigmoid, Beta: 0.5, RPOAlpha: 0.7}, {Loss: Hinge, Beta: 0.05}}
	for _, c := range goldenConfigs {
		cfgs = append(cfgs, c)
	}
	for _, c := range cfgs {
		r := c.Pair(x)
		const h = 1e-5
		f := func(dc, dr float64) float64 {
			y := x
			y.PolicyChosen += dc
			y.PolicyRejected += dr
			return c.Pair(y).Loss
		}
		nc := (f(h, 0) - f(-h, 0)) / (2 * h)
		nr := (f(0, h) - f(0, -h)) / (2 * h)
		if math.Abs(nc-r.DChosen) > 1e-6 || math.Abs(nr-r.DRejected) > 1e-6 {
			t.Errorf("%+v: analytic (%g, %g), numeric (%g, %g)", c, r.DChosen, r.DRejected, nc, nr)
		}
	}
}

func TestRewardsAndEdgeCases(t *testing.T) {
	x := PairLogps{PolicyChosen: -10, PolicyRejected: -20, RefChosen: -12, RefRejected: -18, ChosenTokens: 5, RejectedTokens: 10}
	r := Config{Loss: Sigmoid, Beta: 0.1}.Pair(x)
	if !near(r.RewardChosen, 0.2, 1e-12) || !near(r.RewardRejected, -0.2, 1e-12) {
		t.Errorf("implicit rewards %v %v, want 0.2 -0.2", r.RewardChosen, r.RewardRejected)
	}
	// log σ never overflows: an enormous margin gives loss 0, not NaN.
	big := PairLogps{PolicyChosen: 0, PolicyRejected: -1e6, ChosenTokens: 1, RejectedTokens: 1}
	for _, c := range goldenConfigs {
		r := c.Pair(big)
		if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) || math.IsNaN(r.DChosen) || math.IsNaN(r.DRejected) {
			t.Errorf("%+v: non-finite result %+v", c, r)
		}
	}
	// RPO adds α·NLL per token of chosen.
	base := Config{Loss: Sigmoid, Beta: 0.1}.Pair(x)
	rpo := Config{Loss: Sigmoid, Beta: 0.1, RPOAlpha: 0.5}.Pair(x)
	if !near(rpo.Loss-base.Loss, 0.5*10.0/5, 1e-12) {
		t.Errorf("RPO term = %v, want 1", rpo.Loss-base.Loss)
	}
}

func TestValidate(t *testing.T) {
	bad := map[string]Config{
		"unknown loss":     {Loss: "kto", Beta: 0.1},
		"zero beta":        {Loss: Sigmoid},
		"NaN beta":         {Loss: Sigmoid, Beta: math.NaN()},
		"smoothing on ipo": {Loss: IPO, Beta: 0.1, LabelSmoothing: 0.1},
		"smoothing 0.5":    {Loss: Sigmoid, Beta: 0.1, LabelSmoothing: 0.5},
		"negative rpo":     {Loss: Sigmoid, Beta: 0.1, RPOAlpha: -1},
		"infinite gamma":   {Loss: SimPO, Beta: 2, SimPOGamma: math.Inf(1)},
		"exo without ε":    {Loss: ExoPair, Beta: 0.1},
		"discopop τ 0":     {Loss: DiscoPOP, Beta: 0.1},
		"unknown in list":  {Loss: "sigmoid,nope", Beta: 0.1},
		"empty in list":    {Loss: "sigmoid,", Beta: 0.1},
		"weights count":    {Loss: "sigmoid,sft", Beta: 0.1, LossWeights: Weights{N: 1, W: [MaxTerms]float64{1}}},
		"NaN weight":       {Loss: "sigmoid,sft", Beta: 0.1, LossWeights: Weights{N: 2, W: [MaxTerms]float64{1, math.NaN()}}},
		"unknown f":        {Loss: Sigmoid, Beta: 0.1, FDivergence: "kl"},
		"f on sft":         {Loss: SFT, Beta: 0.1, FDivergence: JSDivergence},
		"wpo with aot":     {Loss: AOT, Beta: 0.1, UseWeighting: true},
		"ld alpha 2":       {Loss: Sigmoid, Beta: 0.1, LDAlpha: LD(2)},
	}
	for name, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
	}
	for _, l := range Losses() {
		c := Config{Loss: l.Type, Beta: 0.1, DiscoPOPTau: 0.05}
		if l.Type == ExoPair {
			c.LabelSmoothing = 1e-3
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", l.Type, err)
		}
	}
}
