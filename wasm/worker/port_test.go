//go:build js && wasm

package main

import (
	"runtime"
	"strings"
	"syscall/js"
	"testing"
)

// fakeScope is an EventTarget with a postMessage that records the JSON text
// of every reply, standing in for the worker global scope.
type fakeScope struct {
	js.Value
	replies []string
	post    js.Func
}

func newFakeScope(t *testing.T) *fakeScope {
	s := &fakeScope{Value: js.Global().Get("EventTarget").New()}
	s.post = js.FuncOf(func(this js.Value, args []js.Value) any {
		s.replies = append(s.replies, js.Global().Get("JSON").Call("stringify", args[0]).String())
		return nil
	})
	s.Set("postMessage", s.post)
	t.Cleanup(s.post.Release)
	return s
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

func TestHelloIsAnsweredWithReady(t *testing.T) {
	scope := newFakeScope(t)
	p := attach(scope.Value, respond)
	defer p.detach()
	scope.Call("dispatchEvent", messageEvent(jsonValue(`{"type":"hello"}`)))
	want := `{"type":"ready","goVersion":"` + runtime.Version() + `"}`
	if len(scope.replies) != 1 || scope.replies[0] != want {
		t.Fatalf("replies = %q, want [%s]", scope.replies, want)
	}
}

// Messages that arrived while worker.wasm loaded are answered on attach, and
// the buffering listener of worker.js no longer sees new ones.
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
	scope.Call("dispatchEvent", messageEvent(jsonValue(`{"type":"bogus"}`)))

	p := attach(scope.Value, respond)
	defer p.detach()
	if got := len(scope.replies); got != 2 {
		t.Fatalf("after attach: %d replies %q, want the 2 buffered ones answered", got, scope.replies)
	}
	if !strings.HasPrefix(scope.replies[0], `{"type":"ready"`) || !strings.Contains(scope.replies[1], `unknown message type \"bogus\"`) {
		t.Errorf("replies out of order or wrong: %q", scope.replies)
	}
	if !scope.Get("dpoEarlyMessages").IsUndefined() {
		t.Errorf("dpoEarlyMessages still set after attach")
	}
	scope.Call("dispatchEvent", messageEvent(jsonValue(`{"type":"hello"}`)))
	if early.Length() != 2 {
		t.Errorf("the buffering listener still receives messages after attach")
	}
	if len(scope.replies) != 3 {
		t.Errorf("a message after attach got %d replies in total, want 3", len(scope.replies))
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scope := newFakeScope(t)
			p := attach(scope.Value, respond)
			defer p.detach()
			scope.Call("dispatchEvent", messageEvent(tt.data))
			if len(scope.replies) != 1 || !strings.HasPrefix(scope.replies[0], `{"type":"error"`) || !strings.Contains(scope.replies[0], tt.want) {
				t.Fatalf("replies = %q, want one error mentioning %s", scope.replies, tt.want)
			}
		})
	}
}
