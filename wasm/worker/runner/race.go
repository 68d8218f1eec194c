package runner

// The race lanes: a worker may train one method's lane of a race (or the
// RLHF method alone) instead of a DPO session; Train, Step and Pause drive
// it as they drive a DPO run.

import (
	"time"

	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// raceState is the lane the worker trains, if any.
type raceState struct {
	lane      *session.Lane
	judgeSent bool    // the rlhf lane has sent its reward model to the page
	share     float64 // RaceConfigure.Share
}

// rest waits after a continuous lane step of d so that the lane uses
// about share of a core.
func (r *Runner) rest(d time.Duration) {
	if r.share > 0 && r.share < 1 && r.running {
		time.Sleep(time.Duration(float64(d) * (1/r.share - 1)))
	}
}

// configureLane (re)starts run m.Run as a lane.
func (r *Runner) configureLane(m protocol.RaceConfigure) {
	r.running, r.done, r.global = false, false, 0
	r.run, r.lane, r.judgeSent = 0, nil, false
	r.stopHelpers()
	r.workers = 1
	l, info, err := session.NewLane(m.Method, m.Settings, r.s.Base())
	if err != nil {
		r.fail(m, m.Run, err)
		return
	}
	r.run, r.lane, r.share = m.Run, l, m.Share
	r.post(protocol.RaceConfigured{Run: m.Run, LaneInfo: info})
}

// laneStep runs one step of the lane and posts it; the rlhf lane then
// posts its reward model once it is trained, for the page to hand to the
// dpo lane.
func (r *Runner) laneStep() bool {
	start := time.Now()
	s, err := r.lane.Step()
	if err != nil {
		r.running = false
		if r.done {
			return false
		}
		r.post(protocol.Error{Message: err.Error(), Request: "step", Run: r.run})
		r.post(protocol.Paused{Run: r.run, Global: r.global})
		return false
	}
	r.global = s.Global
	r.post(protocol.RaceStep{Run: r.run, Millis: float64(time.Since(start).Microseconds()) / 1000, LaneStep: s})
	if !r.judgeSent && r.lane.Method() == session.MethodRLHF {
		cfg, w, ok, err := r.lane.Judge()
		switch {
		case err != nil:
			r.post(protocol.Error{Message: err.Error(), Request: "step", Run: r.run})
		case ok:
			r.judgeSent = true
			r.post(protocol.RaceJudge{Run: r.run, Config: string(cfg), Weights: w})
		}
	}
	if s.Done {
		r.done, r.running = true, false
		r.post(protocol.Done{Run: r.run, Global: r.global})
	}
	r.rest(time.Since(start))
	return true
}

// loadJudge takes the race's reward model into the dpo lane and posts the
// scores of the measurements that waited for it.
func (r *Runner) loadJudge(m protocol.RaceJudge) {
	if r.lane == nil || r.lane.Method() != session.MethodDPO {
		r.fail(m, m.Run, errNotDPOLane)
		return
	}
	scores, err := r.lane.LoadJudge([]byte(m.Config), m.Weights)
	if err != nil {
		r.fail(m, m.Run, err)
		return
	}
	r.post(protocol.RaceScores{Run: r.run, Method: session.MethodDPO, Scores: scores})
}
