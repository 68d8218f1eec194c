package online

// The reward phase: with the judge "rm" (a RewardModel without a model),
// the run trains its own reward model, as RLHF does before PPO. After SFT
// has built π_ref, Config.Reward's steps train core/reward's model from
// π_ref on the run's first pairs (TRL's RewardTrainer loss); then the DPO
// phase starts and the trained model judges every round.

import (
	"fmt"

	"dpoplayground/core/data"
	"dpoplayground/core/reward"
	"dpoplayground/core/train"
)

// PhaseReward is the reward phase's steps, between SFT and DPO.
const PhaseReward train.Phase = "reward"

// rewardPhase trains the judge's model: its trainer exists once π_ref does.
type rewardPhase struct {
	judge *RewardModel
	pairs []data.Pair
	tr    *reward.Trainer
}

// Phase is the run's phase: SFT, PhaseReward while the judge's reward model
// trains, then DPO.
func (t *Trainer) Phase() train.Phase {
	if t.rm != nil && t.rm.judge.Model == nil && t.tr.Phase() == train.PhaseDPO {
		return PhaseReward
	}
	return t.tr.Phase()
}

// RewardSteps is the reward phase's length: 0 unless the judge is a
// reward model the run trains.
func (t *Trainer) RewardSteps() int {
	if t.rm == nil {
		return 0
	}
	return t.cfg.Reward.Steps
}

// RewardModel is the judge's reward model: the one it loaded, or the one
// the run trained (nil until the reward phase ends); nil for other judges.
func (t *Trainer) RewardModel() *reward.Model {
	if j, ok := t.judge.(*RewardModel); ok {
		return j.Model
	}
	return nil
}

// rewardStep runs the next step of the reward phase; after its last the
// judge scores with the trained model.
func (t *Trainer) rewardStep() (StepResult, error) {
	p := t.rm
	if p.tr == nil {
		rt, err := reward.New(t.cfg.Reward, p.pairs, t.tr.Reference())
		if err != nil {
			return StepResult{}, fmt.Errorf("online: reward model: %w", err)
		}
		p.tr = rt
		if rt.Done() { // no reward steps: the judge is the model as π_ref starts it
			p.judge.Model = rt.Model()
			return t.Step()
		}
	}
	r, err := p.tr.Step()
	if err != nil {
		return StepResult{}, fmt.Errorf("online: reward model: %w", err)
	}
	if p.tr.Done() {
		p.judge.Model = p.tr.Model()
	}
	return StepResult{StepResult: train.StepResult{Phase: PhaseReward, Step: r.Step, Epoch: r.Epoch}, Reward: &r}, nil
}
