package runner

import (
	"testing"
	"time"

	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// A race in two workers, as the page runs it: each trains its lane, the
// rlhf worker sends its reward model, the page hands it to the dpo worker,
// which scores every measurement that waited for it.
func TestRaceInTwoWorkers(t *testing.T) {
	st := quick(4, 5)
	st.Method = session.MethodRace
	dw, rw := start(t, false), start(t, false)
	dw.send(protocol.RaceConfigure{Run: 1, Method: session.MethodDPO, Settings: st})
	rw.send(protocol.RaceConfigure{Run: 1, Method: session.MethodRLHF, Settings: st})
	dc, _ := waitType[protocol.RaceConfigured](dw, 0)
	rc, _ := waitType[protocol.RaceConfigured](rw, 0)
	if dc.Method != "dpo" || dc.Steps != 5 || rc.Method != "rlhf" || rc.RMSteps == 0 || rc.PPOSteps == 0 || dc.SFTSteps != 4 {
		t.Fatalf("configured %+v %+v", dc, rc)
	}
	// A DPO session's requests are refused while a lane trains.
	dw.send(protocol.Evaluate{Run: 1})
	if e, _ := waitType[protocol.Error](dw, 0); e.Request != "evaluate" {
		t.Errorf("evaluate during a race: %+v", e)
	}
	dw.send(protocol.Train{Run: 1})
	rw.send(protocol.Train{Run: 1})
	judge, _ := waitType[protocol.RaceJudge](rw, 0)
	if judge.Config == "" || len(judge.Weights) == 0 {
		t.Fatalf("judge %d bytes", len(judge.Weights))
	}
	dw.send(judge)
	waitType[protocol.Done](rw, 0)
	waitType[protocol.Done](dw, 0)
	scores, _ := waitType[protocol.RaceScores](dw, 0)

	var refs []string
	unscored := map[int]bool{}
	lanes := map[string]int{}
	for _, w := range []*harness{dw, rw} {
		w.mu.Lock()
		for _, m := range w.out {
			s, ok := m.(protocol.RaceStep)
			if !ok {
				continue
			}
			lanes[s.Method]++
			if s.RefHash != "" {
				refs = append(refs, s.RefHash)
			}
			if y := s.Yardsticks; y != nil && y.Score == nil && s.Method == "dpo" {
				unscored[y.Point] = true
			}
			if s.Done {
				lanes[s.Method+" done"]++
			}
		}
		w.mu.Unlock()
	}
	if lanes["dpo"] != 4+5 || lanes["rlhf"] != 4+rc.RMSteps+rc.PPOSteps || lanes["dpo done"] != 1 || lanes["rlhf done"] != 1 {
		t.Errorf("steps per lane %v", lanes)
	}
	if len(refs) != 2 || refs[0] != refs[1] {
		t.Errorf("π_ref hashes %v", refs)
	}
	for _, sc := range scores.Scores {
		delete(unscored, sc.Point)
	}
	if len(scores.Scores) == 0 || len(unscored) != 0 {
		t.Errorf("scores %+v leave points %v unscored", scores, unscored)
	}
	// The judge is for the dpo lane only.
	rw.send(protocol.RaceJudge{Run: 1, Config: judge.Config, Weights: judge.Weights})
	if e, _ := waitType[protocol.Error](rw, 0); e.Request != "raceJudge" {
		t.Errorf("judge to the rlhf lane: %+v", e)
	}
	// A DPO run afterwards is a DPO run again.
	dw.send(protocol.Configure{Run: 2, Settings: quick(1, 1)})
	if c, _ := waitType[protocol.Configured](dw, 0); c.Run != 2 {
		t.Errorf("configured %+v", c)
	}
}

// A lane with Share ½ rests as long as each step took: training takes at
// least twice the steps' own time.
func TestLaneShareRests(t *testing.T) {
	w := start(t, false)
	w.send(protocol.RaceConfigure{Run: 1, Method: session.MethodDPO, Settings: quick(3, 6), Share: 0.5})
	waitType[protocol.RaceConfigured](w, 0)
	begin := time.Now()
	w.send(protocol.Train{Run: 1})
	waitType[protocol.Done](w, 0)
	wall := time.Since(begin)
	var busy float64
	w.mu.Lock()
	for _, m := range w.out {
		if s, ok := m.(protocol.RaceStep); ok {
			busy += s.Millis
		}
	}
	w.mu.Unlock()
	// The last step does not rest: it has nothing to make room for.
	if wall.Seconds()*1000 < 1.8*busy*8/9 {
		t.Errorf("trained for %v with %.1f ms of steps: it did not rest", wall, busy)
	}
}
