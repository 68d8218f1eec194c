package dpo

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

func weights(ws ...float64) Weights {
	w, err := WeightsOf(ws...)
	if err != nil {
		panic(err)
	}
	return w
}

// The reference below is TRL's DPOTrainer._compute_loss written again in
// plain float64 with the standard library, one loss at a time, over a
// batch: nothing of it calls the package's code.

func refLogSigmoid(x float64) float64 { return math.Min(x, 0) - math.Log1p(math.Exp(-math.Abs(x))) }
func refSigmoid(x float64) float64    { return math.Exp(refLogSigmoid(x)) }

// refScores applies f_divergence_type to a log-ratio as TRL does.
func refScores(c Config, u float64) float64 {
	switch c.FDivergence {
	case ForwardKL:
		return -math.Exp(-u)
	case JSDivergence:
		return refLogSigmoid(u)
	case AlphaDivergence:
		if math.Abs(c.FAlpha-1) < 1e-6 {
			return u
		}
		return math.Exp(math.Min((c.FAlpha-1)*u, 80)) / (c.FAlpha - 1)
	}
	return u
}

// refLoss is the batch mean of one loss type (sft is the playground's
// per-pair mean NLL of the chosen response).
func refLoss(loss LossType, c Config, xs []PairLogps) float64 {
	B := len(xs)
	lc, lr, rc, rr := make([]float64, B), make([]float64, B), make([]float64, B), make([]float64, B)
	for i, x := range xs {
		lc[i], lr[i], rc[i], rr[i] = x.PolicyChosen, x.PolicyRejected, x.RefChosen, x.RefRejected
		if c.LDAlpha.On { // shared + α·tail
			a := c.LDAlpha.Alpha
			lc[i] = (x.PolicyChosen - x.PolicyChosenTail) + a*x.PolicyChosenTail
			lr[i] = (x.PolicyRejected - x.PolicyRejectedTail) + a*x.PolicyRejectedTail
			rc[i] = (x.RefChosen - x.RefChosenTail) + a*x.RefChosenTail
			rr[i] = (x.RefRejected - x.RefRejectedTail) + a*x.RefRejectedTail
		}
		if c.ReferenceFree {
			rc[i], rr[i] = 0, 0
		}
	}
	b, eps := c.Beta, c.LabelSmoothing
	per := make([]float64, B)
	sorted := func(v []float64) []float64 { w := slices.Clone(v); slices.Sort(w); return w }
	switch loss {
	case AOT, AOTUnpaired:
		var d1, d2 []float64
		for i := range B {
			if loss == AOT {
				d1, d2 = append(d1, lc[i]-lr[i]), append(d2, rc[i]-rr[i])
			} else {
				d1, d2 = append(d1, lc[i]-rc[i]), append(d2, lr[i]-rr[i])
			}
		}
		s1, s2 := sorted(d1), sorted(d2)
		for i := range B {
			d := s1[i] - s2[i]
			per[i] = -refLogSigmoid(b*d)*(1-eps) - refLogSigmoid(-b*d)*eps
		}
	}
	for i, x := range xs {
		ucr, urr := lc[i]-rc[i], lr[i]-rr[i]
		sc, sr := refScores(c, ucr), refScores(c, urr)
		d := sc - sr
		nc, nr := float64(max(x.ChosenTokens, 1)), float64(max(x.RejectedTokens, 1))
		switch loss {
		case Sigmoid:
			per[i] = -(1-eps)*refLogSigmoid(b*d) - eps*refLogSigmoid(-b*d)
		case Hinge:
			per[i] = math.Max(0, 1-b*d)
		case IPO:
			per[i] = math.Pow(sc/nc-sr/nr-1/(2*b), 2)
		case ExoPair:
			qw, ql := refSigmoid(b*d), refSigmoid(-b*d)
			per[i] = qw*(refLogSigmoid(b*d)-math.Log1p(-eps)) + ql*(refLogSigmoid(-b*d)-math.Log(eps))
		case NCAPair:
			per[i] = -refLogSigmoid(b*sc) - 0.5*refLogSigmoid(-b*sc) - 0.5*refLogSigmoid(-b*sr)
		case Robust:
			per[i] = (-(1-eps)*refLogSigmoid(b*d) + eps*refLogSigmoid(-b*d)) / (1 - 2*eps)
		case BCOPair:
			per[i] = -refLogSigmoid(b*sc) - refLogSigmoid(-b*sr)
		case SPPOHard:
			per[i] = math.Pow(sc-0.5/b, 2) + math.Pow(sr+0.5/b, 2)
		case APOZero:
			per[i] = 1 - refSigmoid(b*ucr) + refSigmoid(b*urr)
		case APODown:
			per[i] = refSigmoid(b*ucr) + 1 - refSigmoid(b*d)
		case DiscoPOP:
			z := b * d
			m := refSigmoid(z / c.DiscoPOPTau)
			e := 0.0
			if m > 0 {
				e = math.Exp(-z) * m
			}
			per[i] = -refLogSigmoid(z)*(1-m) + e
		case SigmoidNorm:
			per[i] = -refLogSigmoid(b * (sc/nc - sr/nr))
		case SFT:
			per[i] = -x.PolicyChosen / nc
		}
		if c.UseWeighting {
			per[i] *= math.Exp(x.ChosenWeightLogp) * math.Exp(x.RejectedWeightLogp)
		}
	}
	var mean float64
	for _, v := range per {
		mean += v / float64(B)
	}
	return mean
}

