// The Digits tab's switch between the server and the visitor's browser.
//
// Every change of the tab's inputs (digit, noise kind, level, blur, mean, clip, seed, the
// ticked methods, error maps) reaches window.daeDigits.changed(values) first, in the page, with
// no request (ui/digits.py wires it so). Until the in-browser path is ready, or when it cannot
// be, changed() presses the hidden #digits-refresh button, whose click is the server render.
// Once LiteRT.js and the digit models have loaded (after the first paint, which the server
// made; loadBest picks the wasm build: relaxed SIMD where it compiles and runs, else the
// compat build), changed() computes the strip here: the corruption, every ticked model, PSNR/SSIM,
// the codes and error maps, with ui/digits_browser.js, all on the page's own thread (Web Workers
// were measured slower here: docs/browser.md, "What a σ step costs"). The markup is
// ui/panels.py's: keep the two alike (tests/test_instant.py compares them). A step that keeps
// the strip's shape patches it in place (patch) rather than rewriting it.
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
  last: null, // the latest values changed() was given
  drawn: "", // the values of the strip on screen, as JSON
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

function score(p, s) {
  const v = Number.isFinite(p) ? p.toFixed(2) : "∞";
  return `<span class="dae-psnr"><small>PSNR</small> ${v} <small>dB</small></span>` +
    `<span class="dae-ssim"><small>SSIM</small> ${s.toFixed(3)}</span>`;
}

function figure(id, name, src, caption, extra = "", cls = "") {
  return `<figure id="${id}" class="dae-panel ${cls}">${img(src, name)}` +
    `<figcaption><span class="dae-name">${escapeHtml(name)}</span>${caption}</figcaption>${extra}</figure>`;
}

function scaleBlock() {
  const ramp = rgbDataUrl(28, 4, (i) => M.errorLut[Math.min(255, Math.floor(256 * (i % 28) / 27))]);
  return `<div class="dae-scale"><img src="${ramp}" alt="error colour scale"><span>|denoised − original|: 0</span><span>1</span></div>`;
}

