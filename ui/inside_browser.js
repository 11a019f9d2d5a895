// The Inside tab's 2-D map, drawn and decoded in the visitor's browser.
//
// For a model whose code has two numbers (dense-2d), the map *is* the code: each dot is one of
// the 5,000 held-out gallery digits at its code (the server's Keras encoder wrote them, once
// per process: ui/inside_assets.py), coloured by class. Hovering (dragging, on a touch
// screen) runs the model's decoder half (weights/<name>.decoder.tflite, float32) through
// LiteRT.js on the very point under the pointer: no request. The Digits tab's digit and
// corruption (window "dae:digits" events from ui/digits.js, on every change and every σ/blur
// drag step) and the map's own σ slider give the journey: the clean code ○ = enc(clean), the
// noisy code × = enc(noisy), and → the code of the denoised digit, enc(dec(enc(noisy))), as
// dae.latent.LatentMap.journey computes it; the noise is the page's own generator
// (ui/digits_browser.js corrupt). It is computed while the map is on screen: a change made on
// the Digits tab is computed when the Inside tab shows the map. A click pins an interpolation
// end (A, then B).
// dae/latent.py is the reference; tests/test_inside2d.py holds this file to it.
//
// On the page: window.daeInside (ui/inside_assets.manifest), the markup of ui/inside.py's
// map2d_html (#map2d and the canvases in it). API, for tests and benchmarks:
//   window.daeInsideMap.ready             a promise: the runtime, both halves and the codes loaded
//   await daeInsideMap.decode(x, y)       -> Float32Array(784): the decoder at that code
//   await daeInsideMap.encode(image)      -> Float32Array(2)
//   await daeInsideMap.journey(clean, noisy) -> {clean, noisy, denoised: codes, image: denoised digit}
//   await daeInsideMap.interpolate(a, b, steps) -> {decoded, crossfade}: steps digits each, from code
//                                         a to code b (a click on the map pins A, the next B)
//   daeInsideMap.current                  {values, points: {clean, noisy, denoised}} on screen
//   daeInsideMap.stats                    {hover, hoverEvent, journey, decode: [ms]}: pointer handler →
//                                         digit drawn, the event's time stamp → drawn (Chromium
//                                         aligns pointer events to frames), a change → markers
//                                         drawn, one decoder call
//   daeInsideMap.why                      why the map cannot decode here ("" when it can)

const A = window.daeInside;
const B = window.daeBrowser;
const MARGIN = { left: 40, right: 10, top: 10, bottom: 30 }; // CSS pixels around the plot

const state = {
  name: null, entry: null, lib: null, encoder: null, decoder: null, codes: null,
  values: null, // the Digits tab's latest state (ui/state.js, by name) and its digit's pixels: {state, pixels}
  localSigma: null, // the map's own σ slider, once moved (until the Digits tab's changes again)
  points: null, // the journey's three codes on screen
  images: null,
  el: null, layer: null, colours: "", why: "",
  busy: false, pendingHover: null, pendingJourney: false,
  pins: [], // the interpolation's ends, A and B, clicked on the map
  stats: { hover: [], hoverEvent: [], journey: [], decode: [] },
  dirty: false, // the journey's values changed while the map was hidden: recompute when it shows
};

function decodeB64(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

// --- loading ---------------------------------------------------------------------------

async function load() {
  const [name, entry] = Object.entries(A?.models ?? {})[0] ?? [];
  if (!name) throw new Error("no model with a 2-D code is served");
  if (!entry.browser) throw new Error(entry.why);
  if (!B) throw new Error("the page has no in-browser manifest");
  state.name = name;
  state.entry = entry;
  const lib = await import(B.module);
  // relaxed SIMD where it runs, else the compat build (Safari's engine), as the Digits tab does
  await lib.loadRuntime(B.runtime).catch(() => lib.loadRuntime(B.runtime, "compat"));
  const [encoder, decoder, codes] = await Promise.all([
    lib.loadGraph(`${name} encoder`, entry.encoder), lib.loadGraph(`${name} decoder`, entry.decoder),
    fetch(entry.codes).then((r) => { if (!r.ok) throw new Error(`${entry.codes}: HTTP ${r.status}`); return r.json(); }),
  ]);
  Object.assign(state, { lib, encoder, decoder, codes });
}

const ready = load().catch((e) => {
  state.why = e.message;
  console.warn("in-browser 2-D map off:", e.message);
  throw e;
});
ready.catch(() => {}); // reported on the page (attach) and through daeInsideMap.why

// --- the maths (dae.latent's, on the float32 halves) -------------------------------------

const encode = (image) => state.lib.runGraph(state.encoder, image);
const decode = async (x, y) => {
  const t0 = performance.now();
  const out = await state.lib.runGraph(state.decoder, Float32Array.of(x, y));
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, out[i]));
  state.stats.decode.push(performance.now() - t0);
  return out;
};

