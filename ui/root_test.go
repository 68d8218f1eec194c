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
		{"error after ready", []protocol.Message{protocol.Ready{GoVersion: "go1.26.8"}, protocol.Error{Message: "out of memory"}}, "engine failed: out of memory", "failed"},
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

func TestEngineFail(t *testing.T) {
	e := Engine{State: EngineReady, GoVersion: "go1.26.8"}
	e.Fail("worker.js could not be loaded")
	if got, want := e.Label(), "engine failed: worker.js could not be loaded"; got != want {
		t.Errorf("Label() = %q, want %q", got, want)
	}
}

func TestRootClassName(t *testing.T) {
	if got := (&Root{}).ClassName(); got != "playground" {
		t.Errorf("page ClassName() = %q", got)
	}
	if got := (&Root{Embed: true}).ClassName(); got != "playground embed" {
		t.Errorf("embed ClassName() = %q", got)
	}
}
