//go:build js && wasm

package port

import (
	"runtime"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"dpoplayground/core/gpt"
	"dpoplayground/core/safetensors"
	"dpoplayground/core/session"
	"dpoplayground/wasm/eventloop"
	"dpoplayground/wasm/worker/protocol"
	"dpoplayground/wasm/worker/runner"
)

// fakeScope is an EventTarget with a postMessage that records every reply
// (its JSON text and the object), standing in for the worker global scope.
type fakeScope struct {
	js.Value
	replies []string
	objects []js.Value
	arrived chan struct{}
	post    js.Func
}

func newFakeScope(t *testing.T) *fakeScope {
	s := &fakeScope{Value: js.Global().Get("EventTarget").New(), arrived: make(chan struct{}, 1024)}
	s.post = js.FuncOf(func(this js.Value, args []js.Value) any {
		s.replies = append(s.replies, js.Global().Get("JSON").Call("stringify", args[0]).String())
		s.objects = append(s.objects, args[0])
		s.arrived <- struct{}{}
		return nil
	})
	s.Set("postMessage", s.post)
	t.Cleanup(s.post.Release)
	return s
}

// waitFor waits until a reply contains want and returns its index.
func (s *fakeScope) waitFor(t *testing.T, want string) int {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		for i, r := range s.replies {
			if strings.Contains(r, want) {
				return i
			}
		}
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("no reply containing %s within 60s; replies: %q", want, s.replies)
		}
	}
}

// startWorker attaches a runner to a fake scope, as main does, with the
// real event-loop yield.
func startWorker(t *testing.T) *fakeScope {
	scope := newFakeScope(t)
	var p *Port
	r := runner.New(func(msg protocol.Message) { p.Post(msg) })
	p = Attach(scope.Value, r.Receive)
	stop := make(chan struct{})
	go r.Loop(eventloop.New().Wait, stop)
	t.Cleanup(func() { close(stop); p.Detach() })
	return scope
}

// messageEvent is a MessageEvent whose data is the given JavaScript value.
func messageEvent(data js.Value) js.Value {
	init := js.Global().Get("Object").New()
	init.Set("data", data)
	return js.Global().Get("MessageEvent").New("message", init)
}

func jsonValue(text string) js.Value {
	return js.Global().Get("JSON").Call("parse", text)
}

func send(t *testing.T, scope *fakeScope, msg protocol.Message) {
	t.Helper()
	obj, _, err := protocol.ToJS(msg)
	if err != nil {
		t.Fatal(err)
	}
	scope.Call("dispatchEvent", messageEvent(obj))
}

func TestHelloIsAnsweredWithReady(t *testing.T) {
	scope := startWorker(t)
	scope.Call("dispatchEvent", messageEvent(jsonValue(`{"type":"hello"}`)))
	want := `{"type":"ready","goVersion":"` + runtime.Version() + `"}`
	if i := scope.waitFor(t, `"ready"`); scope.replies[i] != want {
		t.Fatalf("reply %s, want %s", scope.replies[i], want)
	}
}

// Messages that arrived while worker.wasm loaded are answered after attach,
// in order, and the buffering listener of worker.js no longer sees new ones.
func TestEarlyMessagesAreAnsweredInOrder(t *testing.T) {
	scope := newFakeScope(t)
	early := js.Global().Get("Array").New()
	buffer := js.FuncOf(func(this js.Value, args []js.Value) any {
		early.Call("push", args[0])
		return nil
	})
	defer buffer.Release()
	scope.Set("dpoEarlyMessages", early)
	scope.Set("dpoBufferMessage", buffer)
	scope.Call("addEventListener", "message", buffer)
	scope.Call("dispatchEvent", messageEvent(jsonValue(`{"type":"hello"}`)))
	scope.Call("dispatchEvent", messageEvent(jsonValue(`{"type":"ready","goVersion":"x"}`)))

	var p *Port
	r := runner.New(func(msg protocol.Message) { p.Post(msg) })
	p = Attach(scope.Value, r.Receive)
	defer p.Detach()
	stop := make(chan struct{})
	defer close(stop)
	go r.Loop(eventloop.New().Wait, stop)
	scope.waitFor(t, `does not handle`)
	if len(scope.replies) != 2 || !strings.HasPrefix(scope.replies[0], `{"type":"ready"`) || !strings.Contains(scope.replies[1], `does not handle \"ready\"`) {
		t.Errorf("replies out of order or wrong: %q", scope.replies)
	}
	if !scope.Get("dpoEarlyMessages").IsUndefined() {
		t.Errorf("dpoEarlyMessages still set after attach")
	}
	scope.Call("dispatchEvent", messageEvent(jsonValue(`{"type":"hello"}`)))
	if early.Length() != 2 {
		t.Errorf("the buffering listener still receives messages after attach")
	}
}

