package session

import (
	"reflect"
	"strings"
	"testing"

	"dpoplayground/core/online"
	"dpoplayground/core/reward"
)

// A run judged by its own reward model goes SFT → reward → DPO: the reward
// phase trains RLHFConfig's reward model from π_ref on the pairs, and every
// judged pair's chosen answer is the one that model scores higher.
func TestRewardModelJudgedRun(t *testing.T) {
	st := quick()
	st.Pairs = arithmeticText(t)
	st.Judge, st.JudgeEvery, st.SFTSteps, st.Steps, st.BatchSize = JudgeRewardModel, 2, 2, 4, 8
	rc, err := st.RLHFConfig()
	if err != nil {
		t.Fatal(err)
	}
	var phases []string
	s, c, evs := judgedRun(t, st, func(s *Session, c Configured, ev StepEvent) {
		if p := string(ev.Metrics.Phase); len(phases) == 0 || phases[len(phases)-1] != p {
			phases = append(phases, p)
		}
		if ev.Metrics.Phase == PhaseReward {
			if ev.Reward == nil || ev.Reward.Step != ev.Metrics.Step {
				t.Fatalf("reward step %d without the reward model's metrics: %+v", ev.Metrics.Step, ev.Reward)
			}
			if ev.Metrics.Step < c.RewardSteps && s.Phase() != string(PhaseReward) {
				t.Errorf("after reward step %d the session says phase %s", ev.Metrics.Step, s.Phase())
			}
		} else if ev.Reward != nil {
			t.Errorf("%s step %d carries reward-model metrics", ev.Metrics.Phase, ev.Metrics.Step)
		}
	})
	if c.Judge != JudgeRewardModel || c.RewardSteps != rc.Reward.Steps || c.RewardSteps == 0 {
		t.Fatalf("configured judge %q, reward steps %d; want rm and the RLHF lane's %d", c.Judge, c.RewardSteps, rc.Reward.Steps)
	}
	if want := []string{"sft", "reward", "dpo"}; !reflect.DeepEqual(phases, want) {
		t.Fatalf("phases %v, want %v", phases, want)
	}
	if n := len(evs); n != st.SFTSteps+c.RewardSteps+st.Steps {
		t.Fatalf("%d steps, want %d SFT + %d reward + %d DPO", n, st.SFTSteps, c.RewardSteps, st.Steps)
	}
	first, last := evs[st.SFTSteps].Reward, evs[st.SFTSteps+c.RewardSteps-1].Reward
	if last.Loss >= first.Loss {
		t.Errorf("reward model loss %.4f at its first step, %.4f at its last: it did not learn", first.Loss, last.Loss)
	}
	rm := s.online.RewardModel()
	if rm == nil {
		t.Fatal("no reward model after the reward phase")
	}
	rounds, judged := 0, 0
	for _, ev := range evs {
		if ev.Online == nil {
			continue
		}
		rounds++
		for _, p := range ev.Judged {
			judged++
			rch, err := rm.Score([]byte(p.Prompt), []byte(p.Chosen))
			if err != nil {
				t.Fatal(err)
			}
			rrj, _ := rm.Score([]byte(p.Prompt), []byte(p.Rejected))
			if !(rch > rrj) {
				t.Errorf("judged pair %q: chosen %q scores %.4f, rejected %q %.4f", p.Prompt, p.Chosen, rch, p.Rejected, rrj)
			}
		}
		if ev.Online.Scores == 0 {
			t.Errorf("round %d: objective/scores is 0: the reward model did not score", ev.Online.Round)
		}
	}
	if rounds != 2 || judged == 0 {
		t.Fatalf("%d rounds, %d judged pairs; want 2 rounds (before DPO steps 1 and 3) and some pairs", rounds, judged)
	}
	cj, wj, err := s.Export("reward")
	if err != nil {
		t.Fatal(err)
	}
	back, err := reward.Load(cj, wj)
	if err != nil {
		t.Fatalf("the exported reward model does not load: %v", err)
	}
	for _, pr := range s.pairs[:3] {
		want, _ := rm.Score([]byte(pr.Prompt), []byte(pr.Chosen))
		if got, _ := back.Score([]byte(pr.Prompt), []byte(pr.Chosen)); got != want {
			t.Errorf("the exported reward model scores %q %v, the judge %v", pr.Chosen, got, want)
		}
	}
	if _, _, again := judgedRun(t, st, nil); !reflect.DeepEqual(evs, again) {
		t.Fatal("two reward-model judged runs with the same settings differ")
	}
}

