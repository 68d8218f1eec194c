package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"dpoplayground/core/dpo"
	"dpoplayground/core/kto"
	"dpoplayground/core/session"
	"dpoplayground/core/train"
	"dpoplayground/ui/chart"
	"dpoplayground/wasm/worker/protocol"
)

// RunState is where the page's current run is.
type RunState int

const (
	RunConfiguring RunState = iota // Configure sent, no answer yet
	RunReady                       // configured, not training
	RunTraining                    // training continuously (or stepping)
	RunPausing                     // Pause sent, no answer yet
	RunPaused                      // stopped between steps
	RunDone                        // every step has run
	RunFailed                      // the settings or pairs were refused
)

// StepRow is one training step as the page keeps it: the metrics under
// TRL's names.
type StepRow struct {
	Global    int
	Phase     train.Phase
	PhaseStep int
	Epoch     int
	Millis    float64
	dpo.Metrics
	// KL is a KTO step's reference point (TRL's kl), 0 for DPO steps.
	KL float64
	// RMAccuracy is a reward-phase step's reward-model accuracy (the
	// phase of a run judged by its own reward model; loss is its loss).
	RMAccuracy float64
}

// Run is one training run: its settings, what the worker said about it and
// every step's metrics.
type Run struct {
	ID       int
	Number   int // 1, 2, ... in the order the person started them
	Settings session.Settings
	// Workers is the number of workers the run asked for, InUse the
	// number the worker uses (0 before it answers), and WorkersNote why
	// it uses fewer after a helper failed.
	Workers     int
	InUse       int
	WorkersNote string
	State       RunState
	Info        *protocol.Configured
	Rows        []StepRow
	Err         string

	// Wall-clock training time: Active accumulates finished stretches,
	// Since is when the current one began (zero when not training).
	Active time.Duration
	Since  time.Time

	// series caches each chart line, appended step by step.
	series map[string][]chart.Point
}

// Total is the run's number of steps: SFT, reward model (a run judged by
// its own reward model) and DPO.
func (r *Run) Total() int {
	if r.Info != nil {
		return r.Info.SFTSteps + r.Info.RewardSteps + r.Info.Steps
	}
	return r.SFTSteps() + r.RewardSteps() + r.Settings.Steps
}

// Step is the number of steps taken.
func (r *Run) Step() int { return len(r.Rows) }

// SFTSteps is the number of SFT steps the run has (0 with an imported reference).
func (r *Run) SFTSteps() int {
	if r.Info != nil {
		return r.Info.SFTSteps
	}
	if r.Settings.Reference == session.RefImported {
		return 0
	}
	return r.Settings.SFTSteps
}

// Phase is the data-metric "phase": idle before the first step, then sft,
// reward (a run judged by its own reward model), dpo or kto, and done.
func (r *Run) Phase() string {
	switch {
	case r == nil || len(r.Rows) == 0:
		return "idle"
	case r.State == RunDone:
		return "done"
	}
	return string(r.Rows[len(r.Rows)-1].Phase)
}

// add appends a step and extends the chart series.
func (r *Run) add(row StepRow) {
	r.Rows = append(r.Rows, row)
	if r.series == nil {
		r.series = map[string][]chart.Point{}
	}
	if row.Phase == train.PhaseSFT {
		r.series["sft/loss"] = append(r.series["sft/loss"], chart.Point{X: float64(row.PhaseStep), Y: row.Loss})
		return
	}
	if row.Phase == session.PhaseReward {
		r.series["reward/loss"] = append(r.series["reward/loss"], chart.Point{X: float64(row.PhaseStep), Y: row.Loss})
		r.series["reward/accuracy"] = append(r.series["reward/accuracy"], chart.Point{X: float64(row.PhaseStep), Y: row.RMAccuracy})
		return
	}
	x := float64(row.PhaseStep)
	for _, m := range chartMetrics {
		r.series[m.Key] = append(r.series[m.Key], chart.Point{X: x, Y: m.Value(row.Metrics)})
	}
	if row.Phase == kto.PhaseKTO {
		r.series["kl"] = append(r.series["kl"], chart.Point{X: x, Y: row.KL})
	}
}

