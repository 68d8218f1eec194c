//go:build js && wasm

// Command worker is the training Web Worker. public/worker.js instantiates
// worker.wasm inside a dedicated worker; main attaches to the worker's
// global scope and hands the page's messages (see package protocol) to a
// runner.Runner, which trains between them and never returns.
package main

import (
	"syscall/js"

	"dpoplayground/wasm/eventloop"
	"dpoplayground/wasm/worker/protocol"
	"dpoplayground/wasm/worker/runner"
)

func main() {
	scope := js.Global()
	var p *port
	r := runner.New(func(msg protocol.Message) { p.post(msg) })
	p = attach(scope, r.Receive)
	r.Loop(eventloop.New().Wait, nil)
}
