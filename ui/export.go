package ui

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strconv"

	"dpoplayground/core/session"
)

// Which steps have a metric column.
const (
	everyStep       = iota // loss, grad_norm, learning_rate
	preferenceSteps        // DPO and KTO steps: the implicit rewards
	rewardSteps            // the reward phase of a run judged by its own reward model
)

// metricColumns are the exported metrics under TRL's names, in the order of
// TRL's DPO logs, then the reward model's accuracy (TRL's RewardTrainer
// name). An SFT step has only loss, grad_norm and learning_rate; a
// reward-phase step has those (its reward model's) and accuracy.
var metricColumns = []struct {
	Name  string
	Steps int
	Get   func(StepRow) float64
}{
	{"loss", everyStep, func(r StepRow) float64 { return r.Loss }},
	{"grad_norm", everyStep, func(r StepRow) float64 { return r.GradNorm }},
	{"learning_rate", everyStep, func(r StepRow) float64 { return r.LearningRate }},
	{"rewards/chosen", preferenceSteps, func(r StepRow) float64 { return r.RewardsChosen }},
	{"rewards/rejected", preferenceSteps, func(r StepRow) float64 { return r.RewardsRejected }},
	{"rewards/accuracies", preferenceSteps, func(r StepRow) float64 { return r.RewardsAccuracy }},
	{"rewards/margins", preferenceSteps, func(r StepRow) float64 { return r.RewardsMargins }},
	{"logps/chosen", preferenceSteps, func(r StepRow) float64 { return r.LogpsChosen }},
	{"logps/rejected", preferenceSteps, func(r StepRow) float64 { return r.LogpsRejected }},
	{"logits/chosen", preferenceSteps, func(r StepRow) float64 { return r.LogitsChosen }},
	{"logits/rejected", preferenceSteps, func(r StepRow) float64 { return r.LogitsRejected }},
	{"accuracy", rewardSteps, func(r StepRow) float64 { return r.RMAccuracy }},
}

// has says whether step r has a metric of the column kind steps.
func has(r StepRow, steps int) bool {
	switch steps {
	case preferenceSteps:
		return isTrainPhase(r.Phase)
	case rewardSteps:
		return r.Phase == session.PhaseReward
	}
	return true
}

// MetricsCSV is one row per step: step (counting every phase), phase,
// phase_step, epoch, then the metrics under TRL's names; metrics a step
// does not have are empty.
func MetricsCSV(rows []StepRow) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := []string{"step", "phase", "phase_step", "epoch"}
	for _, c := range metricColumns {
		head = append(head, c.Name)
	}
	w.Write(head)
	for _, r := range rows {
		rec := []string{strconv.Itoa(r.Global), string(r.Phase), strconv.Itoa(r.PhaseStep), strconv.Itoa(r.Epoch)}
		for _, c := range metricColumns {
			v := ""
			if has(r, c.Steps) {
				v = formatFloat(c.Get(r))
			}
			rec = append(rec, v)
		}
		w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}

// MetricsJSON is a JSON array with one object per step, with the same
// fields as MetricsCSV (a step's object has only the metrics it has: an SFT
// step's no reward fields).
func MetricsJSON(rows []StepRow) []byte {
	var buf bytes.Buffer
	buf.WriteString("[")
	for i, r := range rows {
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString("\n  {")
		buf.WriteString(`"step":` + strconv.Itoa(r.Global))
		phase, _ := json.Marshal(string(r.Phase))
		buf.WriteString(`,"phase":` + string(phase))
		buf.WriteString(`,"phase_step":` + strconv.Itoa(r.PhaseStep))
		buf.WriteString(`,"epoch":` + strconv.Itoa(r.Epoch))
		for _, c := range metricColumns {
			if !has(r, c.Steps) {
				continue
			}
			v := c.Get(r)
			s := "null" // JSON has no NaN or infinity
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				s = formatFloat(v)
			}
			buf.WriteString(`,"` + c.Name + `":` + s)
		}
		buf.WriteString("}")
	}
	if len(rows) > 0 {
		buf.WriteString("\n")
	}
	buf.WriteString("]\n")
	return buf.Bytes()
}

// formatFloat is the shortest text that reads back as the same float64.
func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
