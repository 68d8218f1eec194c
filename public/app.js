"use strict";
// app.js starts the playground page: it runs app.wasm (the Vugu UI in
// wasm/app), which renders into #app and starts the training worker.
(function () {
  // Vugu's renderer installs its DOM helper through window.eval, which this
  // site's Content-Security-Policy forbids. vugu-render.js (extracted by
  // build.sh from the vugu module that app.wasm is built with) has installed
  // the helper already, and the helper starts with
  // `if(window.vuguRender)return;`, so evaluating it again would do nothing:
  // that one call is answered here. Every other call goes to the browser's
  // own eval, so the policy still refuses page code, while automation
  // (Playwright's page.evaluate and waitForFunction, DevTools) that the
  // browser lets evaluate keeps working.
  const nativeEval = window.eval;
  window.eval = function (source) {
    if (typeof window.vuguRender === "function" && typeof source === "string" &&
        source.startsWith("(function(){if(window.vuguRender)return;")) {
      return undefined;
    }
    return nativeEval(source);
  };

  function showFailure(message) {
    const p = document.createElement("p");
    p.className = "load-error";
    p.textContent = "The playground could not start: " + message;
    document.body.replaceChildren(p);
  }

  if (typeof WebAssembly !== "object" || typeof Go !== "function") {
    showFailure("this browser lacks WebAssembly, or wasm_exec.js did not load.");
    return;
  }
  const go = new Go();
  WebAssembly.instantiateStreaming(fetch("app.wasm"), go.importObject)
    .then((result) => go.run(result.instance))
    .then(() => showFailure("app.wasm stopped; the browser console says why."))
    .catch((err) => showFailure("app.wasm did not load (" + err + ")."));
})();
