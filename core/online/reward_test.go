package online

import (
	"encoding/json"
	"strings"
	"testing"

	"dpoplayground/core/reward"
	"dpoplayground/core/train"
)

// The judge "rm" trains its reward model after SFT: the run's phases are
// SFT, reward (Config.Reward's steps, each with the reward model's
// metrics), then DPO; the model it trained is the one a reward.Trainer
// makes from the same π_ref, pairs and config; every judged pair's chosen
// answer is the one it scores higher.
func TestRewardPhaseTrainsTheJudge(t *testing.T) {
	cfg := train.DefaultConfig()
	cfg.Preset, cfg.SFTSteps, cfg.Steps, cfg.BatchSize, cfg.Seed = "nano", 2, 3, 8, 4
	oc := DefaultConfig()
	oc.Every, oc.MaxTokens, oc.Seed = 2, 12, 9
	oc.Reward.Steps, oc.Reward.Seed = 5, 4
	j, err := ParseJudge("rm")
	if err != nil || j.String() != "rm" {
		t.Fatalf("ParseJudge(rm) = %v, %v", j, err)
	}
	pairs := arithmetic(t)[:6]
	tr, err := New(cfg, oc, pairs, train.Weights{}, j)
	if err != nil {
		t.Fatal(err)
	}
	if tr.RewardSteps() != 5 || tr.RewardModel() != nil || tr.Phase() != train.PhaseSFT {
		t.Fatalf("before the run: reward steps %d, model %v, phase %s", tr.RewardSteps(), tr.RewardModel(), tr.Phase())
	}
	var phases []string
	var steps []StepResult
	for !tr.Done() {
		r, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, r)
		if p := string(r.Phase); len(phases) == 0 || phases[len(phases)-1] != p {
			phases = append(phases, p)
		}
		if (r.Phase == PhaseReward) != (r.Reward != nil) {
			t.Fatalf("%s step %d: reward metrics %v", r.Phase, r.Step, r.Reward)
		}
		if r.Reward != nil && r.Reward.Step < 5 && tr.Phase() != PhaseReward {
			t.Errorf("after reward step %d the phase is %s", r.Reward.Step, tr.Phase())
		}
	}
	if got := strings.Join(phases, ","); got != "sft,reward,dpo" || len(steps) != 2+5+3 {
		t.Fatalf("phases %s in %d steps; want sft,reward,dpo in 10", got, len(steps))
	}
	rm := tr.RewardModel()
	if rm == nil {
		t.Fatal("no reward model after the reward phase")
	}
	want, err := reward.New(oc.Reward, pairs, tr.Train().Reference())
	if err != nil {
		t.Fatal(err)
	}
	for !want.Done() {
		if _, err := want.Step(); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range want.Model().Data {
		if rm.Data[i] != v {
			t.Fatalf("the judge's reward model differs from reward.Trainer's at weight %d: %v vs %v", i, rm.Data[i], v)
		}
	}
	if len(tr.Judged()) == 0 {
		t.Fatal("the reward model decided no pair")
	}
	for _, p := range tr.Judged() {
		rc, _ := rm.Score([]byte(p.Prompt), []byte(p.Chosen))
		rr, _ := rm.Score([]byte(p.Prompt), []byte(p.Rejected))
		if !(rc > rr) {
			t.Errorf("judged pair %q: chosen %q scores %v, rejected %q %v", p.Prompt, p.Chosen, rc, p.Rejected, rr)
		}
	}
	b, err := json.Marshal(steps[2])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`{"phase":"reward","step":1,`, `"loss"`, `"accuracy"`, `"margin"`, `"grad_norm"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("a reward step's JSON lacks %s: %s", k, b)
		}
	}
	oc.Reward.LR = 0
	if _, err := New(cfg, oc, pairs, train.Weights{}, &RewardModel{}); err == nil || !strings.Contains(err.Error(), "learning_rate") {
		t.Errorf("a reward phase at learning rate 0: %v", err)
	}
}
