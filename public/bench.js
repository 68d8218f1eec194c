"use strict";
// bench.js is two things. In bench.html it drives the benchmark: it runs
// bench.wasm (the Go benchmark of package core/bench) in Web Workers, shows
// the figures, and sets window.benchResult to the same JSON report that
// `dpo bench -json` prints, with the browser-only parts added (SIMD
// self-test, data-parallel scaling over k workers, the small preset's
// memory, and TensorFlow.js on the same step when its files are served).
// Loaded as a Web Worker (new Worker("bench.js")), it is the loader of
// bench.wasm and relays requests to it.
//
// URL parameters of bench.html: runs (timed steps, default 15), workers
// (most workers for the scaling, default navigator.hardwareConcurrency),
// tfjs (where bench/tfjs/ is served, e.g. /tfjs/; absent: no comparison),
// auto (start at once), selftest=only (run the SIMD self-test alone),
// scaling=only (the self-test, then the worker scaling alone).

if (typeof document === "undefined") {
  benchWorker();
} else {
  document.addEventListener("DOMContentLoaded", benchPage);
}

// ---------------------------------------------------------------- worker

function benchWorker() {
  importScripts("wasm_exec.js", "simd.js");
  const ready = (async () => {
    const go = new Go();
    const { instance } = await WebAssembly.instantiateStreaming(fetch("bench.wasm"), dpoSimd.importObject(go));
    await dpoSimd.attach(instance);
    self.dpoGoMemory = instance.exports.mem;
    go.run(instance); // main installs self.dpoBench, then waits for requests
    if (typeof self.dpoBench !== "function") {
      throw new Error("bench.wasm did not start");
    }
  })();
  self.onmessage = async (event) => {
    const { id, req, data } = event.data;
    try {
      await ready;
      const out = self.dpoBench(JSON.stringify(req), data);
      self.postMessage({ id, json: out.json, data: out.data }, out.data ? [out.data.buffer] : []);
    } catch (err) {
      self.postMessage({ id, error: String((err && err.message) || err) });
    }
  };
}

// ---------------------------------------------------------------- page

// startWorker starts a worker that answers {id, req, data} messages and
// returns call(req, data) → Promise<{value, data}>.
function startWorker(url) {
  const w = new Worker(url);
  const pending = new Map();
  let next = 0;
  const failAll = (err) => {
    for (const p of pending.values()) {
      p.reject(err);
    }
    pending.clear();
  };
  w.onmessage = (event) => {
    const { id, json, data, error } = event.data;
    const p = pending.get(id);
    pending.delete(id);
    if (!p) {
      return;
    }
    if (error) {
      p.reject(new Error(error));
      return;
    }
    const value = JSON.parse(json);
    if (value && value.error) {
      p.reject(new Error(value.error));
    } else {
      p.resolve({ value, data });
    }
  };
  w.onerror = (event) => {
    event.preventDefault();
    failAll(new Error(url + ": " + (event.message || "the worker failed")));
  };
  return {
    call(req, data) {
      return new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        w.postMessage({ id, req, data }, data ? [data.buffer] : []);
      });
    },
    terminate() {
      failAll(new Error("terminated"));
      w.terminate();
    },
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// round3 rounds to three decimals, as the Go reports do.
function round3(x) {
  return Math.round(x * 1000) / 1000;
}

function timing(ms) {
  return { median_ms: round3(median(ms)), min_ms: round3(Math.min(...ms)) };
}

function intParam(params, name, fallback, lo, hi) {
  const v = Number.parseInt(params.get(name) || "", 10);
  return Number.isFinite(v) && v >= lo && v <= hi ? v : fallback;
}

// benchRun runs bench.wasm's bench op with the given options and kernel set
// in a worker kept for these calls, and resolves to its result; benchKernel
// times one kernel (bench.KernelNames) in the same worker. They are how
// ./build.sh bench's driver measures the browser and native code turn about
// (core/bench.Round); the page's own run does not use them.
let runWorker = null;
function turnWorker() {
  if (runWorker === null) {
    runWorker = startWorker("bench.js");
  }
  return runWorker;
}