// The page's reward-model judge takes no folder: that is the CLI's.
func TestRewardModelJudgeTakesNoFolder(t *testing.T) {
	st := quick()
	st.Judge = "rm:models/rm"
	_, err := New().Configure(st)
	if err == nil || !strings.Contains(err.Error(), "rm:FOLDER, is the CLI's") {
		t.Fatalf("judge rm:models/rm: %v", err)
	}
	st.Judge, st.Method = JudgeRewardModel, MethodRace
	if _, err := New().Configure(st); err == nil || !strings.HasPrefix(err.Error(), "judge: judged online runs train DPO") {
		t.Fatalf("judge rm in a race: %v", err)
	}
	st.Method, st.Judge = MethodDPO, JudgeShorter
	s := New()
	if _, err := s.Configure(st); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Export("reward"); err == nil || !strings.Contains(err.Error(), "no reward model") {
		t.Errorf("Export(reward) of a run judged by shorter: %v", err)
	}
	if _, err := (&online.RewardModel{}).Score("1 + 1 =", " 2"); err == nil {
		t.Fatal("a reward-model judge without a model scored")
	}
}

// From the base model on the arithmetic pairs, a run judged by its own
// reward model moves the policy toward what that model rewards: the model
// orders the pairs, and the mean reward of the policy's samples
// (objective/scores) rises round after round while they drift from π_ref.
// Whether the right sums rise with it is logged, not asserted: a reward
// model learned from 30 pairs is a proxy (measured: they fall, 0.229 →
// 0.150, where the regex judge's run at these settings lifts them to
// 0.329), the gap the page's notes explain.
func TestRewardModelJudgedRunRaisesScores(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about fifty seconds")
	}
	cfgJSON, weights := baseFiles(t)
	s := New()
	if _, err := s.Import("base", cfgJSON, weights); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Configure(baseJudged(t, JudgeRewardModel)); err != nil {
		t.Fatal(err)
	}
	pairs := append(s.pairs[:0:0], s.pairs...)
	before := rightShare(t, s.Base(), pairs, 8)
	var rounds []online.Metrics
	for {
		ev, err := s.Step()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Online != nil {
			rounds = append(rounds, *ev.Online)
		}
		if ev.Done {
			break
		}
	}
	ordered := 0
	for _, p := range pairs {
		rc, err := s.online.RewardModel().Score([]byte(p.Prompt), []byte(p.Chosen))
		if err != nil {
			t.Fatal(err)
		}
		if rr, _ := s.online.RewardModel().Score([]byte(p.Prompt), []byte(p.Rejected)); rc > rr {
			ordered++
		}
	}
	after := rightShare(t, s.tr.Policy(), pairs, 8)
	n := len(rounds)
	if n != 15 {
		t.Fatalf("%d sampling rounds, want 15 (every 2 of 30 DPO steps)", n)
	}
	early := (rounds[0].Scores + rounds[1].Scores) / 2
	late := (rounds[n-2].Scores + rounds[n-1].Scores) / 2
	t.Logf("rm: orders %d of %d pairs; objective/scores %.3f → %.3f (first two rounds, last two), objective/kl %.3f → %.3f, %d judged pairs; right sums %.3f → %.3f",
		ordered, len(pairs), early, late, rounds[0].KL, rounds[n-1].KL, rounds[n-1].Judged, before, after)
	if ordered < len(pairs)*9/10 {
		t.Errorf("the reward model orders %d of %d pairs; want 90%% or more", ordered, len(pairs))
	}
	if late < early+1 {
		t.Errorf("objective/scores %.3f in the first rounds, %.3f in the last; want a rise of 1 or more", early, late)
	}
	if rounds[0].KL != 0 || rounds[n-1].KL <= 0 {
		t.Errorf("objective/kl %v first (policy = reference: 0), %v last (want > 0)", rounds[0].KL, rounds[n-1].KL)
	}
}
