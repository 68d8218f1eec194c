// Package rlhf is the RLHF pipeline of the InstructGPT recipe, as TRL runs
// it in three trainers: SFT builds π_ref (core/train, the same SFT as DPO's),
// a reward model is trained from π_ref on the preference pairs
// (core/reward, TRL's RewardTrainer), then PPO optimises a copy of π_ref
// against the reward model (core/ppo, TRL's PPOTrainer). The pipeline runs
// one step at a time, so a page or a CLI can show each phase as it trains.
package rlhf

import (
	"encoding/json"
	"errors"
	"fmt"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/ppo"
	"dpoplayground/core/reward"
	"dpoplayground/core/train"
)

// Config is the three phases' settings. SFT is core/train's Config of which
// only the model and SFT settings apply (Preset, Seed, SFTSteps, SFTOn,
// SFTLR, BatchSize, Warmup, Schedule, WeightDecay, Clip): given the same
// values and seed as a DPO run, both methods start from the same π_ref.
type Config struct {
	SFT    train.Config  `json:"sft"`
	Reward reward.Config `json:"reward"`
	PPO    ppo.Config    `json:"ppo"`
}

// DefaultConfig is the playground's starting point: DPO's SFT, the reward
// model's and PPO's defaults.
func DefaultConfig() Config {
	return Config{SFT: train.DefaultConfig(), Reward: reward.DefaultConfig(), PPO: ppo.DefaultConfig()}
}

// Validate reports a setting that cannot run, naming its phase and field.
func (c Config) Validate() error {
	sft := c.SFT
	sft.Steps = 0
	if err := sft.Validate(); err != nil {
		return fmt.Errorf("rlhf: sft: %w", err)
	}
	if err := c.Reward.Validate(); err != nil {
		return fmt.Errorf("rlhf: reward: %w", err)
	}
	if err := c.PPO.Validate(); err != nil {
		return fmt.Errorf("rlhf: ppo: %w", err)
	}
	return nil
}

// Phase is where a run is.
type Phase string

// The phases, in order.
const (
	PhaseSFT    Phase = "sft"
	PhaseReward Phase = "reward"
	PhasePPO    Phase = "ppo"
	PhaseDone   Phase = "done"
)

// StepResult is one step: its phase, its 1-based number within the phase,
// and that phase's result (the other two are zero).
type StepResult struct {
	Phase  Phase
	Step   int
	SFT    train.StepResult
	Reward reward.StepResult
	PPO    ppo.StepResult
}

// MarshalJSON writes the phase, the step and the phase's metrics under
// TRL's names: SFTTrainer's loss, RewardTrainer's accuracy and margin,
// PPOTrainer's objective/…, policy/…, loss/… and val/….
func (r StepResult) MarshalJSON() ([]byte, error) {
	switch r.Phase {
	case PhaseSFT:
		return json.Marshal(r.SFT)
	case PhaseReward:
		return json.Marshal(struct {
			Phase Phase `json:"phase"`
			reward.StepResult
		}{r.Phase, r.Reward})
	case PhasePPO:
		return json.Marshal(struct {
			Phase Phase `json:"phase"`
			ppo.StepResult
		}{r.Phase, r.PPO})
	}
	return nil, fmt.Errorf("rlhf: a step result of phase %q", r.Phase)
}

// ErrDone is returned by Step after the last PPO update.
var ErrDone = errors.New("rlhf: the run is finished")

// Passes counts the sequences each phase ran forward and backward through a
// model (each model counts), and PPO's sampled tokens.
type Passes struct {
	SFT    ppo.Passes `json:"sft"`
	Reward ppo.Passes `json:"reward"`
	PPO    ppo.Passes `json:"ppo"`
}

// Total is the sum over the phases.
func (p Passes) Total() ppo.Passes {
	return ppo.Passes{Forward: p.SFT.Forward + p.Reward.Forward + p.PPO.Forward,
		Backward: p.SFT.Backward + p.Reward.Backward + p.PPO.Backward,
		Sampled:  p.SFT.Sampled + p.Reward.Sampled + p.PPO.Sampled}
}

// Pipeline runs SFT, the reward model and PPO one step at a time.
type Pipeline struct {
	cfg     Config
	pairs   []data.Pair
	prompts [][]int32
	phase   Phase
	step    int

	sft    *train.Trainer
	rm     *reward.Trainer
	ppo    *ppo.Trainer
	ref    *gpt.Params
	passes Passes
	// sequences per SFT and reward-model step
	sftSeqs, rmSeqs int
}

// New prepares a run over pairs. With w.Reference given it is π_ref as is
// and the run starts with the reward model; otherwise the SFT phase builds
// π_ref from w.Policy (the base model, say) or, without it, from a fresh
// model of cfg.SFT.Preset.
func New(cfg Config, pairs []data.Pair, w train.Weights) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("rlhf: no preference pairs")
	}
	p := &Pipeline{cfg: cfg, pairs: pairs}
	batch := func(n int) int {
		if n == 0 || n > len(pairs) {
			return len(pairs)
		}
		return n
	}
	p.sftSeqs = batch(cfg.SFT.BatchSize)
	if cfg.SFT.SFTOn == "both" {
		p.sftSeqs *= 2
	}
	p.rmSeqs = 2 * batch(cfg.Reward.BatchSize)
	if w.Reference != nil {
		return p, p.startReward(w.Reference)
	}
	sft := cfg.SFT
	sft.Steps = 0
	var err error
	if p.sft, err = train.New(sft, pairs, train.Weights{Policy: w.Policy}); err != nil {
		return nil, err
	}
	p.phase = PhaseSFT
	if p.sft.Done() { // no SFT steps: the fresh model is π_ref
		return p, p.startReward(p.sft.Reference())
	}
	return p, nil
}

