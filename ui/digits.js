// The Digits tab's switch between the server and the visitor's browser.
//
// Every change of the tab's state (ui/state.js: the digit, noise kind, level, blur, mean, clip,
// seed, the ticked methods, error maps, by name) reaches window.daeDigits.changed(state, pixels)
// first, in the page, with no request. Until the in-browser path is ready, or when it cannot
// be, changed() presses the hidden #digits-refresh button, whose click is the server render of
// the page's state (ui/digits.py PAGE_STATE: the state travels with the request).
// Once LiteRT.js and the digit models have loaded (after the first paint, which the server
// made; loadBest picks the wasm build: relaxed SIMD where it compiles and runs, else the
// compat build), changed() computes the strip here: the corruption, every ticked model, PSNR/SSIM,
// the codes and error maps, with ui/digits_browser.js, all on the page's own thread (Web Workers
// were measured slower here: docs/browser.md, "What a σ step costs"). One renderer, drawStrip,
// writes the strip's markup from numbers: the page's own, or the server's (ui/panels.numbers,
// which lands as a hidden .dae-numbers element the observer below turns into the strip, first
// paint included). A step that keeps the strip's shape patches it in place (patch).
//
// A model that fails at run time (a runtime abort: an engine whose relaxed SIMD is partial)
// moves the page to the next build: the server answers meanwhile, then the strip is computed
// here again, and the source line names the build that computed it.
// The server path takes over, and the source line says why, when: the page asks for it
// (?server=1), no wasm build loads and runs here, the last build fails at run time, or a
// classical filter is ticked (those run on the server only: computing the models here on
// different noise would compare unlike with unlike).

const M = window.daeBrowser; // ui/browser_assets.manifest(), put on the page by app.py
const SERVER_ONLY = new URLSearchParams(location.search).get("server");
const state = {
  mode: "server", // "server" until the browser path is ready, "browser" after
  why: SERVER_ONLY && SERVER_ONLY !== "0" ? "?server=1 asks for the server" : "",
  lib: null,
  build: null, // the wasm build the models run on: "relaxed" | "compat"
  tried: {}, // builds passed over, and why
  models: {},
  last: null, // the latest state changed() was given, and its pixels: {state, pixels}
  drawn: "", // the state of the strip on screen, as JSON
  digit: null, // the clean digit of the last render: {b64, pixels, src}
  rendering: null, // the browser render in progress (a promise), and the values that wait
  pending: null,
};

function refreshServer() {
  document.getElementById("digits-refresh")?.click();
}

function decodeDigit(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer); // little-endian float32, as ui/panels.encode_digit writes
}

function rgbDataUrl(width, height, pixel) {
  const canvas = (rgbDataUrl.canvas ??= document.createElement("canvas")); // reused, as digitDataUrl's
  canvas.width = width;
  canvas.height = height;
  const data = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = pixel(i);
    data.data.set([r, g, b, 255], 4 * i);
  }
  canvas.getContext("2d").putImageData(data, 0, 0);
  return canvas.toDataURL("image/png");
}

// ui/panels.heatmap: matplotlib's magma, row min(255, floor(256 x)), x clipped to [0, 1]
function heatDataUrl(clean, test) {
  return rgbDataUrl(28, 28, (i) => {
    const x = Math.min(1, Math.max(0, Math.abs(test[i] - clean[i])));
    return M.errorLut[Math.min(255, Math.floor(256 * x))];
  });
}

// dae.service.latent_strip(code, cell=1): min-max to [0, 1], grey, one pixel a number
function codeDataUrl(code) {
  let lo = Infinity, hi = -Infinity;
  for (const v of code) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi - lo;
  return rgbDataUrl(code.length, 1, (i) => {
    const v = Math.trunc(Math.fround(Math.fround(span > 0 ? (code[i] - lo) / span : 0) * 255) + 0.5);
    return [v, v, v];
  });
}

const escapeHtml = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const panelId = (name) => "out-" + name.replace(/[^A-Za-z0-9-]/g, "-");
const img = (src, alt, cls = "dae-img") => `<img class="${cls}" src="${src}" alt="${escapeHtml(alt)}" width="28" height="28">`;

/** The fields of a state the strip shows (not the tab), in a fixed order: the strip's data-state. */
const STRIP_FIELDS = ["digit", "noise", "level", "blur", "mean", "clip", "seed", "models", "errors"];
const stripState = (s) => Object.fromEntries(STRIP_FIELDS.map((n) => [n, s[n]]));
const stripKey = (s) => JSON.stringify(stripState(s));

function score(p, s) {
  const v = p === null || !Number.isFinite(p) ? "∞" : p.toFixed(2);
  return `<span class="dae-psnr"><small>PSNR</small> ${v} <small>dB</small></span>` +
    `<span class="dae-ssim"><small>SSIM</small> ${s.toFixed(3)}</span>`;
}

