//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"

	"dpoplayground/wasm/worker/protocol"
)

// engine is the page's handle on the training Web Worker.
type engine struct {
	worker    js.Value
	callbacks []js.Func
}

// startEngine starts the worker from scriptURL and says nothing yet (the
// page's first message is its Hello). Each message the worker sends goes
// to receive; a worker that cannot start or stops goes to fail.
func startEngine(scriptURL string, receive func(protocol.Message), fail func(reason string)) *engine {
	e := &engine{}
	worker, err := newWorker(scriptURL)
	if err != nil {
		fail(err.Error())
		return e
	}
	e.worker = worker
	e.listen("message", func(ev js.Value) {
		msg, err := protocol.FromJS(ev.Get("data"))
		if err != nil {
			receive(protocol.Error{Message: err.Error()})
			return
		}
		receive(msg)
	})
	e.listen("messageerror", func(js.Value) {
		receive(protocol.Error{Message: "a message from the worker could not be deserialized"})
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

// post sends msg to the worker, transferring its weights.
func (e *engine) post(msg protocol.Message) error {
	if !e.worker.Truthy() {
		return fmt.Errorf("the worker is not running")
	}
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
