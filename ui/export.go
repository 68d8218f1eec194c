package ui

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strconv"

	"dpoplayground/core/train"
)

// metricColumns are the exported metrics under TRL's names, in the order of
// TRL's DPO logs. An SFT step has only loss, grad_norm and learning_rate.
var metricColumns = []struct {
	Name string
	SFT  bool
	Get  func(StepRow) float64
}{
	{"loss", true, func(r StepRow) float64 { return r.Loss }},
	{"grad_norm", true, func(r StepRow) float64 { return r.GradNorm }},
	{"learning_rate", true, func(r StepRow) float64 { return r.LearningRate }},
	{"rewards/chosen", false, func(r StepRow) float64 { return r.RewardsChosen }},
	{"rewards/rejected", false, func(r StepRow) float64 { return r.RewardsRejected }},
	{"rewards/accuracies", false, func(r StepRow) float64 { return r.RewardsAccuracy }},
	{"rewards/margins", false, func(r StepRow) float64 { return r.RewardsMargins }},
	{"logps/chosen", false, func(r StepRow) float64 { return r.LogpsChosen }},
	{"logps/rejected", false, func(r StepRow) float64 { return r.LogpsRejected }},
	{"logits/chosen", false, func(r StepRow) float64 { return r.LogitsChosen }},
	{"logits/rejected", false, func(r StepRow) float64 { return r.LogitsRejected }},
}

// MetricsCSV is one row per step: step (counting SFT then DPO), phase,
// phase_step, epoch, then the metrics under TRL's names; metrics an SFT
// step does not have are empty.
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
			if c.SFT || r.Phase != train.PhaseSFT {
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
// fields as MetricsCSV (an SFT step's object has no reward fields).
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
			if !c.SFT && r.Phase == train.PhaseSFT {
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