// refCombined is TRL's loss = Σ_k loss_weights[k]·mean(loss_k).
func refCombined(c Config, xs []PairLogps) float64 {
	var l float64
	for _, t := range c.Terms() {
		l += t.Weight * refLoss(t.Loss, c, xs)
	}
	return l
}

// trlLosses are TRL DPOTrainer's loss types, each with the ε it needs.
var trlLosses = []Config{
	{Loss: Sigmoid}, {Loss: Sigmoid, LabelSmoothing: 0.2}, {Loss: Robust, LabelSmoothing: 0.1}, {Loss: Hinge}, {Loss: IPO},
	{Loss: ExoPair, LabelSmoothing: 1e-3}, {Loss: NCAPair}, {Loss: BCOPair}, {Loss: SPPOHard},
	{Loss: AOT}, {Loss: AOT, LabelSmoothing: 0.1}, {Loss: AOTUnpaired}, {Loss: AOTUnpaired, LabelSmoothing: 0.1},
	{Loss: APOZero}, {Loss: APODown}, {Loss: DiscoPOP}, {Loss: DiscoPOP, DiscoPOPTau: 1}, {Loss: SigmoidNorm}, {Loss: SFT},
}

// batchOf builds n pairs with log-ratios spread by scale around the point,
// the tails and WPO logs filled in, deterministic.
func batchOf(n int, scale float64) []PairLogps {
	xs := make([]PairLogps, n)
	for i := range xs {
		f := float64(i) - float64(n-1)/2
		xs[i] = PairLogps{
			PolicyChosen: -20 + scale*0.37*f + 0.1*float64(i*i%5), PolicyRejected: -26 - scale*0.21*f*f/float64(n) - 0.013*float64(i),
			RefChosen: -21 + 0.3*math.Sin(float64(i)), RefRejected: -25 + 0.2*math.Cos(float64(3*i)),
			ChosenTokens: 7 + i%4, RejectedTokens: 9 - i%3,
			PolicyChosenTail: -2.5 - 0.1*float64(i), RefChosenTail: -2.25, PolicyRejectedTail: -1.5, RefRejectedTail: -1.75 + 0.05*float64(i),
			ChosenWeightLogp: -0.3 - 0.01*float64(i), RejectedWeightLogp: -0.45 + 0.02*float64(i),
		}
	}
	return xs
}

func statsOf(xs []PairLogps) []PairStats {
	ps := make([]PairStats, len(xs))
	for i, x := range xs {
		ps[i].PairLogps = x
	}
	return ps
}

