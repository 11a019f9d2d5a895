// The Inside tab's "train one in your browser": a fresh DAE trained from random weights by
// TensorFlow.js in the visitor's own browser, so every visitor can train at once and the
// server computes nothing (it only served the files, once, cached).
//
// One truth for each part, none of it copied by hand:
// - the architecture: window.daeInside.train.models[name] is the registry's Keras model's
//   layer chain (ui/inside_train_assets.architecture), built here with tf.layers;
// - the data: the server's live run's (dae.live): its 4,000 training gallery digits, the
//   1,000 held-out ones and its fixed noisy test digit, one binary file;
// - the noise: dae.corrupt.sample_training's distribution (with the run's focus), each
//   digit's draw applied by ui/digits_browser.js's corrupt, which tests hold to dae.corrupt,
//   in a module worker (ui/inside_train_noise.js) while this thread runs the optimiser;
// - the run: dae.live's batch size, Adam with dae.training's cosine-decayed learning rate,
//   the MSE loss, the epoch's mean loss and the test digit's PSNR after every epoch. dense
//   trains with the live run's settings, dense-2d with its registry training settings
//   (batch size, learning rate): ui/inside_train_assets.run_settings.
// While it trains the page shows a progress bar, the loss and PSNR curves, the test digit as
// the model stands denoises it and, for a model whose code has two numbers, the held-out
// digits' codes: the map forming, epoch by epoch.
//
// Where TensorFlow.js cannot start (no WebAssembly, a failed load), the page says so and the
// server's live run below stays (ui/inside.py).
//
// API, for tests and benchmarks (window.daeInsideTrain):
//   ready                                 a promise: the library, backend and data loaded
//   await train({model, epochs, seed, onEpoch?})  -> {history: [{epoch, loss, psnr, elapsed_s}],
//                                         backend, seconds}; one run at a time per page
//   await summary(model)                  -> [{class_name, output_shape, params}] of the built model
//   sampleTraining(rng, focus)            one digit's draw from dae.corrupt.sample_training
//                                         (ui/inside_train_noise.js, which makes the batches)
//   stats {batch, step}                   ms this thread waited for each noisy batch, ms per step
//   backend, why, running

const T = window.daeInside?.train;
const B = window.daeBrowser;
const SIDE = 28;
const PIXELS = SIDE * SIDE;

const state = { tf: null, lib: null, data: null, backend: "", why: "", running: false, el: null,
  stats: { batch: [], step: [] } }; // ms waited per noisy batch, ms per optimiser step

// --- loading (on demand: the first time the training view is opened) -------------------

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = url;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`${url} did not load`));
    document.head.append(s);
  });
}

/**
 * The wasm backend's BatchMatMul runs a transposed operand through a slow reference loop
 * (tfjs-backend-wasm 4.22, src/cc/batch_mat_mul_impl.cc: XNNPACK only when neither operand is
 * transposed), and every gradient of a dense layer is such a product: 4× the forward
 * product's time here. Transposing the operand first (the wasm Transpose kernel) and then
 * multiplying plainly gives the same numbers at the fast path's speed.
 */
function fastTransposedMatMul(tf) {
  const plain = tf.getKernel("BatchMatMul", "wasm");
  const transpose = tf.getKernel("Transpose", "wasm");
  if (!plain || !transpose || plain.daeFast) return;
  const swapLast = (x) => {
    const perm = [...x.shape.keys()];
    [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
    return perm;
  };
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    kernelName: "BatchMatMul", backendName: "wasm", daeFast: true,
    kernelFunc: ({ inputs, backend, attrs }) => {
      if (!attrs.transposeA && !attrs.transposeB) return plain.kernelFunc({ inputs, backend, attrs });
      const made = [];
      const flip = (x) => {
        const y = transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm: swapLast(x) } });
        made.push(y);
        return y;
      };
      const a = attrs.transposeA ? flip(inputs.a) : inputs.a;
      const b = attrs.transposeB ? flip(inputs.b) : inputs.b;
      const out = plain.kernelFunc({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
      for (const y of made) backend.disposeData(y.dataId);
      return out;
    },
  });
}

