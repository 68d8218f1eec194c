package ui

import (
	"dpoplayground/core/online"
	"dpoplayground/core/session"
	"dpoplayground/ui/chart"
)

// judgeCharts are the charts of judged online runs, under TRL's Online DPO
// names; they show while the live run or a faded one is judged.
type judgeCharts struct {
	Scores, KL chart.LineChart
	judged     bool
	// RMLoss and RMAccuracy are the reward phase of runs judged by their
	// own reward model; rm says one is shown.
	RMLoss, RMAccuracy chart.LineChart
	rm                 bool
}

// judgeCards are the judged runs' charts, when there are any.
func (c *Charts) judgeCards() []ChartCard {
	if !c.judged {
		return nil
	}
	cards := []ChartCard{
		{"objective-scores", &c.Scores, "objective/scores: the judge's mean score of the round's samples (for contains and regex, the share that contain or match; for the reward model, its mean reward)."},
		{"objective-kl", &c.KL, "objective/kl: how far the policy's own samples are from what π_ref would write, Σ log π − log π_ref per sample."},
	}
	if c.rm {
		cards = append(cards,
			ChartCard{"judge-rm-loss", &c.RMLoss, "The judge's reward model, trained after SFT on the pairs: −log σ(r(chosen) − r(rejected)) on its batch (TRL's RewardTrainer loss)."},
			ChartCard{"judge-rm-accuracy", &c.RMAccuracy, "The judge's reward model: share of its batch's pairs it scores in the right order (TRL's accuracy)."})
	}
	return cards
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
	c.rm = a.Live != nil && a.Live.Settings.Judge == session.JudgeRewardModel
	rmMax := 2.0
	if c.rm {
		rmMax = float64(max(2, a.Live.RewardSteps()))
	}
	for _, r := range a.Past {
		if r.Settings.Judge == session.JudgeRewardModel {
			c.rm = true
			rmMax = max(rmMax, float64(len(r.Series("reward/loss"))))
		}
	}
	if !c.rm {
		return
	}
	set(&c.RMLoss, "Judge's reward model: loss", "loss", &rmMax, []line{{"reward/loss", "reward model loss", chart.ColorLoss, false}})
	set(&c.RMAccuracy, "Judge's reward model: accuracy", "batch pairs ordered right", &rmMax, []line{{"reward/accuracy", "reward model accuracy", chart.ColorAccuracy, false}})
	c.RMAccuracy.YMin, c.RMAccuracy.YMax = &zero, &one
	c.RMLoss.XLabel, c.RMAccuracy.XLabel = "reward-model step", "reward-model step"
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
