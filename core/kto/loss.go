// Package kto is Kahneman–Tversky Optimization on unpaired examples, as
// TRL's KTOTrainer computes it: each completion is desirable or undesirable
// on its own, and its implicit reward β·(log π − log π_ref) is pushed above
// (or below) a reference point z0, the batch's KL estimate:
//
//	desirable:   L = w_d · (1 − σ(β·(r − z0)))
//	undesirable: L = w_u · (1 − σ(β·(z0 − r)))
//	z0 = max(0, mean over the batch of log π(y'|x) − log π_ref(y'|x)), detached
//
// where the y' are the batch's completions shifted by one onto the other
// prompts (KLCompletions). The batch loss is the mean over its examples.
// apo_zero_unpaired (APO-zero, unpaired) uses no reference point:
// desirable 1 − σ(β·r), undesirable σ(β·r).
//
// The package also holds the trainer (SFT on the desirable completions builds
// π_ref, then KTO steps), a sibling of core/train's DPO trainer.
package kto

import (
	"encoding/json"
	"fmt"
	"math"

	"dpoplayground/core/pmath"
)

// LossType is TRL's KTOConfig.loss_type.
type LossType string

// The losses of TRL's KTOTrainer.
const (
	KTO             LossType = "kto"
	APOZeroUnpaired LossType = "apo_zero_unpaired"
)

// LossTypes lists the losses, TRL's default first.
func LossTypes() []LossType { return []LossType{KTO, APOZeroUnpaired} }

// Loss is the loss and its hyper-parameters, under KTOConfig's names.
type Loss struct {
	Type LossType `json:"loss_type"`
	Beta float64  `json:"beta"`
	// DesirableWeight and UndesirableWeight scale the losses of desirable
	// and undesirable examples, to counter unequal numbers of each.
	DesirableWeight   float64 `json:"desirable_weight"`
	UndesirableWeight float64 `json:"undesirable_weight"`
}

// DefaultLoss is KTOConfig's default: kto, β 0.1, both weights 1.
func DefaultLoss() Loss {
	return Loss{Type: KTO, Beta: 0.1, DesirableWeight: 1, UndesirableWeight: 1}
}

// Validate reports a setting that cannot run, naming it.
func (l Loss) Validate() error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case l.Type != KTO && l.Type != APOZeroUnpaired:
		return fmt.Errorf("kto: loss_type: %q is not kto or apo_zero_unpaired", l.Type)
	case !(l.Beta > 0) || !finite(l.Beta):
		return fmt.Errorf("kto: beta: %v is not a positive number", l.Beta)
	case !(l.DesirableWeight >= 0) || !finite(l.DesirableWeight):
		return fmt.Errorf("kto: desirable_weight: %v is not a number ≥ 0", l.DesirableWeight)
	case !(l.UndesirableWeight >= 0) || !finite(l.UndesirableWeight):
		return fmt.Errorf("kto: undesirable_weight: %v is not a number ≥ 0", l.UndesirableWeight)
	}
	return nil
}

// UsesKL says whether the loss reads the KL reference point (TRL's
// calculate_KL): every loss but apo_zero_unpaired.
func (l Loss) UsesKL() bool { return l.Type != APOZeroUnpaired }

// KLReference is TRL's reference point: the mean of the policy-minus-
// reference log-probs of the batch's KL completions, clamped at 0. It is a
// constant of the loss (detached): no gradient flows through it.
func KLReference(policyKL, refKL []float64) float64 {
	if len(policyKL) == 0 {
		return 0
	}
	var s float64
	for i, p := range policyKL {
		s += p - refKL[i]
	}
	return max(0, s/float64(len(policyKL)))
}

// Logps are one example's completion log-probs (summed over its tokens)
// under the policy and the reference, and its label.
type Logps struct {
	Policy, Ref float64
	Label       bool // true: desirable
}