// variants spreads each loss over the options that change its formula.
func variants() []Config {
	var out []Config
	for _, base := range trlLosses {
		base.Beta, base.DiscoPOPTau, base.FAlpha = 0.1, max(base.DiscoPOPTau, 0.05), 0.5
		out = append(out, base)
		info, _ := Info(base.Loss)
		if info.FDivergence {
			for _, f := range []FDivergence{ForwardKL, JSDivergence, AlphaDivergence} {
				v := base
				v.FDivergence = f
				out = append(out, v)
			}
			v := base
			v.FDivergence, v.FAlpha = AlphaDivergence, 1.5
			out = append(out, v)
		}
		v := base
		v.LDAlpha = LD(0.3)
		out = append(out, v)
		v = base
		v.ReferenceFree, v.Beta = true, 0.5
		out = append(out, v)
		if !info.CouplesBatch {
			v = base
			v.UseWeighting = true
			out = append(out, v)
		}
	}
	return out
}

func name(c Config) string {
	s := c.String()
	if c.FDivergence != "" {
		s += "/" + string(c.FDivergence)
	}
	if c.LDAlpha.On {
		s += "/ld"
	}
	if c.UseWeighting {
		s += "/wpo"
	}
	if c.ReferenceFree {
		s += "/reffree"
	}
	if c.LabelSmoothing != 0 {
		s += "/ls"
	}
	return s
}

func TestLossesAgainstTRLFormulas(t *testing.T) {
	for _, c := range variants() {
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", name(c), err)
		}
		for _, n := range []int{1, 2, 7} {
			for _, scale := range []float64{1, 30} {
				xs := batchOf(n, scale)
				res := make([]PairResult, n)
				m := c.Batch(statsOf(xs), res)
				want := refCombined(c, xs)
				if !near(m.Loss, want, 1e-11) {
					t.Errorf("%s n=%d scale=%v: loss %.15g, TRL's formula %.15g", name(c), n, scale, m.Loss, want)
				}
				var sum float64
				for _, r := range res {
					sum += r.Loss / float64(n)
				}
				if !near(sum, m.Loss, 1e-12) {
					t.Errorf("%s n=%d: per-pair losses average %v, batch loss %v", name(c), n, sum, m.Loss)
				}
			}
		}
	}
}

// batchLoss perturbs one log-prob of one pair and returns the batch mean.
func batchLoss(c Config, xs []PairLogps, i int, field string, h float64) float64 {
	ys := slices.Clone(xs)
	switch field {
	case "chosen":
		ys[i].PolicyChosen += h
	case "rejected":
		ys[i].PolicyRejected += h
	case "chosen tail": // a tail token moves both the full sum and the tail
		ys[i].PolicyChosen += h
		ys[i].PolicyChosenTail += h
	case "rejected tail":
		ys[i].PolicyRejected += h
		ys[i].PolicyRejectedTail += h
	}
	return refCombined(c, ys)
}

// Every loss's derivatives, with every option, against central differences
// of TRL's formula, at batch sizes 1, 2 and 7 (the sorting losses' gradient
// crosses pairs).
func TestDerivativesAgainstFiniteDifferences(t *testing.T) {
	const h = 1e-5
	for _, c := range variants() {
		for _, n := range []int{1, 2, 7} {
			xs := batchOf(n, 1)
			res := make([]PairResult, n)
			c.Batch(statsOf(xs), res)
			for i, r := range res {
				got := map[string]float64{"chosen": r.DChosen, "rejected": r.DRejected,
					"chosen tail": r.DChosen + r.DChosenTail, "rejected tail": r.DRejected + r.DRejectedTail}
				for _, f := range []string{"chosen", "rejected", "chosen tail", "rejected tail"} {
					num := (batchLoss(c, xs, i, f, h) - batchLoss(c, xs, i, f, -h)) / (2 * h)
					if math.Abs(num-got[f]) > 1e-7*math.Max(1, math.Abs(num)) {
						t.Errorf("%s n=%d pair %d d/d%s: analytic %.10g, numeric %.10g", name(c), n, i, f, got[f], num)
					}
				}
			}
		}
	}
}

