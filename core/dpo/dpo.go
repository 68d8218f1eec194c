// Package dpo is the preference-loss family as pure functions of sequence
// log-probabilities: each returns the per-pair loss and its derivatives with
// respect to the policy's chosen and rejected log-probabilities, which the
// model's backward pass spreads over the response tokens. Formulas and metric
// names follow Hugging Face TRL (DPOTrainer._compute_loss, CPOTrainer,
// ORPOTrainer).
//
// With u_w = log π(y_w|x) − log π_ref(y_w|x), u_l likewise, the f-divergence
// scores s_w = f(u_w), s_l = f(u_l) (f = identity for reverse KL) and
// Δ = s_w − s_l:
//
//	sigmoid       −(1−ε)·log σ(βΔ) − ε·log σ(−βΔ)          (DPO; ε > 0 is conservative DPO)
//	robust        [−(1−ε)·log σ(βΔ) + ε·log σ(−βΔ)] / (1−2ε)
//	hinge         max(0, 1 − βΔ)                             (SLiC)
//	ipo           (s_w/n_w − s_l/n_l − 1/(2β))²
//	exo_pair      σ(βΔ)·(log σ(βΔ) − log(1−ε)) + σ(−βΔ)·(log σ(−βΔ) − log ε)
//	nca_pair      −log σ(βs_w) − ½·log σ(−βs_w) − ½·log σ(−βs_l)
//	bco_pair      −log σ(βs_w) − log σ(−βs_l)
//	sppo_hard     (s_w − 1/(2β))² + (s_l + 1/(2β))²
//	aot           sigmoid on sorted(log π_w − log π_l) − sorted(log π_ref,w − log π_ref,l) over the batch
//	aot_unpaired  sigmoid on sorted(u_w) − sorted(u_l) over the batch
//	apo_zero      1 − σ(βu_w) + σ(βu_l)
//	apo_down      σ(βu_w) + 1 − σ(βΔ)
//	discopop      −log σ(βΔ)·(1 − σ(βΔ/τ)) + e^{−βΔ}·σ(βΔ/τ)
//	sigmoid_norm  −log σ(β·(s_w/n_w − s_l/n_l))
//	simpo         −log σ(β·(π̄_w − π̄_l) − γ), π̄ = log π / tokens, no reference
//	orpo          −π̄_w − λ·log σ(log odds(π̄_w) − log odds(π̄_l)), no reference
//	sft           −π̄_w, the NLL of the chosen response per token
//
// A loss may be a weighted sum of several (TRL's loss_type list with
// loss_weights); RPO is sigmoid + α·sft, MPO sigmoid + bco_pair + sft.
// Reference-free DPO takes the reference log-probs as 0.
package dpo

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"dpoplayground/core/pmath"
)

// LossType names a loss; the names are TRL's loss_type values. A Config's
// Loss may also be a comma-separated list of them (a combined loss).
type LossType string

// The losses.
const (
	Sigmoid     LossType = "sigmoid"
	Robust      LossType = "robust"
	Hinge       LossType = "hinge"
	IPO         LossType = "ipo"
	ExoPair     LossType = "exo_pair"
	NCAPair     LossType = "nca_pair"
	BCOPair     LossType = "bco_pair"
	SPPOHard    LossType = "sppo_hard"
	AOT         LossType = "aot"
	AOTUnpaired LossType = "aot_unpaired"
	APOZero     LossType = "apo_zero"
	APODown     LossType = "apo_down"
	DiscoPOP    LossType = "discopop"
	SigmoidNorm LossType = "sigmoid_norm"
	SimPO       LossType = "simpo"
	ORPO        LossType = "orpo"
	SFT         LossType = "sft"
)

// The parameters a loss may read, by their JSON names in Config.
const (
	ParamBeta           = "beta"
	ParamLabelSmoothing = "label_smoothing"
	ParamReferenceFree  = "reference_free"
	ParamSimPOGamma     = "simpo_gamma"
	ParamDiscoPOPTau    = "discopop_tau"
	ParamFDivergence    = "f_divergence_type"
	ParamUseWeighting   = "use_weighting"
	ParamLDAlpha        = "ld_alpha"
)

