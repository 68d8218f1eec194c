package session

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"dpoplayground/core/dpo"
)

// decodeLink reads a share link's settings JSON as the page does: over the
// defaults, so that settings a link lacks keep their default values (but a
// link without "start" predates the base model: random weights).
func decodeLink(t *testing.T, js string) Settings {
	t.Helper()
	st := DefaultSettings()
	st.Start = StartRandom
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// Every loss setting survives the share link's JSON.
func TestLossSettingsRoundTrip(t *testing.T) {
	st := quick()
	var err error
	st.Loss = "sigmoid,bco_pair,sft"
	if st.LossWeights, err = dpo.WeightsOf(0.8, 0.2, 1); err != nil {
		t.Fatal(err)
	}
	st.Beta, st.LabelSmoothing, st.ReferenceFree, st.SimPOGamma, st.RPOAlpha = 0.3, 0.05, true, 0.7, 0.25
	st.DiscoPOPTau, st.FDivergence, st.FAlpha = 0.2, dpo.AlphaDivergence, 0.75
	st.UseWeighting, st.LDAlpha = true, dpo.LD(0.4)
	st.SyncRefModel, st.RefModelMixupAlpha, st.RefModelSyncSteps = true, 0.3, 7
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"loss", "loss_weights", "discopop_tau", "f_divergence_type", "f_alpha_divergence_coef",
		"use_weighting", "ld_alpha", "sync_ref_model", "ref_model_mixup_alpha", "ref_model_sync_steps"} {
		if !strings.Contains(string(js), `"`+key+`":`) {
			t.Errorf("the link's JSON lacks %s: %s", key, js)
		}
	}
	back := decodeLink(t, string(js))
	if back != st {
		t.Errorf("round trip:\n got %+v\nwant %+v", back.Config, st.Config)
	}
	// ld_alpha 0 (mask the verbose tail) is a setting, not its absence.
	st.LDAlpha = dpo.LD(0)
	js, _ = json.Marshal(st)
	if back := decodeLink(t, string(js)); back.LDAlpha != dpo.LD(0) {
		t.Errorf("ld_alpha 0 came back as %v", back.LDAlpha)
	}
}

// A link made before combined losses ({"loss":"sigmoid","rpo_alpha":0.5})
// runs exactly as sigmoid + 0.5·sft written as a list, step for step.
func TestOldRPOLinkIsSigmoidPlusSFT(t *testing.T) {
	old := decodeLink(t, `{"pairs":`+jsonString(quick().Pairs)+`,"reference":"sft-chosen","preset":"nano","sft_steps":2,"steps":4,"loss":"sigmoid","beta":0.1,"rpo_alpha":0.5}`)
	list := old
	if err := list.SetTerms([]dpo.Term{{Loss: dpo.Sigmoid, Weight: 1}, {Loss: dpo.SFT, Weight: 0.5}}); err != nil {
		t.Fatal(err)
	}
	if list.Loss != "sigmoid,sft" || list.RPOAlpha != 0 || !reflect.DeepEqual(old.Terms(), list.Terms()) {
		t.Fatalf("old link's terms %v, the list's %+v", old.Terms(), list.Config.Config)
	}
	a, b := New(), New()
	if _, err := a.Configure(old); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Configure(list); err != nil {
		t.Fatal(err)
	}
	for {
		ea, err := a.Step()
		if err != nil {
			t.Fatal(err)
		}
		eb, err := b.Step()
		if err != nil {
			t.Fatal(err)
		}
		if ea.Metrics.Metrics != eb.Metrics.Metrics {
			t.Fatalf("step %d: old link %+v, list %+v", ea.Metrics.Step, ea.Metrics.Metrics, eb.Metrics.Metrics)
		}
		if ea.Done {
			break
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// A batch-sorting loss trains with one worker and refuses data-parallel
// shards with a message the page can show.
func TestBatchSortingLossOneWorker(t *testing.T) {
	st := quick()
	st.SFTSteps, st.Loss = 0, dpo.AOT
	s := New()
	if _, err := s.Configure(st); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ShardGrad(0, 2); err == nil || !strings.Contains(err.Error(), "aot") {
		t.Fatalf("ShardGrad(0, 2): %v", err)
	}
	if _, err := s.Step(); err != nil {
		t.Fatal(err)
	}
}

// The SFT defaults follow Start from, unless the person changed them.
func TestSFTDefaultsFollowStart(t *testing.T) {
	st := DefaultSettings()
	if steps, lr := SFTDefaults(StartBase); st.SFTSteps != steps || st.SFTLR != lr || steps >= 60 || lr >= 3e-3 {
		t.Fatalf("default SFT %d × %g, want the base's gentle %d × %g", st.SFTSteps, st.SFTLR, steps, lr)
	}
	st.Start = StartRandom
	st.FollowStart(StartBase)
	if st.SFTSteps != 60 || st.SFTLR != 3e-3 {
		t.Fatalf("from random weights SFT is %d × %g, want 60 × 3e-3", st.SFTSteps, st.SFTLR)
	}
	st.SFTSteps = 7
	st.Start = StartBase
	st.FollowStart(StartRandom)
	if st.SFTSteps != 7 || st.SFTLR != 3e-3 {
		t.Fatalf("a chosen SFT was replaced: %d × %g", st.SFTSteps, st.SFTLR)
	}
	st.FollowStart(StartBase) // no change of start: nothing moves
	if st.SFTSteps != 7 {
		t.Fatalf("sft steps %d", st.SFTSteps)
	}
}
