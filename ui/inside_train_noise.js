// The in-browser training's noisy batches (ui/inside_train.js), made in a module worker so
// that making the noise (a fresh draw per digit, applied by ui/digits_browser.js's corrupt)
// runs on another core while the page's thread runs the optimiser steps. The same module is
// imported by the page, which makes the batches itself where a module worker cannot start.
//
// As a worker: {type: "init", module, train: Uint8Array, seed, focus} once, then per epoch
// {type: "epoch", order: Uint32Array, batchSize, steps}; it answers each batch in order with
// {type: "batch", clean, noisy} (Float32Arrays, transferred), or {type: "error", message}.

const PIXELS = 784;
const uniform = (rng, lo, hi) => lo + (hi - lo) * rng.random();

/** One digit's draw from dae.corrupt.sample_training: the kind by p 0.6/0.17/0.15/0.08,
 * Gaussian σ ~ U(0, 1.05) with p 0.3 a mean ~ U(−0.3, 0.6), uniform ±r, r ~ U(0.01, 1.5),
 * salt-and-pepper amount ~ U(0, 0.5), with p 0.35 a blur σ ~ U(0, 2) first, clipped with p
 * 0.7; with p ``focus`` the app's default instead (clipped Gaussian, no mean, no blur). */
export function sampleTraining(rng, focus = 0) {
  const u = rng.random();
  let noise = u < 0.6 ? "gaussian" : u < 0.77 ? "uniform" : u < 0.92 ? "salt-pepper" : "none";
  const sigma = uniform(rng, 0, 1.05);
  let mean = rng.random() < 0.3 ? uniform(rng, -0.3, 0.6) : 0;
  let blur = rng.random() < 0.35 ? uniform(rng, 0, 2) : 0;
  let clip = rng.random() < 0.7;
  const radius = uniform(rng, 0.01, 1.5);
  const amount = uniform(rng, 0, 0.5);
  if (focus && rng.random() < focus) [noise, mean, blur, clip] = ["gaussian", 0, 0, true];
  const level = { gaussian: sigma, uniform: radius, "salt-pepper": amount, none: 0 }[noise];
  return { noise, level, blur, mean: noise === "gaussian" ? mean : 0, clip };
}

/** A batch of the digits ``idx`` of ``train`` (uint8): clean in [0, 1], and noisy copies,
 * each from a fresh draw; ``lib`` is ui/digits_browser.js. */
export function makeBatch(lib, train, idx, rng, focus) {
  const clean = new Float32Array(idx.length * PIXELS);
  const noisy = new Float32Array(idx.length * PIXELS);
  idx.forEach((k, i) => {
    const c = clean.subarray(i * PIXELS, (i + 1) * PIXELS);
    for (let p = 0; p < PIXELS; p++) c[p] = train[k * PIXELS + p] / 255;
    noisy.set(lib.corrupt(c, sampleTraining(rng, focus), rng.nextUint32()), i * PIXELS);
  });
  return { clean, noisy };
}

if (typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope) {
  let job = null;
  self.onmessage = async ({ data: m }) => {
    try {
      if (m.type === "init") {
        const lib = await import(m.module);
        job = { lib, train: m.train, rng: new lib.Rng(m.seed), focus: m.focus };
        self.postMessage({ type: "ready" });
      } else if (m.type === "epoch") {
        for (let s = 0; s < m.steps; s++) {
          const b = makeBatch(job.lib, job.train, m.order.subarray(s * m.batchSize, (s + 1) * m.batchSize), job.rng, job.focus);
          self.postMessage({ type: "batch", ...b }, [b.clean.buffer, b.noisy.buffer]);
        }
      }
    } catch (e) {
      self.postMessage({ type: "error", message: e.message });
    }
  };
}