// LossInfo describes a loss for people choosing one.
type LossInfo struct {
	Type        LossType
	Title       string
	Description string // one line
	UsesRef     bool   // needs the reference model's log-probs
	Smoothing   bool   // accepts label smoothing ε
	// FDivergence says the loss reads the f-divergence scores f(u) rather
	// than the raw log-ratios u (TRL's chosen_scores, delta_score).
	FDivergence bool
	// CouplesBatch says the loss of a pair depends on the other pairs of
	// its batch (it sorts across the batch), so the batch cannot be split
	// over data-parallel workers.
	CouplesBatch bool
	// Params lists the Config fields (JSON names) the loss reads, for menus.
	Params []string
	Source string // the paper or trainer it comes from
}

// Losses lists every loss with a one-line description, in menu order.
func Losses() []LossInfo {
	const (
		b, ls, rf, tau, fd = ParamBeta, ParamLabelSmoothing, ParamReferenceFree, ParamDiscoPOPTau, ParamFDivergence
		w, ld              = ParamUseWeighting, ParamLDAlpha
	)
	return []LossInfo{
		{Type: Sigmoid, Title: "DPO (sigmoid)", Description: "−log σ(β·margin): the loss of the DPO paper; label smoothing gives conservative DPO for noisy labels.",
			UsesRef: true, Smoothing: true, FDivergence: true, Params: []string{b, ls, rf, fd, w, ld}, Source: "Rafailov et al. 2023, arXiv:2305.18290"},
		{Type: Robust, Title: "Robust DPO", Description: "An unbiased DPO loss when a fraction ε of the preference labels are flipped.",
			UsesRef: true, Smoothing: true, FDivergence: true, Params: []string{b, ls, rf, fd, w, ld}, Source: "Chowdhury et al. 2024, arXiv:2403.00409"},
		{Type: Hinge, Title: "Hinge (SLiC)", Description: "max(0, 1 − β·margin): stops pushing once a pair is ordered with margin 1/β.",
			UsesRef: true, FDivergence: true, Params: []string{b, rf, fd, w, ld}, Source: "Zhao et al. 2023, arXiv:2305.10425"},
		{Type: IPO, Title: "IPO", Description: "Regresses the length-normalised margin to 1/(2β) instead of pushing it to infinity.",
			UsesRef: true, FDivergence: true, Params: []string{b, rf, fd, w, ld}, Source: "Azar et al. 2023, arXiv:2310.12036"},
		{Type: ExoPair, Title: "EXO (pair)", Description: "Reverse KL from the model's two-way choice to the labels (1−ε, ε): mode-seeking where DPO is mean-seeking.",
			UsesRef: true, Smoothing: true, FDivergence: true, Params: []string{b, ls, rf, fd, w, ld}, Source: "Ji et al. 2024, arXiv:2402.00856"},
		{Type: NCAPair, Title: "NCA (pair)", Description: "Scores each response against the reference on its own, so chosen rises instead of both falling.",
			UsesRef: true, FDivergence: true, Params: []string{b, rf, fd, w, ld}, Source: "Chen et al. 2024, arXiv:2402.05369"},
		{Type: BCOPair, Title: "BCO (pair)", Description: "Binary classifier: chosen's reward pushed above 0, rejected's below, each on its own.",
			UsesRef: true, FDivergence: true, Params: []string{b, rf, fd, w, ld}, Source: "Jung et al. 2024, arXiv:2404.04656"},
		{Type: SPPOHard, Title: "SPPO (hard)", Description: "Self-play: regresses chosen's log-ratio to +1/(2β) and rejected's to −1/(2β).",
			UsesRef: true, FDivergence: true, Params: []string{b, rf, fd, w, ld}, Source: "Wu et al. 2024, arXiv:2405.00675"},
		{Type: AOT, Title: "AOT (paired)", Description: "Optimal transport: the sorted policy margins of the batch must dominate the sorted reference margins.",
			UsesRef: true, Smoothing: true, CouplesBatch: true, Params: []string{b, ls, rf, ld}, Source: "Melnyk et al. 2024, arXiv:2406.05882"},
		{Type: AOTUnpaired, Title: "AOT (unpaired)", Description: "Optimal transport: the batch's sorted chosen log-ratios must dominate its sorted rejected ones.",
			UsesRef: true, Smoothing: true, CouplesBatch: true, Params: []string{b, ls, rf, ld}, Source: "Melnyk et al. 2024, arXiv:2406.05882"},
		{Type: APOZero, Title: "APO-zero", Description: "Anchored: raises chosen and lowers rejected, each against the reference (chosen answers better than the model's).",
			UsesRef: true, Params: []string{b, rf, w, ld}, Source: "D'Oosterlinck et al. 2024, arXiv:2408.06266"},
		{Type: APODown, Title: "APO-down", Description: "Anchored: lowers chosen and lowers rejected more (chosen answers worse than the model's).",
			UsesRef: true, FDivergence: true, Params: []string{b, rf, fd, w, ld}, Source: "D'Oosterlinck et al. 2024, arXiv:2408.06266"},
		{Type: DiscoPOP, Title: "DiscoPOP", Description: "A discovered blend of the logistic and exponential losses, switched by the margin with temperature τ.",
			UsesRef: true, FDivergence: true, Params: []string{b, tau, rf, fd, w, ld}, Source: "Chris Lu et al. 2024, arXiv:2406.08414"},
		{Type: SigmoidNorm, Title: "DPO, length-normalised", Description: "DPO on per-token log-ratios, so long answers do not dominate the margin.",
			UsesRef: true, FDivergence: true, Params: []string{b, rf, fd, w, ld}, Source: "TRL DPOTrainer (sigmoid_norm)"},
		{Type: SimPO, Title: "SimPO", Description: "No reference: the per-token log-prob of chosen must beat rejected by γ/β.",
			Smoothing: true, Params: []string{b, ls, ParamSimPOGamma, w, ld}, Source: "Meng et al. 2024, arXiv:2405.14734 (TRL CPOTrainer)"},
		{Type: ORPO, Title: "ORPO", Description: "No reference: NLL of chosen plus λ·odds-ratio penalty against rejected.",
			Params: []string{b, w, ld}, Source: "Hong et al. 2024, arXiv:2403.07691 (TRL ORPOTrainer)"},
		{Type: SFT, Title: "SFT", Description: "Plain negative log-likelihood of the chosen answer; ignores the rejected one.",
			Params: []string{w}, Source: "TRL DPOTrainer (sft)"},
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

// FDivergence is TRL's f_divergence_type: the function f that turns a
// log-ratio u = log π − log π_ref into the score the losses compare.
type FDivergence string

// The f-divergences; the empty value is reverse KL.
const (
	ReverseKL       FDivergence = "reverse_kl"
	ForwardKL       FDivergence = "forward_kl"
	JSDivergence    FDivergence = "js_divergence"
	AlphaDivergence FDivergence = "alpha_divergence"
)

// FDivergences lists the f-divergences in menu order.
func FDivergences() []FDivergence {
	return []FDivergence{ReverseKL, ForwardKL, JSDivergence, AlphaDivergence}
}

// Term is one loss of a combined loss and its weight.
type Term struct {
	Loss   LossType `json:"loss"`
	Weight float64  `json:"weight"`
}

// Config selects a loss and its hyper-parameters.
type Config struct {
	// Loss is one loss, or a comma-separated list of losses summed with
	// LossWeights (TRL's loss_type list, e.g. "sigmoid,bco_pair,sft").
	Loss LossType `json:"loss"`
	// LossWeights weigh the losses of Loss (TRL's loss_weights); empty
	// means 1 for each.
	LossWeights Weights `json:"loss_weights,omitzero"`
	// Beta is β, the strength of the KL constraint (the temperature of the
	// implicit reward). For ORPO it is λ, the weight of the odds-ratio term.
	Beta float64 `json:"beta"`
	// LabelSmoothing is ε for sigmoid, robust, exo_pair, aot, aot_unpaired and simpo.
	LabelSmoothing float64 `json:"label_smoothing"`
	// ReferenceFree takes the reference log-probs as 0.
	ReferenceFree bool `json:"reference_free"`
	// SimPOGamma is γ; the margin inside the sigmoid is γ/β, as in TRL.
	SimPOGamma float64 `json:"simpo_gamma"`
	// RPOAlpha is shorthand for adding sft with weight α (RPO): Terms lists it.
	RPOAlpha float64 `json:"rpo_alpha"`
	// DiscoPOPTau is τ of discopop (TRL's default is 0.05).
	DiscoPOPTau float64 `json:"discopop_tau"`
	// FDivergence is f_divergence_type; empty means reverse_kl.
	FDivergence FDivergence `json:"f_divergence_type,omitempty"`
	// FAlpha is f_alpha_divergence_coef, read by alpha_divergence (TRL's default is 0.5).
	FAlpha float64 `json:"f_alpha_divergence_coef"`
	// UseWeighting multiplies each pair's loss by the WPO weight
	// exp(ChosenWeightLogp + RejectedWeightLogp) (use_weighting).
	UseWeighting bool `json:"use_weighting,omitempty"`
	// LDAlpha is LD-DPO's ld_alpha: when on, log-probs count the verbose
	// tail past the shorter response's length α times.
	LDAlpha LDAlpha `json:"ld_alpha,omitzero"`
}

// nextTerm splits the first loss name off a comma-separated list without
// allocating: the hot path walks the terms this way.
func nextTerm(list string) (name LossType, rest string) {
	n, rest, _ := strings.Cut(list, ",")
	return LossType(strings.TrimSpace(n)), rest
}

// Terms lists the combined loss: the losses of Loss with their weights, then
// sft with weight RPOAlpha when it is positive.
func (c Config) Terms() []Term {
	var ts []Term
	for it := c.terms(); ; {
		t, ok := it.next()
		if !ok {
			return ts
		}
		ts = append(ts, t)
	}
}

// termIter walks the terms of a combined loss without allocating, as the
// per-pair hot path needs.
type termIter struct {
	rest string
	k    int
	rpo  float64
	w    Weights
}

func (c Config) terms() termIter {
	return termIter{rest: string(c.Loss), rpo: c.RPOAlpha, w: c.LossWeights}
}

func (it *termIter) next() (Term, bool) {
	if it.rest != "" {
		var t Term
		t.Loss, it.rest = nextTerm(it.rest)
		switch {
		case it.w.N == 0:
			t.Weight = 1
		case it.k < it.w.N:
			t.Weight = it.w.W[it.k]
		default: // fewer weights than losses: Validate refuses the config
			t.Weight = math.NaN()
		}
		it.k++
		return t, true
	}
	if it.rpo > 0 {
		t := Term{SFT, it.rpo}
		it.rpo = 0
		return t, true
	}
	return Term{}, false
}

// SetTerms writes terms into Loss and LossWeights (RPOAlpha is cleared: an
// sft term says it). Weights that are all 1 are left out, as TRL allows.
// More than MaxTerms terms is an error.
func (c *Config) SetTerms(terms []Term) error {
	if len(terms) > MaxTerms {
		return fmt.Errorf("dpo: loss: %d losses, at most %d", len(terms), MaxTerms)
	}
	names := make([]string, len(terms))
	var w Weights
	ones := true
	for i, t := range terms {
		names[i] = string(t.Loss)
		w.W[i] = t.Weight
		ones = ones && t.Weight == 1
	}
	if ones { // the zero Weights, so that equal configs compare equal
		w = Weights{}
	} else {
		w.N = len(terms)
	}
	c.Loss, c.LossWeights, c.RPOAlpha = LossType(strings.Join(names, ",")), w, 0
	return nil
}

// Combined says whether the loss is a sum of more than one term.
func (c Config) Combined() bool { return strings.Contains(string(c.Loss), ",") || c.RPOAlpha > 0 }

// Validate reports a configuration that has no meaning, naming the field.
func (c Config) Validate() error {
	names := make([]string, 0, len(Losses()))
	for _, l := range Losses() {
		names = append(names, string(l.Type))
	}
	if strings.TrimSpace(string(c.Loss)) == "" {
		return fmt.Errorf("dpo: loss: empty (one of %s, or a comma list of them)", strings.Join(names, ", "))
	}
	list := strings.Split(string(c.Loss), ",")
	for _, name := range list {
		if strings.TrimSpace(name) == "" {
			return fmt.Errorf("dpo: loss: an empty name in the list %q", c.Loss)
		}
	}
	n := len(list)
	if n > MaxTerms {
		return fmt.Errorf("dpo: loss: %d losses, at most %d", n, MaxTerms)
	}
	if c.LossWeights.N != 0 && c.LossWeights.N != n {
		return fmt.Errorf("dpo: loss_weights: %d weights for %d losses", c.LossWeights.N, n)
	}
	var smoothing, fdiv, coupled bool
	for k, t := range c.Terms() {
		info, ok := Info(t.Loss)
		if !ok {
			return fmt.Errorf("dpo: loss: unknown loss %q (one of %s)", t.Loss, strings.Join(names, ", "))
		}
		if k < n && (math.IsNaN(t.Weight) || math.IsInf(t.Weight, 0)) {
			return fmt.Errorf("dpo: loss_weights: weight %d is %v", k+1, t.Weight)
		}
		smoothing = smoothing || info.Smoothing
		fdiv = fdiv || info.FDivergence
		coupled = coupled || info.CouplesBatch
		switch {
		case t.Loss == ExoPair && c.LabelSmoothing == 0:
			return fmt.Errorf("dpo: label_smoothing: exo_pair needs ε > 0 (the EXO paper recommends 1e-3)")
		case t.Loss == DiscoPOP && (!(c.DiscoPOPTau > 0) || math.IsInf(c.DiscoPOPTau, 0)):
			return fmt.Errorf("dpo: discopop_tau must be a positive number, got %v", c.DiscoPOPTau)
		}
	}
	if !(c.Beta > 0) || math.IsInf(c.Beta, 0) {
		return fmt.Errorf("dpo: beta must be a positive number, got %v", c.Beta)
	}
	if c.LabelSmoothing != 0 {
		if !smoothing {
			return fmt.Errorf("dpo: label_smoothing applies to sigmoid, robust, exo_pair, aot, aot_unpaired and simpo, not %s", c.Loss)
		}
		if !(c.LabelSmoothing > 0 && c.LabelSmoothing < 0.5) {
			return fmt.Errorf("dpo: label_smoothing must be in [0, 0.5), got %v", c.LabelSmoothing)
		}
	}
	if c.RPOAlpha < 0 || math.IsNaN(c.RPOAlpha) || math.IsInf(c.RPOAlpha, 0) {
		return fmt.Errorf("dpo: rpo_alpha must be ≥ 0, got %v", c.RPOAlpha)
	}
	if math.IsNaN(c.SimPOGamma) || math.IsInf(c.SimPOGamma, 0) {
		return fmt.Errorf("dpo: simpo_gamma must be finite, got %v", c.SimPOGamma)
	}
	switch c.FDivergence {
	case "", ReverseKL:
	case ForwardKL, JSDivergence, AlphaDivergence:
		if !fdiv {
			return fmt.Errorf("dpo: f_divergence_type: %s reads no f-divergence scores", c.Loss)
		}
		if c.FDivergence == AlphaDivergence && (math.IsNaN(c.FAlpha) || math.IsInf(c.FAlpha, 0)) {
			return fmt.Errorf("dpo: f_alpha_divergence_coef must be finite, got %v", c.FAlpha)
		}
	default:
		return fmt.Errorf("dpo: f_divergence_type: unknown %q (one of reverse_kl, forward_kl, js_divergence, alpha_divergence)", c.FDivergence)
	}
	if c.UseWeighting && coupled {
		return fmt.Errorf("dpo: use_weighting: WPO weights do not apply to aot or aot_unpaired, which sort the batch (as in TRL)")
	}
	if c.LDAlpha.On && !(c.LDAlpha.Alpha >= 0 && c.LDAlpha.Alpha <= 1) {
		return fmt.Errorf("dpo: ld_alpha must be in [0, 1], got %v", c.LDAlpha.Alpha)
	}
	return nil
}

// UsesReference says whether the loss reads the reference log-probs.
func (c Config) UsesReference() bool {
	if c.ReferenceFree {
		return false
	}
	for _, t := range c.Terms() {
		if info, _ := Info(t.Loss); info.UsesRef {
			return true
		}
	}
	return false
}

// CouplesBatch says whether some term sorts across the batch: such a loss
// must be computed over the whole batch at once, never over shards of it.
func (c Config) CouplesBatch() bool {
	for rest := string(c.Loss); rest != ""; {
		var name LossType
		name, rest = nextTerm(rest)
		if name == AOT || name == AOTUnpaired {
			return true
		}
	}
	return false
}

// String names the loss as the CLI and the page show it: "sigmoid", or
// "sigmoid+0.005·sft" for a combined one.
func (c Config) String() string {
	if !c.Combined() {
		return string(c.Loss)
	}
	var b strings.Builder
	for i, t := range c.Terms() {
		if i > 0 {
			b.WriteByte('+')
		}
		if t.Weight != 1 {
			b.WriteString(strconv.FormatFloat(t.Weight, 'g', -1, 64) + "·")
		}
		b.WriteString(string(t.Loss))
	}
	return b.String()
}

// PairLogps are the sequence log-probabilities of one pair: sums over the
// response tokens (and final EOS), with the token counts.
type PairLogps struct {
	PolicyChosen, PolicyRejected float64
	RefChosen, RefRejected       float64
	ChosenTokens, RejectedTokens int
	// LD-DPO: the parts of the sums above over the verbose tail, the
	// response tokens past the shorter response's length (zero for the
	// shorter response, and unused unless ld_alpha is set).
	PolicyChosenTail, PolicyRejectedTail float64
	RefChosenTail, RefRejectedTail       float64
	// WPO: the policy's mean over response tokens of log π(y_t) − log Σ_v π(v)²
	// (TRL's aligned log-probs; unused unless use_weighting is set).
	ChosenWeightLogp, RejectedWeightLogp float64
}

// PairResult is one pair's loss, its derivatives with respect to
// PolicyChosen and PolicyRejected, and the implicit rewards. Under LD-DPO
// the tokens of the verbose tail receive DChosenTail (DRejectedTail) on top
// of DChosen (DRejected).
type PairResult struct {
	Loss                       float64
	DChosen, DRejected         float64
	DChosenTail, DRejectedTail float64
	RewardChosen               float64
	RewardRejected             float64
}

// Pair evaluates the loss on one pair. c must be valid; a loss that sorts
// across the batch (aot, aot_unpaired) is evaluated as a batch of one.
func (c Config) Pair(x PairLogps) PairResult {
	ps := [1]PairStats{{PairLogps: x}}
	var rs [1]PairResult
	c.Shard(ps[:], rs[:], 1)
	return rs[0]
}

// pairInputs are the quantities the terms read, after LD-DPO and the
// reference-free choice.
type pairInputs struct {
	lc, lr   float64 // policy log-probs (LD-weighted)
	rc, rr   float64 // reference log-probs (LD-weighted, or 0)
	nc, nr   float64 // token counts, at least 1
	ldw      float64 // d(LD log-prob)/d(tail sum) − 1 = ld_alpha − 1, or 0
	fullC    float64 // the chosen sum without LD-DPO's weighting (sft reads it)
	wpo      float64 // the pair's WPO weight, or 1
	uc, ur   float64 // log-ratios
	sc, sr   float64 // f-divergence scores
	dsc, dsr float64 // their derivatives with respect to uc, ur
	delta    float64 // Δ = s_w − s_l
	ipoDelta float64 // s_w/n_w − s_l/n_l
}

func (c Config) inputs(x PairLogps) pairInputs {
	in := pairInputs{lc: x.PolicyChosen, lr: x.PolicyRejected, rc: x.RefChosen, rr: x.RefRejected,
		nc: float64(max(x.ChosenTokens, 1)), nr: float64(max(x.RejectedTokens, 1)), fullC: x.PolicyChosen, wpo: 1}
	if c.LDAlpha.On {
		// logps = shared + α·tail = full − (1−α)·tail (TRL, policy and reference).
		in.ldw = c.LDAlpha.Alpha - 1
		in.lc += in.ldw * x.PolicyChosenTail
		in.lr += in.ldw * x.PolicyRejectedTail
		in.rc += in.ldw * x.RefChosenTail
		in.rr += in.ldw * x.RefRejectedTail
	}
	if c.ReferenceFree {
		in.rc, in.rr = 0, 0
	}
	if c.UseWeighting {
		in.wpo = pmath.Exp(x.ChosenWeightLogp + x.RejectedWeightLogp)
	}
	in.uc, in.ur = in.lc-in.rc, in.lr-in.rr
	in.sc, in.dsc = c.score(in.uc)
	in.sr, in.dsr = c.score(in.ur)
	in.delta, in.ipoDelta = in.sc-in.sr, in.sc/in.nc-in.sr/in.nr
	if c.FDivergence == "" || c.FDivergence == ReverseKL {
		// the same value summed in the order this playground always has, so
		// that a run's bits do not change
		in.delta = (in.lc - in.lr) - (in.rc - in.rr)
		in.ipoDelta = (in.lc/in.nc - in.lr/in.nr) - (in.rc/in.nc - in.rr/in.nr)
	}
	return in
}

// score is the f-divergence score f(u) and f'(u), as TRL computes the scores:
// forward KL −e^{−u}, JS log σ(u), α-divergence e^{(α−1)u}/(α−1) with the
// exponent capped at 80 (reverse KL when |α−1| < 1e-6).
func (c Config) score(u float64) (s, ds float64) {
	switch c.FDivergence {
	case ForwardKL:
		e := pmath.Exp(-u)
		return -e, e
	case JSDivergence:
		return pmath.LogSigmoid(u), pmath.Sigmoid(-u)
	case AlphaDivergence:
		a := c.FAlpha - 1
		if math.Abs(a) < 1e-6 {
			return u, 1
		}
		t := a * u
		if t > 80 {
			return pmath.Exp(80) / a, 0
		}
		e := pmath.Exp(t)
		return e / a, e
	}
	return u, 1
}

// sigmoidLoss is −(1−ε)·log σ(z) − ε·log σ(−z) and its derivative in z.
func sigmoidLoss(z, eps float64) (l, dz float64) {
	return -(1-eps)*pmath.LogSigmoid(z) - eps*pmath.LogSigmoid(-z), -(1-eps)*pmath.Sigmoid(-z) + eps*pmath.Sigmoid(z)
}

// pairTerms adds the weighted per-pair terms (every term but aot and
// aot_unpaired) into r and sets the rewards.
func (c Config) pairTerms(x PairLogps, r *PairResult) {
	in := c.inputs(x)
	b, eps := c.Beta, c.LabelSmoothing
	first := true
	for it := c.terms(); ; {
		tm, ok := it.next()
		if !ok {
			break
		}
		t, w := tm.Loss, tm.Weight
		// l is the term's loss; dc, dr its derivatives with respect to the
		// (LD-weighted) policy log-probs lc, lr (sft reads the full chosen
		// sum instead: its derivative is added below).
		var l, dc, dr float64
		rwc, rwr := b*in.uc, b*in.ur // TRL's rewards: β·(log π − log π_ref)
		switch t {
		case Sigmoid, Robust, Hinge, ExoPair, DiscoPOP:
			z := b * in.delta
			var dz float64
			switch t {
			case Sigmoid:
				l, dz = sigmoidLoss(z, eps)
			case Robust:
				l = (-(1-eps)*pmath.LogSigmoid(z) + eps*pmath.LogSigmoid(-z)) / (1 - 2*eps)
				dz = (-(1-eps)*pmath.Sigmoid(-z) - eps*pmath.Sigmoid(z)) / (1 - 2*eps)
			case Hinge:
				if z < 1 {
					l, dz = 1-z, -1
				}
			case ExoPair:
				// L = q·(log q − log(1−ε)) + (1−q)·(log(1−q) − log ε), q = σ(z);
				// dL/dz = q(1−q)·(z − log((1−ε)/ε)).
				q, p := pmath.Sigmoid(z), pmath.Sigmoid(-z)
				lw, ll := pmath.Log1p(-eps), pmath.Log(eps)
				l = q*(pmath.LogSigmoid(z)-lw) + p*(pmath.LogSigmoid(-z)-ll)
				dz = q * p * (z - lw + ll)
			case DiscoPOP:
				// L = −log σ(z)·(1−m) + e^{−z}·m, m = σ(z/τ), m' = m(1−m)/τ.
				tau := c.DiscoPOPTau
				m, m1 := pmath.Sigmoid(z/tau), pmath.Sigmoid(-z/tau)
				var ez float64
				if m != 0 {
					ez = pmath.Exp(-z)
				}
				ls := pmath.LogSigmoid(z)
				dm := m * m1 / tau
				l = -ls*m1 + ez*m
				dz = -pmath.Sigmoid(-z)*m1 + ls*dm - ez*m + ez*dm
			}
			dc, dr = b*dz*in.dsc, -b*dz*in.dsr
		case IPO:
			d := in.ipoDelta - 1/(2*b)
			l, dc, dr = d*d, 2*d*in.dsc/in.nc, -2*d*in.dsr/in.nr
			rwc, rwr = rwc/in.nc, rwr/in.nr // length-normalised, as this playground has always shown IPO's rewards
		case SigmoidNorm:
			z := b * (in.sc/in.nc - in.sr/in.nr)
			var dz float64
			l, dz = sigmoidLoss(z, 0)
			dc, dr = b*dz*in.dsc/in.nc, -b*dz*in.dsr/in.nr
		case NCAPair:
			zc, zr := b*in.sc, b*in.sr
			l = -pmath.LogSigmoid(zc) - 0.5*pmath.LogSigmoid(-zc) - 0.5*pmath.LogSigmoid(-zr)
			dc = b * in.dsc * (-pmath.Sigmoid(-zc) + 0.5*pmath.Sigmoid(zc))
			dr = b * in.dsr * 0.5 * pmath.Sigmoid(zr)
		case BCOPair:
			zc, zr := b*in.sc, b*in.sr
			l = -pmath.LogSigmoid(zc) - pmath.LogSigmoid(-zr)
			dc, dr = -b*in.dsc*pmath.Sigmoid(-zc), b*in.dsr*pmath.Sigmoid(zr)
		case SPPOHard:
			ec, er := in.sc-0.5/b, in.sr+0.5/b
			l, dc, dr = ec*ec+er*er, 2*ec*in.dsc, 2*er*in.dsr
		case APOZero:
			zc, zr := b*in.uc, b*in.ur
			l = 1 - pmath.Sigmoid(zc) + pmath.Sigmoid(zr)
			dc = -b * pmath.Sigmoid(zc) * pmath.Sigmoid(-zc)
			dr = b * pmath.Sigmoid(zr) * pmath.Sigmoid(-zr)
		case APODown:
			zc, z := b*in.uc, b*in.delta
			sz := pmath.Sigmoid(z) * pmath.Sigmoid(-z)
			l = pmath.Sigmoid(zc) + 1 - pmath.Sigmoid(z)
			dc = b*pmath.Sigmoid(zc)*pmath.Sigmoid(-zc) - b*sz*in.dsc
			dr = b * sz * in.dsr
		case AOT, AOTUnpaired:
			// batch-coupled: coupledTerms adds them; only the rewards are set here.
		case SimPO:
			mc, mr := in.lc/in.nc, in.lr/in.nr
			z := b * (mc - mr - c.SimPOGamma/b)
			var dz float64
			l, dz = sigmoidLoss(z, eps)
			dc, dr = b*dz/in.nc, -b*dz/in.nr
			rwc, rwr = b*mc, b*mr
		case ORPO:
			// log odds(p) = log p − log(1 − p) with log p = m; m is capped just below 0
			// so that a response the model is certain of keeps finite odds.
			mc, mr := min(in.lc/in.nc, -1e-6), min(in.lr/in.nr, -1e-6)
			lo := (mc - mr) - (log1mExp(mc) - log1mExp(mr))
			s := pmath.Sigmoid(-lo) // d(−log σ(lo))/d lo = −σ(−lo)
			l = -in.lc/in.nc - b*pmath.LogSigmoid(lo)
			dc = (-1 - b*s/(1-pmath.Exp(mc))) / in.nc
			dr = b * s / (1 - pmath.Exp(mr)) / in.nr
			rwc, rwr = b*in.lc/in.nc, b*in.lr/in.nr
		case SFT:
			l = -in.fullC / in.nc
		default:
			panic("dpo: Pair with unvalidated loss " + string(t))
		}
		if first {
			// A combined loss reports its first term's rewards (TRL's β·log-ratio for its losses).
			r.RewardChosen, r.RewardRejected, first = rwc, rwr, false
		}
		// WPO scales every term's per-pair loss by the pair's (constant) weight.
		f := w * in.wpo
		r.Loss += f * l
		if t == SFT {
			r.DChosen += -f / in.nc // −α/nc, rounded as rpo_alpha always was
			continue
		}
		r.DChosen += f * dc
		r.DRejected += f * dr
		r.DChosenTail += f * in.ldw * dc
		r.DRejectedTail += f * in.ldw * dr
	}
}

// log1mExp returns log(1 − e^m) for m < 0.
func log1mExp(m float64) float64 { return pmath.Log(-math.Expm1(m)) }
