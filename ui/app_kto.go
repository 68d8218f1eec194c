package ui

// App's actions for KTO runs: unpaired examples (prompt, completion, label)
// train KTO in the page; the worker posts KTO's metrics under TRL's names.

import (
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

// ktoRow is a KTO step's row: KTO's loss and its desirable (TRL's
// rewards/chosen) and undesirable (rewards/rejected) rewards in the fields
// the charts and the run bar read, and kl kept beside them.
func ktoRow(m protocol.Metrics) StepRow {
	row := StepRow{Global: m.Global, Phase: m.Phase, PhaseStep: m.PhaseStep, Epoch: m.Epoch, Millis: m.Millis, Metrics: m.Metrics}
	if k := m.KTO; k != nil {
		row.Loss, row.RewardsChosen, row.RewardsRejected, row.RewardsMargins = k.Loss, k.RewardsChosen, k.RewardsRejected, k.RewardsMargins
		row.Entropy, row.KL = k.Entropy, k.KL
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
