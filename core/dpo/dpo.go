// Package dpo is the preference-loss family as pure functions of sequence
// log-probabilities: each returns the per-pair loss and its derivatives with
// respect to the policy's chosen and rejected log-probabilities, which the
// model's backward pass spreads over the response tokens. Formulas and metric
// names follow Hugging Face TRL (DPOTrainer, CPOTrainer, ORPOTrainer).
//
// With h = (log π(y_w|x) − log π_ref(y_w|x)) − (log π(y_l|x) − log π_ref(y_l|x)):
//
//	sigmoid  −(1−ε)·log σ(βh) − ε·log σ(−βh)         (DPO; ε > 0 is conservative DPO)
//	robust   [−(1−ε)·log σ(βh) + ε·log σ(−βh)] / (1−2ε)
//	hinge    max(0, 1 − βh)                           (SLiC)
//	ipo      (h̄ − 1/(2β))², h̄ from length-normalised log-probs
//	simpo    −log σ(β·(π̄_w − π̄_l) − γ), π̄ = log π / tokens, no reference
//	orpo     −π̄_w − λ·log σ(log odds(π̄_w) − log odds(π̄_l)), no reference
//	sft      −π̄_w, the NLL of the chosen response per token
//
// Reference-free DPO takes the reference log-probs as 0. Any loss can add
// α·(−π̄_w), an NLL term on the chosen response (RPO).
package dpo

import (
	"fmt"
	"math"

	"dpoplayground/core/pmath"
)

// LossType names a loss; the names are TRL's loss_type values.
type LossType string

// The losses.
const (
	Sigmoid LossType = "sigmoid"
	Robust  LossType = "robust"
	Hinge   LossType = "hinge"
	IPO     LossType = "ipo"
	SimPO   LossType = "simpo"
	ORPO    LossType = "orpo"
	SFT     LossType = "sft"
)

// LossInfo describes a loss for people choosing one.
type LossInfo struct {
	Type        LossType
	Title       string
	Description string // one line
	UsesRef     bool   // needs the reference model's log-probs
	Smoothing   bool   // accepts label smoothing ε
}

// Losses lists every loss with a one-line description, in menu order.
func Losses() []LossInfo {
	return []LossInfo{
		{Sigmoid, "DPO (sigmoid)", "−log σ(β·margin): the loss of the DPO paper; label smoothing gives conservative DPO for noisy labels.", true, true},
		{Robust, "Robust DPO", "An unbiased DPO loss when a fraction ε of the preference labels are flipped.", true, true},
		{Hinge, "Hinge (SLiC)", "max(0, 1 − β·margin): stops pushing once a pair is ordered with margin 1/β.", true, false},
		{IPO, "IPO", "Regresses the length-normalised margin to 1/(2β) instead of pushing it to infinity.", true, false},
		{SimPO, "SimPO", "No reference: the per-token log-prob of chosen must beat rejected by γ/β.", false, true},
		{ORPO, "ORPO", "No reference: NLL of chosen plus λ·odds-ratio penalty against rejected.", false, false},
		{SFT, "SFT", "Plain negative log-likelihood of the chosen answer; ignores the rejected one.", false, false},
	}
}

// Info returns the description of t, or false for an unknown loss.
func Info(t LossType) (LossInfo, bool) {
	for _, l := range Losses() {
		if l.Type == t {
			return l, true
		}
	}
	return LossInfo{}, false
}

// Config selects a loss and its hyper-parameters.
type Config struct {
	Loss LossType `json:"loss"`
	// Beta is β, the strength of the KL constraint (the temperature of the
	// implicit reward). For ORPO it is λ, the weight of the odds-ratio term.
	Beta float64 `json:"beta"`
	// LabelSmoothing is ε for sigmoid, robust and simpo.
	LabelSmoothing float64 `json:"label_smoothing"`
	// ReferenceFree takes the reference log-probs as 0 (sigmoid, robust, hinge, ipo).
	ReferenceFree bool `json:"reference_free"`
	// SimPOGamma is γ; the margin inside the sigmoid is γ/β, as in TRL.
	SimPOGamma float64 `json:"simpo_gamma"`
	// RPOAlpha weighs an NLL term on the chosen response added to the loss.
	RPOAlpha float64 `json:"rpo_alpha"`
}

// Validate reports a configuration that has no meaning.
func (c Config) Validate() error {
	info, ok := Info(c.Loss)
	if !ok {
		return fmt.Errorf("dpo: unknown loss %q (one of sigmoid, robust, hinge, ipo, simpo, orpo, sft)", c.Loss)
	}
	if !(c.Beta > 0) || math.IsInf(c.Beta, 0) {
		return fmt.Errorf("dpo: beta must be a positive number, got %v", c.Beta)
	}
	if c.LabelSmoothing != 0 {
		if !info.Smoothing {
			return fmt.Errorf("dpo: label smoothing applies to sigmoid, robust and simpo, not %s", c.Loss)
		}
		if !(c.LabelSmoothing > 0 && c.LabelSmoothing < 0.5) {
			return fmt.Errorf("dpo: label smoothing must be in [0, 0.5), got %v", c.LabelSmoothing)
		}
	}
	if c.RPOAlpha < 0 || math.IsNaN(c.RPOAlpha) || math.IsInf(c.RPOAlpha, 0) {
		return fmt.Errorf("dpo: rpo alpha must be ≥ 0, got %v", c.RPOAlpha)
	}
	if math.IsNaN(c.SimPOGamma) || math.IsInf(c.SimPOGamma, 0) {
		return fmt.Errorf("dpo: simpo gamma must be finite, got %v", c.SimPOGamma)
	}
	return nil
}