function figure(id, name, src, caption, extra = "", cls = "") {
  return `<figure id="${id}" class="dae-panel ${cls}">${img(src, name)}` +
    `<figcaption><span class="dae-name">${escapeHtml(name)}</span>${caption}</figcaption>${extra}</figure>`;
}

function scaleSrc() {
  return (scaleSrc.src ??= rgbDataUrl(28, 4, (i) => M.errorLut[Math.min(255, Math.floor(256 * (i % 28) / 27))]));
}

const scaleBlock = (src) => `<div class="dae-scale"><img src="${src}" alt="error colour scale"><span>|denoised − original|: 0</span><span>1</span></div>`;

/**
 * The strip's markup, the one place it is written: the original, the noisy digit and one panel
 * per method, in the order they ran, the best PSNR marked, a bottleneck model's code under it,
 * error maps under every panel when asked. ``n`` is {state, original, noisy, panels, errors,
 * scale, source, sourceText, build}: each image a src (a PNG data URI), a PSNR of null is ∞.
 */
function drawStrip(n) {
  const finite = (p) => (p === null ? Infinity : p);
  const best = n.panels.length ? n.panels.reduce((a, b) => (finite(b.psnr) > finite(a.psnr) ? b : a)).name : null;
  const err = (p) => (n.errors && p.err ? img(p.err, `error map of ${p.name}`, "dae-img dae-err") : "");
  const parts = [
    figure("original", "original", n.original, '<span class="dae-psnr">&nbsp;</span><span class="dae-ssim">held out</span>',
      n.errors ? scaleBlock(n.scale) : ""),
    figure("noisy", "noisy", n.noisy.src, score(n.noisy.psnr, n.noisy.ssim), err(n.noisy)),
  ];
  for (const p of n.panels) {
    let extra = err(p);
    if (p.code) {
      extra += `<img class="dae-code" src="${p.code.src}" alt="${escapeHtml(p.name)}: ${p.code.n}-number code" title="${p.code.n}-number code">`;
    }
    parts.push(figure(panelId(p.name), p.name, p.src, score(p.psnr, p.ssim), extra, p.name === best ? "dae-best" : ""));
  }
  const build = n.build ? ` data-build="${n.build}"` : "";
  return `<div class="dae-strip" data-state="${escapeHtml(stripKey(n.state))}">${parts.join("")}</div>` +
    `<p class="dae-source" id="dae-source" data-source="${n.source}"${build}>${escapeHtml(n.sourceText)}</p>`;
}

/** The numbers of one state, computed here (what ui/panels.numbers computes on the server). */
async function computeHere(s, b64) {
  const lib = state.lib;
  const t0 = performance.now();
  if (state.digit?.b64 !== b64) { // a σ drag keeps the digit: decode and draw it once
    const pixels = decodeDigit(b64);
    state.digit = { b64, pixels, src: lib.digitDataUrl(pixels) };
  }
  const clean = state.digit.pixels;
  const noisy = lib.corrupt(clean, { noise: s.noise, level: +s.level, blur: +s.blur, mean: +s.mean, clip: !!s.clip }, +s.seed || 0);
  const one = (name, image, code) => ({
    name, src: lib.digitDataUrl(image), psnr: lib.psnr(clean, image), ssim: lib.ssim(clean, image),
    err: s.errors ? heatDataUrl(clean, image) : null,
    ...(code ? { code: { src: codeDataUrl(code), n: code.length } } : {}),
  });
  const panels = [];
  for (const name of s.models) {
    const { image, code } = await lib.denoise(state.models[name], noisy);
    panels.push(one(name, image, code));
  }
  const ms = performance.now() - t0;
  return {
    state: s, original: state.digit.src, noisy: one("noisy", noisy), panels, errors: !!s.errors, scale: s.errors ? scaleSrc() : null,
    source: "browser", build: state.build,
    sourceText: `computed in your browser (LiteRT.js ${lib.BUILD_LABELS[state.build]}, ${ms.toFixed(0)} ms)`,
  };
}

/** The strip for one state, computed here and not drawn (tests compare it with a patched one). */
async function renderHere(s, b64) {
  return drawStrip(await computeHere(s, b64));
}

function container() {
  return document.querySelector("#panels .prose") ?? document.querySelector("#panels .dae-strip")?.parentElement;
}

/**
 * Put html into box. When the strip on screen has the same shape (the same elements in the same
 * order: the same panels, error maps on or off), only the attributes and texts that differ
 * change (a σ step changes the images' src, the scores and the best panel's class), so Chromium
 * decodes the new images but lays out and styles nothing new. Else the box is rewritten.
 */
