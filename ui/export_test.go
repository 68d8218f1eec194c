package ui

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"dpoplayground/core/dpo"
	"dpoplayground/core/session"
	"dpoplayground/core/train"
)

func exportRows() []StepRow {
	return []StepRow{
		{Global: 1, Phase: train.PhaseSFT, PhaseStep: 1, Epoch: 1, Metrics: dpo.Metrics{Loss: 5.5, GradNorm: 3, LearningRate: 0.003, RewardsChosen: 9}},
		{Global: 2, Phase: train.PhaseDPO, PhaseStep: 1, Epoch: 1, Metrics: dpo.Metrics{Loss: 0.6931471805599453, RewardsChosen: -0.01, RewardsRejected: -0.02,
			RewardsMargins: 0.01, RewardsAccuracy: 1, LogpsChosen: -12.5, LogpsRejected: -30, LogitsChosen: 0.1, LogitsRejected: 0.2, GradNorm: 1e-7, LearningRate: 1e-4}},
		{Global: 3, Phase: session.PhaseReward, PhaseStep: 1, Epoch: 1, Metrics: dpo.Metrics{Loss: 0.4, GradNorm: 2, LearningRate: 1e-3}, RMAccuracy: 0.75},
	}
}

func TestMetricsCSV(t *testing.T) {
	recs, err := csv.NewReader(strings.NewReader(string(MetricsCSV(exportRows())))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHead := "step,phase,phase_step,epoch,loss,grad_norm,learning_rate,rewards/chosen,rewards/rejected,rewards/accuracies,rewards/margins,logps/chosen,logps/rejected,logits/chosen,logits/rejected,accuracy"
	if strings.Join(recs[0], ",") != wantHead {
		t.Errorf("header %v", recs[0])
	}
	if len(recs) != 4 {
		t.Fatalf("%d records", len(recs))
	}
	if got := strings.Join(recs[1], ","); got != "1,sft,1,1,5.5,3,0.003,,,,,,,,," {
		t.Errorf("SFT row %s (rewards must be empty)", got)
	}
	if recs[2][4] != "0.6931471805599453" || recs[2][5] != "1e-07" || recs[2][9] != "1" || recs[2][15] != "" {
		t.Errorf("DPO row %v (values must read back exactly, no reward-model accuracy)", recs[2])
	}
	if got := strings.Join(recs[3], ","); got != "3,reward,1,1,0.4,2,0.001,,,,,,,,,0.75" {
		t.Errorf("reward-phase row %s (the DPO rewards must be empty, the reward model's accuracy set)", got)
	}
}

func TestMetricsJSON(t *testing.T) {
	rows := exportRows()
	rows[1].LogitsChosen = math.NaN()
	var got []map[string]any
	if err := json.Unmarshal(MetricsJSON(rows), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d objects", len(got))
	}
	if _, ok := got[2]["rewards/accuracies"]; ok || got[2]["phase"] != "reward" || got[2]["accuracy"] != 0.75 || got[2]["loss"] != 0.4 {
		t.Errorf("reward-phase object %v", got[2])
	}
	if _, ok := got[1]["accuracy"]; ok {
		t.Errorf("DPO object %v has the reward model's accuracy", got[1])
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
