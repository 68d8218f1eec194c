package ui

// The race (and the RLHF method alone) as the page keeps it: one lane per
// method, each trained by its own worker, with every measured step.

import (
	"math"
	"strconv"
	"strings"

	"dpoplayground/core/ppo"
	"dpoplayground/core/session"
	"dpoplayground/ui/chart"
)

// Race is the page's race, or RLHF run (one lane).
type Race struct {
	ID       int
	Settings session.Settings
	Lanes    []*RaceLane // in Settings.Lanes() order
	State    RunState
	Err      string
}

// RaceLane is one method's side of a race.
type RaceLane struct {
	Method string
	Info   *session.LaneInfo
	Steps  []session.LaneStep
	// Points are the measured steps, by their point number.
	Points  []RacePoint
	Done    bool
	Last    session.LaneStep // the latest step
	Sample  string           // the greedy answer to Info.Prompt, at the end
	RefHash string
}

// RacePoint is one measurement of a lane's policy.
type RacePoint struct {
	Seconds  float64
	Passes   int // forward + backward
	Accuracy float64
	Margin   float64
	KL       float64
	Score    float64 // NaN until the judge has scored it
}

// Lane returns the race's lane of method, or nil.
func (r *Race) Lane(method string) *RaceLane {
	if r == nil {
		return nil
	}
	for _, l := range r.Lanes {
		if l.Method == method {
			return l
		}
	}
	return nil
}

// Finished says whether every lane has run its last step and every
// measurement has its score: the comparison table is complete.
func (r *Race) Finished() bool {
	if r == nil || len(r.Lanes) == 0 {
		return false
	}
	for _, l := range r.Lanes {
		if !l.Done || !l.Scored() {
			return false
		}
	}
	return true
}

// Scored says whether every point has its score.
func (l *RaceLane) Scored() bool {
	for _, p := range l.Points {
		if math.IsNaN(p.Score) {
			return false
		}
	}
	return true
}

// add records one step.
func (l *RaceLane) add(s session.LaneStep) {
	l.Steps = append(l.Steps, s)
	l.Last = s
	if s.RefHash != "" {
		l.RefHash = s.RefHash
	}
	if y := s.Yardsticks; y != nil {
		p := RacePoint{Seconds: s.Seconds, Passes: s.Passes.Forward + s.Passes.Backward,
			Accuracy: y.Accuracy, Margin: y.Margin, KL: y.KL, Score: math.NaN()}
		if y.Score != nil {
			p.Score = *y.Score
		}
		for len(l.Points) <= y.Point {
			l.Points = append(l.Points, RacePoint{Score: math.NaN(), Accuracy: math.NaN(), Margin: math.NaN(), KL: math.NaN(), Seconds: math.NaN()})
		}
		if !math.IsNaN(l.Points[y.Point].Score) && math.IsNaN(p.Score) {
			p.Score = l.Points[y.Point].Score // scored before it came (cannot happen in order, kept safe)
		}
		l.Points[y.Point] = p
	}
	l.rescore(s.Rescored)
	if s.Done {
		l.Done, l.Sample = true, s.Sample
	}
}

// rescore sets the scores the judge gave earlier points.
func (l *RaceLane) rescore(scores []session.Rescore) {
	for _, sc := range scores {
		if sc.Point >= 0 && sc.Point < len(l.Points) {
			l.Points[sc.Point].Score = sc.Score
		}
	}
}

// Final is the lane's last measurement (zero before any).
func (l *RaceLane) Final() RacePoint {
	if len(l.Points) == 0 {
		return RacePoint{Accuracy: math.NaN(), Margin: math.NaN(), KL: math.NaN(), Score: math.NaN()}
	}
	return l.Points[len(l.Points)-1]
}

// Series is a yardstick's points over the lane's training seconds.
func (l *RaceLane) Series(key string) []chart.Point {
	var out []chart.Point
	for _, p := range l.Points {
		var y float64
		switch key {
		case "accuracy":
			y = p.Accuracy
		case "margin":
			y = p.Margin
		case "kl":
			y = p.KL
		case "score":
			y = p.Score
		case "passes":
			y = float64(p.Passes)
		}
		out = append(out, chart.Point{X: p.Seconds, Y: y})
	}
	return out
}

// PhaseSeries is a phase metric over the phase's steps.
func (l *RaceLane) PhaseSeries(phase, key string) []chart.Point {
	var out []chart.Point
	for _, s := range l.Steps {
		if s.Phase != phase {
			continue
		}
		y := math.NaN()
		switch {
		case key == "loss":
			y = s.Loss
		case key == "rm_accuracy":
			y = s.RMAccuracy
		case s.PPO != nil && key == "scores":
			y = s.PPO.Scores
		case s.PPO != nil && key == "kl":
			y = s.PPO.KL
		case s.PPO != nil && key == "clipfrac":
			y = s.PPO.PGClipFrac
		}
		out = append(out, chart.Point{X: float64(s.PhaseStep), Y: y})
	}
	return out
}