async function loadData() {
  const r = await fetch(T.data.url);
  if (!r.ok) throw new Error(`${T.data.url}: HTTP ${r.status}`);
  const buf = await r.arrayBuffer();
  const L = T.data.layout;
  const images = (key) => new Uint8Array(buf, L[key].offset, L[key].count * PIXELS);
  const held = images("held");
  const clean = Float32Array.from(held.subarray(L.test_index * PIXELS, (L.test_index + 1) * PIXELS), (v) => v / 255);
  return {
    train: images("train"), trainCount: L.train.count, held, heldCount: L.held.count,
    labels: new Uint8Array(buf, L.labels.offset, L.labels.count),
    noisy: new Float32Array(buf, L.noisy.offset, L.noisy.count), clean,
  };
}

async function load() {
  if (!T) throw new Error("the page has no training manifest");
  if (!B) throw new Error("the page has no in-browser manifest");
  if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
  if (!window.tf) await loadScript(T.lib);
  if (!window.tf.wasm) await loadScript(T.backend);
  const tf = window.tf;
  // no threaded build is served (it needs cross-origin isolation): without SharedArrayBuffer
  // the backend never asks for it, and the name only has to map somewhere
  tf.wasm.setWasmPaths({ "tfjs-backend-wasm.wasm": T.wasm.plain, "tfjs-backend-wasm-simd.wasm": T.wasm.simd,
    "tfjs-backend-wasm-threaded-simd.wasm": T.wasm.simd });
  if (await tf.setBackend("wasm").catch(() => false)) fastTransposedMatMul(tf);
  else if (!(await tf.setBackend("cpu"))) throw new Error("neither TensorFlow.js backend starts here");
  await tf.ready();
  const [lib, noise, data] = await Promise.all([import(B.module), import(T.noise), loadData()]);
  Object.assign(state, { tf, lib, noise, data, backend: tf.getBackend() });
}

let loading = null;
function ready() {
  loading ??= load().catch((e) => {
    state.why = e.message;
    console.warn("in-browser training off:", e.message);
    throw e;
  });
  return loading;
}

// --- the model and the noise -----------------------------------------------------------

const camel = (s) => s[0].toLowerCase() + s.slice(1);

/** The registry's layer chain (ui/inside_train_assets.architecture) as a tf.Sequential. */
function build(arch, seed) {
  const tf = state.tf;
  const layers = arch.layers.map((l, i) => {
    const config = { ...l.config, name: l.name };
    if (i === 0) config.inputShape = arch.input_shape;
    for (const key of ["kernelInitializer", "biasInitializer"]) {
      if (typeof config[key] === "string") { // a seed per layer, from the run's seed
        const make = tf.initializers[config[key]];
        config[key] = config[key] === "zeros" ? make() : make({ seed: (seed * 1009 + i) % 2147483647 });
      }
    }
    return tf.layers[camel(l.class_name)](config);
  });
  return tf.sequential({ layers });
}

function summaryOf(model) {
  return model.layers.map((l) => ({ class_name: l.getClassName(), output_shape: l.outputShape.slice(1),
    params: l.countParams() }));
}

/** The noisy batches (ui/inside_train_noise.js): made in a module worker, on another core,
 * while this thread runs the optimiser; made here where no module worker starts. Each epoch's
 * batches are asked for one epoch ahead. */
async function batchSource(seed, focus, batchSize, steps) {
  const { train } = state.data;
  let worker = null;
  try {
    worker = new Worker(T.noise, { type: "module" });
    await new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => (data.type === "ready" ? resolve() : reject(new Error(data.message)));
      worker.onerror = (e) => reject(new Error(e.message || "the noise worker did not start"));
      worker.postMessage({ type: "init", module: new URL(B.module, location.href).href, train, seed, focus });
    });
  } catch (e) {
    console.warn("noise worker off, the page makes the batches:", e.message);
    worker?.terminate();
    worker = null;
  }
  if (!worker) {
    const rng = new state.lib.Rng(seed);
    const orders = [];
    return { where: "page", ask: (order) => orders.push(order), close() {},
      next: async (s) => state.noise.makeBatch(state.lib, train, orders[0].subarray(s * batchSize, (s + 1) * batchSize), rng, focus),
      done: () => orders.shift() };
  }
  const queue = [];
  let failed = null;
  let wake = null;
  worker.onmessage = ({ data }) => {
    if (data.type === "error") failed = new Error(data.message);
    else queue.push(data);
    wake?.();
  };
  worker.onerror = (e) => { failed = new Error(e.message || "the noise worker failed"); wake?.(); };
  return { where: "worker", ask: (order) => worker.postMessage({ type: "epoch", order, batchSize, steps }),
    next: async () => {
      while (!queue.length) {
        if (failed) throw failed;
        await new Promise((resolve) => { wake = resolve; });
      }
      return queue.shift();
    },
    done() {}, close: () => worker.terminate() };
}

