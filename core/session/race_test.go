package session

import (
	"encoding/json"
	"strings"
	"testing"

	"dpoplayground/core/gpt"
)

// runLane steps a lane to its end, handing judge (if any) to it first,
// and returns its steps.
func runLane(t *testing.T, l *Lane) []LaneStep {
	t.Helper()
	var out []LaneStep
	for !l.Done() {
		s, err := l.Step()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
		if len(out) > 10000 {
			t.Fatal("the lane does not end")
		}
	}
	return out
}

// last returns the last step with yardsticks.
func lastYard(steps []LaneStep) *Yardsticks {
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].Yardsticks != nil {
			return steps[i].Yardsticks
		}
	}
	return nil
}

// The race on the seed article's pairs with the micro preset (the page's
// defaults): both lanes build the same π_ref, the RLHF lane's reward model
// judges both, and both methods order the pairs.
func TestRaceOnTheSeedPairs(t *testing.T) {
	st := DefaultSettings()
	st.Method = MethodRace
	st.Start = StartRandom // the numbers below are for a fresh micro model
	st.FollowStart(StartBase)
	if got := st.Lanes(); len(got) != 2 || got[0] != MethodDPO || got[1] != MethodRLHF {
		t.Fatalf("lanes %v", got)
	}
	dl, dinfo, err := NewLane(MethodDPO, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	rl, rinfo, err := NewLane(MethodRLHF, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if dinfo.SFTSteps != rinfo.SFTSteps || rinfo.RMSteps == 0 || rinfo.PPOSteps == 0 || dinfo.Steps == 0 {
		t.Fatalf("infos %+v %+v", dinfo, rinfo)
	}
	rsteps := runLane(t, rl)
	cfg, w, ok, err := rl.Judge()
	if err != nil || !ok {
		t.Fatalf("the rlhf lane has no judge: %v", err)
	}
	dsteps := runLane(t, dl)
	if dl.Scored() {
		t.Fatal("the dpo lane scored its samples without a judge")
	}
	res, err := dl.LoadJudge(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	if !dl.Scored() || !rl.Scored() {
		t.Fatal("unscored measurements remain")
	}
	var dpoPoints int
	var refs []string
	for _, s := range dsteps {
		if s.Yardsticks != nil {
			dpoPoints++
			if s.Yardsticks.Score != nil {
				t.Errorf("dpo step %d scored before the judge came", s.Global)
			}
		}
		if s.RefHash != "" {
			refs = append(refs, s.RefHash)
		}
	}
	if len(res) != dpoPoints || dpoPoints != dinfo.Steps+1 {
		t.Errorf("rescored %d of %d dpo measurements (%d steps)", len(res), dpoPoints, dinfo.Steps)
	}
	for _, s := range rsteps {
		if s.RefHash != "" {
			refs = append(refs, s.RefHash)
		}
	}
	if len(refs) != 2 || refs[0] != refs[1] {
		t.Fatalf("π_ref differs between the lanes: %v", refs)
	}
	dy, ry := lastYard(dsteps), lastYard(rsteps)
	dfinal, rfinal := dsteps[len(dsteps)-1], rsteps[len(rsteps)-1]
	t.Logf("dpo: acc %.3f margin %.3f kl %.3f score %.3f, %.2f s, %+v, %d bytes, %q", dy.Accuracy, dy.Margin, dy.KL, res[len(res)-1].Score, dfinal.Seconds, dfinal.Passes, dfinal.Bytes.Total(), dfinal.Sample)
	t.Logf("rlhf: acc %.3f margin %.3f kl %.3f score %.3f, %.2f s, %+v, %d bytes, %q", ry.Accuracy, ry.Margin, ry.KL, *ry.Score, rfinal.Seconds, rfinal.Passes, rfinal.Bytes.Total(), rfinal.Sample)
	if dy.Accuracy < 0.8 || ry.Accuracy < 0.8 {
		t.Errorf("accuracy dpo %.3f rlhf %.3f, want both ≥ 0.8", dy.Accuracy, ry.Accuracy)
	}
	if dfinal.Sample == "" || rfinal.Sample == "" || !dfinal.Done || !rfinal.Done {
		t.Errorf("final steps lack a sample or done: %+v %+v", dfinal, rfinal)
	}
	if rfinal.Passes.Sampled == 0 || dfinal.Passes.Sampled != 0 || rfinal.Passes.Forward <= dfinal.Passes.Forward {
		t.Errorf("passes dpo %+v rlhf %+v", dfinal.Passes, rfinal.Passes)
	}
	b := rfinal.Bytes
	if b.Policy == 0 || b.Reference == 0 || b.Reward == 0 || b.Value == 0 || dfinal.Bytes.Reward != 0 || dfinal.Bytes.Value != 0 {
		t.Errorf("model bytes dpo %+v rlhf %+v", dfinal.Bytes, b)
	}
	if dfinal.Seconds <= 0 || rfinal.Seconds <= 0 {
		t.Errorf("seconds dpo %v rlhf %v", dfinal.Seconds, rfinal.Seconds)
	}
	// The phases come in order, and the RLHF lane shows each one.
	seen := map[string]bool{}
	for _, s := range rsteps {
		seen[s.Phase] = true
		if s.Phase == "ppo" && s.PPO == nil {
			t.Fatalf("ppo step %d has no PPO metrics", s.Global)
		}
	}
	if !seen["sft"] || !seen["reward"] || !seen["ppo"] {
		t.Errorf("rlhf phases seen: %v", seen)
	}
	if _, err := json.Marshal(rsteps); err != nil {
		t.Fatal(err)
	}
}

// The method travels in the settings' JSON (the share link) and a wrong one
// is refused by name.
func TestMethodSetting(t *testing.T) {
	st := DefaultSettings()
	if m, err := st.MethodOf(); err != nil || m != MethodDPO {
		t.Fatalf("default method %q %v", m, err)
	}
	for _, m := range []string{MethodDPO, MethodRLHF, MethodRace} {
		st.Method = m
		js, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if back := decodeLink(t, string(js)); back != st {
			t.Errorf("method %s: round trip gave %q", m, back.Method)
		}
	}
	st.Method = "ppo"
	if _, err := New().Configure(st); err == nil || !strings.Contains(err.Error(), "method") {
		t.Errorf("method ppo: %v", err)
	}
	if _, _, err := NewLane("ppo", DefaultSettings(), nil); err == nil {
		t.Error("a lane of method ppo started")
	}
	st = DefaultSettings()
	st.Reference = RefImported
	if _, _, err := NewLane(MethodDPO, st, nil); err == nil {
		t.Error("a race lane started on an imported reference")
	}
}

// Started from the base model, both lanes build π_ref by SFT from the
// base's weights: the same π_ref in both, not the one random weights give,
// and of the base's shape whatever the Model setting says.
func TestRaceLanesStartFromTheBase(t *testing.T) {
	_, _, base := nanoHF(t, 77)
	st := quick()
	st.Method, st.Start, st.Preset, st.SFTSteps, st.Steps = MethodRace, StartBase, "micro", 2, 1
	if _, _, err := NewLane(MethodRLHF, st, nil); err == nil || !strings.HasPrefix(err.Error(), "start:") {
		t.Fatalf("a lane from a base never given: %v, want an error naming start", err)
	}
	refOf := func(method string, st Settings, base *gpt.Params) string {
		l, info, err := NewLane(method, st, base)
		if err != nil {
			t.Fatal(err)
		}
		if info.Model.Config != base.Cfg && st.StartsFromBase() {
			t.Fatalf("%s lane's model %+v, want the base's %+v", method, info.Model.Config, base.Cfg)
		}
		for i := 0; i < 1000; i++ {
			s, err := l.Step()
			if err != nil {
				t.Fatal(err)
			}
			if s.RefHash != "" {
				return s.RefHash
			}
		}
		t.Fatalf("%s lane: no π_ref after SFT", method)
		return ""
	}
	d, r := refOf(MethodDPO, st, base), refOf(MethodRLHF, st, base)
	if d != r {
		t.Fatalf("π_ref from the base differs between the lanes: %s, %s", d, r)
	}
	st.Start, st.Preset = StartRandom, "nano"
	if rnd := refOf(MethodDPO, st, base); rnd == d {
		t.Fatalf("π_ref from random weights equals π_ref from the base (%s)", d)
	}
}
