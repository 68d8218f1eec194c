package ui

import (
	"strings"
	"testing"

	"dpoplayground/core/dpo"
	"dpoplayground/core/session"
)

// The loss menu builds TRL's loss lists: a term added with its weight, a
// weight changed, a term removed, and the parameters shown follow the terms.
func TestLossTermsBuildACombinedLoss(t *testing.T) {
	a, _ := started(t)
	a.SetField("loss", "nca_pair")
	if a.Draft.Loss != "nca_pair" || len(a.LossTerms()) != 1 || a.LossUses(dpo.ParamLabelSmoothing) {
		t.Fatalf("one loss: %q, %d terms, label smoothing shown %v", a.Draft.Loss, len(a.LossTerms()), a.LossUses(dpo.ParamLabelSmoothing))
	}
	a.AddLossTerm() // sft first (RPO), then bco_pair
	a.SetField(termWeightID(1), "0.005")
	a.AddLossTerm()
	if got := a.LossName(); got != "nca_pair+0.005·sft+bco_pair" {
		t.Errorf("combined loss %q", got)
	}
	if err := a.Draft.Validate(); err != nil {
		t.Errorf("the combined loss does not validate: %v", err)
	}
	a.SetField(termFieldID(2), "apo_zero")
	a.SetField(termWeightID(2), "-1")
	if a.FieldError(termWeightID(2)) == "" || a.Draft.Terms()[2].Loss != dpo.APOZero || a.Draft.Terms()[2].Weight != 1 {
		t.Errorf("term 3: %+v, error %q", a.Draft.Terms()[2], a.FieldError(termWeightID(2)))
	}
	a.RemoveLossTerm(1)
	if got := a.LossName(); got != "nca_pair+apo_zero" {
		t.Errorf("after removing sft: %q", got)
	}
	a.RemoveLossTerm(0) // the first term stays
	if len(a.LossTerms()) != 2 {
		t.Errorf("the first term was removed: %q", a.LossName())
	}
	for i := 0; i < dpo.MaxTerms; i++ {
		a.AddLossTerm()
	}
	if n := len(a.Draft.Terms()); n != dpo.MaxTerms || a.CanAddLossTerm() {
		t.Errorf("%d terms after adding past the limit of %d", n, dpo.MaxTerms)
	}
}

// An old link's rpo_alpha shows as an sft term; editing the terms keeps
// the same loss.
func TestRPOAlphaShowsAsSFTTerm(t *testing.T) {
	a, _ := started(t)
	st := a.Draft
	st.Loss, st.RPOAlpha = dpo.Sigmoid, 0.5
	a.setSettings(st)
	terms := a.LossTerms()
	if len(terms) != 2 || terms[1].Info.Type != dpo.SFT || a.FieldText(termWeightID(1)) != "0.5" {
		t.Fatalf("terms %+v, weight text %q", terms, a.FieldText(termWeightID(1)))
	}
	before := a.Draft.Terms()
	a.SetField(termWeightID(0), "1")
	if a.Draft.RPOAlpha != 0 || a.Draft.Loss != "sigmoid,sft" || a.Draft.Terms()[1] != before[1] {
		t.Errorf("after an edit: loss %q weights %v rpo_alpha %v", a.Draft.Loss, a.Draft.LossWeights.Slice(), a.Draft.RPOAlpha)
	}
}

// Parameters appear with the losses that take them and are dropped with
// them; a batch-sorting loss runs on one worker.
func TestLossParametersFollowTheLoss(t *testing.T) {
	a, _ := started(t)
	a.SetField("label-smoothing", "0.1")
	a.SetField("loss", "discopop")
	if !a.LossUses(dpo.ParamDiscoPOPTau) || a.LossUses(dpo.ParamLabelSmoothing) || a.Draft.LabelSmoothing != 0 {
		t.Errorf("discopop: τ shown %v, ε shown %v, ε = %v", a.LossUses(dpo.ParamDiscoPOPTau), a.LossUses(dpo.ParamLabelSmoothing), a.Draft.LabelSmoothing)
	}
	a.SetField("f-divergence", "js_divergence")
	a.SetField("use-weighting", "true")
	if a.Draft.FDivergence != dpo.FDivergence("js_divergence") || !a.Draft.UseWeighting {
		t.Errorf("f-divergence %q, WPO %v", a.Draft.FDivergence, a.Draft.UseWeighting)
	}
	a.SetField("f-divergence", "chi2")
	if a.FieldError("f-divergence") == "" {
		t.Error("an unknown f-divergence was accepted")
	}
	a.SetField("ld-on", "true")
	if !a.Draft.LDAlpha.On || a.Draft.LDAlpha.Alpha != 0.5 || a.FieldText("ld-alpha") != "0.5" {
		t.Errorf("LD-DPO on: %+v, text %q", a.Draft.LDAlpha, a.FieldText("ld-alpha"))
	}
	a.SetField("loss", "apo_zero") // takes no f-divergence
	if a.Draft.FDivergence != "" || a.LossUses(dpo.ParamFDivergence) {
		t.Errorf("apo_zero kept f-divergence %q", a.Draft.FDivergence)
	}
	a.SetField("loss", "aot")
	if a.DraftWorkers() != 1 || !a.LossSorts() || a.Draft.UseWeighting {
		t.Errorf("aot: %d workers, sorts %v, WPO %v", a.DraftWorkers(), a.LossSorts(), a.Draft.UseWeighting)
	}
	if err := a.Draft.Validate(); err != nil {
		t.Errorf("aot settings do not validate: %v", err)
	}
	a.SetField("sync-ref", "true")
	a.SetField("sync-ref-steps", "8")
	if !a.Draft.SyncRefModel || a.Draft.RefModelSyncSteps != 8 {
		t.Errorf("TR-DPO: %v every %d", a.Draft.SyncRefModel, a.Draft.RefModelSyncSteps)
	}
}

// A faded run is labelled by what differed: the loss as the CLI names it,
// the f-divergence, TR-DPO.
func TestRunLabelNamesLossOptions(t *testing.T) {
	live := session.DefaultSettings()
	past := live
	past.Loss = dpo.NCAPair
	if got := RunLabel(past, live, 2); got != "nca_pair" {
		t.Errorf("label %q, want nca_pair", got)
	}
	past = live
	past.FDivergence = "js_divergence"
	if got := RunLabel(past, live, 2); got != "js_divergence" {
		t.Errorf("label %q, want js_divergence", got)
	}
	past = live
	if err := past.SetTerms([]dpo.Term{{Loss: dpo.Sigmoid, Weight: 1}, {Loss: dpo.SFT, Weight: 0.005}}); err != nil {
		t.Fatal(err)
	}
	past.SyncRefModel = true
	if got := RunLabel(past, live, 2); !strings.Contains(got, "sigmoid+0.005·sft") || !strings.Contains(got, "TR-DPO α=0.6/512") {
		t.Errorf("label %q", got)
	}
}
