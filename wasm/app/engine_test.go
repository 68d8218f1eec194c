//go:build js && wasm

package main

import (
	"strings"
	"syscall/js"
	"testing"
	"time"

	"dpoplayground/wasm/worker/protocol"
)

// blobWorker returns the URL of a worker whose script is src.
func blobWorker(t *testing.T, src string) string {
	parts := js.Global().Get("Array").New(src)
	opts := js.Global().Get("Object").New()
	opts.Set("type", "text/javascript")
	blob := js.Global().Get("Blob").New(parts, opts)
	url := js.Global().Get("URL").Call("createObjectURL", blob)
	t.Cleanup(func() { js.Global().Get("URL").Call("revokeObjectURL", url) })
	return url.String()
}

// event is what the engine reported: a message or a failure.
type event struct {
	msg  protocol.Message
	fail string
}

// watchEngine starts an engine on scriptURL, says hello, and returns a
// function that waits for the engine's next report.
func watchEngine(t *testing.T, scriptURL string) func() event {
	events := make(chan event, 16)
	e := startEngine(scriptURL,
		func(m protocol.Message) { events <- event{msg: m} },
		func(reason string) { events <- event{fail: reason} })
	t.Cleanup(e.stop)
	if e.worker.Truthy() {
		if err := e.post(protocol.Hello{}); err != nil {
			t.Fatal(err)
		}
	}
	return func() event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(20 * time.Second):
			t.Fatal("the engine reported nothing within 20s")
		}
		return event{}
	}
}

func TestEngineReceivesTheWorkersAnswers(t *testing.T) {
	url := blobWorker(t, `self.onmessage = (e) => {
		if (e.data && e.data.type === "hello") self.postMessage({type: "ready", goVersion: "go1.26.8"});
	};`)
	got := watchEngine(t, url)()
	if r, ok := got.msg.(protocol.Ready); !ok || r.GoVersion != "go1.26.8" {
		t.Errorf("got %+v, want Ready", got)
	}
}

func TestEngineTurnsAMalformedReplyIntoAnError(t *testing.T) {
	url := blobWorker(t, `self.onmessage = () => self.postMessage({type: "ready", goVersion: 3});`)
	got := watchEngine(t, url)()
	if e, ok := got.msg.(protocol.Error); !ok || !strings.Contains(e.Message, "goVersion") {
		t.Errorf("got %+v, want an Error with the decoding problem", got)
	}
}

// The loader's own failure report (worker.js) reaches the page as an Error
// naming the request "start".
func TestEngineReceivesTheLoadersFailure(t *testing.T) {
	url := blobWorker(t, `self.postMessage({type: "error", message: "worker.wasm did not load: 404", request: "start"});`)
	got := watchEngine(t, url)()
	if e, ok := got.msg.(protocol.Error); !ok || e.Request != "start" || !strings.Contains(e.Message, "404") {
		t.Errorf("got %+v", got)
	}
}

func TestEngineFailsWhenTheWorkerScriptIsMissing(t *testing.T) {
	url := blobWorker(t, "")
	js.Global().Get("URL").Call("revokeObjectURL", url)
	got := watchEngine(t, url)()
	if want := "the worker did not start (is " + url + " served?)"; got.fail != want {
		t.Errorf("reason = %q, want %q", got.fail, want)
	}
}

func TestEngineFailsWhenTheWorkerThrows(t *testing.T) {
	got := watchEngine(t, blobWorker(t, `throw new Error("worker.wasm is corrupt");`))()
	if got.fail != "Uncaught Error: worker.wasm is corrupt" {
		t.Errorf("got %+v, want a failure with the worker's exception", got)
	}
}
