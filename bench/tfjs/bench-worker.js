"use strict";
// bench-worker.js: the DPO Playground benchmark's TensorFlow.js comparator.
// public/bench.html starts it as a Web Worker (when ./build.sh bench serves
// this folder) and sends {id, req: {op: "run", base, config, runs, warmup}};
// it answers {id, json} with a bench.Comparator (core/bench/report.go).
//
// It runs the step that step_ms measures, with the same shapes as the Go
// benchmark's bench config: a byte-level GPT-2 (Hugging Face's
// GPT2LMHeadModel: learned positions, pre-LayerNorm blocks, gelu_new, tied
// output head) with 2 layers, 64 wide, 4 heads, vocabulary 257; 8 pairs of
// 64-token chosen and rejected sequences, the last 48 targets scored; the
// sigmoid DPO loss (β = 0.1) against a frozen reference, recomputed every
// step; gradient clipping at norm 1; Adam(W) with lr 1e-3 and no weight
// decay. Backend: tfjs's WebAssembly backend (XNNPACK), its SIMD binary
// where the browser has SIMD, one thread (the page is not cross-origin
// isolated). Matrix transposes are explicit tf.transpose calls, which keep
// XNNPACK's fast path. The wasm backend has no kernel for the gradient of
// tf.gather (UnsortedSegmentSum), so the token embedding is a one-hot
// product (2·1024·257·64 more multiply-adds each way than a lookup, a few
// milliseconds) and the scored positions and the pairs' halves are slices.

const TFJS_VERSION = "4.22.0";

self.onmessage = async (event) => {
  const { id, req } = event.data;
  try {
    if (req.op !== "run") {
      throw new Error("unknown op " + req.op);
    }
    const result = await run(req.base, req.config, req.runs, req.warmup);
    self.postMessage({ id, json: JSON.stringify(result) });
  } catch (err) {
    self.postMessage({ id, error: String((err && err.message) || err) });
  }
};

async function run(base, config, runs, warmup) {
  const dist = base + "node_modules/@tensorflow/";
  importScripts(dist + "tfjs/dist/tf.min.js", dist + "tfjs-backend-wasm/dist/tf-backend-wasm.min.js");
  tf.wasm.setWasmPaths(dist + "tfjs-backend-wasm/dist/");
  if (!(await tf.setBackend("wasm"))) {
    throw new Error("the tfjs wasm backend did not initialise");
  }
  await tf.ready();
  defineGrads();
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");

  const shape = {
    layers: 2,
    width: 64,
    heads: 4,
    vocab: 257,
    positions: 128,
    pairs: config.pairs,
    seqLen: config.seq_len,
    response: config.response,
  };
  const model = makeModel(shape);
  const times = [];
  let firstLoss = 0;
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = performance.now();
    const loss = step(model, shape);
    if (i === 0) {
      firstLoss = loss;
    }
    if (i >= warmup) {
      times.push(performance.now() - t0);
    }
  }
  times.sort((a, b) => a - b);
  const m = times.length >> 1;
  const median = times.length % 2 ? times[m] : (times[m - 1] + times[m]) / 2;
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return {
    name: "TensorFlow.js " + TFJS_VERSION,
    backend: "wasm" + (simd ? " (SIMD)" : "") + (threads ? " (threads)" : ", one thread"),
    step_ms: { median_ms: r3(median), min_ms: r3(times[0]) },
    first_loss: firstLoss,
  };
}

// rand is a seeded generator (xorshift), so every run sees the same model
// and batch.
function rand(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function normal(r, n, std) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(r(), 1e-12);
    const v = r();
    const z = Math.sqrt(-2 * Math.log(u));
    a[i] = std * z * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) {
      a[i + 1] = std * z * Math.sin(2 * Math.PI * v);
    }
  }
  return a;
}

