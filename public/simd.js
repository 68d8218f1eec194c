"use strict";
// simd.js loads the WebAssembly SIMD128 kernels (simd.wasm, assembled from
// wasm/simd/kernels.wat) onto a Go instance's own memory. It works in a page
// (<script src="simd.js">) and in a Web Worker (importScripts("simd.js")):
//
//   const go = new Go();
//   const { instance } = await WebAssembly.instantiateStreaming(
//     fetch("program.wasm"), dpoSimd.importObject(go));
//   await dpoSimd.attach(instance);   // before go.run
//   go.run(instance);                 // Go's main then calls simd.Enable()
//
// importObject adds the "dpo_simd" functions that package wasm/simd
// imports; they forward to the SIMD module once attach has instantiated it
// with the Go instance's exported memory, so the kernels read and write Go
// slices in place. Without SIMD support (or if simd.wasm fails to load),
// attach resolves to false, available() stays 0 and Go keeps its portable
// kernels: the import object is still needed, since the Go program imports
// the functions either way.
(function (scope) {
  // The smallest module with a SIMD instruction (i8x16.splat, i8x16.popcnt):
  // WebAssembly.validate accepts it only where SIMD128 is supported.
  const probe = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253,
    98, 11,
  ]);
  const supported = typeof WebAssembly === "object" && WebAssembly.validate(probe);

  let kernels = null; // the SIMD instance's exports, once attached

  const imports = {
    available: () => (kernels === null ? 0 : 1),
    gemm: (c, ldc, a, ars, acs, b, ldb, m, k, n, acc) => kernels.gemm(c, ldc, a, ars, acs, b, ldb, m, k, n, acc),
    transpose: (dst, src, rows, cols, lds) => kernels.transpose(dst, src, rows, cols, lds),
    expf: (dst, src, n, shift) => kernels.expf(dst, src, n, shift),
    gelu: (out, th, inp, n) => kernels.gelu(out, th, inp, n),
  };

  scope.dpoSimd = {
    // supported says whether this browser validates SIMD128 modules.
    supported,
    // importObject returns go.importObject with the dpo_simd functions added.
    importObject(go) {
      go.importObject.dpo_simd = imports;
      return go.importObject;
    },
    // attach instantiates the SIMD module (url, default "simd.wasm" beside
    // this script's page or worker) on goInstance's memory and resolves to
    // whether the kernels are available to Go.
    async attach(goInstance, url) {
      if (!supported) {
        return false;
      }
      try {
        const env = { env: { memory: goInstance.exports.mem } };
        const source = fetch(url || "simd.wasm");
        const { instance } = await WebAssembly.instantiateStreaming(source, env);
        kernels = instance.exports;
        return true;
      } catch (err) {
        console.warn("simd.js: the SIMD kernels did not load, Go keeps its portable kernels:", err);
        return false;
      }
    },
    // attached says whether attach succeeded.
    get attached() {
      return kernels !== null;
    },
  };
})(self);