async function benchRun(options, simd) {
  return (await turnWorker().call({ op: "bench", options, simd })).value;
}

async function benchKernel(options, name, simd) {
  return (await turnWorker().call({ op: "kernel", options, name, simd })).value;
}

function benchPage() {
  window.benchRun = benchRun;
  window.benchKernel = benchKernel;
  const params = new URLSearchParams(location.search);
  const cores = navigator.hardwareConcurrency || 1;
  const form = document.getElementById("controls");
  form.runs.value = intParam(params, "runs", 15, 1, 1000);
  form.workers.value = intParam(params, "workers", cores, 1, 64);
  document.getElementById("cores").textContent = String(cores);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(params, form);
  });
  if (params.has("auto") || params.get("selftest") === "only") {
    run(params, form);
  }
}

function setStatus(text) {
  document.getElementById("status").textContent = text;
}

async function run(params, form) {
  const button = form.querySelector("button");
  button.disabled = true;
  window.benchResult = undefined;
  window.benchError = undefined;
  try {
    const report = await measure(params, Number(form.runs.value), Number(form.workers.value));
    window.benchResult = report;
    setStatus("done");
  } catch (err) {
    window.benchError = String((err && err.message) || err);
    setStatus("failed: " + window.benchError);
  } finally {
    button.disabled = false;
  }
}

async function measure(params, runs, maxWorkers) {
  const out = document.getElementById("results");
  out.replaceChildren();
  const report = {
    platform: "js/wasm",
    results: [],
    user_agent: navigator.userAgent,
    cores: navigator.hardwareConcurrency || 1,
  };
  setStatus("starting bench.wasm…");
  const w = startWorker("bench.js");
  let info;
  try {
    info = (await w.call({ op: "info" })).value;
    setStatus("SIMD self-test…");
    report.self_test = (await w.call({ op: "selftest" })).value;
    renderSelfTest(out, report.self_test);
    if (params.get("selftest") === "only") {
      return report;
    }
    if (params.get("scaling") === "only") {
      report.workers = await scaling(info.config, info.simd && report.self_test.ok, maxWorkers);
      renderScaling(out, report.workers, report.cores);
      return report;
    }
    const options = { ...info.config, runs };
    const sets = info.simd && report.self_test.ok ? [false, true] : [false];
    for (const simd of sets) {
      setStatus(`bench config, ${simd ? "SIMD128" : "scalar"} kernels…`);
      report.results.push((await w.call({ op: "bench", options, simd })).value);
    }
  } finally {
    w.terminate();
  }
  renderResults(out, report.results);
  const simd = report.results.length > 1;

  setStatus("small preset in a fresh instance (memory)…");
  const m = startWorker("bench.js");
  try {
    const small = { ...info.small, runs: 3, warmup: 1, kernels: false, train_only: true };
    report.memory = (await m.call({ op: "bench", options: small, simd })).value;
  } finally {
    m.terminate();
  }
  renderMemory(out, report.memory);

  report.workers = await scaling(info.config, simd, maxWorkers);
  renderScaling(out, report.workers, report.cores);

  const tfjs = params.get("tfjs");
  if (tfjs) {
    setStatus("TensorFlow.js on the same step…");
    report.tfjs = await runTfjs(tfjs, info.config, runs);
    renderTfjs(out, report.tfjs, report.results[report.results.length - 1]);
  }
  return report;
}

