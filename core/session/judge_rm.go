package session

// The reward-model judge of the page ("rm"): the run trains its own reward
// model on its pairs, as the race's RLHF lane does, and judges with it
// (core/online's reward phase). SFT builds π_ref, the reward phase trains
// core/reward's model from π_ref with RLHFConfig's reward settings (the
// lane's 60 steps, the seed), then the judged online DPO run starts and
// the model scores both answers of every round; the higher reward wins.
// The CLI's rm:FOLDER judges with a model saved before; the page has no
// folders.

import (
	"fmt"

	"dpoplayground/core/online"
	"dpoplayground/core/reward"
)

// JudgeRewardModel is the judge "rm": a reward model the run trains on its
// pairs before DPO starts.
const JudgeRewardModel = "rm"

// PhaseReward is the reward phase of a run judged by JudgeRewardModel:
// after SFT, before DPO.
const PhaseReward = online.PhaseReward

// RewardSteps is the reward phase's length: onlineConfig's reward steps
// (RLHFConfig's) for a run judged by JudgeRewardModel, 0 for any other.
func (s Settings) RewardSteps() int {
	if s.Judge != JudgeRewardModel {
		return 0
	}
	oc, err := s.onlineConfig()
	if err != nil {
		return 0
	}
	return oc.Reward.Steps
}

// exportReward is Export("reward"): the reward model a run judged by
// JudgeRewardModel trained, as GPT2ForSequenceClassification files (the
// CLI judges with them as rm:FOLDER).
func (s *Session) exportReward() (configJSON, weights []byte, err error) {
	var m *reward.Model
	if s.online != nil {
		m = s.online.RewardModel()
	}
	if m == nil {
		return nil, nil, fmt.Errorf("export: no reward model: a run judged by its own reward model (judge rm) has one once its reward phase has run")
	}
	return m.Marshal()
}
