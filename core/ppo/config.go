package ppo

import (
	"fmt"
	"math"
)

// Config is PPO's settings under TRL's PPOConfig names. Defaults are TRL's
// except learning_rate (TRL's 3e-6 is for pretrained models of millions of
// parameters; the playground's tiny models start from scratch) and
// max_grad_norm, transformers' TrainingArguments default, which TRL's PPO
// loop does not apply (0 turns clipping off, as TRL runs).
type Config struct {
	Seed              uint64      `json:"seed"`
	Steps             int         `json:"num_total_batches"`   // PPO updates, each over one rollout batch
	BatchSize         int         `json:"batch_size"`          // prompts sampled per rollout batch
	NumMiniBatches    int         `json:"num_mini_batches"`    // minibatches per PPO epoch
	NumPPOEpochs      int         `json:"num_ppo_epochs"`      // passes over each rollout batch
	ResponseLength    int         `json:"response_length"`     // most new tokens per completion
	Temperature       float64     `json:"temperature"`         // sampling temperature, also of every log-prob
	MissingEOSPenalty float64     `json:"missing_eos_penalty"` // subtracted from the score of a completion without EOS
	KLCoef            float64     `json:"kl_coef"`
	KLEstimator       KLEstimator `json:"kl_estimator"`
	ClipRange         float64     `json:"cliprange"`
	VFCoef            float64     `json:"vf_coef"`
	ClipRangeValue    float64     `json:"cliprange_value"`
	Gamma             float64     `json:"gamma"`
	Lam               float64     `json:"lam"`
	WhitenRewards     bool        `json:"whiten_rewards"`
	LearningRate      float64     `json:"learning_rate"`
	WeightDecay       float64     `json:"weight_decay"`
	MaxGradNorm       float64     `json:"max_grad_norm"`
}

// DefaultConfig is TRL's PPOConfig with the exceptions Config names.
func DefaultConfig() Config {
	return Config{
		Seed: 1, Steps: 30, BatchSize: 8, NumMiniBatches: 1, NumPPOEpochs: 4, ResponseLength: 53,
		Temperature: 0.7, KLCoef: 0.05, KLEstimator: K1, ClipRange: 0.2, VFCoef: 0.1,
		ClipRangeValue: 0.2, Gamma: 1, Lam: 0.95, LearningRate: 3e-4, MaxGradNorm: 1,
	}
}

// Validate reports a setting that cannot run, naming it.
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("ppo: %s: %s", field, fmt.Sprintf(format, args...))
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case c.Steps < 0 || c.Steps > 1_000_000:
		return bad("num_total_batches", "%d is outside [0, 1000000]", c.Steps)
	case c.BatchSize < 1 || c.BatchSize > 10_000:
		return bad("batch_size", "%d is outside [1, 10000]", c.BatchSize)
	case c.NumMiniBatches < 1 || c.BatchSize%c.NumMiniBatches != 0:
		return bad("num_mini_batches", "%d does not divide batch_size %d", c.NumMiniBatches, c.BatchSize)
	case c.NumPPOEpochs < 1 || c.NumPPOEpochs > 1000:
		return bad("num_ppo_epochs", "%d is outside [1, 1000]", c.NumPPOEpochs)
	case c.ResponseLength < 1 || c.ResponseLength > 8192:
		return bad("response_length", "%d is outside [1, 8192]", c.ResponseLength)
	case !(c.Temperature > 0 && c.Temperature <= 100):
		return bad("temperature", "%v is not in (0, 100]", c.Temperature)
	case !(c.MissingEOSPenalty >= 0) || !finite(c.MissingEOSPenalty):
		return bad("missing_eos_penalty", "%v is not a number ≥ 0", c.MissingEOSPenalty)
	case !(c.KLCoef >= 0) || !finite(c.KLCoef):
		return bad("kl_coef", "%v is not a number ≥ 0", c.KLCoef)
	case c.KLEstimator != K1 && c.KLEstimator != K3:
		return bad("kl_estimator", "%q is not k1 or k3", c.KLEstimator)
	case !(c.ClipRange > 0) || !finite(c.ClipRange):
		return bad("cliprange", "%v is not a number > 0", c.ClipRange)
	case !(c.VFCoef >= 0) || !finite(c.VFCoef):
		return bad("vf_coef", "%v is not a number ≥ 0", c.VFCoef)
	case !(c.ClipRangeValue > 0) || !finite(c.ClipRangeValue):
		return bad("cliprange_value", "%v is not a number > 0", c.ClipRangeValue)
	case !(c.Gamma >= 0 && c.Gamma <= 1):
		return bad("gamma", "%v is not in [0, 1]", c.Gamma)
	case !(c.Lam >= 0 && c.Lam <= 1):
		return bad("lam", "%v is not in [0, 1]", c.Lam)
	case !(c.LearningRate > 0 && c.LearningRate < 10):
		return bad("learning_rate", "%v is not in (0, 10)", c.LearningRate)
	case !(c.WeightDecay >= 0 && c.WeightDecay < 1):
		return bad("weight_decay", "%v is not in [0, 1)", c.WeightDecay)
	case !(c.MaxGradNorm >= 0) || !finite(c.MaxGradNorm):
		return bad("max_grad_norm", "%v is not a number ≥ 0", c.MaxGradNorm)
	}
	return nil
}