function shuffled(n, rng) {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextUint32() % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Let the page paint and answer between steps (a MessageChannel task: not throttled as
 * setTimeout is in a background tab). */
const yieldToPage = () => new Promise((resolve) => {
  const ch = new MessageChannel();
  ch.port1.onmessage = () => resolve();
  ch.port2.postMessage(0);
});

// --- the run ---------------------------------------------------------------------------

/** Keras' CosineDecay(lr, decay_steps, alpha), as dae.training.compile_for_training uses it. */
const cosine = (lr, step, total, alpha) => lr * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * Math.min(step, total) / total)) + alpha);

function checkWhole(name, v, { min, max }) {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be a whole number from ${min} to ${max}, got ${v}`);
  return v;
}

async function train({ model = "dense-2d", epochs, seed = 0, onEpoch = () => {} } = {}) {
  await ready();
  const arch = T.models[model];
  if (!arch || !arch.layers) throw new Error(arch?.why ?? `no model ${model} to train here`);
  const S = { ...T.settings, ...arch.run };
  epochs = checkWhole("epochs", epochs ?? S.epochs.default, S.epochs);
  seed = checkWhole("seed", seed, S.seed);
  if (state.running) throw new Error("this page is already training a model");
  state.running = true;
  const tf = state.tf;
  const net = build(arch, seed);
  const encoder = arch.code === 2 ? tf.model({ inputs: net.inputs, outputs: net.getLayer("latent").output }) : null;
  const opt = tf.train.adam(S.learning_rate, 0.9, 0.999, 1e-7); // Keras' Adam defaults
  const rng = new state.lib.Rng(seed);
  const { trainCount, noisy, clean } = state.data;
  const steps = Math.floor(trainCount / S.batch_size);
  const history = [];
  const t0 = performance.now();
  const orders = Array.from({ length: epochs }, () => shuffled(trainCount, rng));
  const batches = await batchSource(seed, S.focus, S.batch_size, steps);
  state.noiseWhere = batches.where;
  try {
    batches.ask(orders[0]);
    for (let epoch = 1; epoch <= epochs; epoch++) {
      if (epoch < epochs) batches.ask(orders[epoch]); // one epoch ahead
      const losses = [];
      for (let s = 0; s < steps; s++) {
        const tb = performance.now();
        const { clean: y0, noisy: x0 } = await batches.next(s);
        opt.learningRate = cosine(S.learning_rate, (epoch - 1) * steps + s, epochs * steps, S.lr_alpha);
        const shape = [S.batch_size, SIDE, SIDE, 1];
        const tStep = performance.now();
        const loss = tf.tidy(() => {
          const x = tf.tensor4d(x0, shape);
          const y = tf.tensor4d(y0, shape);
          return opt.minimize(() => tf.losses.meanSquaredError(y, net.apply(x, { training: true })), true);
        });
        losses.push(loss);
        state.stats.batch.push(tStep - tb);
        state.stats.step.push(performance.now() - tStep);
        if (s % 8 === 7) await yieldToPage();
      }
      batches.done();
      const mean = tf.tidy(() => tf.stack(losses).mean());
      const lossValue = (await mean.data())[0];
      tf.dispose([mean, ...losses]);
      const denoised = tf.tidy(() => net.predict(tf.tensor4d(noisy, [1, SIDE, SIDE, 1])).clipByValue(0, 1).dataSync());
      const codes = encoder ? tf.tidy(() => encoder.predict(heldTensor(tf)).dataSync()) : null;
      const e = { epoch, epochs, loss: lossValue, psnr: state.lib.psnr(clean, denoised),
        elapsed_s: (performance.now() - t0) / 1000 };
      history.push(e);
      onEpoch({ ...e, denoised, codes });
      await yieldToPage();
    }
  } finally {
    state.running = false;
    batches.close();
    opt.dispose();
    net.dispose();
  }
  return { history, backend: state.backend, noise: batches.where, seconds: (performance.now() - t0) / 1000, model, epochs, seed };
}

function heldTensor(tf) {
  const { held, heldCount } = state.data;
  return tf.tensor4d(Float32Array.from(held, (v) => v / 255), [heldCount, SIDE, SIDE, 1]);
}

// --- drawing ---------------------------------------------------------------------------

function colours() {
  const cs = getComputedStyle(state.el);
  return { bg: cs.backgroundColor, fg: cs.color, accent: cs.getPropertyValue("--color-accent").trim() || "#f97316" };
}

function sized(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, w, h };
}

/** A line plot of ``values`` over epochs 1..``epochs``, with its title and last value. */
function curve(canvas, values, epochs, title, fmt) {
  if (!canvas?.clientWidth) return;
  const { ctx, w, h } = sized(canvas);
  const c = colours();
  ctx.fillStyle = c.bg;
  ctx.fillRect(0, 0, w, h);
  const pad = { l: 8, r: 8, t: 20, b: 8 };
  ctx.fillStyle = c.fg;
  ctx.font = "12px sans-serif";
  ctx.textBaseline = "top";
  ctx.fillText(values.length ? `${title}: ${fmt(values[values.length - 1])}` : title, pad.l, 3);
  ctx.strokeStyle = c.fg;
  ctx.globalAlpha = 0.3;
  ctx.strokeRect(pad.l, pad.t, w - pad.l - pad.r, h - pad.t - pad.b);
  ctx.globalAlpha = 1;
  if (values.length < 1) return;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const px = (i) => pad.l + (epochs > 1 ? i / (epochs - 1) : 0.5) * (w - pad.l - pad.r);
  const py = (v) => h - pad.b - (v - lo) / span * (h - pad.t - pad.b - 4) - 2;
  ctx.strokeStyle = c.accent;
  ctx.lineWidth = 2;
  ctx.beginPath();
  values.forEach((v, i) => (i ? ctx.lineTo(px(i), py(v)) : ctx.moveTo(px(i), py(v))));
  ctx.stroke();
}

/** The held-out digits' 2-number codes as the model stands, coloured by class. */
function drawMap(canvas, codes, epoch) {
  if (!canvas?.clientWidth) return;
  const { ctx, w, h } = sized(canvas);
  const c = colours();
  ctx.fillStyle = c.bg;
  ctx.fillRect(0, 0, w, h);
  if (!codes) {
    ctx.fillStyle = c.fg;
    ctx.font = "12px sans-serif";
    ctx.textBaseline = "top";
    ctx.fillText("the held-out codes, after every epoch", 6, 4);
    return;
  }
  const palette = JSON.parse(document.getElementById("map2d")?.dataset.palette ?? "[]");
  const xs = codes.filter((_, i) => i % 2 === 0);
  const ys = codes.filter((_, i) => i % 2 === 1);
  const q = (a, p) => Float32Array.from(a).sort()[Math.floor(p * (a.length - 1))];
  const [x0, x1, y0, y1] = [q(xs, 0.005), q(xs, 0.995), q(ys, 0.005), q(ys, 0.995)];
  const pad = 6;
  const { labels } = state.data;
  ctx.globalAlpha = 0.7;
  for (let i = 0; i < xs.length; i++) {
    const px = pad + (xs[i] - x0) / (x1 - x0 || 1) * (w - 2 * pad);
    const py = h - pad - (ys[i] - y0) / (y1 - y0 || 1) * (h - 2 * pad);
    ctx.fillStyle = palette[labels[i]] ?? c.fg;
    ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
  }
  ctx.globalAlpha = 1;
  ctx.fillStyle = c.fg;
  ctx.font = "12px sans-serif";
  ctx.textBaseline = "top";
  ctx.fillText(`the 1,000 held-out digits' codes after epoch ${epoch}`, 6, 4);
}

