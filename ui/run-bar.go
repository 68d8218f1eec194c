package ui

import (
	"fmt"
	"strconv"
)

// RunBar is the Train/Pause/Step/Reset buttons, the status line and the
// live readouts (the data-metric hooks).
type RunBar struct {
	App *App
}

// Phase is idle, sft, dpo or done.
func (c *RunBar) Phase() string { return c.App.Live.Phase() }

// Step is the number of steps taken.
func (c *RunBar) Step() string {
	if c.App.Live == nil {
		return "0"
	}
	return strconv.Itoa(c.App.Live.Step())
}

// Total is the run's number of steps (the draft's before a run).
func (c *RunBar) Total() string {
	if c.App.Live == nil || c.App.SettingsChanged() && c.App.Live.Step() == 0 {
		return strconv.Itoa((&Run{Settings: c.App.Draft}).Total())
	}
	return strconv.Itoa(c.App.Live.Total())
}

// Rate is the training speed while there is one.
func (c *RunBar) Rate() string {
	r := c.App.Live
	if r == nil || r.Step() == 0 {
		return "— steps/s"
	}
	sps := r.StepsPerSecond()
	if sps >= 10 {
		return fmt.Sprintf("%.0f steps/s", sps)
	}
	return fmt.Sprintf("%.1f steps/s", sps)
}

// Times is the elapsed and remaining training time.
func (c *RunBar) Times() string {
	r := c.App.Live
	if r == nil || r.Step() == 0 {
		return "0:00 elapsed"
	}
	s := formatDuration(r.Elapsed(c.App.Host.Now())) + " elapsed"
	if r.State != RunDone {
		s += " · ~" + formatDuration(r.Remaining()) + " left"
	}
	return s
}

// Metric is a readout: the last step's loss (SFT or DPO), and the last DPO
// step's rewards; "—" before there is one.
func (c *RunBar) Metric(name string) string {
	r := c.App.Live
	if r == nil || r.Step() == 0 {
		return "—"
	}
	if name == "loss" {
		return formatMetric(r.Rows[r.Step()-1].Loss, true)
	}
	row, ok := r.lastDPO()
	if !ok {
		return "—"
	}
	switch name {
	case "rewards/chosen":
		return formatMetric(row.RewardsChosen, true)
	case "rewards/rejected":
		return formatMetric(row.RewardsRejected, true)
	case "rewards/margins":
		return formatMetric(row.RewardsMargins, true)
	case "rewards/accuracies":
		return strconv.FormatFloat(row.RewardsAccuracy, 'f', 2, 64)
	case "kl":
		return formatMetric(row.KL, true)
	}
	return "—"
}

// workers is the number of workers the live run uses (as the worker
// answered, else as asked), or the next run's before any run.
func (c *RunBar) workers() int {
	switch r := c.App.Live; {
	case r == nil:
		return c.App.DraftWorkers()
	case r.InUse > 0:
		return r.InUse
	default:
		return r.Workers
	}
}

// Workers is the number of workers in use.
func (c *RunBar) Workers() string { return strconv.Itoa(c.workers()) }

// WorkersUnit is "worker" or "workers".
func (c *RunBar) WorkersUnit() string {
	if c.workers() == 1 {
		return "worker"
	}
	return "workers"
}

// WorkersNote says why the live run uses fewer workers than it asked for.
func (c *RunBar) WorkersNote() string {
	if c.App.Live == nil {
		return ""
	}
	return c.App.Live.WorkersNote
}

// RacePhase is the race's state for the badge's colour: done once it has
// ended, else the phase of the slowest lane.
func (c *RunBar) RacePhase() string {
	r := c.App.Race
	switch {
	case r == nil:
		return "idle"
	case r.State == RunDone:
		return "done"
	}
	for _, l := range r.Lanes {
		if !l.Done && l.Last.Phase != "" {
			return l.Last.Phase
		}
	}
	return "idle"
}

// KTO says the live run (or the next one) trains KTO.
func (c *RunBar) KTO() bool {
	if r := c.App.Live; r != nil {
		return r.IsKTO()
	}
	return c.App.Draft.IsKTO()
}

// Name is a reward readout's name: KTO's desirable and undesirable
// examples stand where DPO's chosen and rejected answers do.
func (c *RunBar) Name(which string) string {
	if !c.KTO() {
		return which
	}
	return map[string]string{"chosen": "desirable", "rejected": "undesirable"}[which]
}
