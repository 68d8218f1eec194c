package ui

import (
	"math"
	"strings"
	"testing"

	"dpoplayground/core/gpt"
	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

func yard(point int, acc float64, score *float64) *session.Yardsticks {
	return &session.Yardsticks{Point: point, Accuracy: acc, Margin: acc, KL: acc / 2, Score: score}
}

// A race as the page runs it: one RaceConfigure and Train per lane, each to
// its own worker; the RLHF worker's reward model goes on to the DPO worker;
// the race ends once both lanes are done and every point is scored.
func TestRaceActions(t *testing.T) {
	a, h := started(t)
	a.SetMethod(session.MethodRace)
	if !a.RaceMode() || a.Draft.Method != session.MethodRace {
		t.Fatalf("method %q", a.Draft.Method)
	}
	before := len(h.posted)
	a.Train()
	if len(h.posted) != before {
		t.Errorf("the race posted to the DPO run's worker: %v", h.posted[before:])
	}
	// The page starts from the base model: the RLHF lane's worker gets it
	// before its RaceConfigure (the DPO lane's worker, the main one, has it).
	if len(h.lanePosted) != 5 {
		t.Fatalf("posted %+v", h.lanePosted)
	}
	if im, ok := h.lanePosted[1].msg.(protocol.Import); !ok || im.Role != "base" || h.lanePosted[1].method != "rlhf" || len(im.Weights) == 0 {
		t.Fatalf("post 1 is not the base model for the RLHF worker: %+v", h.lanePosted[1])
	}
	h.lanePosted = append(h.lanePosted[:1:1], h.lanePosted[2:]...)
	for i, want := range []string{"dpo", "rlhf"} {
		c, ok := h.lanePosted[i].msg.(protocol.RaceConfigure)
		if !ok || h.lanePosted[i].method != want || c.Method != want || c.Run != a.Race.ID {
			t.Errorf("post %d: %+v", i, h.lanePosted[i])
		}
		if _, ok := h.lanePosted[2+i].msg.(protocol.Train); !ok || h.lanePosted[2+i].method != want {
			t.Errorf("post %d: %+v", 2+i, h.lanePosted[2+i])
		}
	}
	id := a.Race.ID
	a.Apply(protocol.RaceConfigured{Run: id, LaneInfo: session.LaneInfo{Method: "dpo", SFTSteps: 1, Steps: 2}})
	a.ApplyLane("rlhf", protocol.RaceConfigured{Run: id, LaneInfo: session.LaneInfo{Method: "rlhf", SFTSteps: 1, RMSteps: 1, PPOSteps: 1}})
	one := 1.0
	a.Apply(protocol.RaceStep{Run: id, LaneStep: session.LaneStep{Method: "dpo", Global: 1, Phase: "sft", PhaseStep: 1, Yardsticks: yard(0, 0, nil)}})
	a.Apply(protocol.RaceStep{Run: id, LaneStep: session.LaneStep{Method: "dpo", Global: 2, Phase: "dpo", PhaseStep: 1, Seconds: 1, Yardsticks: yard(1, 0.5, nil)}})
	a.Apply(protocol.RaceStep{Run: id, LaneStep: session.LaneStep{Method: "dpo", Global: 3, Phase: "dpo", PhaseStep: 2, Seconds: 2, Yardsticks: yard(2, 1, nil), Done: true, Sample: "4"}})
	a.ApplyLane("rlhf", protocol.RaceStep{Run: id, LaneStep: session.LaneStep{Method: "rlhf", Global: 1, Phase: "sft", PhaseStep: 1, Yardsticks: yard(0, 0, nil)}})
	if a.Race.Finished() {
		t.Fatal("finished with the RLHF lane still training")
	}
	if got := a.Race.Lane("rlhf").Phases(); !got[1].Active || got[0].Done != 1 {
		t.Errorf("phases %+v", got)
	}
	a.ApplyLane("rlhf", protocol.RaceStep{Run: id, LaneStep: session.LaneStep{Method: "rlhf", Global: 2, Phase: "reward", PhaseStep: 1, Loss: 0.5, RMAccuracy: 1,
		Yardsticks: yard(1, 0, &one), Rescored: []session.Rescore{{Point: 0, Score: 0.5}}}})
	n := len(h.lanePosted)
	a.ApplyLane("rlhf", protocol.RaceJudge{Run: id, Config: "{}", Weights: []byte{1}})
	if len(h.lanePosted) != n+1 || h.lanePosted[n].method != "dpo" {
		t.Fatalf("the judge did not go to the DPO worker: %+v", h.lanePosted[n:])
	}
	a.ApplyLane("rlhf", protocol.RaceStep{Run: id, LaneStep: session.LaneStep{Method: "rlhf", Global: 3, Phase: "ppo", PhaseStep: 1, Seconds: 3,
		Yardsticks: yard(2, 0.9, &one), Done: true, Sample: "5"}})
	a.ApplyLane("rlhf", protocol.Done{Run: id, Global: 3})
	a.Apply(protocol.Done{Run: id, Global: 3})
	if a.Race.Finished() || a.Race.State == RunDone {
		t.Fatal("finished before the DPO lane's points were scored")
	}
	a.Apply(protocol.RaceScores{Run: id, Method: "dpo", Scores: []session.Rescore{{Point: 0, Score: 0.1}, {Point: 1, Score: 0.2}, {Point: 2, Score: 0.3}}})
	if !a.Race.Finished() || a.Race.State != RunDone {
		t.Fatalf("state %v", a.Race.State)
	}
	d, r := a.Race.Lane("dpo").Final(), a.Race.Lane("rlhf").Final()
	if d.Accuracy != 1 || d.Score != 0.3 || r.Accuracy != 0.9 || r.Score != 1 || math.IsNaN(a.Race.Lane("rlhf").Points[0].Score) {
		t.Errorf("finals %+v %+v", d, r)
	}
	rows := a.RaceTable()
	if len(rows) == 0 || rows[0].Values[0] == "" {
		t.Errorf("table %+v", rows)
	}
	// Answers about a race the page has left are dropped; a DPO run's
	// messages still reach the DPO run.
	a.Reset()
	a.Apply(protocol.RaceStep{Run: id, LaneStep: session.LaneStep{Method: "dpo", Global: 9}})
	if len(a.Race.Lane("dpo").Steps) != 0 {
		t.Error("a step of the old race reached the new one")
	}
	if a.TrainLabel() != "Train" {
		t.Errorf("label %q", a.TrainLabel())
	}
}

// The method travels in share links; a link without one is DPO.
func TestMethodInShareLinks(t *testing.T) {
	st := session.DefaultSettings()
	st.Method = session.MethodRLHF
	s, err := EncodeSettings(st)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSettings(s)
	if err != nil || back.Method != session.MethodRLHF || back != st {
		t.Fatalf("decoded %q, %v", back.Method, err)
	}
	old := session.DefaultSettings()
	old.Method = ""
	s, _ = EncodeSettings(old)
	if back, _ := DecodeSettings(s); back.Method != session.MethodDPO {
		t.Errorf("a link without a method decodes as %q", back.Method)
	}
	f, err := ParseFragment("s=" + s + "&hide=data,controls,charts,pairs,samples,notes,share")
	if err != nil || len(f.Hide) != 7 {
		t.Errorf("hide %v %v", f.Hide, err)
	}
}

// The lanes share the cores the page leaves: half a core each on two
// cores, a whole one where there are enough.
func TestLaneShare(t *testing.T) {
	a, h := started(t)
	for _, tt := range []struct {
		cores, lanes int
		want         float64
	}{{2, 2, 0.5}, {2, 1, 1}, {8, 2, 1}, {1, 2, 0.25}, {3, 2, 1}} {
		h.cores = tt.cores
		if got := a.laneShare(tt.lanes); got != tt.want {
			t.Errorf("%d cores, %d lanes: share %v, want %v", tt.cores, tt.lanes, got, tt.want)
		}
	}
	h.cores = 2
	a.SetMethod(session.MethodRace)
	a.Train()
	if c := h.lanePosted[0].msg.(protocol.RaceConfigure); c.Share != 0.5 {
		t.Errorf("share %v on two cores", c.Share)
	}
}

// Train in a race from the base model waits for the base; then the race
// starts, and the RLHF lane's worker gets the base before its configure.
// From random weights no lane is sent a base model.
func TestRaceWaitsForTheBase(t *testing.T) {
	h := newFakeHost()
	h.holdBase = true
	a := newTestApp(h, false)
	a.Start("")
	a.SetMethod(session.MethodRace)
	a.Train()
	if a.Race != nil || len(h.lanePosted) != 0 {
		t.Fatalf("the race started before the base model was in: %+v", h.lanePosted)
	}
	var im protocol.Import
	for _, m := range h.posted {
		if m, ok := m.(protocol.Import); ok && m.Role == "base" {
			im = m
		}
	}
	if im.Role != "base" {
		t.Fatal("the base model was not posted to the main worker")
	}
	c, err := gpt.ParseHFConfig([]byte(im.Config))
	if err != nil {
		t.Fatal(err)
	}
	a.Apply(protocol.Imported{Role: "base", Name: im.Name, Model: session.ModelInfo{Config: c, Params: c.NumParams()}})
	if a.Race == nil {
		t.Fatal("the race did not start once the base model was in")
	}
	var kinds []string
	for _, p := range h.lanePosted {
		kinds = append(kinds, p.method+":"+p.msg.MessageType())
	}
	if got := strings.Join(kinds, " "); got != "dpo:raceConfigure rlhf:import rlhf:raceConfigure dpo:train rlhf:train" {
		t.Fatalf("lane posts %s", got)
	}

	a.SetField("start", session.StartRandom)
	a.Pause()
	h.lanePosted = nil
	a.Train()
	for _, p := range h.lanePosted {
		if _, ok := p.msg.(protocol.Import); ok {
			t.Fatalf("a race from random weights sent the base model to %s", p.method)
		}
	}
	if len(h.lanePosted) == 0 {
		t.Fatal("the race from random weights posted nothing")
	}
}