function patch(box, html) {
  const next = document.createElement("template");
  next.innerHTML = html;
  if (!sameShape(box, next.content)) {
    box.replaceChildren(next.content);
    return;
  }
  const olds = box.querySelectorAll("*");
  next.content.querySelectorAll("*").forEach((el, i) => {
    const old = olds[i];
    for (const { name, value } of el.attributes) if (old.getAttribute(name) !== value) old.setAttribute(name, value);
    for (const { name } of [...old.attributes]) if (!el.hasAttribute(name)) old.removeAttribute(name);
    el.childNodes.forEach((n, j) => {
      if (n.nodeType === Node.TEXT_NODE && old.childNodes[j].nodeValue !== n.nodeValue) old.childNodes[j].nodeValue = n.nodeValue;
    });
  });
}

function sameShape(a, b) {
  const x = a.querySelectorAll("*");
  const y = b.querySelectorAll("*");
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    if (x[i].tagName !== y[i].tagName || x[i].childNodes.length !== y[i].childNodes.length) return false;
    for (let j = 0; j < x[i].childNodes.length; j++) if (x[i].childNodes[j].nodeType !== y[i].childNodes[j].nodeType) return false;
  }
  return true;
}

function note(text) {
  const p = document.getElementById("dae-source");
  if (p && text && !p.dataset.note) {
    p.textContent = `${p.textContent} · ${text}`;
    p.dataset.note = "1";
  }
}

function serverOnlyReason(methods) {
  const off = methods.filter((m) => !state.models[m]);
  if (!off.length) return "";
  const filters = off.filter((m) => !(m in M.models));
  return filters.length ? `${filters.join(", ")} runs on the server only` : `${off.join(", ")} is not loaded in your browser`;
}

async function renderLoop() {
  while (state.pending) {
    const { state: s, pixels } = state.pending;
    state.pending = null;
    const key = stripKey(s);
    if (key === state.drawn) continue; // already on screen (the slider's fast path drew it)
    const html = await renderHere(s, pixels);
    const box = container();
    if (box) patch(box, html);
    state.drawn = key;
  }
}

function fallBack(why) {
  state.mode = "server";
  state.why = why;
  console.warn("in-browser digits off:", why);
  refreshServer();
}

/** A model failed at run time: the server answers while the next build loads (the exports'
 * bytes are reused, only its wasm is fetched), then the strip is computed here again. */
async function nextBuild(error) {
  const failedBuild = state.build;
  const rest = state.lib.BUILDS.slice(state.lib.BUILDS.indexOf(failedBuild) + 1);
  const why = `the ${state.lib.BUILD_LABELS[failedBuild]} build failed in your browser (${error.message})`;
  state.tried[failedBuild] = error.message;
  state.lib.release(state.models);
  state.models = {};
  if (!rest.length) return fallBack(`${why}; the server took over`);
  state.mode = "server";
  state.why = `${why}; loading the next build`;
  console.warn("in-browser digits:", state.why);
  refreshServer();
  try {
    await useBest(rest);
  } catch (e) {
    fallBack(`${why}; ${e.message}; the server took over`);
  }
}

const pixels = new Map(); // gallery index -> base64 pixels, as the server sent them

function learnPixels(digit, b64) {
  if (typeof digit === "number" && b64) pixels.set(digit, b64);
}

/** Resolves when the strip on screen shows this state (true), or after timeoutMs (false). */
function whenDrawn(s, timeoutMs = 30_000) {
  const want = stripKey(s);
  const shown = () => document.querySelector("#panels .dae-strip")?.dataset.state === want;
  if (shown()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const watch = new MutationObserver(() => { if (shown()) { watch.disconnect(); clearTimeout(t); resolve(true); } });
    const t = setTimeout(() => { watch.disconnect(); resolve(false); }, timeoutMs);
    watch.observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-state"] });
  });
}

window.daeDigits = {
  get mode() { return state.mode; },
  get why() { return state.why; },
  /** The wasm build the models run on ("relaxed" | "compat"), null on the server path. */
  get build() { return state.mode === "browser" ? state.build : null; },
  /** Builds passed over, and why. */
  get tried() { return { ...state.tried }; },
  /** The loaded models (tests replace a model's run to simulate a runtime abort). */
  get models() { return state.models; },
  /** The strip's markup for a state (ui/state.js get()), computed here and not drawn (tests
   * compare it). */
  render: (s) => renderHere(s, window.daeState.pixelsOf(s.digit)),
  /** The one renderer: the strip's markup from numbers (the page's own or the server's). */
  drawStrip,
  whenDrawn,
  /** The pixels of a gallery digit the server has sent (with a render or a pick), or null. */
  pixelsOf: (digit) => pixels.get(digit) ?? null,
  learnPixels,
  /** Called by every change of the tab's state (ui/state.js), with the digit's pixels when
   * the page has them (null: a gallery digit the server has not sent yet). */
  changed(s, pixels) {
    state.last = { state: s, pixels };
    // the Inside tab's 2-D map follows the digit and its corruption (ui/inside_browser.js)
    if (pixels) window.dispatchEvent(new CustomEvent("dae:digits", { detail: { state: s, pixels } }));
    const onServer = state.mode !== "browser" || !pixels || serverOnlyReason(s.models);
    if (onServer) {
      state.drawn = ""; // the server's strip replaces ours
      refreshServer();
      return;
    }
    state.pending = state.last; // only the newest state matters: a drag skips what it outpaced
    state.rendering ??= renderLoop()
      .catch((e) => { nextBuild(e); }) // not awaited: its new render must start its own loop
      .finally(() => { state.rendering = null; });
  },
};