// scaling trains the bench config on k = 1..maxWorkers workers: each
// computes its shard's gradient, the page sums them in shard order
// (Float32Array sums round as float32 sums) and every worker applies the
// sum. The worker counts take turns: every round trains a fresh trainer
// (the same seed, so the same steps) on the first k workers for a few
// steps, for each k in turn, so that every k sees the same moments of a
// shared, noisy machine, and the first round (V8 optimising the code) is
// not counted. It reports step times (from one round of replies to the
// next) and each k's largest differences from one worker over the same
// steps.
async function scaling(config, simd, maxWorkers) {
  const rounds = 8; // counted rounds, after one warm-up round
  const steps = 6; // timed steps per run
  const warmupSteps = 12; // steps of the warm-up round's runs
  const ws = [];
  for (let j = 0; j < maxWorkers; j++) {
    ws.push(startWorker("bench.js"));
  }
  try {
    const acc = [];
    for (let k = 1; k <= maxWorkers; k++) {
      acc.push({ k, kernel: "", times: [], gradMS: [], aloneMS: [], applyMS: [], lossDiff: 0, weightDiff: 0 });
    }
    for (let r = 0; r <= rounds; r++) {
      let base = null;
      for (const a of acc) {
        setStatus(`data-parallel training: round ${r + 1} of ${rounds + 1}, ${a.k} worker${a.k > 1 ? "s" : ""}…`);
        const run = await trainRun(ws.slice(0, a.k), config, simd, r === 0 ? warmupSteps : steps);
        a.kernel = run.kernel;
        if (base === null) {
          base = run;
        } else {
          a.lossDiff = Math.max(a.lossDiff, ...run.losses.map((l, i) => Math.abs(l - base.losses[i])));
          for (let i = 0; i < run.weights.length; i++) {
            a.weightDiff = Math.max(a.weightDiff, Math.abs(run.weights[i] - base.weights[i]));
          }
        }
        if (r > 0) {
          a.times.push(...run.times);
          a.gradMS.push(...run.gradMS);
          a.applyMS.push(...run.applyMS);
          a.aloneMS.push(...run.aloneMS);
        }
      }
    }
    const rows = acc.map((a) => ({
      workers: a.k,
      kernel_set: a.kernel,
      step_ms: timing(a.times),
      pairs_per_s: Math.round((config.pairs / (median(a.times) / 1000)) * 10) / 10,
      speedup: 1,
      efficiency: 1,
      max_loss_diff: a.lossDiff,
      max_weight_diff: a.weightDiff,
      shard_ms: round3(median(a.gradMS)),
      shard_alone_ms: a.aloneMS.length ? round3(median(a.aloneMS)) : round3(median(a.gradMS)),
      apply_ms: round3(median(a.applyMS)),
    }));
    for (const row of rows) {
      row.speedup = round3(row.pairs_per_s / rows[0].pairs_per_s);
      row.efficiency = round3(row.speedup / row.workers);
    }
    return rows;
  } finally {
    ws.forEach((w) => w.terminate());
  }
}

// trainRun starts a fresh bench trainer on each of the workers ws and
// trains it data-parallel for the given number of steps. Each message
// applies the previous step (its shards and summed gradient) and computes
// the worker's shard of the next: one round trip per worker and step. It
// returns the step times, the slowest worker's shard gradient and update
// times (inside Go), the losses and the final weights.
async function trainRun(ws, config, simd, steps) {
  const k = ws.length;
  const init = await Promise.all(ws.map((w) => w.call({ op: "shard_init", options: config, simd })));
  const run = { kernel: init[0].value.kernel_set, times: [], gradMS: [], applyMS: [], losses: [], weights: null };
  let prev = null;
  let t0 = performance.now();
  for (let s = 0; s <= steps + 1; s++) {
    const last = s === steps + 1; // applies the final step only
    const replies = await Promise.all(
      ws.map((w, j) => {
        const req = { op: "shard_grad", j, k: last ? 0 : k, shards: prev ? prev.shards : [] };
        return w.call(req, prev ? prev.sums[j] : undefined);
      }),
    );
    const now = performance.now();
    if (prev) {
      run.losses.push(replies[0].value.applied_loss);
      if (!last) {
        run.times.push(now - t0);
        run.applyMS.push(Math.max(...replies.map((r) => r.value.apply_ms)));
      }
    }
    t0 = now;
    if (last) {
      break;
    }
    run.gradMS.push(Math.max(...replies.map((r) => r.value.compute_ms)));
    const sum = replies[0].data;
    for (let j = 1; j < k; j++) {
      const g = replies[j].data;
      for (let i = 0; i < sum.length; i++) {
        sum[i] += g[i];
      }
    }
    // Every worker gets the sum in the buffer its gradient came in (it
    // writes its next gradient there): no allocation per step.
    for (let j = 1; j < k; j++) {
      replies[j].data.set(sum);
    }
    prev = { sums: replies.map((r) => r.data), shards: replies.map((r) => r.value.shard) };
  }
  run.weights = (await ws[0].call({ op: "weights" })).data;
  // The same shards once more, one worker at a time: what each costs with
  // the machine otherwise idle (the run is over, so its state may change).
  run.aloneMS = [];
  if (k > 1) {
    for (let s = 0; s < steps; s++) {
      let slowest = 0;
      for (let j = 0; j < k; j++) {
        const r = await ws[j].call({ op: "shard_grad", j, k, shards: [] });
        slowest = Math.max(slowest, r.value.compute_ms);
      }
      run.aloneMS.push(slowest);
    }
  }
  return run;
}

