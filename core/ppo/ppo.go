// Package ppo is RLHF's last stage as TRL's PPOTrainer runs it (the
// InstructGPT recipe): completions sampled from the policy for the pairs'
// prompts are scored by a reward model; each token pays a KL penalty
// kl_coef·KL(π‖π_ref); GAE turns the shaped rewards and a value model's
// estimates into advantages; and several epochs over minibatches minimise
// the clipped policy surrogate plus vf_coef times the clipped value loss.
//
// The functions of this file are the formulas of trl/trainer/ppo_trainer.py
// over one completion's steps, in float64.
//
// Steps of a completion: a completion of n tokens (its final EOS included
// when it stopped) has n policy steps; when it is shorter than the rollout
// batch's longest completion (TRL pads the batch to that length), it also has
// a step after its last token, where TRL's value model reads the last token
// and the score is paid (TRL's padding_mask_p1 and actual_end).
package ppo

import (
	"fmt"
	"math"

	"dpoplayground/core/pmath"
)

// KLEstimator names an estimator of the per-token KL(π‖π_ref) from a sampled
// token (http://joschu.net/blog/kl-approx.html), TRL's kl_estimator.
type KLEstimator string

// The estimators.
const (
	K1 KLEstimator = "k1" // log π − log π_ref: unbiased
	K3 KLEstimator = "k3" // (r − 1) − log r, r = π_ref/π: unbiased, lower variance, never negative
)

// KL is the estimate of one token's KL term from its log-probabilities under
// the policy and the reference (TRL: logr = ref − logp; k1 = −logr, k3 = (eˡᵒᵍʳ − 1) − logr).
func KL(est KLEstimator, logp, refLogp float64) float64 {
	logr := refLogp - logp
	if est == K3 {
		return (pmath.Exp(logr) - 1) - logr
	}
	return -logr
}

// ParseKLEstimator checks an estimator name.
func ParseKLEstimator(s string) (KLEstimator, error) {
	switch KLEstimator(s) {
	case K1, K3:
		return KLEstimator(s), nil
	}
	return "", fmt.Errorf("ppo: kl_estimator %q is not k1 or k3", s)
}

// ResponseLength is the length of a sampled response cut after its first
// stop token (TRL's truncate_response: what follows the first EOS is padding).
func ResponseLength(tokens []int32, stop int32) int {
	for i, t := range tokens {
		if t == stop {
			return i + 1
		}
	}
	return len(tokens)
}

// PenalisedScore is the reward model's score of a completion less
// missing_eos_penalty when the completion did not stop by itself.
func PenalisedScore(score float64, stopped bool, missingEOSPenalty float64) float64 {
	if !stopped {
		return score - missingEOSPenalty
	}
	return score
}

// ShapeRewards writes the per-step rewards of one completion: the
// non-score reward −kl_coef·kl[t] at its len(kl) token steps, 0 at the step
// after them when rewards has one more, and the score added at the last step
// (TRL: rewards = −kl_coef·kl; rewards[actual_end] += score).
func ShapeRewards(rewards, kl []float64, klCoef, score float64) {
	if len(rewards) < len(kl) || len(rewards) > len(kl)+1 || len(rewards) == 0 {
		panic(fmt.Sprintf("ppo: ShapeRewards: %d steps for %d tokens", len(rewards), len(kl)))
	}
	for t := range rewards {
		rewards[t] = 0
		if t < len(kl) {
			rewards[t] = -klCoef * kl[t]
		}
	}
	rewards[len(rewards)-1] += score
}

// GAE computes one completion's generalised advantage estimates and
// returns, with the value after its last step taken as 0:
//
//	δ_t = r_t + γ·V_{t+1} − V_t,  A_t = δ_t + γλ·A_{t+1},  R_t = A_t + V_t
func GAE(adv, ret, rewards, values []float64, gamma, lam float64) {
	n := len(rewards)
	if len(values) != n || len(adv) != n || len(ret) != n {
		panic("ppo: GAE: lengths differ")
	}
	var last, next float64
	for t := n - 1; t >= 0; t-- {
		delta := rewards[t] + gamma*next - values[t]
		last = delta + gamma*lam*last
		adv[t] = last
		ret[t] = last + values[t]
		next = values[t]
	}
}

// MaskedWhiten is TRL's masked_whiten over the values where mask is set:
// (x − mean)·rsqrt(var + 1e-8), var unbiased (Bessel's correction), plus the
// mean again when shiftMean is false. Values outside the mask are whitened
// by the same mean and variance, as TRL does before masking them. One value
// has no unbiased variance (TRL divides by zero); it is taken as 0.
func MaskedWhiten(dst, x []float64, mask []bool, shiftMean bool) {
	if len(dst) != len(x) || len(mask) != len(x) {
		panic("ppo: MaskedWhiten: lengths differ")
	}
	var sum float64
	n := 0
	for i, v := range x {
		if mask[i] {
			sum += v
			n++
		}
	}
	if n == 0 {
		copy(dst, x)
		return
	}
	mean := sum / float64(n)
	var ss float64
	for i, v := range x {
		if mask[i] {
			ss += (v - mean) * (v - mean)
		}
	}
	variance := 0.0
	if n > 1 {
		variance = ss / float64(n-1)
	}
	inv := 1 / math.Sqrt(variance+1e-8)
	for i, v := range x {
		w := (v - mean) * inv
		if !shiftMean {
			w += mean
		}
		dst[i] = w
	}
}

// PolicyLoss is one token's clipped surrogate, with ρ = exp(logp − oldLogp):
//
//	loss = max(−A·ρ, −A·clamp(ρ, 1−ε, 1+ε))
//
// It returns the loss, its derivative with respect to logp (torch.maximum
// splits a tie's gradient in halves; clamp passes it on [1−ε, 1+ε]), ρ, and
// whether the clipped term is the larger (TRL's pg_clipfrac counts those).
func PolicyLoss(logp, oldLogp, adv, clip float64) (loss, dLogp, ratio float64, clipped bool) {
	ratio = pmath.Exp(logp - oldLogp)
	lo, hi := 1-clip, 1+clip
	cr := min(max(ratio, lo), hi)
	l1, l2 := -adv*ratio, -adv*cr
	g1 := -adv * ratio // d(−A·ρ)/d logp
	g2 := 0.0
	if ratio >= lo && ratio <= hi {
		g2 = g1
	}
	loss, dLogp = maxGrad(l1, l2, g1, g2)
	return loss, dLogp, ratio, l2 > l1
}

// ValueLoss is one step's clipped value loss before TRL's factor ½ and mean:
//
//	loss = max((v − R)², (clamp(v, v_old − ε, v_old + ε) − R)²)
//
// with its derivative with respect to v and whether the clipped term is the
// larger (TRL's vf_clipfrac).
func ValueLoss(v, oldV, ret, clip float64) (loss, dV float64, clipped bool) {
	lo, hi := oldV-clip, oldV+clip
	vc := min(max(v, lo), hi)
	l1, l2 := (v-ret)*(v-ret), (vc-ret)*(vc-ret)
	g1 := 2 * (v - ret)
	g2 := 0.0
	if v >= lo && v <= hi {
		g2 = 2 * (vc - ret)
	}
	loss, dV = maxGrad(l1, l2, g1, g2)
	return loss, dV, l2 > l1
}

// maxGrad is torch.maximum(a, b) and its gradient from the operands'
// gradients ga and gb: the larger one's, or half of each on a tie.
func maxGrad(a, b, ga, gb float64) (float64, float64) {
	switch {
	case a > b:
		return a, ga
	case b > a:
		return b, gb
	}
	return a, (ga + gb) / 2
}