// --- the view (ui/inside.py's train_browser_html) ---------------------------------------

const $ = (sel) => state.el.querySelector(sel);

function say(text, source) {
  const p = $("#train-browser-msg");
  p.textContent = text;
  if (source) p.dataset.source = source;
}

async function onTrain() {
  if (state.running) return;
  const model = $("#train-browser-model").value;
  const epochs = Number($("#train-browser-epochs").value);
  const seed = Number($("#train-browser-seed").value);
  const bar = $("#train-browser-progress");
  const go = $("#train-browser-go");
  const losses = [];
  const psnrs = [];
  go.disabled = true;
  bar.max = epochs;
  bar.value = 0;
  $(".train-browser-map").hidden = T.models[model]?.code !== 2;
  try {
    say(`Loading TensorFlow.js and the data…`);
    await ready();
    say(`Training a fresh ${model} for ${epochs} epochs in your browser (${state.backend})…`, "browser");
    const r = await train({ model, epochs, seed, onEpoch: (e) => {
      losses.push(e.loss);
      psnrs.push(e.psnr);
      bar.value = e.epoch;
      curve($("#train-browser-loss"), losses, epochs, "training loss (MSE)", (v) => v.toFixed(4));
      curve($("#train-browser-psnr"), psnrs, epochs, "test digit PSNR (dB)", (v) => v.toFixed(2));
      state.lib.drawDigit($("#train-browser-out"), e.denoised);
      $("#train-browser-out-cap").textContent = `denoised · PSNR ${e.psnr.toFixed(2)} dB`;
      drawMap($("#train-browser-map"), e.codes, e.epoch);
      say(`Epoch ${e.epoch} of ${epochs}: loss ${e.loss.toFixed(4)}, ${e.elapsed_s.toFixed(1)} s`);
    } });
    say(`Done: ${epochs} epochs in ${r.seconds.toFixed(1)} s, in your browser (${r.backend}). ` +
      "The model is gone when you leave: nothing was saved or sent.");
  } catch (e) {
    say(`${e.message}. The server's live run below still trains one.`, state.why ? "none" : undefined);
  } finally {
    go.disabled = false;
  }
}

