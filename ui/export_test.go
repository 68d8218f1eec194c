package ui

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"dpoplayground/core/dpo"
	"dpoplayground/core/train"
)

func exportRows() []StepRow {
	return []StepRow{
		{Global: 1, Phase: train.PhaseSFT, PhaseStep: 1, Epoch: 1, Metrics: dpo.Metrics{Loss: 5.5, GradNorm: 3, LearningRate: 0.003, RewardsChosen: 9}},
		{Global: 2, Phase: train.PhaseDPO, PhaseStep: 1, Epoch: 1, Metrics: dpo.Metrics{Loss: 0.6931471805599453, RewardsChosen: -0.01, RewardsRejected: -0.02,
			RewardsMargins: 0.01, RewardsAccuracy: 1, LogpsChosen: -12.5, LogpsRejected: -30, LogitsChosen: 0.1, LogitsRejected: 0.2, GradNorm: 1e-7, LearningRate: 1e-4}},
	}
}

func TestMetricsCSV(t *testing.T) {
	recs, err := csv.NewReader(strings.NewReader(string(MetricsCSV(exportRows())))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHead := "step,phase,phase_step,epoch,loss,grad_norm,learning_rate,rewards/chosen,rewards/rejected,rewards/accuracies,rewards/margins,logps/chosen,logps/rejected,logits/chosen,logits/rejected"
	if strings.Join(recs[0], ",") != wantHead {
		t.Errorf("header %v", recs[0])
	}
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	if got := strings.Join(recs[1], ","); got != "1,sft,1,1,5.5,3,0.003,,,,,,,," {
		t.Errorf("SFT row %s (rewards must be empty)", got)
	}
	if recs[2][4] != "0.6931471805599453" || recs[2][5] != "1e-07" || recs[2][9] != "1" {
		t.Errorf("DPO row %v (values must read back exactly)", recs[2])
	}
}

func TestMetricsJSON(t *testing.T) {
	rows := exportRows()
	rows[1].LogitsChosen = math.NaN()
	var got []map[string]any
	if err := json.Unmarshal(MetricsJSON(rows), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d objects", len(got))
	}
	if _, ok := got[0]["rewards/chosen"]; ok || got[0]["phase"] != "sft" || got[0]["loss"] != 5.5 {
		t.Errorf("SFT object %v", got[0])
	}
	if got[1]["rewards/accuracies"] != 1.0 || got[1]["step"] != 2.0 || got[1]["logits/chosen"] != nil {
		t.Errorf("DPO object %v (NaN must be null)", got[1])
	}
	if string(MetricsJSON(nil)) != "[]\n" {
		t.Errorf("no rows: %q", MetricsJSON(nil))
	}
}
