package ui

import (
	"fmt"

	"dpoplayground/ui/chart"
)

// Charts are the page's line charts. They live as long as the page, so
// that each keeps its measured width and hover point between renders.
type Charts struct {
	SFT, Loss, Rewards, Margins, Accuracy, GradNorm, Entropy chart.LineChart
	judgeCharts
	// KL is a KTO run's reference point; kto says the live run (or the
	// next one) trains KTO, whose cards replace DPO's.
	KL  chart.LineChart
	kto bool
}

// ChartCard is one chart with what the page shows around it.
type ChartCard struct {
	Key   string // for ids and the SVG file name
	Chart *chart.LineChart
	Note  string // one line under the chart: how to read it
}

// Cards lists the charts in page order: the DPO metrics, then the SFT phase.
func (c *Charts) Cards() []ChartCard {
	if c.kto {
		return []ChartCard{
			{"loss", &c.Loss, "The KTO loss: λD·(1 − σ(β·(log-ratio − kl))) for desirable examples, λU·(1 − σ(β·(kl − log-ratio))) for undesirable ones; 0.5 per example where the policy equals the reference."},
			{"rewards", &c.Rewards, "Implicit rewards β·(log π − log π_ref) of the batch's desirable (TRL's rewards/chosen) and undesirable (rewards/rejected) completions."},
			{"kl", &c.KL, "TRL's kl: the reference point z₀, the batch's mean KL of policy to reference on mismatched prompt–completion pairs (never below 0)."},
			{"grad-norm", &c.GradNorm, "Size of the gradient before clipping: large while the policy moves fast."},
			{"entropy", &c.Entropy, "Mean per-token entropy of the policy on the completions (TRL's entropy)."},
			{"sft", &c.SFT, "Phase 1: supervised fine-tuning on the desirable completions builds the reference π_ref, which KTO then keeps frozen."},
		}
	}
	cards := []ChartCard{
		{"loss", &c.Loss, "The DPO loss −log σ(β·margin) starts at log 2 ≈ 0.693, where the policy equals the reference."},
		{"rewards", &c.Rewards, "Implicit rewards β·(log π − log π_ref) of the batch's chosen and rejected answers."},
		{"margins", &c.Margins, "Chosen reward minus rejected reward: what DPO pushes up."},
		{"accuracies", &c.Accuracy, "Share of the batch's pairs whose chosen answer has the higher reward."},
		{"grad-norm", &c.GradNorm, "Size of the gradient before clipping: large while the policy moves fast."},
		{"entropy", &c.Entropy, "Mean per-token entropy of the policy on the answers (TRL's entropy): a collapsing policy drives it down."},
	}
	cards = append(cards, c.judgeCards()...)
	return append(cards, ChartCard{"sft", &c.SFT, "Phase 1: supervised fine-tuning builds the reference π_ref, which DPO then keeps frozen."})
}

var (
	zero = 0.0
	one  = 1.0
)

// Update sets every chart's lines from the live run and the faded past runs.
func (c *Charts) Update(a *App) {
	live := a.Live
	liveSettings := a.Draft
	if live != nil {
		liveSettings = live.Settings
	}
	// The x axes span the whole run from the start, so they do not
	// rescale while it trains.
	shape := live
	if shape == nil {
		shape = &Run{Settings: a.Draft}
	}
	dpoSteps := float64(max(2, shape.Total()-shape.SFTSteps()-shape.RewardSteps()))
	sftSteps := float64(max(2, shape.SFTSteps()))
	for _, r := range a.Past {
		dpoSteps = max(dpoSteps, float64(len(r.Series("loss"))))
		sftSteps = max(sftSteps, float64(len(r.Series("sft/loss"))))
	}
	dpoMax, sftMax := dpoSteps, sftSteps

	set := func(ch *chart.LineChart, title, ylabel string, xmax *float64, lines []line) {
		ch.Title, ch.XLabel, ch.YLabel = title, "step", ylabel
		ch.XMin, ch.XMax = &one, xmax
		ch.Series = ch.Series[:0]
		for i := len(a.Past) - 1; i >= 0; i-- { // oldest first, so the newest is drawn on top
			r := a.Past[i]
			name := RunLabel(r.Settings, liveSettings, r.Number)
			for _, l := range lines {
				label := name
				if len(lines) > 1 {
					label = name + " · " + l.label
				}
				ch.Series = append(ch.Series, chart.Series{Label: label, Faded: true, Dash: l.dash, Points: r.Series(l.key)})
			}
		}
		for _, l := range lines {
			var pts []chart.Point
			if live != nil {
				pts = live.Series(l.key)
			}
			ch.Series = append(ch.Series, chart.Series{Label: l.label, Color: l.color, Dash: l.dash, Points: pts})
		}
	}
	// KTO's charts are DPO's with its names (desirable and undesirable
	// completions for chosen and rejected answers) and its kl in place of
	// the margin and accuracy.
	c.kto = shape.IsKTO()
	method, chosen, rejected := "DPO", "chosen", "rejected"
	if c.kto {
		method, chosen, rejected = "KTO", "desirable", "undesirable"
	}
	set(&c.Loss, method+" loss", "loss", &dpoMax, []line{{"loss", "loss", chart.ColorLoss, false}})
	set(&c.Rewards, "Rewards: "+chosen+" and "+rejected, "implicit reward (nats)", &dpoMax, []line{
		{"rewards/chosen", chosen, chart.ColorChosen, false},
		{"rewards/rejected", rejected, chart.ColorRejected, true},
	})
	set(&c.GradNorm, "Gradient norm", "‖g‖ before clipping", &dpoMax, []line{{"grad_norm", "grad_norm", chart.ColorGradNorm, false}})
	set(&c.Entropy, "Token entropy", "nats per token", &dpoMax, []line{{"entropy", "entropy", chart.ColorGradNorm, false}})
	set(&c.SFT, "SFT loss (building the reference)", "NLL per token (nats)", &sftMax, []line{{"sft/loss", "SFT loss", chart.ColorLoss, false}})
	if c.kto {
		set(&c.KL, "KL reference point", "kl (nats)", &dpoMax, []line{{"kl", "kl", chart.ColorMargin, false}})
		return
	}
	set(&c.Margins, "Reward margin", "chosen − rejected (nats)", &dpoMax, []line{{"rewards/margins", "margin", chart.ColorMargin, false}})
	set(&c.Accuracy, "Reward accuracy", "pairs ordered right", &dpoMax, []line{{"rewards/accuracies", "accuracy", chart.ColorAccuracy, false}})
	c.Accuracy.YMin, c.Accuracy.YMax = &zero, &one
	c.updateJudge(a, set, &dpoMax)
}

// line is one metric drawn on a chart.
type line struct {
	key, label, color string
	dash              bool
}

// SVGFile is the file name of a chart's SVG export.
func SVGFile(key string) string { return fmt.Sprintf("dpo-%s.svg", key) }
