package session

// The reward-model judge of the page ("rm"): the run trains its own reward
// model on its pairs, as the race's RLHF lane does, and judges with it
// (core/online's reward phase). SFT builds π_ref, the reward phase trains
// core/reward's model from π_ref with RLHFConfig's reward settings (the
// lane's 60 steps, the seed), then the judged online DPO run starts and
// the model scores both answers of every round; the higher reward wins.
// The CLI's rm:FOLDER judges with a model saved before; the page has no
// folders.

import "dpoplayground/core/online"

// JudgeRewardModel is the judge "rm": a reward model the run trains on its
// pairs before DPO starts.
const JudgeRewardModel = "rm"

// PhaseReward is the reward phase of a run judged by JudgeRewardModel:
// after SFT, before DPO.
const PhaseReward = online.PhaseReward

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