// startReward freezes ref as π_ref, takes the prompts from the pairs as
// the models read them ([EOS] + prompt bytes) and starts the reward model.
func (p *Pipeline) startReward(ref *gpt.Params) error {
	p.ref = ref
	p.prompts = Prompts(p.pairs, ref.Cfg.NPositions)
	var err error
	if p.rm, err = reward.New(p.cfg.Reward, p.pairs, ref); err != nil {
		return err
	}
	p.phase, p.step = PhaseReward, 0
	if p.rm.Done() {
		return p.startPPO()
	}
	return nil
}

func (p *Pipeline) startPPO() error {
	var err error
	if p.ppo, err = ppo.New(p.cfg.PPO, p.prompts, p.ref, p.rm.Model()); err != nil {
		return err
	}
	p.phase, p.step = PhasePPO, 0
	if p.ppo.Done() {
		p.phase = PhaseDone
	}
	return nil
}

// Prompts are the distinct prompts of pairs as the models read them,
// [EOS] + prompt bytes (the pairs tokenised for a context of npos), in the
// order they first appear.
func Prompts(pairs []data.Pair, npos int) [][]int32 {
	var out [][]int32
	seen := map[string]bool{}
	for _, pr := range pairs {
		e := data.EncodePair(pr, npos)
		ids := e.Chosen.IDs[:e.Chosen.PromptLen+1]
		key := fmt.Sprint(ids)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, append([]int32(nil), ids...))
	}
	return out
}

// Step runs one step of the current phase and moves to the next phase
// after the last one.
func (p *Pipeline) Step() (StepResult, error) {
	r := StepResult{Phase: p.phase}
	var err error
	switch p.phase {
	case PhaseSFT:
		if r.SFT, err = p.sft.Step(); err != nil {
			return StepResult{}, err
		}
		p.passes.SFT.Forward += p.sftSeqs
		p.passes.SFT.Backward += p.sftSeqs
		r.Step = r.SFT.Step
		if p.sft.Done() {
			err = p.startReward(p.sft.Reference())
		}
	case PhaseReward:
		if r.Reward, err = p.rm.Step(); err != nil {
			return StepResult{}, err
		}
		p.passes.Reward.Forward += p.rmSeqs
		p.passes.Reward.Backward += p.rmSeqs
		r.Step = r.Reward.Step
		if p.rm.Done() {
			err = p.startPPO()
		}
	case PhasePPO:
		if r.PPO, err = p.ppo.Step(); err != nil {
			return StepResult{}, err
		}
		p.passes.PPO = p.ppo.Passes()
		r.Step = r.PPO.Step
		if p.ppo.Done() {
			p.phase = PhaseDone
		}
	default:
		return StepResult{}, ErrDone
	}
	return r, err
}

// Config is the run's configuration.
func (p *Pipeline) Config() Config { return p.cfg }

// Phase is the phase the next Step runs.
func (p *Pipeline) Phase() Phase { return p.phase }

// Done says whether every phase has run.
func (p *Pipeline) Done() bool { return p.phase == PhaseDone }

// Prompts are the prompts PPO samples for (nil during SFT).
func (p *Pipeline) Prompts() [][]int32 { return p.prompts }

// Reference is π_ref (nil during SFT).
func (p *Pipeline) Reference() *gpt.Params { return p.ref }

// Policy is the model being trained: the SFT model during SFT, π_ref while
// the reward model trains, then PPO's policy.
func (p *Pipeline) Policy() *gpt.Params {
	switch {
	case p.ppo != nil:
		return p.ppo.Policy()
	case p.ref != nil:
		return p.ref
	}
	return p.sft.Policy()
}

// RewardModel is the reward model (nil during SFT; frozen once PPO starts).
func (p *Pipeline) RewardModel() *reward.Model {
	if p.rm == nil {
		return nil
	}
	return p.rm.Model()
}

// Passes is the work done so far.
func (p *Pipeline) Passes() Passes { return p.passes }

// ModelBytes are the bytes of the models the run holds: during SFT the
// model with its gradient and AdamW moments, then π_ref and the reward model
// in training, then PPO's four models.
func (p *Pipeline) ModelBytes() ppo.ModelBytes {
	switch {
	case p.ppo != nil:
		return p.ppo.ModelBytes()
	case p.rm != nil:
		return ppo.ModelBytes{Reference: 4 * len(p.ref.Data), Reward: 16 * len(p.rm.Model().Data)}
	}
	return ppo.ModelBytes{Policy: 16 * len(p.sft.Policy().Data)}
}
