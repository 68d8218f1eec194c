package session

// The reward-model judge of the page ("rm"): the run trains its own
// reward model on its pairs, as the race's RLHF lane does, and judges with
// it. SFT builds π_ref, a reward phase trains core/reward's model from
// π_ref (RLHFConfig's reward settings: the lane's 60 steps, the seed),
// then the judged online DPO run starts and the model scores both answers
// of every round; the higher reward wins. The CLI's rm:FOLDER judges with a
// model saved before; the page has no folders.

import (
	"fmt"

	"dpoplayground/core/data"
	"dpoplayground/core/online"
	"dpoplayground/core/reward"
	"dpoplayground/core/train"
)

// JudgeRewardModel is the judge "rm": a reward model the run trains on its
// pairs before DPO starts.
const JudgeRewardModel = "rm"

// PhaseReward is the reward-model phase of a run judged by JudgeRewardModel:
// after SFT, before DPO.
const PhaseReward train.Phase = "reward"

// rmJudge is the reward phase of a run judged by JudgeRewardModel: its
// trainer, once π_ref exists, and the judge the online run asks, whose
// model is set when the phase ends.
type rmJudge struct {
	cfg   reward.Config
	tr    *reward.Trainer
	judge *pageRM
}

// pageRM is core/online's reward-model judge under the page's spec "rm".
type pageRM struct{ online.RewardModel }

func (*pageRM) String() string { return JudgeRewardModel }

// newRMJudge prepares the reward phase of st (RLHFConfig's reward model)
// that trains j's model.
func newRMJudge(st Settings, j *pageRM) (*rmJudge, error) {
	c, err := st.RLHFConfig()
	if err != nil {
		return nil, err
	}
	return &rmJudge{cfg: c.Reward, judge: j}, nil
}

// RewardSteps is the reward phase's length: RLHFConfig's reward steps for
// a run judged by JudgeRewardModel, 0 for any other.
func (s Settings) RewardSteps() int {
	if s.Judge != JudgeRewardModel {
		return 0
	}
	c, err := s.RLHFConfig()
	if err != nil {
		return 0
	}
	return c.Reward.Steps
}

// Steps is the reward phase's length.
func (j *rmJudge) Steps() int { return j.cfg.Steps }

// training says whether the run is in its reward phase: SFT has ended (tr
// is in its DPO phase) and the reward model is not trained yet.
func (j *rmJudge) training(tr *train.Trainer) bool {
	return j != nil && j.judge.Model == nil && tr.Phase() == train.PhaseDPO
}

// step runs the next reward-model step on pairs from tr's reference.
func (j *rmJudge) step(tr *train.Trainer, pairs []data.Pair) (StepEvent, error) {
	if j.tr == nil {
		rt, err := reward.New(j.cfg, pairs, tr.Reference())
		if err != nil {
			return StepEvent{}, fmt.Errorf("judge: reward model: %w", err)
		}
		j.tr = rt
		if rt.Done() { // no reward steps: the model as π_ref gives it
			j.judge.Model = rt.Model()
		}
	}
	if j.judge.Model != nil {
		return StepEvent{}, fmt.Errorf("judge: the reward model is trained")
	}
	r, err := j.tr.Step()
	if err != nil {
		return StepEvent{}, fmt.Errorf("judge: reward model: %w", err)
	}
	if j.tr.Done() {
		j.judge.Model = j.tr.Model()
	}
	return StepEvent{Metrics: train.StepResult{Phase: PhaseReward, Step: r.Step, Epoch: r.Epoch}, Reward: &r}, nil
}