// At margins of ±200 nats every loss and derivative stays finite and the
// loss still matches TRL's formula.
func TestExtremeMargins(t *testing.T) {
	for _, c := range variants() {
		for _, m := range []float64{200, -200} {
			xs := []PairLogps{
				{PolicyChosen: -10 + m/2, PolicyRejected: -10 - m/2, RefChosen: -10, RefRejected: -10, ChosenTokens: 3, RejectedTokens: 4},
				{PolicyChosen: -10 + m, PolicyRejected: -30, RefChosen: -10, RefRejected: -30 + m, ChosenTokens: 5, RejectedTokens: 2},
			}
			res := make([]PairResult, len(xs))
			got := c.Batch(statsOf(xs), res).Loss
			for _, r := range res {
				for _, v := range []float64{r.Loss, r.DChosen, r.DRejected, r.DChosenTail, r.DRejectedTail, r.RewardChosen, r.RewardRejected} {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("%s margin %v: non-finite %+v", name(c), m, r)
					}
				}
			}
			if want := refCombined(c, xs); !near(got, want, 1e-9) {
				t.Errorf("%s margin %v: loss %.12g, TRL's formula %.12g", name(c), m, got, want)
			}
		}
	}
}

// A combined loss is the weighted sum of its terms, per pair and in every
// derivative; rpo_alpha is shorthand for adding sft with weight α.
func TestCombinedLoss(t *testing.T) {
	xs := batchOf(7, 3)
	mpo := Config{Loss: "sigmoid,bco_pair,sft", LossWeights: weights(0.8, 0.2, 1), Beta: 0.1}
	if err := mpo.Validate(); err != nil {
		t.Fatal(err)
	}
	got := make([]PairResult, len(xs))
	mpo.Batch(statsOf(xs), got)
	want := make([]PairResult, len(xs))
	for k, tm := range mpo.Terms() {
		one := make([]PairResult, len(xs))
		Config{Loss: tm.Loss, Beta: 0.1}.Batch(statsOf(xs), one)
		for i, r := range one {
			want[i].Loss += tm.Weight * r.Loss
			want[i].DChosen += tm.Weight * r.DChosen
			want[i].DRejected += tm.Weight * r.DRejected
			if k == 0 {
				want[i].RewardChosen, want[i].RewardRejected = r.RewardChosen, r.RewardRejected
			}
		}
	}
	for i := range got {
		g, w := got[i], want[i]
		if !near(g.Loss, w.Loss, 1e-13) || !near(g.DChosen, w.DChosen, 1e-13) || !near(g.DRejected, w.DRejected, 1e-13) ||
			g.RewardChosen != w.RewardChosen || g.RewardRejected != w.RewardRejected {
			t.Errorf("pair %d: combined %+v, weighted sum %+v", i, g, w)
		}
	}

	rpo := Config{Loss: Sigmoid, Beta: 0.1, RPOAlpha: 0.5}
	sum := Config{Loss: "sigmoid,sft", LossWeights: weights(1, 0.5), Beta: 0.1}
	a, b := make([]PairResult, len(xs)), make([]PairResult, len(xs))
	ma, mb := rpo.Batch(statsOf(xs), a), sum.Batch(statsOf(xs), b)
	if ma != mb || !slices.Equal(a, b) {
		t.Errorf("rpo_alpha 0.5 gives %+v, sigmoid+0.5·sft %+v", ma, mb)
	}
	if got, want := rpo.Terms(), sum.Terms(); !slices.Equal(got, want) {
		t.Errorf("terms %v and %v", got, want)
	}
	var set Config
	if err := set.SetTerms(rpo.Terms()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(set.Terms(), rpo.Terms()) || set.RPOAlpha != 0 {
		t.Errorf("SetTerms(%v) gives %+v", rpo.Terms(), set)
	}
	if s := sum.String(); s != "sigmoid+0.5·sft" {
		t.Errorf("String = %q", s)
	}
}

// LD-DPO weighs the verbose tail α times, and metrics report the weighted
// log-probs as TRL does; α = 1 is plain DPO.
func TestLDAlpha(t *testing.T) {
	xs := batchOf(3, 2)
	plain := Config{Loss: Sigmoid, Beta: 0.1}
	one := plain
	one.LDAlpha = LD(1)
	a, b := make([]PairResult, 3), make([]PairResult, 3)
	if ma, mb := plain.Batch(statsOf(xs), a), one.Batch(statsOf(xs), b); ma != mb || !slices.Equal(a, b) {
		t.Errorf("ld_alpha 1: %+v, plain %+v", mb, ma)
	}
	ld := plain
	ld.LDAlpha = LD(0.25)
	m := ld.Batch(statsOf(xs), a)
	var want float64
	for _, x := range xs {
		want += ((x.PolicyChosen - x.PolicyChosenTail) + 0.25*x.PolicyChosenTail) / 3
	}
	if !near(m.LogpsChosen, want, 1e-13) {
		t.Errorf("logps/chosen %v, want %v", m.LogpsChosen, want)
	}
}

func TestLossMenu(t *testing.T) {
	seen := map[LossType]bool{}
	for _, l := range Losses() {
		if seen[l.Type] || l.Title == "" || l.Description == "" || strings.Contains(l.Description, "\n") || l.Source == "" {
			t.Errorf("%s: duplicate or incomplete entry %+v", l.Type, l)
		}
		seen[l.Type] = true
		if l.Type != SFT && !slices.Contains(l.Params, ParamBeta) {
			t.Errorf("%s does not list beta", l.Type)
		}
		if l.Smoothing != slices.Contains(l.Params, ParamLabelSmoothing) || l.FDivergence != slices.Contains(l.Params, ParamFDivergence) {
			t.Errorf("%s: Params %v disagree with the flags", l.Type, l.Params)
		}
	}
	for _, c := range trlLosses {
		if !seen[c.Loss] {
			t.Errorf("TRL's %s is not in the menu", c.Loss)
		}
	}
	if !(Config{Loss: "sigmoid,aot"}).CouplesBatch() || (Config{Loss: "sigmoid,sft"}).CouplesBatch() {
		t.Error("CouplesBatch")
	}
}

// Weights and LDAlpha are values (a Config compares with ==) that read and
// write TRL's JSON: a list, and a number or nothing.
func TestOptionsJSON(t *testing.T) {
	cases := []struct {
		js   string
		want Config
		err  string
	}{
		{`{"loss":"sigmoid,sft","loss_weights":[1,0.5],"ld_alpha":0.25}`, Config{Loss: "sigmoid,sft", LossWeights: weights(1, 0.5), LDAlpha: LD(0.25)}, ""},
		{`{"loss":"sigmoid","ld_alpha":null,"loss_weights":null}`, Config{Loss: "sigmoid"}, ""},
		{`{"loss":"sigmoid","ld_alpha":0}`, Config{Loss: "sigmoid", LDAlpha: LD(0)}, ""},
		{`{"loss_weights":[1,1,1,1,1,1,1,1,1]}`, Config{}, "at most 8"},
		{`{"loss_weights":"1,2"}`, Config{}, "loss_weights"},
		{`{"ld_alpha":"x"}`, Config{}, "ld_alpha"},
	}
	for _, c := range cases {
		var got Config
		err := json.Unmarshal([]byte(c.js), &got)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one naming %q", c.js, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.js, got, err, c.want)
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var back Config
		if err := json.Unmarshal(b, &back); err != nil || back != got {
			t.Errorf("%s: round trip %s gives %+v, %v", c.js, b, back, err)
		}
	}
	if b, _ := json.Marshal(Config{Loss: Sigmoid}); strings.Contains(string(b), "ld_alpha") || strings.Contains(string(b), "loss_weights") {
		t.Errorf("unset options are written: %s", b)
	}
}