// Example returns the weighted loss of one example at reference point kl,
// its implicit reward β·(Policy − Ref), and the derivative of the weighted
// loss with respect to Policy.
func (l Loss) Example(x Logps, kl float64) (loss, reward, dPolicy float64) {
	r := x.Policy - x.Ref
	reward = l.Beta * r
	var z float64 // the loss is σ(−z) for a desirable example, σ(z) for an undesirable one
	switch l.Type {
	case KTO:
		z = l.Beta * (r - kl)
	case APOZeroUnpaired:
		z = reward
	}
	// d σ(±z)/dr = ±β·σ(z)·σ(−z)
	s, sm := pmath.Sigmoid(z), pmath.Sigmoid(-z)
	if x.Label {
		return l.DesirableWeight * sm, reward, -l.DesirableWeight * l.Beta * s * sm
	}
	return l.UndesirableWeight * s, reward, l.UndesirableWeight * l.Beta * s * sm
}

// Stats is what a batch needs of one example: its log-probs, and sums over
// its completion tokens (Tokens of them) of the vocabulary-mean logit and of
// the policy's entropy; Len counts its sequence's ids, prompt included.
type Stats struct {
	Logps
	LogitSum, EntropySum float64
	Tokens, Len          int
}

// Result is one example's numbers in a batch: its weighted loss, its
// implicit reward, and the derivative of the batch's MEAN loss (already
// divided by the batch size) with respect to its policy log-prob.
type Result struct {
	Loss, Reward, DPolicy float64
}

// Metrics are one step's numbers under the names TRL's KTOTrainer logs. The
// chosen (desirable) ones exist only when the batch has a desirable example,
// the rejected ones only with an undesirable one, and rewards/margins only
// with both: MarshalJSON leaves out what TRL does not log.
type Metrics struct {
	Loss            float64 // mean over the batch of the weighted losses
	KL              float64 // the reference point
	RewardsChosen   float64
	RewardsRejected float64
	RewardsMargins  float64
	LogpsChosen     float64
	LogpsRejected   float64
	// LogitsChosen and LogitsRejected are means over the completion tokens
	// of the vocabulary-mean logit; Entropy the mean next-token entropy over
	// every completion token of the batch.
	LogitsChosen, LogitsRejected float64
	Entropy                      float64
	// CountChosen and CountRejected count the batch's desirable and
	// undesirable examples (TRL uses them as the means' denominators).
	CountChosen, CountRejected int
	// NumTokens, GradNorm and LearningRate are the trainer's to fill:
	// tokens (prompt and completion) trained on so far, the gradient norm
	// before clipping and the step's rate.
	NumTokens    float64
	GradNorm     float64
	LearningRate float64
}

// MarshalJSON writes TRL's names.
func (m Metrics) MarshalJSON() ([]byte, error) {
	opt := func(ok bool, v float64) *float64 {
		if !ok {
			return nil
		}
		return &v
	}
	c, r := m.CountChosen > 0, m.CountRejected > 0
	return json.Marshal(struct {
		Loss            float64  `json:"loss"`
		KL              float64  `json:"kl"`
		RewardsChosen   *float64 `json:"rewards/chosen,omitempty"`
		RewardsRejected *float64 `json:"rewards/rejected,omitempty"`
		RewardsMargins  *float64 `json:"rewards/margins,omitempty"`
		LogpsChosen     *float64 `json:"logps/chosen,omitempty"`
		LogpsRejected   *float64 `json:"logps/rejected,omitempty"`
		LogitsChosen    *float64 `json:"logits/chosen,omitempty"`
		LogitsRejected  *float64 `json:"logits/rejected,omitempty"`
		Entropy         float64  `json:"entropy"`
		NumTokens       float64  `json:"num_tokens"`
		GradNorm        float64  `json:"grad_norm"`
		LearningRate    float64  `json:"learning_rate"`
	}{m.Loss, m.KL, opt(c, m.RewardsChosen), opt(r, m.RewardsRejected), opt(c && r, m.RewardsMargins),
		opt(c, m.LogpsChosen), opt(r, m.LogpsRejected), opt(c, m.LogitsChosen), opt(r, m.LogitsRejected),
		m.Entropy, m.NumTokens, m.GradNorm, m.LearningRate})
}