// makeModel builds the policy (variables), the frozen reference (its
// initial copy), the batch and the optimiser.
function makeModel(s) {
  const r = rand(1);
  const C = s.width;
  const init = [];
  const add = (name, shape, kind) => {
    const n = shape.reduce((a, b) => a * b, 1);
    let data;
    if (kind === "one") {
      data = new Float32Array(n).fill(1);
    } else if (kind === "zero") {
      data = new Float32Array(n);
    } else {
      data = normal(r, n, kind === "proj" ? 0.02 / Math.sqrt(2 * s.layers) : 0.02);
    }
    init.push({ name, shape, data });
  };
  add("wte", [s.vocab, C]);
  add("wpe", [s.positions, C]);
  for (let l = 0; l < s.layers; l++) {
    add(`h${l}.ln1.g`, [C], "one");
    add(`h${l}.ln1.b`, [C], "zero");
    add(`h${l}.attn.w`, [C, 3 * C]);
    add(`h${l}.attn.b`, [3 * C], "zero");
    add(`h${l}.proj.w`, [C, C], "proj");
    add(`h${l}.proj.b`, [C], "zero");
    add(`h${l}.ln2.g`, [C], "one");
    add(`h${l}.ln2.b`, [C], "zero");
    add(`h${l}.fc.w`, [C, 4 * C]);
    add(`h${l}.fc.b`, [4 * C], "zero");
    add(`h${l}.fcproj.w`, [4 * C, C], "proj");
    add(`h${l}.fcproj.b`, [C], "zero");
  }
  add("lnf.g", [C], "one");
  add("lnf.b", [C], "zero");
  const policy = {};
  const ref = {};
  for (const p of init) {
    policy[p.name] = tf.variable(tf.tensor(p.data, p.shape), true, "policy." + p.name);
    ref[p.name] = tf.keep(tf.tensor(p.data, p.shape));
  }

  // The batch: 2·pairs sequences of seqLen inputs; targets are the inputs
  // shifted by one; the last `response` targets of each are scored.
  const S = 2 * s.pairs;
  const T = s.seqLen;
  const ids = new Int32Array(S * (T + 1));
  for (let i = 0; i < ids.length; i++) {
    ids[i] = 32 + Math.floor(r() * 95);
  }
  for (let q = 0; q < S; q++) {
    ids[q * (T + 1)] = 256;
    ids[q * (T + 1) + T] = 256;
  }
  const inputs = new Int32Array(S * T);
  const scoredTargets = new Int32Array(S * s.response);
  let k = 0;
  for (let q = 0; q < S; q++) {
    for (let t = 0; t < T; t++) {
      inputs[q * T + t] = ids[q * (T + 1) + t];
      if (t >= T - s.response) {
        scoredTargets[k++] = ids[q * (T + 1) + t + 1];
      }
    }
  }
  const mask = new Float32Array(T * T);
  for (let t = 0; t < T; t++) {
    for (let u = t + 1; u < T; u++) {
      mask[t * T + u] = -1e9;
    }
  }
  return {
    policy,
    ref,
    optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-8),
    inputsOneHot: tf.keep(tf.oneHot(tf.tensor1d(inputs, "int32"), s.vocab).toFloat()),
    targetsOneHot: tf.keep(tf.oneHot(tf.tensor1d(scoredTargets, "int32"), s.vocab).toFloat()),
    mask: tf.keep(tf.tensor2d(mask, [T, T])),
  };
}

// linear is x·w with a gradient of explicit transposes: tfjs's own
// gradient of matMul passes transpose flags, which send the wasm backend's
// BatchMatMul off XNNPACK's fast path (ten times slower here).
let linear;
// embed is onehot·w for a constant one-hot matrix: the same, without the
// one-hot matrix's gradient.
let embed;

function defineGrads() {
  linear = tf.customGrad((x, w, save) => {
    save([x, w]);
    return {
      value: tf.matMul(x, w),
      gradFunc: (dy, [xs, ws]) => [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy)],
    };
  });
  embed = tf.customGrad((onehot, w, save) => {
    save([onehot]);
    return {
      value: tf.matMul(onehot, w),
      gradFunc: (dy, [oh]) => [tf.zerosLike(oh), tf.matMul(tf.transpose(oh), dy)],
    };
  });
}

