//go:build js && wasm

package port

import (
	"errors"
	"fmt"
	"syscall/js"

	"dpoplayground/wasm/worker/protocol"
)

// Pool starts the lead worker's helpers (runner.Pool): dedicated workers
// nested in this one, each running the same loader script, so a helper is
// worker.wasm with the SIMD kernels, exactly as the lead is. Everything it
// sends comes back as protocol messages through receive, with the helper's
// id; a helper that fails to load or throws comes back as a
// protocol.Error.
type Pool struct {
	script  string
	receive func(id int, msg protocol.Message)
	helpers map[int]*helperWorker
}

type helperWorker struct {
	worker    js.Value
	events    []string
	callbacks []js.Func
}

// NewPool returns a Pool that starts helpers from scriptURL (relative to
// the worker's own address).
func NewPool(scriptURL string, receive func(id int, msg protocol.Message)) *Pool {
	return &Pool{script: scriptURL, receive: receive, helpers: map[int]*helperWorker{}}
}

// Start starts helper id. It fails at once where the browser offers no
// Worker constructor inside workers, or refuses the script's address;
// failures to load come later, through receive.
func (p *Pool) Start(id int) error {
	ctor := js.Global().Get("Worker")
	if ctor.Type() != js.TypeFunction {
		return errors.New("this browser cannot start a Web Worker inside a Web Worker")
	}
	w, err := construct(ctor, p.script)
	if err != nil {
		return err
	}
	h := &helperWorker{worker: w}
	h.listen("message", func(ev js.Value) {
		msg, err := protocol.FromJS(ev.Get("data"))
		if err != nil {
			msg = protocol.Error{Message: err.Error()}
		}
		p.receive(id, msg)
	})
	h.listen("messageerror", func(js.Value) {
		p.receive(id, protocol.Error{Message: "a message from it could not be deserialized"})
	})
	h.listen("error", func(ev js.Value) {
		// A script that does not load gives an error event without a message.
		reason := p.script + " did not load"
		if m := ev.Get("message"); m.Type() == js.TypeString && m.String() != "" {
			reason = m.String()
		}
		ev.Call("preventDefault")
		p.receive(id, protocol.Error{Message: reason, Request: "start"})
	})
	p.helpers[id] = h
	return nil
}

// construct is `new ctor(script)`, with the exception it may throw as an
// error.
func construct(ctor js.Value, script string) (w js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			jsErr, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%s could not be started: %v", script, jsErr)
		}
	}()
	return ctor.New(script), nil
}

func (h *helperWorker) listen(event string, handle func(js.Value)) {
	cb := js.FuncOf(func(this js.Value, args []js.Value) any {
		handle(args[0])
		return nil
	})
	h.events, h.callbacks = append(h.events, event), append(h.callbacks, cb)
	h.worker.Call("addEventListener", event, cb)
}

// Post sends msg to helper id, transferring a copy of its weights or
// gradient.
func (p *Pool) Post(id int, msg protocol.Message) error {
	h, ok := p.helpers[id]
	if !ok {
		return fmt.Errorf("helper %d is not running", id)
	}
	return protocol.PostTo(h.worker, msg)
}

// Stop ends helper id at once and frees its callbacks, removed first so
// that no event already queued reaches a released function.
func (p *Pool) Stop(id int) {
	h, ok := p.helpers[id]
	if !ok {
		return
	}
	delete(p.helpers, id)
	h.worker.Call("terminate")
	for i, cb := range h.callbacks {
		h.worker.Call("removeEventListener", h.events[i], cb)
		cb.Release()
	}
}
