package ui

import (
	"strconv"
	"strings"

	"dpoplayground/core/session"
)

// RacePanel shows the RLHF run or the race: each lane's phase bar and
// readouts, the yardstick charts both methods share, RLHF's phase curves,
// and at the end the comparison table.
type RacePanel struct {
	App    *App
	Charts *RaceCharts
}

// Title is the panel's heading.
func (c *RacePanel) Title() string {
	if c.App.Draft.Method == session.MethodRLHF && (c.App.Race == nil || len(c.App.Race.Lanes) == 1) {
		return "RLHF: reward model, then PPO"
	}
	return "Race: DPO against RLHF"
}

// Lanes are the race's lanes, or the draft's before a race starts.
func (c *RacePanel) Lanes() []*RaceLane {
	if r := c.App.Race; r != nil {
		return r.Lanes
	}
	// Before the first race: the draft's phases, to show their lengths.
	d := c.App.Draft
	var out []*RaceLane
	for _, m := range d.Lanes() {
		info := &session.LaneInfo{Method: m, SFTSteps: d.SFTSteps}
		if m == session.MethodDPO {
			info.Steps = d.Steps
		} else if cfg, err := d.RLHFConfig(); err == nil {
			info.RMSteps, info.PPOSteps = cfg.Reward.Steps, cfg.PPO.Steps
		}
		out = append(out, &RaceLane{Method: m, Info: info})
	}
	return out
}

// State is the race's state as a word, for tests and CSS.
func (c *RacePanel) State() string {
	r := c.App.Race
	if r == nil {
		return "idle"
	}
	switch r.State {
	case RunConfiguring:
		return "configuring"
	case RunReady:
		return "ready"
	case RunTraining, RunPausing:
		return "training"
	case RunPaused:
		return "paused"
	case RunDone:
		return "done"
	}
	return "failed"
}

// PhaseClass marks a phase of the bar done, active or to come.
func (c *RacePanel) PhaseClass(p LanePhase) string {
	switch {
	case p.Active:
		return "phase active"
	case p.Total > 0 && p.Done >= p.Total:
		return "phase done"
	}
	return "phase"
}

// PhaseCount is "12/60" for a phase.
func (c *RacePanel) PhaseCount(p LanePhase) string {
	if p.Total == 0 {
		return ""
	}
	return strconv.Itoa(p.Done) + "/" + strconv.Itoa(p.Total)
}

// Readout is a lane's latest value of a yardstick.
func (c *RacePanel) Readout(l *RaceLane, key string) string {
	if key == "seconds" {
		return strconv.FormatFloat(l.Last.Seconds, 'f', 1, 64)
	}
	if len(l.Points) == 0 {
		return "—"
	}
	p := l.Final()
	switch key {
	case "accuracy":
		return formatMetric(p.Accuracy, true)
	case "kl":
		return formatMetric(p.KL, true)
	}
	return formatMetric(p.Score, true)
}

// Caption says what the table's samples answer.
func (c *RacePanel) Caption() string {
	prompt := strings.TrimSpace(c.App.Race.PromptOf())
	return "Both methods trained from the same π_ref (SFT not counted). The greedy answers are to “" + prompt + "”."
}