// Batch evaluates the mean loss over a batch at reference point kl. It fills
// results[i] with example i's numbers and returns the batch's metrics. As in
// TRL, rewards/* and logps/* are means over the examples of each label,
// logits/* means over their completion tokens.
func (l Loss) Batch(ex []Stats, kl float64, results []Result) Metrics {
	m := Metrics{KL: kl}
	if len(ex) == 0 {
		return m
	}
	inv := 1 / float64(len(ex))
	var tokC, tokR, tok int
	var entropy float64
	for i, e := range ex {
		loss, reward, d := l.Example(e.Logps, kl)
		results[i] = Result{Loss: loss, Reward: reward, DPolicy: d * inv}
		m.Loss += loss
		entropy += e.EntropySum
		tok += e.Tokens
		if e.Label {
			m.CountChosen++
			m.RewardsChosen += reward
			m.LogpsChosen += e.Policy
			m.LogitsChosen += e.LogitSum
			tokC += e.Tokens
		} else {
			m.CountRejected++
			m.RewardsRejected += reward
			m.LogpsRejected += e.Policy
			m.LogitsRejected += e.LogitSum
			tokR += e.Tokens
		}
	}
	m.Loss *= inv
	if m.CountChosen > 0 {
		m.RewardsChosen /= float64(m.CountChosen)
		m.LogpsChosen /= float64(m.CountChosen)
		m.LogitsChosen /= float64(max(tokC, 1))
	}
	if m.CountRejected > 0 {
		m.RewardsRejected /= float64(m.CountRejected)
		m.LogpsRejected /= float64(m.CountRejected)
		m.LogitsRejected /= float64(max(tokR, 1))
	}
	if m.CountChosen > 0 && m.CountRejected > 0 {
		m.RewardsMargins = m.RewardsChosen - m.RewardsRejected
	}
	m.Entropy = entropy / float64(max(tok, 1))
	return m
}

// KLCompletions returns, for each of n examples in dataset order, the index
// of the example whose completion its KL sequence uses, as TRL's
// add_kl_completion_ids builds them: the examples are cut into chunks of
// batchSize (the last may be shorter; 0 or more than n means one chunk) and
// within each chunk the completions are rotated by one, (x_1, y_k),
// (x_2, y_1), ..., (x_k, y_{k−1}). A chunk of one example keeps its own.
func KLCompletions(n, batchSize int) []int {
	if batchSize <= 0 || batchSize > n {
		batchSize = n
	}
	out := make([]int, n)
	for lo := 0; lo < n; lo += batchSize {
		hi := min(lo+batchSize, n)
		out[lo] = hi - 1
		for i := lo + 1; i < hi; i++ {
			out[i] = i - 1
		}
	}
	return out
}

// UnmarshalJSON reads what MarshalJSON writes. The counts are not written:
// a label's metrics that are present read as a count of 1, so that the
// metrics marshal again as they came.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var v struct {
		Loss            float64  `json:"loss"`
		KL              float64  `json:"kl"`
		RewardsChosen   *float64 `json:"rewards/chosen"`
		RewardsRejected *float64 `json:"rewards/rejected"`
		RewardsMargins  *float64 `json:"rewards/margins"`
		LogpsChosen     *float64 `json:"logps/chosen"`
		LogpsRejected   *float64 `json:"logps/rejected"`
		LogitsChosen    *float64 `json:"logits/chosen"`
		LogitsRejected  *float64 `json:"logits/rejected"`
		Entropy         float64  `json:"entropy"`
		NumTokens       float64  `json:"num_tokens"`
		GradNorm        float64  `json:"grad_norm"`
		LearningRate    float64  `json:"learning_rate"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	get := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	*m = Metrics{Loss: v.Loss, KL: v.KL, RewardsChosen: get(v.RewardsChosen), RewardsRejected: get(v.RewardsRejected),
		RewardsMargins: get(v.RewardsMargins), LogpsChosen: get(v.LogpsChosen), LogpsRejected: get(v.LogpsRejected),
		LogitsChosen: get(v.LogitsChosen), LogitsRejected: get(v.LogitsRejected), Entropy: v.Entropy,
		NumTokens: v.NumTokens, GradNorm: v.GradNorm, LearningRate: v.LearningRate}
	if v.RewardsChosen != nil {
		m.CountChosen = 1
	}
	if v.RewardsRejected != nil {
		m.CountRejected = 1
	}
	return nil
}
