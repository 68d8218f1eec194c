"use strict";
// worker.js is the training Web Worker's loader: it runs worker.wasm, whose
// Go main (wasm/worker) answers the page's messages. The SIMD128 kernels of
// simd.js are attached to the Go instance first (Go falls back to its
// portable kernels where the browser lacks SIMD). Messages that arrive
// while the wasm loads wait in dpoEarlyMessages; Go answers them first.
// A failure to start is reported as an error for the request "start", the
// Go program's end (which only a crash causes) as one for "exit".
self.dpoEarlyMessages = [];
self.dpoBufferMessage = (event) => self.dpoEarlyMessages.push(event);
self.addEventListener("message", self.dpoBufferMessage);

function reportFailure(request, what, err) {
  const detail = err && err.message ? err.message : String(err);
  self.postMessage({ type: "error", message: what + ": " + detail, request: request });
}

try {
  importScripts("wasm_exec.js", "simd.js");
  const go = new Go();
  WebAssembly.instantiateStreaming(fetch("worker.wasm"), self.dpoSimd.importObject(go))
    .then(async (result) => {
      await self.dpoSimd.attach(result.instance);
      return result;
    })
    .then((result) => {
      const done = go.run(result.instance);
      return done.then(() => reportFailure("exit", "worker.wasm stopped", "the browser console says why"));
    }, (err) => reportFailure("start", "worker.wasm did not load", err));
} catch (err) {
  reportFailure("start", "wasm_exec.js or simd.js did not load", err);
}
