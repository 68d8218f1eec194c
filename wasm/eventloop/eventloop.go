//go:build js && wasm

// Package eventloop lets Go code in the browser give the JavaScript event
// loop a turn. A Go program compiled to WebAssembly runs on the thread of
// its page or worker: while a goroutine computes, no event is handled, so
// long work is cut into pieces with a Turn between them.
package eventloop

import "syscall/js"

// Turn waits for one turn of the event loop. It posts a message to itself
// through a MessageChannel and waits for it, so every event queued
// meanwhile (messages, input, timers that are due) is handled first; unlike
// setTimeout it adds no delay (browsers clamp nested timeouts to 4 ms).
type Turn struct {
	send   js.Value
	arrive chan struct{}
	cb     js.Func
}

// New returns a Turn with its own MessageChannel.
func New() *Turn {
	ch := js.Global().Get("MessageChannel").New()
	t := &Turn{send: ch.Get("port2"), arrive: make(chan struct{}, 1)}
	t.cb = js.FuncOf(func(js.Value, []js.Value) any {
		select {
		case t.arrive <- struct{}{}:
		default:
		}
		return nil
	})
	ch.Get("port1").Set("onmessage", t.cb)
	return t
}

// Wait returns after one turn of the event loop. It must not be called
// from a JavaScript callback (the callback would block its own event
// loop), only from a goroutine.
func (t *Turn) Wait() {
	t.send.Call("postMessage", js.Null())
	<-t.arrive
}
