//go:build js && wasm

package main

import (
	"syscall/js"

	"dpoplayground/wasm/worker/protocol"
)

// port is the worker's end of the page's message channel: the JavaScript
// glue between postMessage objects and protocol messages.
type port struct {
	scope   js.Value // the worker global scope (an EventTarget in tests)
	respond func(protocol.Message) protocol.Message
	onMsg   js.Func
}

// attach starts answering the messages that arrive at scope. public/worker.js
// buffers messages that arrive while worker.wasm is still loading in
// scope.dpoEarlyMessages through the listener scope.dpoBufferMessage; attach
// swaps that listener for its own and answers the buffered messages in order.
// It runs in one JavaScript turn, so no message falls between the two.
func attach(scope js.Value, respond func(protocol.Message) protocol.Message) *port {
	p := &port{scope: scope, respond: respond}
	p.onMsg = js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) > 0 {
			p.receive(args[0].Get("data"))
		}
		return nil
	})
	if buffer := scope.Get("dpoBufferMessage"); buffer.Type() == js.TypeFunction {
		scope.Call("removeEventListener", "message", buffer)
	}
	scope.Call("addEventListener", "message", p.onMsg)
	if early := scope.Get("dpoEarlyMessages"); early.Type() == js.TypeObject {
		scope.Delete("dpoEarlyMessages")
		for i := 0; i < early.Length(); i++ {
			p.receive(early.Index(i).Get("data"))
		}
	}
	return p
}

// detach stops answering messages and frees the callback.
func (p *port) detach() {
	p.scope.Call("removeEventListener", "message", p.onMsg)
	p.onMsg.Release()
}

// receive answers one message; malformed data gets a protocol.Error reply.
func (p *port) receive(data js.Value) {
	msg, err := protocol.FromJS(data)
	if err != nil {
		p.post(protocol.Error{Message: err.Error()})
		return
	}
	p.post(p.respond(msg))
}

// post sends msg to the page; a reply that cannot be encoded is replaced by
// an Error saying so.
func (p *port) post(msg protocol.Message) {
	obj, err := protocol.ToJS(msg)
	if err != nil {
		obj, _ = protocol.ToJS(protocol.Error{Message: err.Error()})
	}
	p.scope.Call("postMessage", obj)
}