/** dae.latent.LatentMap.journey: clean code, noisy code, and the code of the denoised digit. */
async function journey(clean, noisy) {
  const c = await encode(clean);
  const n = await encode(noisy);
  const image = await decode(n[0], n[1]);
  const d = await encode(image);
  return { clean: c, noisy: n, denoised: d, image };
}

/** Decoded steps along the straight line from code a to code b (both ends included), and the
 * pixel cross-fade (1 − t)·dec(a) + t·dec(b): dae.latent.crossfade of the two decoded ends. */
async function interpolate(a, b, steps = 8) {
  const decoded = [];
  for (let i = 0; i < steps; i++) {
    const t = i / (steps - 1);
    decoded.push(await decode((1 - t) * a[0] + t * b[0], (1 - t) * a[1] + t * b[1]));
  }
  const [da, db] = [decoded[0], decoded[steps - 1]];
  const crossfade = decoded.map((_, i) => {
    const t = i / (steps - 1);
    return Float32Array.from(da, (v, k) => Math.fround((1 - t) * v) + Math.fround(t * db[k]));
  });
  return { decoded, crossfade };
}

// --- drawing ---------------------------------------------------------------------------

function geometry(canvas) {
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  const e = state.codes.extent;
  const plot = { l: MARGIN.left, t: MARGIN.top, r: w - MARGIN.right, b: h - MARGIN.bottom };
  const toPx = (x, y) => [plot.l + (x - e.x[0]) / (e.x[1] - e.x[0]) * (plot.r - plot.l),
    plot.b - (y - e.y[0]) / (e.y[1] - e.y[0]) * (plot.b - plot.t)];
  const toMap = (px, py) => (px < plot.l || px > plot.r || py < plot.t || py > plot.b ? null
    : [e.x[0] + (px - plot.l) / (plot.r - plot.l) * (e.x[1] - e.x[0]),
      e.y[0] + (plot.b - py) / (plot.b - plot.t) * (e.y[1] - e.y[0])]);
  return { w, h, plot, toPx, toMap };
}

function themeColours(root) {
  const cs = getComputedStyle(root);
  return { bg: cs.backgroundColor, fg: cs.color, grid: cs.getPropertyValue("--border-color-primary").trim() || "#888" };
}

function niceTicks(lo, hi, n = 5) {
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push(+v.toFixed(6));
  return out;
}

/** The points, axes and labels, drawn once per size and theme into an offscreen canvas. */
function drawLayer(canvas, colours) {
  const dpr = window.devicePixelRatio || 1;
  const g = geometry(canvas);
  canvas.width = Math.round(g.w * dpr);
  canvas.height = Math.round(g.h * dpr);
  const layer = document.createElement("canvas");
  layer.width = canvas.width;
  layer.height = canvas.height;
  const ctx = layer.getContext("2d");
  ctx.scale(dpr, dpr);
  ctx.fillStyle = colours.bg;
  ctx.fillRect(0, 0, g.w, g.h);
  const { plot } = g;
  const palette = JSON.parse(state.el.dataset.palette);
  const { x, y, label } = state.codes;
  const r = Math.max(1.2, Math.min(2.2, (plot.r - plot.l) / 300));
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.l, plot.t, plot.r - plot.l, plot.b - plot.t);
  ctx.clip(); // the map spans the middle 99 % of the codes (dae.latent): the few far ones are cut
  ctx.globalAlpha = 0.6;
  for (let i = 0; i < x.length; i++) {
    const [px, py] = g.toPx(x[i], y[i]);
    ctx.fillStyle = palette[label[i]];
    ctx.fillRect(px - r, py - r, 2 * r, 2 * r);
  }
  ctx.restore();
  ctx.strokeStyle = colours.grid;
  ctx.lineWidth = 1;
  ctx.strokeRect(plot.l, plot.t, plot.r - plot.l, plot.b - plot.t);
  ctx.fillStyle = colours.fg;
  ctx.font = "11px sans-serif";
  const e = state.codes.extent;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const v of niceTicks(e.x[0], e.x[1])) ctx.fillText(String(v), g.toPx(v, 0)[0], plot.b + 3);
  ctx.fillText("code 1", (plot.l + plot.r) / 2, plot.b + 16);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of niceTicks(e.y[0], e.y[1])) ctx.fillText(String(v), plot.l - 4, g.toPx(0, v)[1]);
  ctx.save();
  ctx.translate(10, (plot.t + plot.b) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.fillText("code 2", 0, 0);
  ctx.restore();
  return layer;
}

