package ui

import (
	"dpoplayground/core/online"
	"dpoplayground/ui/chart"
)

// judgeCharts are the charts of judged online runs, under TRL's Online DPO
// names; they show while the live run or a faded one is judged.
type judgeCharts struct {
	Scores, KL chart.LineChart
	judged     bool
}

// judgeCards are the judged runs' charts, when there are any.
func (c *Charts) judgeCards() []ChartCard {
	if !c.judged {
		return nil
	}
	return []ChartCard{
		{"objective-scores", &c.Scores, "objective/scores: the judge's mean score of the round's samples (for contains and regex, the share that contain or match)."},
		{"objective-kl", &c.KL, "objective/kl: how far the policy's own samples are from what π_ref would write, Σ log π − log π_ref per sample."},
	}
}

// updateJudge sets the judged runs' charts with set (Charts.Update's).
func (c *Charts) updateJudge(a *App, set func(*chart.LineChart, string, string, *float64, []line), xmax *float64) {
	c.judged = a.Live != nil && a.Live.Settings.Judged()
	for _, r := range a.Past {
		c.judged = c.judged || r.Settings.Judged()
	}
	if !c.judged {
		return
	}
	set(&c.Scores, "Judge's score of the policy's samples", "objective/scores", xmax, []line{{"objective/scores", "objective/scores", chart.ColorAccuracy, false}})
	set(&c.KL, "KL of the policy's samples from π_ref", "objective/kl (nats)", xmax, []line{{"objective/kl", "objective/kl", chart.ColorMargin, false}})
}

// addOnline appends a sampling round's metrics, before DPO step x, to the
// run's chart lines.
func (r *Run) addOnline(x int, m online.Metrics) {
	if r.series == nil {
		r.series = map[string][]chart.Point{}
	}
	for _, om := range onlineMetrics {
		r.series[om.Key] = append(r.series[om.Key], chart.Point{X: float64(x), Y: om.Value(m)})
	}
}