// Series is the cached line of a metric ("sft/loss" or a chartMetrics key).
func (r *Run) Series(key string) []chart.Point { return r.series[key] }

// Elapsed is the wall-clock training time up to now.
func (r *Run) Elapsed(now time.Time) time.Duration {
	d := r.Active
	if !r.Since.IsZero() {
		d += now.Sub(r.Since)
	}
	return d
}

// startClock and stopClock bracket a stretch of training.
func (r *Run) startClock(t time.Time) {
	if r.Since.IsZero() {
		r.Since = t
	}
}

func (r *Run) stopClock(t time.Time) {
	if !r.Since.IsZero() {
		r.Active += t.Sub(r.Since)
		r.Since = time.Time{}
	}
}

// MeanMillis is the mean duration of the last (up to) ten steps of the
// current phase, or 0 before any.
func (r *Run) MeanMillis() float64 {
	n := len(r.Rows)
	if n == 0 {
		return 0
	}
	phase := r.Rows[n-1].Phase
	sum, k := 0.0, 0
	for i := n - 1; i >= 0 && k < 10 && r.Rows[i].Phase == phase; i-- {
		sum += r.Rows[i].Millis
		k++
	}
	return sum / float64(k)
}

// StepsPerSecond is the current training speed.
func (r *Run) StepsPerSecond() float64 {
	if ms := r.MeanMillis(); ms > 0 {
		return 1000 / ms
	}
	return 0
}

// Remaining estimates the time the remaining steps take at the current
// speed (the DPO phase is slower than SFT, so this grows when DPO starts).
func (r *Run) Remaining() time.Duration {
	ms := r.MeanMillis()
	left := r.Total() - r.Step()
	if ms <= 0 || left <= 0 {
		return 0
	}
	return time.Duration(float64(left) * ms * float64(time.Millisecond))
}

// lastDPO returns the last DPO step, if any.
func (r *Run) lastDPO() (StepRow, bool) {
	for i := len(r.Rows) - 1; i >= 0; i-- {
		if isTrainPhase(r.Rows[i].Phase) {
			return r.Rows[i], true
		}
	}
	return StepRow{}, false
}

// chartMetric is one DPO metric drawn on a chart.
type chartMetric struct {
	Key   string // TRL's name
	Value func(dpo.Metrics) float64
}

var chartMetrics = []chartMetric{
	{"loss", func(m dpo.Metrics) float64 { return m.Loss }},
	{"rewards/chosen", func(m dpo.Metrics) float64 { return m.RewardsChosen }},
	{"rewards/rejected", func(m dpo.Metrics) float64 { return m.RewardsRejected }},
	{"rewards/margins", func(m dpo.Metrics) float64 { return m.RewardsMargins }},
	{"rewards/accuracies", func(m dpo.Metrics) float64 { return m.RewardsAccuracy }},
	{"grad_norm", func(m dpo.Metrics) float64 { return m.GradNorm }},
	{"entropy", func(m dpo.Metrics) float64 { return m.Entropy }},
	{"mean_token_accuracy", func(m dpo.Metrics) float64 { return m.MeanTokenAccuracy }},
}

