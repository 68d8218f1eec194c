"use strict";
// worker.js is the training Web Worker's loader: it runs worker.wasm, whose
// Go main (wasm/worker) answers the page's messages. Messages that arrive
// while the wasm loads wait in dpoEarlyMessages; Go answers them first.
self.dpoEarlyMessages = [];
self.dpoBufferMessage = (event) => self.dpoEarlyMessages.push(event);
self.addEventListener("message", self.dpoBufferMessage);

function reportFailure(what, err) {
  const detail = err && err.message ? err.message : String(err);
  self.postMessage({ type: "error", message: what + ": " + detail });
}

try {
  importScripts("wasm_exec.js");
  const go = new Go();
  WebAssembly.instantiateStreaming(fetch("worker.wasm"), go.importObject)
    .then((result) => go.run(result.instance))
    .then(() => reportFailure("worker.wasm stopped", "the browser console says why"))
    .catch((err) => reportFailure("worker.wasm did not load", err));
} catch (err) {
  reportFailure("wasm_exec.js did not load", err);
}
