//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"

	"dpoplayground/ui"
	"dpoplayground/wasm/worker/protocol"
)

// engine is the page's handle on the training Web Worker.
type engine struct {
	worker    js.Value
	callbacks []js.Func
}

// startEngine starts the worker from scriptURL and says hello. Every change
// the worker causes goes through update, which applies it to the page's
// ui.Engine under the render lock and re-renders.
func startEngine(scriptURL string, update func(func(*ui.Engine))) *engine {
	e := &engine{}
	fail := func(reason string) {
		update(func(s *ui.Engine) { s.Fail(reason) })
	}
	worker, err := newWorker(scriptURL)
	if err != nil {
		fail(err.Error())
		return e
	}
	e.worker = worker
	e.listen("message", func(ev js.Value) {
		msg, err := protocol.FromJS(ev.Get("data"))
		if err != nil {
			fail(err.Error())
			return
		}
		update(func(s *ui.Engine) { s.Apply(msg) })
	})
	e.listen("messageerror", func(js.Value) {
		fail("a message from the worker could not be deserialized")
	})
	e.listen("error", func(ev js.Value) {
		// Loading failures of worker.js carry no message; say what to check.
		reason := "the worker did not start (is " + scriptURL + " served?)"
		if m := ev.Get("message"); m.Type() == js.TypeString && m.String() != "" {
			reason = m.String()
		}
		ev.Call("preventDefault")
		fail(reason)
	})
	if err := e.post(protocol.Hello{}); err != nil {
		fail(err.Error())
	}
	return e
}

// newWorker is `new Worker(scriptURL)`; the constructor throws when the
// CSP or the URL forbids the worker.
func newWorker(scriptURL string) (w js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			jsErr, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("the worker could not be created: %v", jsErr)
		}
	}()
	return js.Global().Get("Worker").New(scriptURL), nil
}

func (e *engine) listen(event string, handle func(js.Value)) {
	cb := js.FuncOf(func(this js.Value, args []js.Value) any {
		handle(args[0])
		return nil
	})
	e.callbacks = append(e.callbacks, cb)
	e.worker.Call("addEventListener", event, cb)
}

// post sends msg to the worker.
func (e *engine) post(msg protocol.Message) error {
	return protocol.PostTo(e.worker, msg)
}

// stop ends the worker and frees the callbacks.
func (e *engine) stop() {
	if e.worker.Truthy() {
		e.worker.Call("terminate")
	}
	for _, cb := range e.callbacks {
		cb.Release()
	}
}