function clampTo(plot, [px, py]) {
  const cx = Math.min(plot.r, Math.max(plot.l, px));
  const cy = Math.min(plot.b, Math.max(plot.t, py));
  return [cx, cy];
}

function arrow(ctx, [ax, ay], [bx, by]) {
  ctx.beginPath();
  ctx.moveTo(ax, ay);
  ctx.lineTo(bx, by);
  ctx.stroke();
  const len = Math.hypot(bx - ax, by - ay);
  if (len < 4) return;
  const [ux, uy] = [(bx - ax) / len, (by - ay) / len];
  ctx.beginPath();
  ctx.moveTo(bx, by);
  ctx.lineTo(bx - 11 * ux + 5 * uy, by - 11 * uy - 5 * ux);
  ctx.lineTo(bx - 11 * ux - 5 * uy, by - 11 * uy + 5 * ux);
  ctx.closePath();
  ctx.fill();
}

/** Compose: the layer, then the journey's markers and the interpolation's ends. */
function paint() {
  const canvas = state.el?.querySelector("#map2d-canvas");
  if (!canvas || !state.codes || !canvas.clientWidth) return;
  const colours = themeColours(state.el);
  const key = `${canvas.clientWidth}x${canvas.clientHeight}@${window.devicePixelRatio}|${colours.bg}|${colours.fg}`;
  if (!state.layer || state.colours !== key) {
    state.layer = drawLayer(canvas, colours);
    state.colours = key;
  }
  const dpr = window.devicePixelRatio || 1;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(state.layer, 0, 0);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const g = geometry(canvas);
  if (state.points) {
    const [c, n, d] = ["clean", "noisy", "denoised"].map((k) => clampTo(g.plot, g.toPx(...state.points[k])));
    for (const [width, colour] of [[6, colours.bg], [2.5, colours.fg]]) { // a halo, then the mark
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      ctx.lineWidth = width;
      arrow(ctx, n, d);
      ctx.beginPath();
      ctx.arc(c[0], c[1], 8, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.beginPath();
      ctx.moveTo(n[0] - 7, n[1] - 7); ctx.lineTo(n[0] + 7, n[1] + 7);
      ctx.moveTo(n[0] - 7, n[1] + 7); ctx.lineTo(n[0] + 7, n[1] - 7);
      ctx.stroke();
    }
  }
  if (state.pins.length) {
    const px = state.pins.map((p) => g.toPx(...p));
    ctx.strokeStyle = colours.fg;
    ctx.fillStyle = colours.fg;
    ctx.lineWidth = 1.5;
    ctx.setLineDash([5, 4]);
    if (px.length === 2) { ctx.beginPath(); ctx.moveTo(...px[0]); ctx.lineTo(...px[1]); ctx.stroke(); }
    ctx.setLineDash([]);
    ctx.font = "bold 13px sans-serif";
    ctx.textAlign = "left";
    ctx.textBaseline = "bottom";
    px.forEach(([x, y], i) => { ctx.fillRect(x - 3, y - 3, 6, 6); ctx.fillText("AB"[i], x + 5, y - 3); });
  }
}

// --- events ----------------------------------------------------------------------------

/** The decoder's digit at (x, y), drawn 28×28 (CSS enlarges it, pixelated), and what it is. */
async function showDecoded(x, y, where) {
  const image = await decode(x, y);
  state.lib.drawDigit(state.el.querySelector("#map2d-decoded"), image);
  state.el.querySelector("#map2d-at").textContent =
    `decoded at ${where}(${x.toFixed(2)}, ${y.toFixed(2)}): exactly this code, through ${state.name}'s decoder`;
}

async function hoverLoop() {
  while (state.pendingHover) {
    const { x, y, t0, tEvent } = state.pendingHover;
    state.pendingHover = null;
    await showDecoded(x, y, "");
    state.hoverAt = [x, y]; // the pointer itself (a crosshair) marks the point: nothing to repaint
    const now = performance.now();
    state.stats.hover.push(now - t0);
    state.stats.hoverEvent.push(now - tEvent);
  }
}

function onPointer(e) {
  if (!state.decoder || (e.pointerType !== "mouse" && e.type === "pointermove" && !e.buttons)) return;
  const canvas = e.currentTarget;
  const rect = canvas.getBoundingClientRect();
  const at = geometry(canvas).toMap(e.clientX - rect.left, e.clientY - rect.top);
  if (!at) return;
  state.pendingHover = { x: at[0], y: at[1], t0: performance.now(), tEvent: e.timeStamp };
  if (!state.busy) { // one decode at a time; a move during it replaces the pending point
    state.busy = true;
    hoverLoop().catch((err) => console.warn("2-D decode failed:", err)).finally(() => { state.busy = false; });
  }
}

async function onClick(e) {
  if (!state.decoder) return;
  const canvas = e.currentTarget;
  const rect = canvas.getBoundingClientRect();
  const at = geometry(canvas).toMap(e.clientX - rect.left, e.clientY - rect.top);
  if (!at) return;
  if (state.pins.length === 2) state.pins = [];
  state.pins.push(at);
  paint();
  const rows = ["#map2d-line", "#map2d-fade"].map((sel) => state.el.querySelector(sel));
  if (state.pins.length < 2) {
    for (const r of rows) r.replaceChildren();
    return;
  }
  const steps = Number(state.el.dataset.steps) || 8;
  const { decoded, crossfade } = await interpolate(state.pins[0], state.pins[1], steps);
  const titles = ["decoded along the line A → B", "pixel cross-fade (1 − t)·A + t·B"];
  [decoded, crossfade].forEach((images, r) => {
    const cells = images.map((img, i) => {
      const fig = document.createElement("figure");
      fig.className = "map2d-small";
      const c = document.createElement("canvas");
      state.lib.drawDigit(c, img);
      const cap = document.createElement("figcaption");
      cap.textContent = `t = ${(i / (steps - 1)).toFixed(2)}`;
      fig.append(c, cap);
      return fig;
    });
    const h = document.createElement("h4");
    h.textContent = titles[r];
    rows[r].replaceChildren(h, ...cells);
  });
}

function setSource(text, source) {
  const p = state.el?.querySelector("#map2d-source");
  if (p) {
    p.textContent = text;
    p.dataset.source = source;
  }
}

async function updateJourney() {
  if (state.journeyRunning) {
    state.pendingJourney = true;
    return;
  }
  state.journeyRunning = true;
  try {
    do {
      state.pendingJourney = false;
      const base = state.values ?? pageState();
      if (!base || !state.decoder) return;
      if (!visible()) { // on the Digits tab: nothing to see, so the σ step there pays nothing
        state.dirty = true;
        return;
      }
      state.dirty = false;
      const values = { ...base.state };
      const local = state.el.querySelector("#map2d-sigma");
      if (local && state.localSigma !== null) values.level = state.localSigma;
      if (local) syncSlider(local, values.level);
      const t0 = performance.now();
      const { noise, level, blur, mean, clip, seed } = values;
      const clean = decodeB64(base.pixels);
      const noisy = state.lib.corrupt(clean, { noise, level: +level, blur: +blur, mean: +mean, clip: !!clip }, +seed || 0);
      const j = await journey(clean, noisy);
      state.points = { clean: [j.clean[0], j.clean[1]], noisy: [j.noisy[0], j.noisy[1]], denoised: [j.denoised[0], j.denoised[1]] };
      state.images = { clean, noisy, denoised: j.image };
      state.shown = values;
      drawJourney(j);
      if (!state.hoverAt) await showDecoded(j.clean[0], j.clean[1], "○ "); // until the pointer comes
      paint();
      state.stats.journey.push(performance.now() - t0);
    } while (state.pendingJourney);
  } catch (e) {
    console.warn("2-D journey failed:", e);
  } finally {
    state.journeyRunning = false;
  }
}

/** The Digits tab's state and pixels as the page holds them (before any dae:digits event). */
function pageState() {
  const s = window.daeState?.get();
  const pixels = s && window.daeState.pixelsOf(s.digit);
  return pixels ? { state: s, pixels } : null;
}

function visible() {
  const c = state.el?.querySelector("#map2d-canvas");
  return !!(c && c.isConnected && c.clientWidth);
}

function syncSlider(input, level) {
  input.value = String(level);
  const out = state.el.querySelector("#map2d-sigma-value");
  if (out) out.textContent = Number(level).toFixed(2);
}

function drawJourney(j) {
  const el = state.el;
  if (!el || !state.images) return;
  for (const k of ["clean", "noisy", "denoised"]) {
    const c = el.querySelector(`#map2d-${k}`);
    if (c) state.lib.drawDigit(c, state.images[k]);
  }
  const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  const p = el.querySelector("#map2d-dist");
  if (p && j) {
    p.innerHTML = `Distance from ○ on the map: noisy × <b>${dist(j.noisy, j.clean).toFixed(2)}</b>, ` +
      `denoised → <b>${dist(j.denoised, j.clean).toFixed(2)}</b>`;
  }
}

function attach(el) {
  state.el = el;
  state.layer = null;
  const canvas = el.querySelector("#map2d-canvas");
  canvas.addEventListener("pointermove", onPointer);
  canvas.addEventListener("click", (e) => onClick(e).catch((err) => console.warn("2-D interpolation failed:", err)));
  canvas.addEventListener("pointerdown", (e) => { canvas.setPointerCapture?.(e.pointerId); onPointer(e); });
  new ResizeObserver(() => { paint(); if (state.dirty) updateJourney(); }).observe(canvas);
  // σ for this map alone (a plain range input: no Gradio event, no request); the Digits tab's
  // σ sets it again whenever it moves
  el.querySelector("#map2d-sigma")?.addEventListener("input", (e) => {
    state.localSigma = parseFloat(e.target.value);
    updateJourney();
  });
  ready.then(() => {
    setSource(`computed in your browser: ${state.name}'s decoder and encoder (LiteRT.js), no request while you hover`, "browser");
    paint();
    updateJourney();
  }, () => setSource(`This map cannot decode in this browser (${state.why}). The projection maps below decode on the server.`, "none"));
}

window.addEventListener("dae:digits", (e) => {
  // a σ drag step arrives twice (the range input's own event, then Gradio's change): once is enough
  if (state.values && JSON.stringify(e.detail) === JSON.stringify(state.values)) return;
  state.values = e.detail;
  state.localSigma = null; // the Digits tab's σ again
  ready.then(updateJourney, () => {});
});

// Gradio renders the Inside tab's contents on its first visit, and may re-render them: attach
// whenever a new #map2d appears; repaint when the theme (the root's class) changes.
new MutationObserver(() => {
  const el = document.getElementById("map2d");
  if (el && el !== state.el) attach(el);
}).observe(document.documentElement, { childList: true, subtree: true });
const themeWatch = new MutationObserver(() => paint());
for (const node of [document.documentElement, document.body]) themeWatch.observe(node, { attributes: true, attributeFilter: ["class"] });

window.daeInsideMap = {
  ready,
  decode: async (x, y) => { await ready; return decode(x, y); },
  encode: async (image) => { await ready; return encode(image); },
  journey: async (clean, noisy) => { await ready; return journey(clean, noisy); },
  interpolate: async (a, b, steps = 8) => { await ready; return interpolate(a, b, steps); },
  get current() { return { values: state.shown ?? null, points: state.points }; },
  stats: state.stats,
  get why() { return state.why; },
};
