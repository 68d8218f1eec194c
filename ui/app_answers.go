package ui

// App's actions for what the worker answers: metrics, samples, evaluations, errors.

import (
	"fmt"
	"time"

	"dpoplayground/core/kto"
	"dpoplayground/core/session"
	"dpoplayground/core/train"
	"dpoplayground/wasm/worker/protocol"
)

// Apply takes one message from the worker.
func (a *App) Apply(msg protocol.Message) {
	if a.applyRace(session.MethodDPO, msg) || a.applyLabel(msg) {
		return
	}
	now := a.Host.Now()
	switch m := msg.(type) {
	case protocol.Ready:
		a.Engine.Apply(m)
	case protocol.Error:
		a.applyError(m)
	case protocol.Configured:
		if r := a.live(m.Run); r != nil {
			r.Info = &m
			r.InUse = max(m.Workers, 1)
			if r.State == RunConfiguring {
				r.State = RunReady
			}
			a.setRunRows(m.Prompts)
			a.judgedPairs = nil
			a.requestDetail(now)
			a.RequestSamples()
			a.RequestHeldOut()
		}
	case protocol.Metrics:
		r := a.live(m.Run)
		if r == nil {
			return
		}
		if r.Since.IsZero() {
			r.startClock(now.Add(-time.Duration(m.Millis * float64(time.Millisecond))))
		}
		prevPhase := r.Phase()
		r.add(stepRow(m))
		a.applyExamples(m.Global, m.Examples)
		a.judgedStep(r, m)
		for _, p := range m.Pairs {
			if p.Index >= 0 && p.Index < len(a.Pairs) {
				row := &a.Pairs[p.Index]
				row.RewardChosen, row.RewardRejected, row.Known, row.At = p.RewardChosen, p.RewardRejected, true, m.Global
			}
		}
		if phase := r.Phase(); phase != prevPhase {
			switch {
			case phase == string(session.PhaseReward):
				a.Notice = "SFT finished: the reference is frozen, and a reward model now learns the pairs."
			case phase == "dpo" && prevPhase == string(session.PhaseReward):
				a.Notice = "The reward model is trained: online DPO starts, judged by it."
			case phase == "dpo":
				a.Notice = "SFT finished: the reference is frozen and DPO starts."
			case phase == string(kto.PhaseKTO):
				a.Notice = "SFT finished: the reference is frozen and KTO starts."
			}
		}
		if r.State == RunTraining {
			if a.Sample.Auto && now.Sub(a.Sample.at) >= sampleInterval {
				a.RequestSamples()
				a.RequestHeldOut()
			}
			if m.Phase == train.PhaseDPO && now.Sub(a.detail.at) >= detailInterval {
				a.requestDetail(now)
			}
		}
	case protocol.Fallback:
		if r := a.live(m.Run); r != nil {
			r.InUse = max(m.Workers, 1)
			r.WorkersNote = fmt.Sprintf("Training goes on with %s: %s.", plural(r.InUse, "worker", "workers"), m.Reason)
		}
	case protocol.Paused:
		if r := a.live(m.Run); r != nil {
			r.stopClock(now)
			if r.State == RunPausing || r.State == RunTraining {
				r.State = RunPaused
				a.requestDetail(now)
				a.RequestSamples()
				a.RequestHeldOut()
			}
		}
	case protocol.Done:
		if r := a.live(m.Run); r != nil {
			r.stopClock(now)
			r.State = RunDone
			a.Notice = "Training finished after " + plural(m.Global, "step", "steps") + "."
			a.requestDetail(now)
			a.RequestSamples()
			a.RequestHeldOut()
		}
	case protocol.Evaluation:
		if a.live(m.Run) != nil {
			for i, row := range m.Rows {
				if i < len(a.Pairs) {
					a.Pairs[i].RewardChosen, a.Pairs[i].RewardRejected, a.Pairs[i].Reward = row.RewardChosen, row.RewardRejected, row.Reward
					a.Pairs[i].Known, a.Pairs[i].At = a.Live.SFTSteps() < m.Global, m.Global
				}
			}
		}
	case protocol.PairDetail:
		if a.live(m.Run) != nil && m.Index == a.Selected {
			a.Detail = &m
			a.detail.pending = false
		}
	case protocol.HeldOutAnswers:
		a.heldOutAnswered(m)
	case protocol.Samples:
		if a.live(m.Run) != nil && m.ID == a.Sample.pending {
			a.Sample.Result, a.Sample.pending, a.Sample.Err = &m, 0, ""
		}
	case protocol.Exported:
		if a.live(m.Run) == nil {
			return
		}
		a.Host.Download("model.safetensors", "application/octet-stream", m.Weights)
		a.Host.Download("config.json", "application/json", []byte(m.Config))
		if m.Which == "reward" {
			a.ExportNote = fmt.Sprintf("Saved the judge's reward model: model.safetensors (%s) and config.json. Load them with GPT2ForSequenceClassification.from_pretrained(folder), or judge with them: dpo online -judge rm:folder.",
				formatBytes(len(m.Weights)))
			return
		}
		a.ExportNote = fmt.Sprintf("Saved the %s after step %d: model.safetensors (%s) and config.json. Load them with GPT2LMHeadModel.from_pretrained(folder).",
			m.Which, a.Live.Step(), formatBytes(len(m.Weights)))
	case protocol.Imported:
		if m.Role == "base" {
			a.baseImported(m)
			return
		}
		a.importPending = max(0, a.importPending-1)
		a.ImportErr = ""
		if m.Role == "reference" {
			a.ImportedRef = &m
			a.SetField("reference", session.RefImported)
		} else {
			a.ImportedPolicy = &m
		}
		a.Notice = fmt.Sprintf("Imported %s as the %s: %d layers, %d wide (%s parameters).",
			m.Name, importRoleName(m.Role), m.Model.Config.NLayer, m.Model.Config.NEmbd, formatCount(m.Model.Params))
		a.validateNow()
	}
}

// live returns the live run if id is its id: answers about older runs are
// dropped.
func (a *App) live(id int) *Run {
	if a.Live != nil && a.Live.ID == id {
		return a.Live
	}
	return nil
}

func (a *App) applyError(m protocol.Error) {
	switch m.Request {
	case "start", "exit":
		a.Engine.Apply(m)
		return
	case "import":
		if a.Base.Sent {
			a.baseFailed(fmt.Errorf("%s", m.Message))
			return
		}
		a.importPending = max(0, a.importPending-1)
		a.ImportErr = "The model could not be imported: " + m.Message
		return
	}
	if m.Run != 0 && a.live(m.Run) == nil {
		return // about a run the page has left
	}
	r := a.Live
	switch m.Request {
	case "configure":
		if r != nil {
			r.State, r.Err = RunFailed, m.Message
		}
		a.Alert = "The run could not start: " + m.Message
	case "train", "step", "pause":
		if r != nil && r.State == RunFailed {
			return // the configure error says it already
		}
		if r != nil && r.State != RunDone {
			r.State = RunPaused
			r.stopClock(a.Host.Now())
		}
		a.Alert = "Training stopped: " + m.Message
	case "sample":
		a.Sample.pending, a.Sample.Err = 0, m.Message
	case "heldOut":
		a.HeldOut.pending, a.HeldOut.Err = 0, m.Message
	case "pair":
		a.detail.pending = false
	case "export":
		a.ExportNote = "Export failed: " + m.Message
	default:
		a.Alert = "The training worker reported: " + m.Message
	}
}

func importRoleName(role string) string {
	if role == "policy" {
		return "initial policy"
	}
	return "reference"
}