/** The strip for one set of values, computed here; ui/panels.strip's markup. */
async function renderHere(values) {
  const [cleanB64, noise, level, blur, mean, clip, seed, methods, errorMaps] = values;
  const lib = state.lib;
  const t0 = performance.now();
  if (state.digit?.b64 !== cleanB64) { // a σ drag keeps the digit: decode and draw it once
    const pixels = decodeDigit(cleanB64);
    state.digit = { b64: cleanB64, pixels, src: lib.digitDataUrl(pixels) };
  }
  const clean = state.digit.pixels;
  const noisy = lib.corrupt(clean, { noise, level: +level, blur: +blur, mean: +mean, clip: !!clip }, +seed || 0);
  const panels = [];
  for (const name of methods) {
    const { image, code } = await lib.denoise(state.models[name], noisy);
    panels.push({ name, image, code, psnr: lib.psnr(clean, image), ssim: lib.ssim(clean, image) });
  }
  const best = panels.length ? panels.reduce((a, b) => (b.psnr > a.psnr ? b : a)).name : null;
  const err = (image, name) => (errorMaps ? img(heatDataUrl(clean, image), `error map of ${name}`, "dae-img dae-err") : "");
  const parts = [
    figure("original", "original", state.digit.src, '<span class="dae-psnr">&nbsp;</span><span class="dae-ssim">held out</span>',
      errorMaps ? scaleBlock() : ""),
    figure("noisy", "noisy", lib.digitDataUrl(noisy), score(lib.psnr(clean, noisy), lib.ssim(clean, noisy)), err(noisy, "noisy")),
  ];
  for (const p of panels) {
    let extra = err(p.image, p.name);
    if (p.code) {
      extra += `<img class="dae-code" src="${codeDataUrl(p.code)}" alt="${p.name}: ${p.code.length}-number code" title="${p.code.length}-number code">`;
    }
    parts.push(figure(panelId(p.name), p.name, lib.digitDataUrl(p.image), score(p.psnr, p.ssim), extra, p.name === best ? "dae-best" : ""));
  }
  const ms = performance.now() - t0;
  const data = escapeHtml(JSON.stringify(values));
  return `<div class="dae-strip" data-state="${data}">${parts.join("")}</div>` +
    `<p class="dae-source" id="dae-source" data-source="browser" data-build="${state.build}">computed in your browser ` +
    `(LiteRT.js ${lib.BUILD_LABELS[state.build]}, ${ms.toFixed(0)} ms)</p>`;
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
    const values = state.pending;
    state.pending = null;
    const key = JSON.stringify(values);
    if (key === state.drawn) continue; // already on screen (the slider's fast path drew it)
    const html = await renderHere(values);
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

window.daeDigits = {
  get mode() { return state.mode; },
  get why() { return state.why; },
  /** The wasm build the models run on ("relaxed" | "compat"), null on the server path. */
  get build() { return state.mode === "browser" ? state.build : null; },
  /** Builds passed over, and why. */
  get tried() { return { ...state.tried }; },
  /** The loaded models (tests replace a model's run to simulate a runtime abort). */
  get models() { return state.models; },
  /** The strip's markup for these values, computed here and not drawn (tests compare it). */
  render: (values) => renderHere(values),
  /** Called by every change of the tab's inputs (ui/digits.py's DISPATCH). */
  changed(values) {
    state.last = values;
    // the Inside tab's 2-D map follows the digit and its corruption (ui/inside_browser.js)
    window.dispatchEvent(new CustomEvent("dae:digits", { detail: values }));
    const onServer = state.mode !== "browser" || serverOnlyReason(values[7]);
    if (onServer) {
      state.drawn = ""; // the server's strip replaces ours
      refreshServer();
      return;
    }
    state.pending = values; // only the newest values matter: a drag skips what it outpaced
    state.rendering ??= renderLoop()
      .catch((e) => { nextBuild(e); }) // not awaited: its new render must start its own loop
      .finally(() => { state.rendering = null; });
  },
};

// The slider's fast path: a drag of σ or blur is drawn from the range input's own "input"
// event, a frame before Gradio's change event reaches changed() with the same values (which
// are then already on screen, so nothing is drawn twice).
document.addEventListener("input", (e) => {
  if (state.mode !== "browser" || !state.last || !(e.target instanceof HTMLInputElement)) return;
  const index = e.target.closest("#sigma") ? 2 : e.target.closest("#blur") ? 3 : -1;
  const value = parseFloat(e.target.value);
  if (index < 0 || !Number.isFinite(value)) return;
  const values = [...state.last];
  values[index] = value;
  window.daeDigits.changed(values);
}, true);

// After each server render, say why the server made it (once the browser path is known). A
// server render of the very values on screen that lands once the page computes here again
// (one asked for while the next build loaded) is replaced by the page's own render of them.
// (A digit pick's server render holds the new digit, whose change event follows: left alone.)
new MutationObserver(() => {
  const p = document.getElementById("dae-source");
  if (!p || p.dataset.source === "browser" || p.dataset.note) return;
  state.drawn = ""; // a server render is on screen now
  const reason = state.mode === "browser" ? serverOnlyReason(state.last?.[7] ?? []) : state.why;
  if (reason) note(reason);
  else if (state.mode === "browser" && state.last && sameValues(document.querySelector("#panels .dae-strip"), state.last)) {
    window.daeDigits.changed(state.last);
  }
}).observe(document.documentElement, { childList: true, subtree: true });

function sameValues(strip, values) {
  try {
    return JSON.stringify(JSON.parse(strip?.dataset.state ?? "null")) === JSON.stringify(values);
  } catch {
    return false;
  }
}

/** Load the first of these builds that works (ui/digits_browser.js, loadBest), and from then
 * on compute here, starting from the strip on screen. Rejects when none works. */
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
  const strip = document.querySelector("#panels .dae-strip");
  const values = state.last ?? JSON.parse(strip?.dataset.state ?? "null");
  state.drawn = "";
  if (values) window.daeDigits.changed(values);
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
if (M) whenPainted();
else state.why = "the page has no in-browser manifest";
