package ui

import (
	"testing"

	"dpoplayground/wasm/worker/protocol"
)

func TestEngineFollowsWorkerMessages(t *testing.T) {
	tests := []struct {
		name      string
		msgs      []protocol.Message
		wantLabel string
		wantState string
	}{
		{"nothing yet", nil, "engine loading…", "loading"},
		{"ready", []protocol.Message{protocol.Ready{GoVersion: "go1.26.8"}}, "engine ready (go1.26.8)", "ready"},
		{"stopped after ready", []protocol.Message{protocol.Ready{GoVersion: "go1.26.8"}, protocol.Error{Message: "out of memory", Request: "exit"}}, "engine failed: out of memory", "failed"},
		{"ready again clears the error", []protocol.Message{protocol.Error{Message: "x"}, protocol.Ready{GoVersion: "go1.26.9"}}, "engine ready (go1.26.9)", "ready"},
		{"a hello changes nothing", []protocol.Message{protocol.Hello{}}, "engine loading…", "loading"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Engine
			for _, m := range tt.msgs {
				e.Apply(m)
			}
			if got := e.Label(); got != tt.wantLabel {
				t.Errorf("Label() = %q, want %q", got, tt.wantLabel)
			}
			if got := e.StateName(); got != tt.wantState {
				t.Errorf("StateName() = %q, want %q", got, tt.wantState)
			}
		})
	}
}

// Only a failure to start or the worker's end fail the engine; other
// errors are about one request and appear where that request was made.
func TestAppRoutesWorkerErrors(t *testing.T) {
	a, _ := newApp(false)
	a.Apply(protocol.Ready{GoVersion: "go1.26.8"})
	a.Apply(protocol.Error{Message: `protocol: "metrics" message: bad`})
	if a.Engine.State != EngineReady || a.Alert == "" {
		t.Errorf("a protocol error: engine %+v, alert %q", a.Engine, a.Alert)
	}
	a.Apply(protocol.Error{Message: "worker.wasm stopped", Request: "exit"})
	if a.Engine.State != EngineFailed {
		t.Errorf("the worker's end: engine %+v", a.Engine)
	}
}

func TestEngineFail(t *testing.T) {
	e := Engine{State: EngineReady, GoVersion: "go1.26.8"}
	e.Fail("worker.js could not be loaded")
	if got, want := e.Label(), "engine failed: worker.js could not be loaded"; got != want {
		t.Errorf("Label() = %q, want %q", got, want)
	}
}

func TestRootClassName(t *testing.T) {
	a, _ := newApp(false)
	if got := (&Root{App: a}).ClassName(); got != "playground" {
		t.Errorf("page ClassName() = %q", got)
	}
	e, _ := newApp(true)
	e.Hide = []string{"data", "controls"}
	if got := (&Root{App: e}).ClassName(); got != "playground embed hide-data hide-controls" {
		t.Errorf("embed ClassName() = %q", got)
	}
}