func TestMalformedMessagesGetErrorReplies(t *testing.T) {
	cyclic := js.Global().Get("Object").New()
	cyclic.Set("self", cyclic)
	tests := []struct {
		name string
		data js.Value
		want string
	}{
		{"number", js.ValueOf(42), "not a JSON object"},
		{"null", js.Null(), "not a JSON object"},
		{"function", js.Global().Get("Object"), "function, not a JSON object"},
		{"cyclic", cyclic, "cannot be read as JSON"},
		{"no type", jsonValue(`{"kind":"hello"}`), `no \"type\" field`},
		{"unhandled", jsonValue(`{"type":"ready","goVersion":"go1"}`), `does not handle \"ready\" messages`},
		{"train before configure", jsonValue(`{"type":"train","run":1}`), `no run: press Train or Reset first`},
		{"weights on a message without them", func() js.Value {
			v := jsonValue(`{"type":"hello"}`)
			v.Set("weights", js.Global().Get("ArrayBuffer").New(4))
			return v
		}(), `carries no weights`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scope := startWorker(t)
			scope.Call("dispatchEvent", messageEvent(tt.data))
			i := scope.waitFor(t, `"type":"error"`)
			if !strings.Contains(scope.replies[i], tt.want) {
				t.Fatalf("reply %s does not mention %s", scope.replies[i], tt.want)
			}
		})
	}
}

// A run in the browser: configure, train continuously, pause promptly,
// resume to the end, then export weights that arrive as a transferred
// ArrayBuffer holding a safetensors file.
func TestTrainPauseResumeExport(t *testing.T) {
	scope := startWorker(t)
	st := session.DefaultSettings()
	st.Start = session.StartRandom
	st.FollowStart(session.StartBase) // random weights' SFT learning rate
	st.Preset, st.SFTSteps, st.Steps = "nano", 4, 60
	send(t, scope, protocol.Configure{Run: 1, Settings: st})
	scope.waitFor(t, `"type":"configured"`)
	send(t, scope, protocol.Train{Run: 1})
	scope.waitFor(t, `"global":3,`)
	send(t, scope, protocol.Pause{Run: 1})
	i := scope.waitFor(t, `"type":"paused"`)
	msg, err := protocol.FromJS(scope.objects[i])
	if err != nil {
		t.Fatal(err)
	}
	paused := msg.(protocol.Paused)
	if paused.Global >= st.SFTSteps+st.Steps {
		t.Fatalf("pause took effect only at step %d, the end of the run", paused.Global)
	}
	n := len(scope.replies)
	time.Sleep(200 * time.Millisecond)
	for _, r := range scope.replies[n:] {
		if strings.Contains(r, `"type":"metrics"`) {
			t.Fatalf("a step ran after Paused: %s", r)
		}
	}
	send(t, scope, protocol.Train{Run: 1})
	scope.waitFor(t, `"type":"done"`)

	send(t, scope, protocol.Export{Run: 1, Which: "policy"})
	i = scope.waitFor(t, `"type":"exported"`)
	obj := scope.objects[i]
	if !obj.Get("weights").InstanceOf(js.Global().Get("ArrayBuffer")) {
		t.Fatalf("weights arrived as %s, want an ArrayBuffer", obj.Get("weights").Type())
	}
	msg, err = protocol.FromJS(obj)
	if err != nil {
		t.Fatal(err)
	}
	exp := msg.(protocol.Exported)
	f, err := safetensors.Read(exp.Weights)
	if err != nil {
		t.Fatalf("exported weights: %v", err)
	}
	if _, ok := f.Get("transformer.wte.weight"); !ok {
		t.Errorf("exported tensors lack transformer.wte.weight: %d tensors", len(f.Tensors))
	}
	cfg, err := gpt.ParseHFConfig([]byte(exp.Config))
	if err != nil || cfg.NLayer != 1 {
		t.Errorf("exported config %+v (%v) from %s", cfg, err, exp.Config)
	}
}