function attach(el) {
  state.el = el;
  $("#train-browser-go").addEventListener("click", () => onTrain());
  ready().then(() => {
    say(`Ready: TensorFlow.js (${state.backend}) will train in your browser; the server computes nothing.`, "browser");
    state.lib.drawDigit($("#train-browser-clean"), state.data.clean);
    state.lib.drawDigit($("#train-browser-noisy"), state.data.noisy);
    curve($("#train-browser-loss"), [], 1, "training loss (MSE)", String); // empty frames until it trains
    curve($("#train-browser-psnr"), [], 1, "test digit PSNR (dB)", String);
    drawMap($("#train-browser-map"), null, 0);
  }, () => {
    say(`This browser cannot train here (${state.why}): the server's live run below trains one instead.`, "none");
    document.querySelector("#inside-server-train .label-wrap:not(.open)")?.click(); // open the fallback
  });
}

// Gradio renders a tab's contents on its first visit: attach (and only then load the library)
// when #train-browser appears.
new MutationObserver(() => {
  const el = document.getElementById("train-browser");
  if (el && el !== state.el) attach(el);
}).observe(document.documentElement, { childList: true, subtree: true });

window.daeInsideTrain = {
  get ready() { return ready(); },
  train,
  summary: async (model) => { await ready(); const m = build(T.models[model], 0); const s = summaryOf(m); m.dispose(); return s; },
  sampleTraining: (rng, focus) => state.noise.sampleTraining(rng, focus), // after ready
  get noiseWhere() { return state.noiseWhere; }, // "worker" or "page": where the last run's batches were made
  get backend() { return state.backend; },
  get why() { return state.why; },
  get running() { return state.running; },
  stats: state.stats,
};
