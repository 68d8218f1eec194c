package ui

// App's actions for KTO runs: unpaired examples (prompt, completion, label)
// train KTO in the page; the worker posts KTO's metrics under TRL's names.

import (
	"fmt"
	"math"

	"dpoplayground/core/kto"
	"dpoplayground/core/session"
	"dpoplayground/core/train"
	"dpoplayground/wasm/worker/protocol"
)

// IsKTO says whether the run trains KTO.
func (r *Run) IsKTO() bool {
	if r.Info != nil {
		return r.Info.Method == session.MethodKTO
	}
	return r.Settings.IsKTO()
}

// setRunRows starts the table over for a new run: the unpaired examples
// with their labels, or the pairs.
func (a *App) setRunRows(prompts []string) {
	if a.Check.Unpaired {
		a.setExampleRows(a.Check.Examples)
		return
	}
	a.setPairRows(prompts)
}

// stepRow is a step as the page keeps it. A KTO step's row has KTO's loss
// and its desirable (TRL's rewards/chosen) and undesirable
// (rewards/rejected) rewards in the fields the charts and the run bar
// read, and kl kept beside them; a reward-phase step's has the reward
// model's accuracy beside its loss.
func stepRow(m protocol.Metrics) StepRow {
	row := StepRow{Global: m.Global, Phase: m.Phase, PhaseStep: m.PhaseStep, Epoch: m.Epoch, Millis: m.Millis, Metrics: m.Metrics}
	if k := m.KTO; k != nil {
		row.Loss, row.RewardsChosen, row.RewardsRejected, row.RewardsMargins = k.Loss, k.RewardsChosen, k.RewardsRejected, k.RewardsMargins
		row.Entropy, row.KL = k.Entropy, k.KL
	}
	if rw := m.Reward; rw != nil {
		row.RMAccuracy = rw.Accuracy
	}
	return row
}

// applyExamples puts a KTO step's per-example rewards in the table.
func (a *App) applyExamples(global int, ex []kto.ExampleReward) {
	for _, e := range ex {
		if e.Index >= 0 && e.Index < len(a.Pairs) && a.Pairs[e.Index].Unpaired {
			row := &a.Pairs[e.Index]
			row.Reward, row.Known, row.At = e.Reward, true, global
		}
	}
}

// isTrainPhase says whether a step is a preference step (DPO or KTO).
func isTrainPhase(p train.Phase) bool { return p == train.PhaseDPO || p == kto.PhaseKTO }

func init() {
	ktoOf := func(s *session.Settings) *session.KTOSettings {
		s.KTO = s.EffectiveKTO()
		return &s.KTO
	}
	settingFields["kto-loss"] = settingField{"kto-loss",
		func(s session.Settings) string { return string(ktoOf(&s).LossType) },
		func(s *session.Settings, text string) error {
			for _, l := range kto.LossTypes() {
				if string(l) == text {
					ktoOf(s).LossType = l
					return nil
				}
			}
			return fmt.Errorf("choose one of TRL's KTO losses: %v", kto.LossTypes())
		}}
	settingFields["desirable-weight"] = floatField("desirable-weight", 0, 100, true, false, func(s *session.Settings) *float64 { return &ktoOf(s).DesirableWeight })
	settingFields["undesirable-weight"] = floatField("undesirable-weight", 0, 100, true, false, func(s *session.Settings) *float64 { return &ktoOf(s).UndesirableWeight })
}

// KTORatioHint checks TRL's advice on the weights against the data's
// counts: λD·#desirable / (λU·#undesirable) should lie in [1, 4/3].
func (a *App) KTORatioHint() string {
	d := a.Check.Desirable()
	u := len(a.Check.Examples) - d
	k := a.Draft.EffectiveKTO()
	if d == 0 || u == 0 {
		return fmt.Sprintf("%d desirable and %d undesirable examples: KTO needs both kinds to compare.", d, u)
	}
	r := k.DesirableWeight * float64(d) / (k.UndesirableWeight * float64(u))
	s := fmt.Sprintf("λD·%d desirable / λU·%d undesirable = %.2f; ", d, u, r)
	switch {
	case r < 1:
		return s + fmt.Sprintf("TRL recommends 1 to 4/3: raise λD to about %s.", formatSetting(roundTo(k.UndesirableWeight*float64(u)/float64(d), 3)))
	case r > 4.0/3:
		return s + fmt.Sprintf("TRL recommends 1 to 4/3: raise λU to about %s.", formatSetting(roundTo(k.DesirableWeight*float64(d)/float64(u)/(4.0/3), 3)))
	}
	return s + "within TRL's recommended 1 to 4/3."
}

func roundTo(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