// runTfjs runs bench/tfjs's worker (served at base) on the same step.
async function runTfjs(base, config, runs) {
  const w = startWorker(base + "bench-worker.js");
  try {
    return (await w.call({ op: "run", base, config, runs, warmup: config.warmup })).value;
  } catch (err) {
    return { name: "TensorFlow.js", backend: "wasm", step_ms: { median_ms: 0, min_ms: 0 }, first_loss: 0, error: String(err.message || err) };
  } finally {
    w.terminate();
  }
}

// ---------------------------------------------------------------- rendering

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) {
    e.textContent = text;
  }
  if (cls) {
    e.className = cls;
  }
  return e;
}

function table(head, rows) {
  const t = el("table");
  const tr = el("tr");
  head.forEach((h) => tr.append(el("th", h)));
  t.append(el("thead"));
  t.firstChild.append(tr);
  const body = el("tbody");
  for (const r of rows) {
    const row = el("tr");
    r.forEach((c, i) => row.append(el(i === 0 ? "th" : "td", c)));
    body.append(row);
  }
  t.append(body);
  return t;
}

const mib = (b) => (b / 1048576).toFixed(1) + " MiB";
const ms = (t) => `${t.median_ms.toFixed(1)} (${t.min_ms.toFixed(1)})`;

function renderSelfTest(out, st) {
  out.append(el("h2", `SIMD self-test: ${st.ok ? "passed" : "FAILED"}`));
  const ul = el("ul", undefined, "selftest");
  for (const c of st.checks) {
    ul.append(el("li", `${c.ok ? "✓" : "✗"} ${c.name}: ${c.detail}`, c.ok ? "pass" : "fail"));
  }
  out.append(ul);
}

