// Package ui holds the Vugu components of the playground page. Markup lives
// in *.vugu files; vugugen turns each into a *_gen.go file (committed, see
// README.md) and the logic sits in the plain .go files beside them. The
// page's state and every action on it are in App (plain Go, tested
// natively); the components render it.
package ui

import (
	"dpoplayground/wasm/worker/protocol"
)

// Root is the page's top component.
type Root struct {
	App        *App
	Charts     *Charts
	RaceCharts *RaceCharts // made on first build when nil
}

// BeforeBuild brings the charts up to date with the runs.
func (c *Root) BeforeBuild() {
	c.Charts.Update(c.App)
	if c.RaceCharts == nil {
		c.RaceCharts = &RaceCharts{}
	}
	if c.App.RaceMode() {
		c.RaceCharts.Update(c.App.Race)
	}
}

// ClassName is the class list of the page's outer element.
func (c *Root) ClassName() string {
	s := "playground"
	if c.App.Embed {
		s += " embed"
	}
	for _, h := range c.App.Hide {
		s += " hide-" + h
	}
	return s
}

// EngineState is how far the training Web Worker has come.
type EngineState int

const (
	// EngineLoading: the worker's script or wasm is still loading.
	EngineLoading EngineState = iota
	// EngineReady: the worker answered the page's hello.
	EngineReady
	// EngineFailed: the worker could not start, or stopped.
	EngineFailed
)

// Engine is the page's view of the training Web Worker.
type Engine struct {
	State     EngineState
	GoVersion string // runtime.Version() of the worker, once ready
	SIMD      bool   // the worker computes with WebAssembly SIMD128
	Err       string // why it failed
}

// Apply updates e with a message from the worker: Ready, or an Error that
// says the worker could not start or stopped.
func (e *Engine) Apply(msg protocol.Message) {
	switch m := msg.(type) {
	case protocol.Ready:
		e.State, e.GoVersion, e.SIMD, e.Err = EngineReady, m.GoVersion, m.SIMD, ""
	case protocol.Error:
		e.State, e.Err = EngineFailed, m.Message
	}
}

// Fail records that the worker could not be reached at all.
func (e *Engine) Fail(reason string) {
	e.State, e.Err = EngineFailed, reason
}

// Label is the one-line status the page shows.
func (e Engine) Label() string {
	switch e.State {
	case EngineReady:
		return "engine ready (" + e.GoVersion + ")"
	case EngineFailed:
		return "engine failed: " + e.Err
	}
	return "engine loading…"
}

// Detail explains the engine pill on hover.
func (e Engine) Detail() string {
	switch {
	case e.State != EngineReady:
		return "The training Web Worker (Go compiled to WebAssembly)."
	case e.SIMD:
		return "The training Web Worker runs Go compiled to WebAssembly, with SIMD128 matrix kernels."
	}
	return "The training Web Worker runs Go compiled to WebAssembly (this browser has no WebAssembly SIMD: portable kernels)."
}

// StateName is the state as a word, for the data-state attribute that CSS
// and the end-to-end tests read.
func (e Engine) StateName() string {
	switch e.State {
	case EngineReady:
		return "ready"
	case EngineFailed:
		return "failed"
	}
	return "loading"
}