// LanePhase is one phase of a lane's phase bar.
type LanePhase struct {
	Key, Label  string
	Done, Total int
	Active      bool
}

// Phases are the lane's phases in order: SFT → DPO, or SFT → reward model
// → PPO, with how far each has come.
func (l *RaceLane) Phases() []LanePhase {
	var ps []LanePhase
	if l.Method == session.MethodDPO {
		ps = []LanePhase{{Key: "sft", Label: "SFT"}, {Key: "dpo", Label: "DPO"}}
	} else {
		ps = []LanePhase{{Key: "sft", Label: "SFT"}, {Key: "reward", Label: "reward model"}, {Key: "ppo", Label: "PPO"}}
	}
	if in := l.Info; in != nil {
		for i := range ps {
			switch ps[i].Key {
			case "sft":
				ps[i].Total = in.SFTSteps
			case "dpo":
				ps[i].Total = in.Steps
			case "reward":
				ps[i].Total = in.RMSteps
			case "ppo":
				ps[i].Total = in.PPOSteps
			}
		}
	}
	for _, s := range l.Steps {
		for i := range ps {
			if ps[i].Key == s.Phase {
				ps[i].Done = s.PhaseStep
			}
		}
	}
	if !l.Done && len(l.Steps) > 0 {
		for i := range ps {
			if ps[i].Done < ps[i].Total {
				ps[i].Active = true
				break
			}
		}
	}
	return ps
}

// MethodLabel names a method for people.
func MethodLabel(m string) string {
	switch m {
	case session.MethodRLHF:
		return "RLHF (reward model + PPO)"
	case session.MethodRace:
		return "Race: DPO against RLHF"
	}
	return "DPO"
}

// LaneColor is a lane's colour on the race's charts.
func LaneColor(m string) string {
	if m == session.MethodRLHF {
		return chart.ColorRejected
	}
	return chart.ColorChosen
}

// RaceCharts are the race panel's charts: the yardsticks of both methods
// over training seconds, and the RLHF phases' own curves.
type RaceCharts struct {
	Accuracy, Margin, KL, Score, Passes           chart.LineChart
	RMLoss, RMAccuracy, PPOScores, PPOKL, PPOClip chart.LineChart
}

// RaceCard is one chart of the race panel.
type RaceCard struct {
	Key   string
	Chart *chart.LineChart
	Note  string
}

// Yardsticks are the charts both methods share.
func (c *RaceCharts) Yardsticks() []RaceCard {
	return []RaceCard{
		{"race-accuracy", &c.Accuracy, "Share of the pairs whose chosen answer the policy prefers more than π_ref does, for both policies."},
		{"race-margin", &c.Margin, "Mean implicit-reward margin β·(Δlog π(chosen) − Δlog π(rejected)) over the pairs."},
		{"race-kl", &c.KL, "KL(π‖π_ref) on the prompts, estimated from the policy's own samples."},
		{"race-score", &c.Score, "The reward model's mean score of the policy's own samples (DPO's are scored once the reward model exists)."},
		{"race-passes", &c.Passes, "Sequences run forward and backward through a model, every model counted."},
	}
}

// PhaseCards are RLHF's own curves, phase by phase.
func (c *RaceCharts) PhaseCards() []RaceCard {
	return []RaceCard{
		{"rm-loss", &c.RMLoss, "Reward model: −log σ(r(chosen) − r(rejected)) on its batch."},
		{"rm-accuracy", &c.RMAccuracy, "Reward model: share of its batch's pairs scored in the right order."},
		{"ppo-scores", &c.PPOScores, "PPO: the reward model's mean score of the rollouts (objective/scores)."},
		{"ppo-kl", &c.PPOKL, "PPO: KL of the rollouts from π_ref (objective/kl), which the KL penalty holds back."},
		{"ppo-clip", &c.PPOClip, "PPO: share of tokens whose probability ratio was clipped (policy/clipfrac_avg)."},
	}
}

