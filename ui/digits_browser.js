// The Digits tab's in-browser path: corruption, the five digit models (LiteRT.js on the very
// weights/<name>.tflite files the server runs), PSNR and SSIM, all in the visitor's browser.
// The server stays the reference and the fallback: dae/corrupt.py and dae/metrics.py are what
// this file copies, and tests/test_browser_parity.py holds it to them, per wasm build.
//
// API (one ES module, no framework; import it with `await import(manifest.module)`, where
// `manifest` is ui/browser_assets.manifest(), on the page as `window.daeBrowser` when the app
// launches with head=browser_assets.head_script(manifest); docs/browser.md has the figures):
//
//   corrupt(clean, {noise, level, blur, mean, clip}, seed) -> Float32Array(784)
//       dae.corrupt.from_controls + apply_batch: blur first (scipy's gaussian_filter,
//       mode "nearest"), then Gaussian (σ = level, + mean) / uniform (±level) /
//       salt-and-pepper (fraction level, half salt) / none, then clip to [0, 1] or not.
//       THE NOISE IS NOT NUMPY'S: xoshiro128** seeded through SplitMix64, Box–Muller for
//       normals. The same seed gives the same noise within the browser (and the same
//       pattern, scaled, as σ moves), not the server's noise for that seed: a page that
//       switches paths must compute the noisy digit and everything after it on one side.
//   psnr(clean, test), ssim(clean, test) -> number
//       = dae.metrics.psnr / ssim on 28×28 (skimage, data_range 1, 7×7 window, sample
//       covariance). psnr of identical images is Infinity.
//   await loadBest(manifest, {builds?})         -> {build, runtime, models, failed, tried}: the
//                                               first wasm build (BUILDS: relaxed SIMD, then
//                                               compat) that loads, compiles every model and
//                                               runs a first inference; rejects when none does.
//   await loadRuntime(manifest.runtime, build?) one build ("relaxed" default, "compat"), once;
//                                               rejects with a readable Error.
//   await loadModel(name, entry, {runtime?})    entry = manifest.models[name] (browser: true):
//                                               fetches entry.url, checks entry.sha256, compiles.
//   await loadGraph(name, {url, sha256}, {runtime?})  any .tflite (the Inside tab's encoder and
//                                               decoder halves), checked and compiled; runGraph(graph, x)
//                                               -> its one output as a Float32Array.
//   await loadModels(manifest.models, names?, {runtime?})
//                                               -> {models: {name: Model}, failed: {name: why}, stages}
//                                               (entries with browser: false land in failed).
//   await denoise(model, noisy)                 -> {image: Float32Array(784) in [0, 1],
//                                                   code: Float32Array | null}
//                                               (dae's denoise_and_encode for one digit).
//   drawDigit(canvas, image) / digitDataUrl(image)   paint a digit as the server's PNGs do.
//   gaussianBlur(image, sigma), new Rng(seed), NOISE_KINDS   the pieces corrupt() is made of.
//
// ui/digits.js (the tab) calls loadBest after the first paint, computes every control change
// here, and on a failure at run time moves to the next build, or to the server.
//
// Images are Float32Array(784), row-major 28×28, values nominally in [0, 1].

const SIDE = 28;
const PIXELS = SIDE * SIDE;
export const NOISE_KINDS = Object.freeze(["gaussian", "uniform", "salt-pepper", "none"]);

// --- the noise generator -------------------------------------------------------------

/**
 * xoshiro128** 1.1 (Blackman & Vigna, 2018; public domain), its 128-bit state seeded from the
 * integer seed by SplitMix64 as its authors recommend. 32-bit integer arithmetic only, so
 * every browser draws the same numbers for the same seed.
 */
