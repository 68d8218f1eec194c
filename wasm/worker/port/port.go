//go:build js && wasm

// Package port is the training worker's end of the page's message channel:
// the JavaScript glue between postMessage objects and protocol messages.
// It lives apart from the worker's main package, which also loads the SIMD
// kernels, so that its tests run in a browser without simd.js.
package port

import (
	"syscall/js"

	"dpoplayground/wasm/worker/protocol"
)

// Port is the worker's end of the page's message channel.
type Port struct {
	scope   js.Value // the worker global scope (an EventTarget in tests)
	receive func(protocol.Message)
	onMsg   js.Func
}

// Attach starts passing the messages that arrive at scope to receive.
// public/worker.js buffers messages that arrive while worker.wasm is still
// loading in scope.dpoEarlyMessages through the listener
// scope.dpoBufferMessage; attach swaps that listener for its own and passes
// on the buffered messages in order. It runs in one JavaScript turn, so no
// message falls between the two. receive must not block: it runs inside a
// JavaScript event callback.
func Attach(scope js.Value, receive func(protocol.Message)) *Port {
	p := &Port{scope: scope, receive: receive}
	p.onMsg = js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) > 0 {
			p.deliver(args[0].Get("data"))
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
			p.deliver(early.Index(i).Get("data"))
		}
	}
	return p
}

// Detach stops passing messages on and frees the callback.
func (p *Port) Detach() {
	p.scope.Call("removeEventListener", "message", p.onMsg)
	p.onMsg.Release()
}

// deliver decodes one message; malformed data gets a protocol.Error reply.
func (p *Port) deliver(data js.Value) {
	msg, err := protocol.FromJS(data)
	if err != nil {
		p.Post(protocol.Error{Message: err.Error()})
		return
	}
	p.receive(msg)
}

// Post sends msg to the page, transferring its weights; a message that
// cannot be encoded is replaced by an Error saying so.
func (p *Port) Post(msg protocol.Message) {
	if err := protocol.PostTo(p.scope, msg); err != nil {
		protocol.PostTo(p.scope, protocol.Error{Message: err.Error()})
	}
}