function layerNorm(x, g, b) {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
}

function geluNew(x) {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(x, tf.mul(x, x)))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

// seqLogps returns the sum of the scored targets' log-probs of each
// sequence, [2·pairs].
function seqLogps(p, m, s) {
  const S = 2 * s.pairs;
  const T = s.seqLen;
  const C = s.width;
  const H = s.heads;
  const hs = C / H;
  const tok = tf.reshape(embed(m.inputsOneHot, p.wte), [S, T, C]);
  let h = tf.reshape(tf.add(tok, tf.slice(p.wpe, [0, 0], [T, C])), [S * T, C]);
  for (let l = 0; l < s.layers; l++) {
    const a = layerNorm(h, p[`h${l}.ln1.g`], p[`h${l}.ln1.b`]);
    const qkv = tf.add(linear(a, p[`h${l}.attn.w`]), p[`h${l}.attn.b`]);
    const [q, k, v] = tf.split(qkv, 3, 1).map((x) => tf.transpose(tf.reshape(x, [S, T, H, hs]), [0, 2, 1, 3]));
    const scores = tf.add(tf.mul(tf.matMul(q, tf.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(hs)), m.mask);
    const y = tf.matMul(tf.softmax(scores), v); // [S, H, T, hs]
    const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [S * T, C]);
    h = tf.add(h, tf.add(linear(merged, p[`h${l}.proj.w`]), p[`h${l}.proj.b`]));
    const a2 = layerNorm(h, p[`h${l}.ln2.g`], p[`h${l}.ln2.b`]);
    const f = geluNew(tf.add(linear(a2, p[`h${l}.fc.w`]), p[`h${l}.fc.b`]));
    h = tf.add(h, tf.add(linear(f, p[`h${l}.fcproj.w`]), p[`h${l}.fcproj.b`]));
  }
  h = layerNorm(h, p["lnf.g"], p["lnf.b"]);
  const last = tf.slice(tf.reshape(h, [S, T, C]), [0, T - s.response, 0], [S, s.response, C]);
  const scored = tf.reshape(last, [S * s.response, C]);
  const logits = linear(scored, tf.transpose(p.wte)); // tied head
  const logp = tf.sum(tf.mul(tf.logSoftmax(logits), m.targetsOneHot), 1);
  return tf.sum(tf.reshape(logp, [S, s.response]), 1);
}

// chosenMinusRejected is, per pair, the chosen sequence's log-prob minus
// the rejected one's (sequences alternate chosen, rejected).
function chosenMinusRejected(lp, pairs) {
  const [chosen, rejected] = tf.split(tf.reshape(lp, [pairs, 2]), 2, 1);
  return tf.reshape(tf.sub(chosen, rejected), [pairs]);
}

// step runs one DPO step and returns its loss.
function step(m, s) {
  const beta = 0.1;
  const refMargin = tf.tidy(() => chosenMinusRejected(seqLogps(m.ref, m, s), s.pairs));
  const { value, grads } = tf.variableGrads(() => {
    const margin = tf.sub(chosenMinusRejected(seqLogps(m.policy, m, s), s.pairs), refMargin);
    // −log σ(βh) = softplus(−βh): tf.logSigmoid's gradient fails on the
    // wasm backend (tfjs 4.22), softplus's does not.
    return tf.mean(tf.softplus(tf.mul(-beta, margin)));
  });
  const loss = value.dataSync()[0];
  tf.tidy(() => {
    const names = Object.keys(grads);
    const norm = tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]))))).dataSync()[0];
    const scale = Math.min(1, 1 / (norm + 1e-6));
    const clipped = {};
    for (const n of names) {
      clipped[n] = tf.mul(grads[n], scale);
    }
    m.optimizer.applyGradients(clipped);
  });
  tf.dispose([value, refMargin, ...Object.values(grads)]);
  return loss;
}
