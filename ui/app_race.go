package ui

// App's actions for the Method choice's RLHF and Race: start, pause, step
// and reset a race, whose lanes train in their own workers, and take the
// lanes' answers.

import (
	"fmt"

	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// RaceMode says whether the draft's method trains lanes (RLHF or Race)
// rather than a DPO run.
func (a *App) RaceMode() bool {
	m, err := a.Draft.MethodOf()
	return err == nil && (m == session.MethodRLHF || m == session.MethodRace)
}

// SetMethod takes the Method control's choice.
func (a *App) SetMethod(m string) { a.SetField("method", m) }

// raceChanged says whether the draft differs from the race's settings.
func (a *App) raceChanged() bool { return a.Race != nil && a.Race.Settings != a.Draft }

// RaceChanged says whether the settings changed since the race started
// (they apply to the next one).
func (a *App) RaceChanged() bool { return a.raceChanged() && a.Race.State != RunDone }

// newRace configures a race (or RLHF run) from the draft: one
// RaceConfigure per lane, each to its own worker.
func (a *App) newRace() *Race {
	if reason := a.BlockReason(); reason != "" {
		a.Alert = reason
		return nil
	}
	a.Alert = ""
	if a.Live != nil && a.Live.State == RunTraining {
		a.Host.Post(protocol.Pause{Run: a.Live.ID})
	}
	a.archive()
	if old := a.Race; old != nil && (old.State == RunTraining || old.State == RunPausing) {
		for _, l := range old.Lanes {
			a.Host.PostLane(l.Method, protocol.Pause{Run: old.ID})
		}
	}
	a.nextRun++
	r := &Race{ID: a.nextRun, Settings: a.Draft, State: RunConfiguring}
	lanes := a.Draft.Lanes()
	share := a.laneShare(len(lanes))
	for _, m := range lanes {
		r.Lanes = append(r.Lanes, &RaceLane{Method: m})
		a.postBaseToLane(m)
		a.Host.PostLane(m, protocol.RaceConfigure{Run: r.ID, Method: m, Settings: r.Settings, Share: share})
	}
	a.Race = r
	return r
}

// laneShare is the fraction of a core each of n lanes may use: the cores
// but one (left to the page's thread, as DefaultWorkers leaves it) split
// between the lanes, at most a whole core and at least a quarter. On two
// cores a race's two lanes get half a core each.
func (a *App) laneShare(n int) float64 {
	s := float64(a.Cores()-1) / float64(max(n, 1))
	return min(max(s, 0.25), 1)
}

func (a *App) raceNeedsNew() bool {
	r := a.Race
	return r == nil || r.State == RunFailed || r.State == RunDone || a.raceChanged()
}

// trainRace starts a race, or resumes the paused one.
func (a *App) trainRace() {
	r := a.Race
	if a.raceNeedsNew() {
		if r = a.newRace(); r == nil {
			return
		}
	}
	switch r.State {
	case RunConfiguring, RunReady, RunPaused:
		for _, l := range r.Lanes {
			if !l.Done {
				a.Host.PostLane(l.Method, protocol.Train{Run: r.ID})
			}
		}
		r.State = RunTraining
	}
}

func (a *App) pauseRace() {
	if r := a.Race; r != nil && r.State == RunTraining {
		for _, l := range r.Lanes {
			if !l.Done {
				a.Host.PostLane(l.Method, protocol.Pause{Run: r.ID})
			}
		}
		r.State = RunPausing
	}
}

// stepRace runs one step of every lane that has steps left.
func (a *App) stepRace() {
	r := a.Race
	if a.raceNeedsNew() {
		if r = a.newRace(); r == nil {
			return
		}
	}
	if r.State == RunPausing {
		return
	}
	for _, l := range r.Lanes {
		if l.Done {
			continue
		}
		if r.State == RunTraining {
			a.Host.PostLane(l.Method, protocol.Pause{Run: r.ID})
		}
		a.Host.PostLane(l.Method, protocol.Step{Run: r.ID, N: 1})
	}
	r.State = RunPausing
}

// ApplyLane takes a message from the worker of a lane other than the
// page's main worker (the RLHF lane's).
func (a *App) ApplyLane(method string, msg protocol.Message) {
	if a.applyRace(method, msg) {
		return
	}
	if m, ok := msg.(protocol.Error); ok && m.Run == 0 {
		a.Alert = "The RLHF worker reported: " + m.Message
	}
}

// applyRace takes a lane's answer; it reports whether msg was about the
// race (other messages of the main worker go on to the DPO run's Apply).
func (a *App) applyRace(method string, msg protocol.Message) bool {
	r := a.Race
	var run int
	switch m := msg.(type) {
	case protocol.RaceConfigured:
		run = m.Run
	case protocol.RaceStep:
		run = m.Run
	case protocol.RaceScores:
		run = m.Run
	case protocol.RaceJudge:
		run = m.Run
	case protocol.Paused:
		run = m.Run
	case protocol.Done:
		run = m.Run
	case protocol.Error:
		run = m.Run
	default:
		return false
	}
	switch msg.(type) {
	case protocol.Paused, protocol.Done, protocol.Error:
		if r == nil || run != r.ID {
			return false // the DPO run's (or nobody's)
		}
	}
	if r == nil || run != r.ID {
		return true // a race the page has left
	}
	l := r.Lane(method)
	if l == nil {
		return true
	}
	switch m := msg.(type) {
	case protocol.RaceConfigured:
		info := m.LaneInfo
		l.Info = &info
		if r.State == RunConfiguring && a.allConfigured() {
			r.State = RunReady
		}
	case protocol.RaceStep:
		l.add(m.LaneStep)
		a.raceProgress()
	case protocol.RaceScores:
		l.rescore(m.Scores)
		a.raceProgress()
	case protocol.RaceJudge:
		// The RLHF lane's reward model judges the DPO lane too.
		if d := r.Lane(session.MethodDPO); d != nil && method == session.MethodRLHF {
			a.Host.PostLane(session.MethodDPO, m)
		}
	case protocol.Paused:
		if r.State == RunPausing || r.State == RunTraining {
			r.State = RunPaused
		}
	case protocol.Done:
		a.raceProgress()
	case protocol.Error:
		if m.Request == "raceConfigure" {
			r.State, r.Err = RunFailed, m.Message
			a.Alert = "The " + MethodLabel(method) + " lane could not start: " + m.Message
			return true
		}
		r.Err = m.Message
		if r.State == RunTraining || r.State == RunPausing {
			r.State = RunPaused
		}
		a.Alert = "The " + MethodLabel(method) + " lane stopped: " + m.Message
	}
	return true
}

func (a *App) allConfigured() bool {
	for _, l := range a.Race.Lanes {
		if l.Info == nil {
			return false
		}
	}
	return true
}

// raceProgress marks the race done once every lane is done and scored.
func (a *App) raceProgress() {
	r := a.Race
	if r.State != RunDone && r.Finished() {
		r.State = RunDone
		if len(r.Lanes) > 1 {
			a.Notice = "The race is over: the table compares the two methods."
		} else {
			a.Notice = fmt.Sprintf("RLHF finished after %s.", plural(r.Lanes[0].Last.Global, "step", "steps"))
		}
	}
}

// RaceStatus is the race panel's one-line status.
func (a *App) RaceStatus() string {
	r := a.Race
	if r == nil {
		if a.Draft.Method == session.MethodRace {
			return "Press Train: DPO and RLHF start from the same π_ref, each in its own worker."
		}
		return "Press Train: SFT builds π_ref, a reward model learns the pairs, then PPO trains against it."
	}
	switch r.State {
	case RunConfiguring:
		return "Starting the workers…"
	case RunFailed:
		return "The run could not start: " + r.Err
	case RunDone:
		if len(r.Lanes) > 1 {
			return "Finished: both methods have run every step."
		}
		return "Finished."
	case RunPaused:
		return "Paused."
	}
	if d, rl := r.Lane(session.MethodDPO), r.Lane(session.MethodRLHF); d != nil && d.Done && rl != nil && !rl.Done {
		return "DPO has finished; RLHF is still training."
	}
	return "Training…"
}
