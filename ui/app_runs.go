package ui

// App's actions for the run controls: Train, Pause, Step, Reset and the faded past runs.

import (
	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// BlockReason says why training cannot start, or "".
func (a *App) BlockReason() string {
	switch {
	case a.Engine.State == EngineFailed:
		return "The training engine did not start."
	case !a.Check.OK():
		if a.Check.Empty {
			return "Add some pairs first."
		}
		return "Fix the pairs first."
	case a.Draft.KTOBlock() != "":
		return "KTO " + a.Draft.KTOBlock() + "."
	case a.FieldErrors() || a.workersErr != "":
		return "Fix the highlighted settings first."
	case a.RaceMode() && a.Draft.Reference == session.RefImported:
		return "RLHF and the race build π_ref by SFT: choose an SFT reference."
	case a.Draft.Reference == session.RefImported && a.ImportedRef == nil:
		return "Import a reference model first, or choose another reference."
	case a.baseBlock() != "":
		return a.baseBlock()
	}
	return ""
}

// newRun archives the live run and configures a new one from the draft.
func (a *App) newRun() *Run {
	if reason := a.BlockReason(); reason != "" {
		a.Alert = reason
		return nil
	}
	a.Alert = ""
	a.archive()
	a.nextRun++
	a.runCount++
	r := &Run{ID: a.nextRun, Number: a.runCount, Settings: a.Draft, Workers: a.DraftWorkers(), State: RunConfiguring}
	a.Live = r
	a.setRunRows(a.Check.Prompts)
	a.Detail = nil
	a.detail = request{}
	a.Sample.Result, a.Sample.pending, a.Sample.Err = nil, 0, ""
	a.HeldOut.Answers, a.HeldOut.pending, a.HeldOut.Err = nil, 0, ""
	a.Host.Post(protocol.Configure{Run: r.ID, Settings: r.Settings, Workers: r.Workers})
	return r
}

// archive keeps the live run's curves as a faded run.
func (a *App) archive() {
	r := a.Live
	if r == nil {
		return
	}
	r.stopClock(a.Host.Now())
	if len(r.Rows) > 0 {
		a.Past = append([]*Run{r}, a.Past...)
		if len(a.Past) > maxPastRuns {
			a.Past = a.Past[:maxPastRuns]
		}
	}
	a.Live = nil
}

// needsNewRun says whether Train or Step must start a new run.
func (a *App) needsNewRun() bool {
	r := a.Live
	return r == nil || r.State == RunFailed || r.State == RunDone || a.SettingsChanged()
}

// Train starts a run, or resumes the paused one. While the base model the
// run starts from is loading, it starts once the model is in.
func (a *App) Train() {
	fresh := a.needsNewRun()
	if a.RaceMode() {
		fresh = a.raceNeedsNew()
	}
	if fresh && a.Draft.StartsFromBase() && !a.BaseReady() && a.Base.Err == "" {
		a.Base.trainWhenReady = true
		a.ensureBase()
		a.Notice = "Loading the base model; training starts when it is in."
		return
	}
	if a.RaceMode() {
		a.trainRace()
		return
	}
	r := a.Live
	if a.needsNewRun() {
		if r = a.newRun(); r == nil {
			return
		}
	}
	switch r.State {
	case RunConfiguring, RunReady, RunPaused:
		a.Host.Post(protocol.Train{Run: r.ID})
		r.State = RunTraining
	}
}

// Pause stops training after the current step.
func (a *App) Pause() {
	if a.RaceMode() {
		a.pauseRace()
		return
	}
	if r := a.Live; r != nil && r.State == RunTraining {
		a.Host.Post(protocol.Pause{Run: r.ID})
		r.State = RunPausing
	}
}

// StepOnce runs exactly one step (pausing first if training).
func (a *App) StepOnce() {
	if a.RaceMode() {
		a.stepRace()
		return
	}
	r := a.Live
	if a.needsNewRun() {
		if r = a.newRun(); r == nil {
			return
		}
	}
	switch r.State {
	case RunTraining, RunPausing:
		// The worker pauses after its current step, then takes one more.
		if r.State == RunTraining {
			a.Host.Post(protocol.Pause{Run: r.ID})
		}
		a.Host.Post(protocol.Step{Run: r.ID, N: 1})
		r.State = RunPausing
	case RunConfiguring, RunReady, RunPaused:
		a.Host.Post(protocol.Step{Run: r.ID, N: 1})
		r.State = RunPausing
	}
}

// Reset archives the live run and prepares a new one from the draft
// settings, at step 0.
func (a *App) Reset() {
	if a.RaceMode() {
		if a.Race != nil && a.Race.State == RunTraining {
			a.pauseRace()
		}
		a.newRace()
		return
	}
	if a.Live != nil && a.Live.State == RunTraining {
		a.Host.Post(protocol.Pause{Run: a.Live.ID})
	}
	if a.newRun() == nil {
		a.archive()
	}
}

// ClearRuns forgets the faded runs.
func (a *App) ClearRuns() { a.Past = nil }

// Clear puts the page back to its first state: default settings and pairs,
// no runs, nothing imported, nothing saved.
func (a *App) Clear() {
	if a.Live != nil && a.Live.State == RunTraining {
		a.Host.Post(protocol.Pause{Run: a.Live.ID})
	}
	a.Host.Post(protocol.ClearImports{})
	a.saveGen++
	a.checkGen++
	a.Host.Store(storageKey, "")
	a.Host.Store(workersKey, "")
	a.Host.SetFragment("")
	a.reset()
	a.Notice = "Cleared: the page is back to its first state."
}

// CanTrain, CanPause, CanStep and CanReset enable the four buttons.
func (a *App) CanTrain() bool {
	if a.BlockReason() != "" {
		return false
	}
	if a.RaceMode() {
		return a.Race == nil || a.Race.State != RunTraining && a.Race.State != RunPausing
	}
	r := a.Live
	return r == nil || r.State != RunTraining && r.State != RunPausing
}

func (a *App) CanPause() bool {
	if a.RaceMode() {
		return a.Race != nil && a.Race.State == RunTraining
	}
	return a.Live != nil && a.Live.State == RunTraining
}

func (a *App) CanStep() bool {
	if a.RaceMode() {
		return a.BlockReason() == "" && (a.Race == nil || a.Race.State != RunPausing)
	}
	return a.BlockReason() == "" && (a.Live == nil || a.Live.State != RunPausing)
}

func (a *App) CanReset() bool { return a.BlockReason() == "" }

// TrainLabel is the Train button's text.
func (a *App) TrainLabel() string {
	if a.RaceMode() {
		switch r := a.Race; {
		case r != nil && r.State == RunPaused && !a.raceChanged():
			return "Resume"
		case r != nil && r.State == RunDone && !a.raceChanged():
			return "Race again"
		}
		return "Train"
	}
	r := a.Live
	switch {
	case r != nil && r.State == RunPaused && !a.SettingsChanged():
		return "Resume"
	case r != nil && r.State == RunDone && !a.SettingsChanged():
		return "Train again"
	}
	return "Train"
}
