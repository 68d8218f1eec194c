package runner

import (
	"strings"
	"testing"

	"dpoplayground/wasm/worker/protocol"
)

// A judged run (the shorter judge, a round every 2 DPO steps) posts the
// rounds' Online DPO metrics and judged pairs on DPO steps 1 and 3, runs on
// one worker, and its judged pairs are the run's: the final evaluation
// scores them.
func TestJudgedRunPostsOnlineMetrics(t *testing.T) {
	h := start(t, false)
	st := quick(2, 3)
	st.Judge, st.JudgeEvery = "shorter", 2
	h.send(protocol.Configure{Run: 5, Settings: st, Workers: 2})
	c, _ := waitType[protocol.Configured](h, 0)
	if c.Judge != "shorter" || c.Workers != 1 {
		t.Fatalf("configured %+v", c)
	}
	h.send(protocol.Train{Run: 5})
	_, di := waitType[protocol.Done](h, 0)
	var rounds []int
	judged := 0
	for _, m := range h.out[:di] {
		mm, ok := m.(protocol.Metrics)
		if !ok {
			continue
		}
		if mm.Online == nil {
			if len(mm.Judged) != 0 {
				t.Errorf("step %d: judged pairs without a round", mm.Global)
			}
			continue
		}
		rounds = append(rounds, mm.PhaseStep)
		judged += len(mm.Judged)
		if mm.Online.Judged != judged {
			t.Errorf("round %d: %d judged so far, the messages carried %d", mm.Online.Round, mm.Online.Judged, judged)
		}
		js, err := protocol.Encode(mm)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{`"objective/kl"`, `"objective/scores"`, `"objective/rlhf_reward"`, `"val/contain_eos_token"`, `"rewards/margins"`} {
			if !strings.Contains(string(js), k) {
				t.Errorf("metrics JSON lacks %s: %s", k, js)
			}
		}
	}
	if len(rounds) != 2 || rounds[0] != 1 || rounds[1] != 3 {
		t.Fatalf("rounds before DPO steps %v, want [1 3]", rounds)
	}
	if judged == 0 {
		t.Fatal("the shorter judge decided no pair")
	}
	ev, _ := waitType[protocol.Evaluation](h, di)
	if len(ev.Rows) != c.Pairs+judged {
		t.Errorf("the final evaluation has %d rows, want %d pairs + %d judged", len(ev.Rows), c.Pairs, judged)
	}

	from := h.count()
	st.Judge = "regex:(2 + 2"
	h.send(protocol.Configure{Run: 6, Settings: st})
	if e, _ := waitType[protocol.Error](h, from); !strings.HasPrefix(e.Message, "judge:") || !strings.Contains(e.Message, `"(2 + 2"`) {
		t.Errorf("a bad regex: %+v", e)
	}
}

// A run judged by its own reward model posts its reward phase between SFT
// and DPO: a step per reward-model step with the model's metrics (TRL's
// RewardTrainer names), then DPO steps with the rounds it judged.
func TestRewardModelJudgedRunPostsRewardPhase(t *testing.T) {
	h := start(t, false)
	st := quick(2, 2)
	st.Judge, st.JudgeEvery = "rm", 1
	h.send(protocol.Configure{Run: 7, Settings: st})
	c, _ := waitType[protocol.Configured](h, 0)
	if c.Judge != "rm" || c.RewardSteps <= 0 {
		t.Fatalf("configured %+v; want judge rm with reward steps", c)
	}
	h.send(protocol.Train{Run: 7})
	d, di := waitType[protocol.Done](h, 0)
	if want := c.SFTSteps + c.RewardSteps + c.Steps; d.Global != want {
		t.Fatalf("done after %d steps, want %d SFT + %d reward + %d DPO", d.Global, c.SFTSteps, c.RewardSteps, c.Steps)
	}
	var phases []string
	rounds := 0
	for _, m := range h.out[:di] {
		mm, ok := m.(protocol.Metrics)
		if !ok {
			continue
		}
		if p := string(mm.Phase); len(phases) == 0 || phases[len(phases)-1] != p {
			phases = append(phases, p)
		}
		if (mm.Phase == "reward") != (mm.Reward != nil) {
			t.Errorf("step %d (%s): reward metrics %+v", mm.Global, mm.Phase, mm.Reward)
		}
		if mm.Reward != nil {
			if mm.Loss != mm.Reward.Loss || mm.Loss <= 0 {
				t.Errorf("reward step %d: loss %v, the reward model's %v", mm.PhaseStep, mm.Loss, mm.Reward.Loss)
			}
			js, err := protocol.Encode(mm)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{`"reward":{"loss"`, `"accuracy"`, `"margin"`} {
				if !strings.Contains(string(js), k) {
					t.Errorf("reward step JSON lacks %s: %s", k, js)
				}
			}
		}
		if mm.Online != nil {
			rounds++
			if mm.Online.Scores == 0 {
				t.Errorf("round %d: objective/scores 0", mm.Online.Round)
			}
		}
	}
	if strings.Join(phases, ",") != "sft,reward,dpo" || rounds != 2 {
		t.Fatalf("phases %v with %d rounds; want sft,reward,dpo and 2 rounds", phases, rounds)
	}
}