// Update sets the charts from the race.
func (c *RaceCharts) Update(r *Race) {
	var lanes []*RaceLane
	if r != nil {
		lanes = r.Lanes
	}
	yard := func(ch *chart.LineChart, title, ylabel, key string) {
		ch.Title, ch.XLabel, ch.YLabel = title, "training seconds from π_ref", ylabel
		ch.XMin = &zero
		ch.Series = ch.Series[:0]
		for _, l := range lanes {
			ch.Series = append(ch.Series, chart.Series{Label: MethodLabel(l.Method), Color: LaneColor(l.Method),
				Dash: l.Method == session.MethodRLHF, Points: l.Series(key)})
		}
	}
	yard(&c.Accuracy, "Preference accuracy on the pairs", "pairs ordered right", "accuracy")
	c.Accuracy.YMin, c.Accuracy.YMax = &zero, &one
	yard(&c.Margin, "Preference margin on the pairs", "margin (nats)", "margin")
	yard(&c.KL, "KL(π‖π_ref) from samples", "nats per sample", "kl")
	yard(&c.Score, "Reward model's score of the policy's samples", "score", "score")
	yard(&c.Passes, "Forward + backward passes", "sequences", "passes")

	rl := r.Lane(session.MethodRLHF)
	phase := func(ch *chart.LineChart, title, xlabel, ylabel, ph, key, color string) {
		ch.Title, ch.XLabel, ch.YLabel = title, xlabel, ylabel
		ch.XMin = &one
		ch.Series = ch.Series[:0]
		var pts []chart.Point
		if rl != nil {
			pts = rl.PhaseSeries(ph, key)
		}
		ch.Series = append(ch.Series, chart.Series{Label: key, Color: color, Points: pts})
	}
	phase(&c.RMLoss, "Reward model loss", "reward-model step", "loss", "reward", "loss", chart.ColorLoss)
	phase(&c.RMAccuracy, "Reward model accuracy", "reward-model step", "batch pairs ordered right", "reward", "rm_accuracy", chart.ColorAccuracy)
	c.RMAccuracy.YMin, c.RMAccuracy.YMax = &zero, &one
	phase(&c.PPOScores, "PPO scores", "PPO step", "objective/scores", "ppo", "scores", chart.ColorChosen)
	phase(&c.PPOKL, "PPO KL", "PPO step", "objective/kl (nats)", "ppo", "kl", chart.ColorRejected)
	phase(&c.PPOClip, "PPO clip fraction", "PPO step", "policy/clipfrac_avg", "ppo", "clipfrac", chart.ColorGradNorm)
	c.PPOClip.YMin = &zero
}

// RaceRow is one row of the comparison table: a value per lane.
type RaceRow struct {
	Key, Label string
	Values     []string
}

// RaceTable compares the lanes: work, memory, the final yardsticks and a
// sample for the same prompt.
func (a *App) RaceTable() []RaceRow {
	r := a.Race
	if r == nil {
		return nil
	}
	row := func(key, label string, f func(l *RaceLane) string) RaceRow {
		out := RaceRow{Key: key, Label: label}
		for _, l := range r.Lanes {
			out.Values = append(out.Values, f(l))
		}
		return out
	}
	num := func(v float64) string { return formatMetric(v, true) }
	return []RaceRow{
		row("steps", "steps after π_ref", func(l *RaceLane) string {
			n := 0
			for _, s := range l.Steps {
				if s.Phase != "sft" {
					n++
				}
			}
			return strconv.Itoa(n)
		}),
		row("seconds", "training seconds", func(l *RaceLane) string { return strconv.FormatFloat(l.Last.Seconds, 'f', 2, 64) }),
		row("forward", "forward passes", func(l *RaceLane) string { return strconv.Itoa(l.Last.Passes.Forward) }),
		row("backward", "backward passes", func(l *RaceLane) string { return strconv.Itoa(l.Last.Passes.Backward) }),
		row("sampled", "sampled tokens", func(l *RaceLane) string { return strconv.Itoa(l.Last.Passes.Sampled) }),
		row("memory", "models held", func(l *RaceLane) string { return modelsHeld(l.Last.Bytes) }),
		row("accuracy", "preference accuracy", func(l *RaceLane) string { return num(l.Final().Accuracy) }),
		row("margin", "preference margin", func(l *RaceLane) string { return num(l.Final().Margin) }),
		row("kl", "KL(π‖π_ref)", func(l *RaceLane) string { return num(l.Final().KL) }),
		row("score", "reward model's score", func(l *RaceLane) string { return num(l.Final().Score) }),
		row("sample", "greedy answer", func(l *RaceLane) string {
			if !l.Done {
				return "—"
			}
			return strconv.Quote(l.Sample)
		}),
	}
}

// modelsHeld lists the models a method holds and their bytes in total.
func modelsHeld(b ppo.ModelBytes) string {
	var parts []string
	for _, m := range []struct {
		name string
		n    int
	}{{"policy", b.Policy}, {"reference", b.Reference}, {"reward", b.Reward}, {"value", b.Value}} {
		if m.n > 0 {
			parts = append(parts, m.name)
		}
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, " + ") + ": " + formatBytes(b.Total())
}

// PromptOf is the prompt the table's samples answer.
func (r *Race) PromptOf() string {
	for _, l := range r.Lanes {
		if l.Info != nil {
			return l.Info.Prompt
		}
	}
	return ""
}