function renderResults(out, results) {
  out.append(el("h2", "Bench config in this browser"));
  const r0 = results[0];
  out.append(
    el(
      "p",
      `${r0.preset} model (${r0.params} parameters), ${r0.pairs} pairs of ${r0.seq_len}-token sequences, ` +
        `${r0.response}-token responses; median (min) of ${r0.runs} steps.`,
    ),
  );
  const head = [""].concat(results.map((r) => r.kernel_set));
  const rows = [
    ["step_ms", ...results.map((r) => ms(r.step_ms))],
    ["train_step_ms", ...results.map((r) => ms(r.train_step_ms))],
    ["tokens/s", ...results.map((r) => String(r.tokens_per_s))],
    ["allocations per step", ...results.map((r) => String(r.allocs_per_step))],
    ["wasm memory", ...results.map((r) => mib(r.wasm_memory_bytes))],
  ];
  out.append(table(head, rows));
  const rl = results.filter((r) => r.rlhf_steps);
  if (rl.length > 0) {
    const x = rl[0].rlhf_steps;
    out.append(el("h3", "RLHF's steps on the same config"));
    out.append(
      el(
        "p",
        `Reward-model step over the ${r0.pairs} pairs; PPO rollout (sampling ${x.response_length} new tokens at most for ` +
          `each of ${x.ppo_prompts} prompts with the key/value cache, then the reference, reward and value passes) and ` +
          `PPO update (${x.ppo_epochs} epochs over the rollout batch). Median (min) of up to 5 steps.`,
      ),
    );
    out.append(
      table(
        [""].concat(rl.map((r) => r.kernel_set)),
        [
          ["reward-model step ms", ...rl.map((r) => ms(r.rlhf_steps.reward_step_ms))],
          ["PPO rollout ms", ...rl.map((r) => ms(r.rlhf_steps.rollout_ms))],
          ["rollout tokens/s", ...rl.map((r) => String(r.rlhf_steps.rollout_tokens_per_s))],
          ["PPO update ms", ...rl.map((r) => ms(r.rlhf_steps.ppo_update_ms))],
        ],
      ),
    );
  }
  out.append(el("h3", "Kernels at the model's shapes (ms per call, GFLOP/s)"));
  const krows = r0.kernels.map((k, i) => [
    k.name,
    ...results.map((r) => {
      const x = r.kernels[i];
      return x.gflops ? `${x.ms.median_ms.toFixed(3)} ms, ${x.gflops.toFixed(2)}` : `${x.ms.median_ms.toFixed(3)} ms`;
    }),
  ]);
  out.append(table(head, krows));
}

function renderMemory(out, m) {
  out.append(el("h2", "Memory"));
  out.append(
    el(
      "p",
      `${m.preset} preset (${m.params} parameters, ${m.kernel_set} kernels) training on the bench pairs in a fresh ` +
        `instance: wasm memory ${mib(m.wasm_memory_bytes)}, Go heap ${mib(m.heap_bytes)}, ` +
        `train_step_ms ${ms(m.train_step_ms)}.`,
    ),
  );
}

function renderScaling(out, rows, cores) {
  out.append(el("h2", `Data-parallel training on Web Workers (${cores} cores reported)`));
  out.append(
    table(
      ["workers", "kernels", "step_ms", "shard gradient ms: all at once", "one at a time", "apply ms", "pairs/s", "speedup", "efficiency", "max |Δloss| vs 1", "max |Δweight| vs 1"],
      rows.map((r) => [
        String(r.workers),
        r.kernel_set,
        ms(r.step_ms),
        r.shard_ms.toFixed(1),
        r.shard_alone_ms.toFixed(1),
        r.apply_ms.toFixed(1),
        r.pairs_per_s.toFixed(1),
        r.speedup.toFixed(2) + "×",
        r.efficiency.toFixed(2),
        r.max_loss_diff.toExponential(2),
        r.max_weight_diff.toExponential(2),
      ]),
    ),
  );
  out.append(
    el(
      "p",
      "Shard gradient: the slowest worker's share of the batch, timed inside Go, with all workers computing at once " +
        "and then with one worker at a time on an otherwise idle page. Where all at once is slower than one at a time, " +
        "the workers are contending for the machine's cores (or the cores slow down when all are busy), which no " +
        "division of the work can win back.",
    ),
  );
}

function renderTfjs(out, t, best) {
  out.append(el("h2", "TensorFlow.js on the same step"));
  if (t.error) {
    out.append(el("p", `${t.name} (${t.backend}) did not run: ${t.error}`));
    return;
  }
  out.append(
    el(
      "p",
      `${t.name}, ${t.backend} backend: step_ms ${ms(t.step_ms)}, first loss ${t.first_loss.toFixed(6)}. ` +
        `Go ${best.kernel_set}: step_ms ${ms(best.step_ms)}, ` +
        `${(t.step_ms.median_ms / best.step_ms.median_ms).toFixed(2)}× the speed of ${t.name}.`,
    ),
  );
}
