package ui

// App's actions for the pretrained base model: the "Start from" choice,
// fetching public/models/base when a run starts from it, and the Held-out
// prompts panel, where a preference learned on the pairs shows on prompts
// the pairs never ask.

import (
	"fmt"
	"strings"

	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// The base model's files, relative to the page.
const (
	baseConfigPath  = "models/base/config.json"
	baseWeightsPath = "models/base/model.safetensors"
)

// BaseState is the base model's journey to the worker: fetched by the page
// (only once a setting starts from it), imported by the worker.
type BaseState struct {
	Fetching bool
	Sent     bool               // posted to the worker, not yet answered
	Info     *protocol.Imported // the worker holds it
	Err      string
	// trainWhenReady: Train was pressed (or autoplay asked) while it loaded.
	trainWhenReady bool
	// the files as fetched, for the workers of race lanes, which need the
	// base model too
	config, weights []byte
}

// BaseReady reports whether runs can start from the base model.
func (a *App) BaseReady() bool { return a.Base.Info != nil }

// ensureBase starts fetching the base model if the draft starts from it
// and it is not on its way or in the worker.
func (a *App) ensureBase() {
	b := &a.Base
	if !a.Draft.StartsFromBase() || b.Fetching || b.Sent || b.Info != nil || b.Err != "" {
		return
	}
	b.Fetching = true
	a.Host.Fetch(baseConfigPath, func(cfg []byte, err error) {
		if err != nil {
			a.baseFailed(err)
			return
		}
		a.Host.Fetch(baseWeightsPath, func(w []byte, err error) {
			if err != nil {
				a.baseFailed(err)
				return
			}
			b.Fetching, b.Sent = false, true
			b.config, b.weights = cfg, w
			a.Host.Post(baseImport(cfg, w))
		})
	})
}

func baseImport(cfg, w []byte) protocol.Import {
	return protocol.Import{Role: "base", Name: "the base model", Config: string(cfg), Weights: w}
}

// postBaseToLane gives the base model to the worker of a race lane that
// is not the main worker's (which has it already), before the lane is
// configured from it.
func (a *App) postBaseToLane(method string) {
	if method == session.MethodDPO || !a.Draft.StartsFromBase() || a.Base.config == nil {
		return
	}
	a.Host.PostLane(method, baseImport(a.Base.config, a.Base.weights))
}

func (a *App) baseFailed(err error) {
	a.Base.Fetching, a.Base.Sent, a.Base.trainWhenReady = false, false, false
	a.Base.Err = err.Error()
}

// baseImported takes the worker's answer to the base model's import.
func (a *App) baseImported(m protocol.Imported) {
	a.Base.Sent, a.Base.Info, a.Base.Err = false, &m, ""
	a.validateNow()
	if a.Base.trainWhenReady {
		a.Base.trainWhenReady = false
		a.Train()
	}
}

// RetryBase fetches the base model again after a failure.
func (a *App) RetryBase() {
	a.Base.Err = ""
	a.ensureBase()
}

// baseBlock is why a run cannot start yet because of the base model, or "".
func (a *App) baseBlock() string {
	switch {
	case !a.Draft.StartsFromBase() || a.BaseReady():
		return ""
	case a.Base.Err != "":
		return "The base model could not be loaded (" + a.Base.Err + "). Retry, or choose Random weights under Start from."
	}
	return "The base model is still loading."
}

// StartHint explains the Start from choice.
func (a *App) StartHint() string {
	if a.Draft.Reference == session.RefImported {
		return "The imported reference decides the weights."
	}
	if !a.Draft.StartsFromBase() {
		return "Seeded random weights of the chosen size: the model knows nothing but the pairs."
	}
	switch {
	case a.Base.Info != nil:
		c := a.Base.Info.Model.Config
		return fmt.Sprintf("A %d-layer, %d-wide GPT-2 (%s parameters) pretrained on generated sums, facts and sentences: it can already answer, so a preference learned on the pairs can carry over to other prompts.",
			c.NLayer, c.NEmbd, formatCount(a.Base.Info.Model.Params))
	case a.Base.Err != "":
		return "The base model could not be loaded: " + a.Base.Err
	}
	return "Loading the base model…"
}

// ModelLocked reports whether the base model decides the model's size.
func (a *App) ModelLocked() bool { return a.Draft.StartsFromBase() }

// HeldOutState is the Held-out prompts panel.
type HeldOutState struct {
	Prompts []string // the prompts shown, the base's held-out sums first
	Typed   string   // the prompt being typed
	Answers []session.HeldOutAnswer
	Err     string
	pending int
	nextID  int
}

// defaultHeldOut is how many of the base's held-out sums the panel asks.
const defaultHeldOut = 6

func newHeldOut(nextID int) HeldOutState {
	return HeldOutState{Prompts: append([]string(nil), session.HeldOutPrompts()[:defaultHeldOut]...), nextID: nextID}
}

// RequestHeldOut asks the worker for both models' answers to the prompts.
func (a *App) RequestHeldOut() {
	r := a.Live
	h := &a.HeldOut
	if r == nil || r.Info == nil || a.Hidden("heldout") || h.pending != 0 || len(h.Prompts) == 0 {
		return
	}
	h.nextID++
	h.pending = h.nextID
	a.Host.Post(protocol.HeldOut{Run: r.ID, ID: h.nextID, Request: session.HeldOutRequest{Prompts: h.Prompts, MaxTokens: 32}})
}

// heldOutAnswered takes the worker's answers.
func (a *App) heldOutAnswered(m protocol.HeldOutAnswers) {
	if a.live(m.Run) == nil || m.ID != a.HeldOut.pending {
		return
	}
	a.HeldOut.pending, a.HeldOut.Answers, a.HeldOut.Err = 0, m.Answers, ""
}

// SetHeldOutTyped takes the typed prompt.
func (a *App) SetHeldOutTyped(p string) { a.HeldOut.Typed = p }

// AddHeldOut adds the typed prompt (ending it with a line break, as the
// pairs' text format does) and asks again.
func (a *App) AddHeldOut() {
	p := strings.TrimSpace(a.HeldOut.Typed)
	if p == "" {
		return
	}
	p += "\n"
	for _, q := range a.HeldOut.Prompts {
		if q == p {
			a.HeldOut.Typed = ""
			return
		}
	}
	if len(a.HeldOut.Prompts) >= 12 {
		a.HeldOut.Err = "At most 12 prompts: remove one first."
		return
	}
	a.HeldOut.Prompts = append(a.HeldOut.Prompts, p)
	a.HeldOut.Typed, a.HeldOut.Err = "", ""
	a.HeldOut.pending = 0
	a.RequestHeldOut()
}

// RemoveHeldOut drops prompt i.
func (a *App) RemoveHeldOut(i int) {
	if i < 0 || i >= len(a.HeldOut.Prompts) {
		return
	}
	a.HeldOut.Prompts = append(a.HeldOut.Prompts[:i:i], a.HeldOut.Prompts[i+1:]...)
	if i < len(a.HeldOut.Answers) {
		a.HeldOut.Answers = append(a.HeldOut.Answers[:i:i], a.HeldOut.Answers[i+1:]...)
	}
}

// HeldOutAnswer is the answer for prompt i, if the worker sent one.
func (a *App) HeldOutAnswer(i int) *session.HeldOutAnswer {
	if i < len(a.HeldOut.Answers) && a.HeldOut.Answers[i].Prompt == a.HeldOut.Prompts[i] {
		return &a.HeldOut.Answers[i]
	}
	return nil
}