// The slider's fast path: a drag of σ or blur is drawn from the range input's own "input"
// event, a frame before Gradio's change event reaches ui/state.js with the same values (which
// are then already on screen, so nothing is drawn twice).
document.addEventListener("input", (e) => {
  if (state.mode !== "browser" || !state.last || !(e.target instanceof HTMLInputElement)) return;
  const field = e.target.closest("#sigma") ? "level" : e.target.closest("#blur") ? "blur" : null;
  const value = parseFloat(e.target.value);
  if (!field || !Number.isFinite(value)) return;
  window.daeDigits.changed({ ...state.last.state, [field]: value }, state.last.pixels);
}, true);

/** A server render landed (a hidden .dae-numbers element in the strip's box): draw it, and
 * keep the digit's pixels it carries, so that the next step can be computed here. */
function drawServerNumbers(el) {
  const box = el.parentElement;
  let n;
  try {
    n = JSON.parse(el.dataset.numbers);
  } catch (e) {
    console.warn("unreadable server render:", e);
    return;
  }
  learnPixels(n.state.digit, n.pixels);
  box.replaceChildren();
  box.insertAdjacentHTML("afterbegin", drawStrip({ ...n, sourceText: "computed on the server" }));
}

// After each server render, draw it, and say why the server made it (once the browser path is
// known). A server render of the very state on screen that lands once the page computes here
// again (one asked for while the next build loaded, or for a digit whose pixels the page did not
// have yet) is replaced by the page's own render of it.
new MutationObserver(() => {
  const numbers = document.querySelector("#panels .dae-numbers");
  if (numbers) drawServerNumbers(numbers);
  const p = document.getElementById("dae-source");
  if (!p || p.dataset.source === "browser" || p.dataset.note) return;
  state.drawn = ""; // a server render is on screen now
  const reason = state.mode === "browser" ? serverOnlyReason(state.last?.state.models ?? []) : state.why;
  if (reason) note(reason);
  else if (state.mode === "browser" && state.last && sameState(document.querySelector("#panels .dae-strip"), state.last.state)) {
    window.daeDigits.changed(state.last.state, window.daeState.pixelsOf(state.last.state.digit));
  }
}).observe(document.documentElement, { childList: true, subtree: true });

function sameState(strip, s) {
  return strip?.dataset.state === stripKey(s);
}

/** Load the first of these builds that works (ui/digits_browser.js, loadBest), and from then
 * on compute here, starting from the page's state. Rejects when none works. */
async function useBest(builds) {
  const best = await state.lib.loadBest(M, { builds });
  Object.assign(state.tried, best.tried);
  state.models = best.models;
  state.build = best.build;
  const skipped = Object.entries(best.failed).map(([n, why]) => `${n}: ${why}`);
  if (skipped.length) console.warn("in-browser digits: some models stay on the server:", skipped);
  if (Object.keys(best.tried).length) console.warn("in-browser digits: builds passed over:", best.tried);
  state.mode = "browser";
  state.why = "";
  state.drawn = "";
  const s = window.daeState?.get();
  if (s) window.daeDigits.changed(s, window.daeState.pixelsOf(s.digit));
}

async function start() {
  if (state.why) return; // ?server=1
  try {
    state.lib = await import(M.module);
    await useBest(state.lib.BUILDS);
  } catch (e) {
    state.why = `in-browser path unavailable: ${e.message}`;
    note(state.why);
  }
}

// After the first paint: the server's strip is on screen before any of this loads.
function whenPainted() {
  if (document.querySelector("#panels .dae-strip")) {
    (window.requestIdleCallback ?? setTimeout)(() => start(), { timeout: 500 });
  } else {
    setTimeout(whenPainted, 100);
  }
}
const firstPaint = document.querySelector("#panels .dae-numbers");
if (firstPaint) drawServerNumbers(firstPaint); // this file loaded after the strip mounted
if (M) whenPainted();
else state.why = "the page has no in-browser manifest";