// RunLabel names a finished run by what differs between its settings and
// the live run's, e.g. "β=0.5", "ipo, lr=3e-3"; a run with the same
// settings is "run 2". At most three differences are named.
func RunLabel(past, live session.Settings, number int) string {
	var diffs []string
	add := func(differs bool, label string) {
		if differs {
			diffs = append(diffs, label)
		}
	}
	add(past.IsKTO() != live.IsKTO(), map[bool]string{true: "KTO", false: "DPO"}[past.IsKTO()])
	add(past.IsKTO() && live.IsKTO() && past.KTO != live.KTO, ktoLabel(past.EffectiveKTO()))
	add(past.StartsFromBase() != live.StartsFromBase(), map[bool]string{true: "from base", false: "from random"}[past.StartsFromBase()])
	add(past.Preset != live.Preset && !past.StartsFromBase(), past.Preset)
	add(past.Reference != live.Reference, map[string]string{
		session.RefSFTChosen: "ref: SFT chosen", session.RefSFTBoth: "ref: SFT both", session.RefImported: "ref: imported",
	}[past.Reference])
	add(past.Config.Config.String() != live.Config.Config.String(), past.Config.Config.String())
	add(past.Beta != live.Beta, "β="+formatSetting(past.Beta))
	add(past.LR != live.LR, "lr="+formatSetting(past.LR))
	add(past.LabelSmoothing != live.LabelSmoothing, "ε="+formatSetting(past.LabelSmoothing))
	add(past.Pairs != live.Pairs, "other pairs")
	add(past.Judge != live.Judge, judgeLabel(past))
	add(past.Judged() && live.Judged() && past.Judge == live.Judge && past.JudgeEvery != live.JudgeEvery, "judge every "+strconv.Itoa(max(past.JudgeEvery, 1)))
	add(past.BatchSize != live.BatchSize, "batch="+batchLabel(past.BatchSize))
	add(past.Seed != live.Seed, "seed="+strconv.FormatUint(past.Seed, 10))
	add(past.SFTSteps != live.SFTSteps, "SFT "+strconv.Itoa(past.SFTSteps))
	add(past.Steps != live.Steps, "DPO "+strconv.Itoa(past.Steps))
	add(past.SFTLR != live.SFTLR, "SFT lr="+formatSetting(past.SFTLR))
	add(past.Warmup != live.Warmup, "warm-up "+strconv.Itoa(past.Warmup))
	add(past.Schedule != live.Schedule, string(past.Schedule))
	add(past.WeightDecay != live.WeightDecay, "wd="+formatSetting(past.WeightDecay))
	add(past.Clip != live.Clip, "clip="+formatSetting(past.Clip))
	add(past.SimPOGamma != live.SimPOGamma, "γ="+formatSetting(past.SimPOGamma))
	add(past.DiscoPOPTau != live.DiscoPOPTau, "τ="+formatSetting(past.DiscoPOPTau))
	add(fdiv(past) != fdiv(live), string(fdiv(past)))
	add(past.FAlpha != live.FAlpha, "f-α="+formatSetting(past.FAlpha))
	add(past.UseWeighting != live.UseWeighting, map[bool]string{true: "WPO", false: "no WPO"}[past.UseWeighting])
	add(past.LDAlpha != live.LDAlpha, ldLabel(past.LDAlpha))
	add(past.SyncRefModel != live.SyncRefModel || past.RefModelMixupAlpha != live.RefModelMixupAlpha || past.RefModelSyncSteps != live.RefModelSyncSteps, syncLabel(past))
	add(past.ReferenceFree != live.ReferenceFree, map[bool]string{true: "reference-free", false: "with reference"}[past.ReferenceFree])
	switch {
	case len(diffs) == 0:
		return fmt.Sprintf("run %d", number)
	case len(diffs) > 3:
		return strings.Join(diffs[:3], ", ") + ", …"
	}
	return strings.Join(diffs, ", ")
}

// fdiv is the run's f-divergence, reverse_kl when unset.
func fdiv(s session.Settings) dpo.FDivergence {
	if s.FDivergence == "" {
		return dpo.FDivergences()[0]
	}
	return s.FDivergence
}

func ldLabel(l dpo.LDAlpha) string {
	if !l.On {
		return "no LD"
	}
	return "LD α=" + formatSetting(l.Alpha)
}

func syncLabel(s session.Settings) string {
	if !s.SyncRefModel {
		return "fixed π_ref"
	}
	return fmt.Sprintf("TR-DPO α=%s/%d", formatSetting(s.RefModelMixupAlpha), s.RefModelSyncSteps)
}

func batchLabel(n int) string {
	if n == 0 {
		return "all"
	}
	return strconv.Itoa(n)
}

func ktoLabel(k session.KTOSettings) string {
	return fmt.Sprintf("%s λD=%s λU=%s", k.LossType, formatSetting(k.DesirableWeight), formatSetting(k.UndesirableWeight))
}
