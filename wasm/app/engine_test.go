//go:build js && wasm

package main

import (
	"sync"
	"syscall/js"
	"testing"
	"time"

	"dpoplayground/ui"
)

// blobWorker returns the URL of a worker whose script is src.
func blobWorker(t *testing.T, src string) string {
	parts := js.Global().Get("Array").New(src)
	opts := js.Global().Get("Object").New()
	opts.Set("type", "text/javascript")
	blob := js.Global().Get("Blob").New(parts, opts)
	url := js.Global().Get("URL").Call("createObjectURL", blob).String()
	t.Cleanup(func() { js.Global().Get("URL").Call("revokeObjectURL", url) })
	return url
}

// watchEngine starts an engine on scriptURL and returns a function that
// waits for the page's engine state to leave "loading".
func watchEngine(t *testing.T, scriptURL string) func() ui.Engine {
	var mu sync.Mutex
	var state ui.Engine
	changed := make(chan struct{}, 16)
	e := startEngine(scriptURL, func(update func(*ui.Engine)) {
		mu.Lock()
		update(&state)
		mu.Unlock()
		changed <- struct{}{}
	})
	t.Cleanup(e.stop)
	return func() ui.Engine {
		t.Helper()
		select {
		case <-changed:
		case <-time.After(20 * time.Second):
			t.Fatal("the engine state did not change within 20s")
		}
		mu.Lock()
		defer mu.Unlock()
		return state
	}
}

func TestEngineBecomesReadyWhenTheWorkerAnswersHello(t *testing.T) {
	url := blobWorker(t, `self.onmessage = (e) => {
		if (e.data && e.data.type === "hello") self.postMessage({type: "ready", goVersion: "go1.26.8"});
	};`)
	got := watchEngine(t, url)()
	if got.Label() != "engine ready (go1.26.8)" {
		t.Errorf("engine = %+v, label %q", got, got.Label())
	}
}

func TestEngineFailsOnAMalformedReply(t *testing.T) {
	url := blobWorker(t, `self.onmessage = () => self.postMessage({type: "ready", goVersion: 3});`)
	got := watchEngine(t, url)()
	if got.State != ui.EngineFailed || got.Err == "" {
		t.Errorf("engine = %+v, want failed with the decoding error", got)
	}
}

func TestEngineFailsWhenTheWorkerScriptIsMissing(t *testing.T) {
	url := blobWorker(t, "")
	js.Global().Get("URL").Call("revokeObjectURL", url)
	got := watchEngine(t, url)()
	if got.State != ui.EngineFailed {
		t.Fatalf("engine = %+v, want failed", got)
	}
	if want := "the worker did not start (is " + url + " served?)"; got.Err != want {
		t.Errorf("reason = %q, want %q", got.Err, want)
	}
}

func TestEngineFailsWhenTheWorkerThrows(t *testing.T) {
	got := watchEngine(t, blobWorker(t, `throw new Error("worker.wasm is corrupt");`))()
	if got.State != ui.EngineFailed || got.Err != "Uncaught Error: worker.wasm is corrupt" {
		t.Errorf("engine = %+v, want failed with the worker's exception", got)
	}
}
