//go:build js && wasm

// Command worker is the training Web Worker. public/worker.js instantiates
// worker.wasm inside a dedicated worker, with the SIMD kernels of simd.js
// attached when the browser has them; main installs those kernels (they
// give the portable kernels' results bit for bit, only faster), attaches to
// the worker's global scope and hands the page's messages (see package
// protocol) to a runner.Runner, which trains between them and never returns.
// For a data-parallel run the runner starts helpers through a port.Pool:
// workers nested in this one, running this same program from the same
// worker.js.
package main

import (
	"syscall/js"

	"dpoplayground/wasm/eventloop"
	"dpoplayground/wasm/simd"
	"dpoplayground/wasm/worker/port"
	"dpoplayground/wasm/worker/protocol"
	"dpoplayground/wasm/worker/runner"
)

// helperScript is the loader a helper runs, relative to this worker's own
// address (worker.js itself).
const helperScript = "worker.js"

func main() {
	simdOn := simd.Enable()
	var p *port.Port
	r := runner.New(func(msg protocol.Message) { p.Post(msg) })
	r.SIMD = simdOn
	r.Pool = port.NewPool(helperScript, r.FromHelper)
	p = port.Attach(js.Global(), r.Receive)
	r.Loop(eventloop.New().Wait, nil)
}