export class Rng {
  /** @param {number|bigint} seed any integer; the low 64 bits are used */
  constructor(seed = 0) {
    let z = BigInt.asUintN(64, BigInt(seed));
    const words = [];
    for (let i = 0; i < 2; i++) { // SplitMix64, two 64-bit outputs -> four 32-bit words
      z = BigInt.asUintN(64, z + 0x9e3779b97f4a7c15n);
      let x = z;
      x = BigInt.asUintN(64, (x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n);
      x = BigInt.asUintN(64, (x ^ (x >> 27n)) * 0x94d049bb133111ebn);
      x ^= x >> 31n;
      words.push(Number(x & 0xffffffffn), Number(x >> 32n));
    }
    this.s = Uint32Array.from(words);
    this.spare = null; // Box–Muller makes normals in pairs
  }

  /** @returns {number} the next uint32 */
  nextUint32() {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** @returns {number} uniform in [0, 1), 32 random bits */
  random() {
    return this.nextUint32() / 4294967296;
  }

  /** @returns {number} a standard normal (Box–Muller on two uniforms) */
  normal() {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u1 = 1 - this.random(); // (0, 1]: log(0) never happens
    const u2 = this.random();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
}

function rotl(x, k) {
  return (x << k) | (x >>> (32 - k));
}

// --- corruption ------------------------------------------------------------------------

function checkImage(img, what = "image") {
  if (!img || img.length !== PIXELS) {
    throw new RangeError(`${what} must hold ${PIXELS} values (28×28), got ${img ? img.length : img}`);
  }
}

function checkLevel(name, v) {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
}

/**
 * scipy.ndimage.gaussian_filter(image, sigma, mode="nearest") on one 28×28 image: a normalised
 * kernel of radius int(4σ + 0.5) (scipy's truncate=4.0), rows then columns, edges repeated.
 * @param {Float32Array} img 784 values
 * @param {number} sigma pixels; 0 returns a copy
 * @returns {Float32Array}
 */
export function gaussianBlur(img, sigma) {
  checkImage(img);
  checkLevel("blur", sigma);
  if (sigma === 0) return Float32Array.from(img);
  const radius = Math.trunc(4 * sigma + 0.5);
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += kernel[i + radius] = Math.exp(-0.5 * i * i / (sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  const clamp = (i) => (i < 0 ? 0 : i >= SIDE ? SIDE - 1 : i);
  // scipy filters axis 0 then axis 1 and stores each pass in the input's dtype (float32)
  const pass = (src, alongRows) => {
    const out = new Float32Array(PIXELS);
    for (let r = 0; r < SIDE; r++) {
      for (let c = 0; c < SIDE; c++) {
        let acc = 0;
        for (let k = -radius; k <= radius; k++) {
          acc += kernel[k + radius] * (alongRows ? src[clamp(r + k) * SIDE + c] : src[r * SIDE + clamp(c + k)]);
        }
        out[r * SIDE + c] = acc;
      }
    }
    return out;
  };
  return pass(pass(img, true), false);
}

/**
 * The app's controls applied to one clean digit, as dae.corrupt.from_controls + apply_batch:
 * blur, then noise, then an optional clip. Throws RangeError where dae raises ValueError.
 * @param {Float32Array} clean 784 values in [0, 1]
 * @param {{noise?: string, level?: number, blur?: number, mean?: number, clip?: boolean}} controls
 *   noise: "gaussian" | "uniform" | "salt-pepper" | "none"; level: σ, ±r or the fraction of
 *   pixels hit (capped at 1); mean: Gaussian only
 * @param {number} seed any integer; the same seed gives the same noise (this generator's,
 *   not numpy's: see the top of this file)
 * @returns {Float32Array} the noisy digit
 */
export function corrupt(clean, { noise = "gaussian", level = 0, blur = 0, mean = 0, clip = true } = {}, seed = 0) {
  checkImage(clean, "clean");
  if (!NOISE_KINDS.includes(noise)) throw new RangeError(`unknown noise kind ${noise}; choose one of ${NOISE_KINDS}`);
  checkLevel("level", level);
  if (!Number.isFinite(mean)) throw new RangeError(`mean must be finite, got ${mean}`);
  const x = gaussianBlur(clean, blur);
  const rng = new Rng(seed);
  if (noise === "gaussian") {
    for (let i = 0; i < PIXELS; i++) x[i] += rng.normal() * level + mean;
  } else if (noise === "uniform") {
    for (let i = 0; i < PIXELS; i++) x[i] += (2 * rng.random() - 1) * level;
  } else if (noise === "salt-pepper") {
    const amount = Math.min(level, 1);
    const hit = new Float64Array(PIXELS).map(() => rng.random()); // one draw per pixel, then
    for (let i = 0; i < PIXELS; i++) { //                            one for salt or pepper
      const salt = rng.random() < 0.5;
      if (hit[i] < amount) x[i] = salt ? 1 : 0;
    }
  }
  if (clip) for (let i = 0; i < PIXELS; i++) x[i] = Math.min(1, Math.max(0, x[i]));
  return x;
}

// --- metrics ---------------------------------------------------------------------------

/**
 * skimage.metrics.peak_signal_noise_ratio(clean, test, data_range=1), in float64.
 * @param {Float32Array} clean
 * @param {Float32Array} test
 * @returns {number} dB; Infinity for identical images
 */
export function psnr(clean, test) {
  checkImage(clean, "clean");
  checkImage(test, "test");
  let se = 0;
  for (let i = 0; i < PIXELS; i++) se += (clean[i] - test[i]) ** 2;
  const mse = se / PIXELS;
  return mse === 0 ? Infinity : 10 * Math.log10(1 / mse);
}

const WIN = 7;

// scipy's "reflect" mode (d c b a | a b c d | d c b a): REFLECT[j] is the pixel at position
// j − 3 of a row or column, for j in 0 … 33, so a window's taps are REFLECT[i] … REFLECT[i + 6].
const REFLECT = Int32Array.from({ length: SIDE + WIN - 1 }, (_, j) => {
  const i = j - ((WIN - 1) >> 1);
  return i < 0 ? -i - 1 : i >= SIDE ? 2 * SIDE - i - 1 : i;
});

/** scipy.ndimage.uniform_filter(size=7, mode="reflect") on 28×28 float64, rows then columns,
 * each tap added in window order. Plain loops over typed arrays: called five times per SSIM,
 * and an SSIM per panel on every σ step. */
function boxMean(a) {
  const tmp = new Float64Array(PIXELS);
  const out = new Float64Array(PIXELS);
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) {
      let acc = 0;
      for (let k = 0; k < WIN; k++) acc += a[REFLECT[r + k] * SIDE + c];
      tmp[r * SIDE + c] = acc / WIN;
    }
  }
  for (let r = 0; r < SIDE; r++) {
    const row = r * SIDE;
    for (let c = 0; c < SIDE; c++) {
      let acc = 0;
      for (let k = 0; k < WIN; k++) acc += tmp[row + REFLECT[c + k]];
      out[row + c] = acc / WIN;
    }
  }
  return out;
}

/**
 * skimage.metrics.structural_similarity as dae.metrics.ssim calls it on a 28×28 digit:
 * data_range 1, a 7×7 uniform window, K1 0.01, K2 0.03, sample covariance, and the mean of
 * the SSIM map with a 3-pixel border cropped (where the window would leave the image).
 * @param {Float32Array} clean
 * @param {Float32Array} test
 * @returns {number}
 */
export function ssim(clean, test) {
  checkImage(clean, "clean");
  checkImage(test, "test");
  const [x, y, xx, yy, xy] = Array.from({ length: 5 }, () => new Float64Array(PIXELS));
  for (let i = 0; i < PIXELS; i++) {
    x[i] = clean[i];
    y[i] = test[i];
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
    xy[i] = x[i] * y[i];
  }
  const [ux, uy, uxx, uyy, uxy] = [x, y, xx, yy, xy].map(boxMean);
  const np = WIN * WIN;
  const covNorm = np / (np - 1);
  const C1 = 0.01 ** 2;
  const C2 = 0.03 ** 2;
  const pad = (WIN - 1) >> 1;
  let sum = 0;
  for (let r = pad; r < SIDE - pad; r++) {
    for (let c = pad; c < SIDE - pad; c++) {
      const i = r * SIDE + c;
      const vx = covNorm * (uxx[i] - ux[i] * ux[i]);
      const vy = covNorm * (uyy[i] - uy[i] * uy[i]);
      const vxy = covNorm * (uxy[i] - ux[i] * uy[i]);
      const a1 = 2 * ux[i] * uy[i] + C1;
      const a2 = 2 * vxy + C2;
      const b1 = ux[i] ** 2 + uy[i] ** 2 + C1;
      const b2 = vx + vy + C2;
      sum += (a1 * a2) / (b1 * b2);
    }
  }
  return sum / (SIDE - 2 * pad) ** 2;
}

// --- the models ------------------------------------------------------------------------

/** The wasm builds, in the order loadBest tries them: "relaxed" needs WebAssembly relaxed SIMD,
 * "compat" plain SIMD only (the same single-threaded LiteRT.js build otherwise). */
export const BUILDS = Object.freeze(["relaxed", "compat"]);
export const BUILD_LABELS = Object.freeze({ relaxed: "relaxed SIMD", compat: "compat, plain SIMD" });

// wasm-feature-detect's SIMD probe (i32.const 0, i8x16.splat, i8x16.popcnt): LiteRT's own
// supportsFeature() probes relaxed SIMD, threads, JSPI and WebNN, but not plain SIMD
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0,
  65, 0, 253, 15, 253, 98, 11]);

let current = null; // the Runtime loaded last, which loadModel uses unless told otherwise
const modelBytes = new Map(); // url -> the checked bytes of an export: a second build reuses them

/**
 * @typedef {object} Runtime
 * @property {string} build "relaxed" | "compat"
 * @property {object} lib this build's own instance of the LiteRT.js module
 */

/**
 * Load LiteRT.js and one of its wasm builds, once per page and build (later calls return the
 * same promise). Each build gets its own instance of litert.js (imported under its own URL),
 * because LiteRT keeps one runtime per module instance and cannot unload one that failed.
 * The wasm is fetched and compiled here, streamed, once: a build the engine cannot compile
 * rejects at once, without Emscripten's second download (it retries a failed streaming
 * compile as a plain download, for servers that send the wrong MIME type).
 * Rejects with an Error whose message starts "the in-browser runtime did not load: " and says
 * why (no WebAssembly, no (relaxed) SIMD, HTTP status, compile error); a later call tries again.
 * @param {{lib: string, builds: Object<string, {loader: string, wasm: string}>}} runtime
 *   manifest.runtime; relative URLs resolve against the page
 * @param {string} [build] "relaxed" (default) or "compat"
 * @returns {Promise<Runtime>}
 */
export function loadRuntime(runtime, build = "relaxed") {
  const promises = (loadRuntime.promises ??= {});
  promises[build] ??= (async () => {
    if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
    const spec = runtime.builds?.[build];
    if (!spec) throw new Error(`no ${build} build is served`);
    const url = (u) => new URL(u, document.baseURI).href;
    const lib = await import(`${url(runtime.lib)}?build=${build}`);
    if (build === "relaxed" && !(await lib.supportsFeature("relaxedSimd"))) {
      throw new Error("this browser's WebAssembly lacks relaxed SIMD (Chrome/Edge 114+ have it; Safari does not)");
    }
    if (!WebAssembly.validate(SIMD_PROBE)) throw new Error("this browser's WebAssembly lacks SIMD");
    const response = await fetch(url(spec.wasm), { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${spec.wasm} answered HTTP ${response.status}`);
    const module = (response.headers.get("Content-Type") ?? "").startsWith("application/wasm")
      ? await WebAssembly.compileStreaming(response)
      : await WebAssembly.compile(await response.arrayBuffer());
    let instantiateFailed;
    const failed = new Promise((_, reject) => { instantiateFailed = reject; });
    // wasm-utils hands this global `Module` to the Emscripten loader. The runtime logs its
    // set-up (INFO/WARNING lines) on stderr, which Emscripten sends to console.error: demote
    // those to debug. instantiateWasm gives it the module compiled above.
    globalThis.Module = {
      printErr: (s) => (/^(INFO|WARNING)\b/.test(s) ? console.debug : console.error)(s),
      locateFile: (path) => (path.endsWith(".wasm") ? url(spec.wasm) : path),
      instantiateWasm(imports, ok) {
        WebAssembly.instantiate(module, imports).then((instance) => ok(instance, module), instantiateFailed);
        return {};
      },
    };
    // the loader's own URL, not the folder: given a folder, LiteRT picks a file name by its
    // relaxed-SIMD probe alone, and these names are content-hashed
    await Promise.race([lib.loadLiteRt(url(spec.loader)), failed]);
    current = { build, lib };
    return current;
  })().catch((e) => {
    promises[build] = null; // a later call may try again
    globalThis.Module = undefined; // the loader consumes it only on success
    // a failed <script> rejects with its error Event; a blocked wasm with a TypeError
    const detail = e instanceof Error ? e.message : e?.target?.src ? `could not load ${e.target.src}` : String(e);
    throw new Error(`the in-browser runtime did not load: ${detail}`, { cause: e });
  });
  return promises[build];
}

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * @typedef {object} Model
 * @property {string} name
 * @property {string} build the Runtime's build it runs on
 * @property {object} lib that Runtime's LiteRT.js instance
 * @property {object} compiled LiteRT.js CompiledModel
 * @property {Int32Array} inputShape e.g. [1, 28, 28, 1]
 * @property {number[]} outputOrder indices into the model's outputs: the image, then the code
 */

function stageError(stage, message, cause) {
  return Object.assign(new Error(message, { cause }), { stage });
}

/**
 * Fetch one .tflite export (once per page: a second build reuses the bytes), check it is the
 * file the server vouched for, and compile it for the CPU (wasm). Rejects with an Error saying
 * why (HTTP status, checksum, compile error), whose `stage` is "fetch", "checksum",
 * "compile" or "shape".
 * @param {string} name the model's name, for messages
 * @param {{url: string, sha256?: string}|string} entry manifest.models[name], or a URL
 * @param {{runtime?: Runtime}} [options] default: the runtime loaded last
 * @returns {Promise<Model>}
 */
export async function loadModel(name, entry, { runtime = current } = {}) {
  const { compiled } = await loadGraph(name, entry, { runtime });
  const inputs = compiled.getInputDetails();
  if (inputs.length !== 1 || inputs[0].shape.reduce((a, b) => a * b, 1) !== PIXELS || inputs[0].dtype !== "float32") {
    compiled.delete();
    throw stageError("shape", `${name}: expected one float32 input of 784 values`);
  }
  // dae.inference.LiteRunner's order: highest rank first (the image, then the code); the
  // element count breaks ties, so the 784-value image still comes first in a flat model
  const size = (d) => d.shape.reduce((a, b) => a * b, 1);
  const outputOrder = compiled.getOutputDetails()
    .map((d, i) => ({ i, rank: d.shape.length, n: size(d) }))
    .sort((a, b) => b.rank - a.rank || b.n - a.n)
    .map((d) => d.i);
  return { name, build: runtime.build, lib: runtime.lib, compiled, inputShape: inputs[0].shape, outputOrder };
}

/**
 * Fetch any .tflite graph (once per page: a second build reuses the bytes), check it against
 * its sha256, compile it for the CPU (wasm), with no assumption about its shapes (loadModel
 * adds the digit models' checks on top). Rejects with an Error saying why, whose `stage` is
 * "fetch", "checksum" or "compile".
 * @param {string} name for messages
 * @param {{url: string, sha256?: string}|string} entry
 * @param {{runtime?: Runtime}} [options] default: the runtime loaded last
 * @returns {Promise<{name: string, build: string, lib: object, compiled: object, inputShape: Int32Array}>}
 */
export async function loadGraph(name, entry, { runtime = current } = {}) {
  if (!runtime) throw new Error("loadRuntime() has not finished");
  const { url, sha256 } = typeof entry === "string" ? { url: entry } : entry;
  let bytes = modelBytes.get(url);
  if (!bytes) {
    const response = await fetch(url);
    if (!response.ok) throw stageError("fetch", `${name}: ${url} answered HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
    // crypto.subtle exists in secure contexts only (https, localhost): elsewhere the check is skipped
    if (sha256 && globalThis.crypto?.subtle) {
      const got = await sha256Hex(bytes);
      if (got !== sha256) throw stageError("checksum", `${name}: the downloaded model is not the server's (sha256 ${got.slice(0, 12)}…)`);
    }
    modelBytes.set(url, bytes);
  }
  let compiled;
  try {
    compiled = await runtime.lib.loadAndCompile(bytes, { accelerator: "wasm" });
  } catch (e) {
    throw stageError("compile", `${name}: ${e?.message ?? e}`, e);
  }
  return { name, build: runtime.build, lib: runtime.lib, compiled, inputShape: compiled.getInputDetails()[0].shape };
}

/**
 * One call of a one-input, one-output graph from loadGraph (an encoder or a decoder half).
 * @param {{compiled: object, inputShape: Int32Array}} graph
 * @param {Float32Array} input as many values as the input shape holds
 * @returns {Promise<Float32Array>} the output, unclipped
 */
export async function runGraph(graph, input) {
  const tensor = new graph.lib.Tensor(Float32Array.from(input), Array.from(graph.inputShape));
  let outputs;
  try {
    outputs = await graph.compiled.run(tensor);
  } finally {
    tensor.delete();
  }
  try {
    return outputs[0].toTypedArray();
  } finally {
    for (const t of outputs) t.delete();
  }
}

/**
 * Load every model the manifest lets the browser run; never rejects.
 * @param {Object<string, {browser: boolean, url?: string, sha256?: string, why?: string}>} entries manifest.models
 * @param {string[]} [names] a subset, in the order wanted (default: all)
 * @param {{runtime?: Runtime}} [options] default: the runtime loaded last
 * @returns {Promise<{models: Object<string, Model>, failed: Object<string, string>,
 *   stages: Object<string, string>}>} stages: each failure's stage (see loadModel; "manifest"
 *   for an entry the server withheld)
 */
export async function loadModels(entries, names = Object.keys(entries), options = {}) {
  const models = {};
  const failed = {};
  const stages = {};
  for (const name of names) { // one at a time: compiling is CPU work on the page's thread
    const entry = entries[name];
    if (!entry?.browser) {
      failed[name] = entry?.why ?? "not offered to the browser";
      stages[name] = "manifest";
      continue;
    }
    try {
      models[name] = await loadModel(name, entry, options);
    } catch (e) {
      failed[name] = e.message;
      stages[name] = e.stage ?? "compile";
    }
  }
  return { models, failed, stages };
}

/** Free a set of models; those of a runtime that aborted may throw, which changes nothing. */
export function release(models) {
  for (const m of Object.values(models ?? {})) {
    try { m.compiled.delete(); } catch { /* an aborted runtime */ }
  }
}

/**
 * The first build that works here, with its models: each build in turn (relaxed SIMD first)
 * must load, compile every model it is offered, and run a first inference with each (the
 * engine may validate a build and still abort on an opcode it lacks). A model the server
 * withheld, or whose download failed or did not match its checksum, is not the build's fault
 * and does not move to the next one.
 * @param {{runtime: object, models: object}} manifest window.daeBrowser
 * @param {{builds?: string[], names?: string[]}} [options] builds: in the order to try
 * @returns {Promise<{build: string, runtime: Runtime, models: Object<string, Model>,
 *   failed: Object<string, string>, tried: Object<string, string>}>} tried: why each earlier
 *   build was passed over; rejects when none works, saying why for each
 */
export async function loadBest(manifest, { builds = BUILDS, names } = {}) {
  const tried = {};
  for (const build of builds) {
    let runtime;
    try {
      runtime = await loadRuntime(manifest.runtime, build);
    } catch (e) {
      tried[build] = e.message.replace(/^the in-browser runtime did not load: /, "");
      continue;
    }
    const { models, failed, stages } = await loadModels(manifest.models, names, { runtime });
    const broken = Object.entries(stages).filter(([, s]) => s === "compile" || s === "shape").map(([n]) => failed[n]);
    try {
      for (const model of Object.values(models)) await denoise(model, new Float32Array(PIXELS));
    } catch (e) {
      broken.push(`a first inference failed (${e?.message ?? e})`);
    }
    if (broken.length || !Object.keys(models).length) {
      release(models);
      tried[build] = broken[0] ?? Object.values(failed)[0] ?? "no model loaded";
      continue;
    }
    return { build, runtime, models, failed, tried };
  }
  const why = Object.entries(tried).map(([b, w]) => `${BUILD_LABELS[b] ?? b} build: ${w}`).join("; ");
  throw new Error(`the in-browser runtime did not load: ${why || "no build to try"}`);
}

/**
 * One digit through one model: dae's DigitDenoiser.denoise_and_encode for a single image.
 * @param {Model} model from loadModel
 * @param {Float32Array} noisy 784 values
 * @returns {Promise<{image: Float32Array, code: Float32Array|null}>} image clipped to [0, 1];
 *   code is the bottleneck (dense, conv-latent), else null
 */
export async function denoise(model, noisy) {
  checkImage(noisy, "noisy");
  const input = new model.lib.Tensor(Float32Array.from(noisy), Array.from(model.inputShape));
  let outputs;
  try {
    outputs = await model.compiled.run(input);
  } finally {
    input.delete();
  }
  try {
    const [image, code] = model.outputOrder.map((i) => outputs[i].toTypedArray());
    for (let i = 0; i < image.length; i++) image[i] = Math.min(1, Math.max(0, image[i]));
    return { image, code: code ?? null };
  } finally {
    for (const t of outputs) t.delete();
  }
}

// --- drawing ---------------------------------------------------------------------------

/** dae.images.to_uint8: clip to [0, 1], scale to 0-255, add 0.5 and truncate, in float32
 * arithmetic as numpy does it (in float64 about one pixel in a hundred differs by one). */
function toGreyRGBA(img) {
  checkImage(img);
  const f = Math.fround;
  const rgba = new Uint8ClampedArray(PIXELS * 4);
  for (let i = 0; i < PIXELS; i++) {
    const v = Math.trunc(f(f(Math.min(1, Math.max(0, f(img[i]) || 0)) * 255) + 0.5));
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = v;
    rgba[4 * i + 3] = 255;
  }
  return new ImageData(rgba, SIDE, SIDE);
}

/**
 * Paint a digit into a canvas at 28×28 (scale it with CSS; `image-rendering: pixelated`
 * keeps the pixels square).
 * @param {HTMLCanvasElement} canvas
 * @param {Float32Array} image
 */
export function drawDigit(canvas, image) {
  canvas.width = SIDE;
  canvas.height = SIDE;
  canvas.getContext("2d").putImageData(toGreyRGBA(image), 0, 0);
}

/**
 * A digit as a 28×28 greyscale PNG data URL, the same pixels as the server's PNGs, for an <img>.
 * @param {Float32Array} image
 * @returns {string}
 */
export function digitDataUrl(image) {
  digitDataUrl.canvas ??= document.createElement("canvas"); // one, reused: making one costs more than the PNG
  drawDigit(digitDataUrl.canvas, image);
  return digitDataUrl.canvas.toDataURL("image/png");
}