// UsesReference says whether the loss reads the reference log-probs.
func (c Config) UsesReference() bool {
	info, _ := Info(c.Loss)
	return info.UsesRef && !c.ReferenceFree
}

// PairLogps are the sequence log-probabilities of one pair: sums over the
// response tokens (and final EOS), with the token counts.
type PairLogps struct {
	PolicyChosen, PolicyRejected float64
	RefChosen, RefRejected       float64
	ChosenTokens, RejectedTokens int
}

// PairResult is one pair's loss, its derivatives with respect to
// PolicyChosen and PolicyRejected, and the implicit rewards.
type PairResult struct {
	Loss               float64
	DChosen, DRejected float64
	RewardChosen       float64
	RewardRejected     float64
}

// Pair evaluates the loss on one pair. c must be valid.
func (c Config) Pair(x PairLogps) PairResult {
	nc, nr := float64(max(x.ChosenTokens, 1)), float64(max(x.RejectedTokens, 1))
	rc, rr := x.RefChosen, x.RefRejected
	if c.ReferenceFree {
		rc, rr = 0, 0
	}
	b, eps := c.Beta, c.LabelSmoothing
	var r PairResult
	switch c.Loss {
	case Sigmoid, Robust, Hinge:
		h := (x.PolicyChosen - x.PolicyRejected) - (rc - rr)
		z := b * h
		var l, dz float64
		switch c.Loss {
		case Sigmoid:
			l = -(1-eps)*pmath.LogSigmoid(z) - eps*pmath.LogSigmoid(-z)
			dz = -(1-eps)*pmath.Sigmoid(-z) + eps*pmath.Sigmoid(z)
		case Robust:
			l = (-(1-eps)*pmath.LogSigmoid(z) + eps*pmath.LogSigmoid(-z)) / (1 - 2*eps)
			dz = (-(1-eps)*pmath.Sigmoid(-z) - eps*pmath.Sigmoid(z)) / (1 - 2*eps)
		case Hinge:
			if z < 1 {
				l, dz = 1-z, -1
			}
		}
		r.Loss, r.DChosen, r.DRejected = l, b*dz, -b*dz
		r.RewardChosen, r.RewardRejected = b*(x.PolicyChosen-rc), b*(x.PolicyRejected-rr)
	case IPO:
		h := (x.PolicyChosen/nc - x.PolicyRejected/nr) - (rc/nc - rr/nr)
		d := h - 1/(2*b)
		r.Loss, r.DChosen, r.DRejected = d*d, 2*d/nc, -2*d/nr
		r.RewardChosen, r.RewardRejected = b*(x.PolicyChosen-rc)/nc, b*(x.PolicyRejected-rr)/nr
	case SimPO:
		mc, mr := x.PolicyChosen/nc, x.PolicyRejected/nr
		z := b * (mc - mr - c.SimPOGamma/b)
		l := -(1-eps)*pmath.LogSigmoid(z) - eps*pmath.LogSigmoid(-z)
		dz := -(1-eps)*pmath.Sigmoid(-z) + eps*pmath.Sigmoid(z)
		r.Loss, r.DChosen, r.DRejected = l, b*dz/nc, -b*dz/nr
		r.RewardChosen, r.RewardRejected = b*mc, b*mr
	case ORPO:
		// log odds(p) = log p − log(1 − p) with log p = m; m is capped just below 0
		// so that a response the model is certain of keeps finite odds.
		mc, mr := min(x.PolicyChosen/nc, -1e-6), min(x.PolicyRejected/nr, -1e-6)
		lo := (mc - mr) - (log1mExp(mc) - log1mExp(mr))
		s := pmath.Sigmoid(-lo) // d(−log σ(lo))/d lo = −σ(−lo)
		r.Loss = -x.PolicyChosen/nc - b*pmath.LogSigmoid(lo)
		r.DChosen = (-1 - b*s/(1-pmath.Exp(mc))) / nc
		r.DRejected = b * s / (1 - pmath.Exp(mr)) / nr
		r.RewardChosen, r.RewardRejected = b*x.PolicyChosen/nc, b*x.PolicyRejected/nr
	case SFT:
		r.Loss, r.DChosen = -x.PolicyChosen/nc, -1/nc
		r.RewardChosen, r.RewardRejected = b*(x.PolicyChosen-rc), b*(x.PolicyRejected-rr)
	default:
		panic("dpo: Pair with unvalidated loss " + string(c.Loss))
	}
	if c.RPOAlpha > 0 {
		r.Loss += c.RPOAlpha * (-x.PolicyChosen / nc)
		r.DChosen += -c.RPOAlpha / nc
	}
	return r
}

// log1mExp returns log(1 − e^m) for m < 0.
func log1mExp(m float64) float64 { return pmath.Log(-math.Expm1(m)) }
