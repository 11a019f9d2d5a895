// The Digits tab in front of a room: keyboard shortcuts and a stage mode.
//
// Every shortcut drives the page through its own controls, as a visitor's click or key would:
// the #sigma slider's range input (its value set, then an "input" event), the gallery's and the
// random digit's buttons, the error-map checkbox. So a shortcut reaches the page by the path a
// click takes, whether the strip is then computed in the browser or on the server.
//
// Keys are left alone while the visitor types or steers a control that uses them itself (a text
// or number field, the slider, the radio buttons, a dropdown, the sketchpad), with Ctrl, Alt or
// Meta held (the browser's own shortcuts), and outside the Digits tab.
//
// Stage mode (the S key or the "Stage mode" button; Esc leaves) puts the result strip alone on
// the screen: the rest of the page is hidden (visibility: hidden, so nothing behind it can be
// reached with Tab), a bar on top names the noise and its level and says the keys, and the
// panels are laid out (layout()) in the number of columns that gives each digit its largest
// size. F does the same in the browser's full screen. The sizes are in ui/stage.css.

const STEP = 0.05; // one σ key press; the slider's own step (0.01) is too fine to show a room

const $ = (sel) => document.querySelector(sel);
const state = { on: false, byFullscreen: false, digit: -1, bar: null };

function thumbs() {
  return [...document.querySelectorAll("#gallery button.thumbnail-item")];
}

function setRange(input, value) {
  const lo = parseFloat(input.min), hi = parseFloat(input.max), step = parseFloat(input.step) || STEP;
  const v = Math.min(hi, Math.max(lo, Math.round(value / step) * step));
  input.value = String(Number(v.toFixed(6)));
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

function nudgeSigma(direction) {
  const input = $("#sigma input[type=range]");
  if (!input) return;
  const now = parseFloat(input.value) || 0;
  setRange(input, (Math.round(now / STEP) + direction) * STEP);
}

function stepDigit(direction) {
  const all = thumbs();
  if (!all.length) return;
  const next = state.digit < 0 ? (direction > 0 ? 0 : all.length - 1) : (state.digit + direction + all.length) % all.length;
  all[next].click(); // the click listener below records the index
  all[next].scrollIntoView?.({ block: "nearest" });
}

const toggleErrorMaps = () => $("#error-maps input[type=checkbox]")?.click();
const randomDigit = () => $("#random")?.click();

function toggleHelp(open) {
  const help = $("#stage-keys");
  if (help) help.open = open ?? !help.open;
}

async function toggleFullscreen() {
  if (document.fullscreenElement) {
    await document.exitFullscreen().catch(() => {});
    return;
  }
  const wasOn = state.on;
  setStage(true);
  state.byFullscreen = !wasOn;
  try {
    await document.documentElement.requestFullscreen();
  } catch (e) {
    console.warn("full screen refused:", e.message); // stage mode stays: the strip fills the window
  }
}

// One table: the keys that run, and the help that says them (rendered from it, so the two agree).
const KEYS = [
  { keys: ["ArrowUp", "+", "="], label: "↑ or +", does: `σ up by ${STEP}`, run: () => nudgeSigma(+1) },
  { keys: ["ArrowDown", "-"], label: "↓ or −", does: `σ down by ${STEP}`, run: () => nudgeSigma(-1) },
  { keys: ["ArrowRight", "PageDown", "n"], label: "→ or PgDn", does: "the next digit", run: () => stepDigit(+1) },
  { keys: ["ArrowLeft", "PageUp", "p"], label: "← or PgUp", does: "the previous digit", run: () => stepDigit(-1) },
  { keys: ["r"], label: "R", does: "a random digit", run: randomDigit },
  { keys: ["e"], label: "E", does: "error maps on or off", run: toggleErrorMaps },
  { keys: ["s"], label: "S", does: "stage mode: the panels alone, large", run: () => setStage(!state.on) },
  { keys: ["f"], label: "F", does: "the strip full screen", run: toggleFullscreen },
  { keys: ["?"], label: "?", does: "this list", run: () => toggleHelp() },
  { keys: ["Escape"], label: "Esc", does: "leave stage mode", run: () => (state.on ? setStage(false) : toggleHelp(false)) },
];

/** True where the key belongs to what has focus: a field being typed in, or a control that
 * uses arrows or letters itself (slider, radio buttons, dropdown, sketchpad). */
function typing(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const el = target.closest("input, textarea, select, canvas, [role=textbox], [role=combobox], [role=listbox], [role=slider], [role=spinbutton]");
  if (!el) return false;
  return !(el instanceof HTMLInputElement && ["checkbox", "button", "submit", "reset"].includes(el.type));
}

const digitsShown = () => !!$("#panels")?.getClientRects().length;

function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing || typing(e.target)) return;
  if (!state.on && !digitsShown()) return;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const entry = KEYS.find((k) => k.keys.includes(key));
  if (!entry) return;
  e.preventDefault();
  entry.run();
  requestAnimationFrame(showSetting);
}

// --- stage mode ------------------------------------------------------------------------------

function bar() {
  if (state.bar) return state.bar;
  const el = document.createElement("div");
  el.id = "stage-bar";
  el.innerHTML = '<span id="stage-setting" aria-live="polite"></span>' +
    '<span class="stage-hint" aria-hidden="true">↑ ↓ σ · ← → digit · E error maps · F full screen</span>' +
    '<button type="button" id="stage-leave" aria-keyshortcuts="Escape">Leave stage <kbd>Esc</kbd></button>';
  el.querySelector("#stage-leave").addEventListener("click", () => setStage(false));
  document.body.append(el);
  return (state.bar = el);
}

/** The bar's line: the noise kind and its level, read from the controls. */
function showSetting() {
  const out = $("#stage-setting");
  if (!out) return;
  const kind = $("#noise-kind input:checked")?.value ?? "";
  const level = parseFloat($("#sigma input[type=range]")?.value ?? "NaN");
  const name = { gaussian: "σ", uniform: "±r", "salt-pepper": "fraction" }[kind];
  out.textContent = kind === "none" ? "no noise" : `${kind} noise, ${name ?? "level"} ${Number.isFinite(level) ? level.toFixed(2) : "?"}`;
}

function setStage(on) {
  state.on = on;
  if (!on) state.byFullscreen = false;
  document.documentElement.classList.toggle("dae-stage", on);
  bar().hidden = !on;
  const button = $("#stage-toggle");
  if (button) button.setAttribute("aria-pressed", String(on));
  if (on) {
    showSetting();
    layout();
    $("#stage-leave")?.focus({ preventScroll: true });
  } else {
    const panels = $("#panels");
    panels?.style.removeProperty("--stage-cols");
    panels?.style.removeProperty("--stage-img");
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  }
}

/** The columns that give each panel's digit its largest size in the strip's box, and that size
 * (CSS variables --stage-cols and --stage-img on #panels). What a panel holds besides its digit
 * (captions, the code strip, an error map beside it) is measured as laid out now, not assumed,
 * and no panel is made narrower than its widest caption line. */
function layout() {
  const panels = $("#panels");
  const figs = panels ? [...panels.querySelectorAll(".dae-panel")] : [];
  if (!state.on || !figs.length) return;
  const strip = panels.querySelector(".dae-strip");
  const gap = parseFloat(getComputedStyle(strip).columnGap) || 0;
  const pad = getComputedStyle(panels);
  const W = strip.clientWidth;
  const H = panels.clientHeight - parseFloat(pad.paddingTop) - parseFloat(pad.paddingBottom);
  const m = figs.map(measure).reduce((a, b) => ({
    chromeH: Math.max(a.chromeH, b.chromeH), chromeW: Math.max(a.chromeW, b.chromeW),
    perW: Math.max(a.perW, b.perW), perH: Math.max(a.perH, b.perH), text: Math.max(a.text, b.text),
  }));
  let best = null;
  for (let cols = 1; cols <= figs.length; cols++) {
    const rows = Math.ceil(figs.length / cols);
    const cellW = (W - (cols - 1) * gap) / cols;
    const cellH = (H - (rows - 1) * gap) / rows;
    const img = Math.floor(Math.min((cellW - m.chromeW) / m.perW, (cellH - m.chromeH) / m.perH));
    const fits = cellW - m.chromeW >= m.text;
    if (!best || (fits && !best.fits) || (fits === best.fits && img > best.img)) best = { cols, img, fits };
  }
  panels.style.setProperty("--stage-cols", String(best.cols));
  panels.style.setProperty("--stage-img", `${Math.max(best.img, 40)}px`);
}

/** One panel as laid out now: its images' box per pixel of digit width (perW, perH), the rest of
 * its height and width (chromeH, chromeW: captions, padding, borders), and its widest caption. */
function measure(fig) {
  const main = fig.querySelector(".dae-img:not(.dae-err)")?.getBoundingClientRect();
  const err = fig.querySelector(".dae-err")?.getBoundingClientRect();
  const box = fig.getBoundingClientRect();
  const w = main?.width || 1;
  const imgW = err ? Math.max(main.right, err.right) - Math.min(main.left, err.left) : w;
  const imgH = err ? Math.max(main.bottom, err.bottom) - Math.min(main.top, err.top) : (main?.height ?? 0);
  const css = getComputedStyle(fig);
  const chromeW = parseFloat(css.paddingLeft) + parseFloat(css.paddingRight) +
    parseFloat(css.borderLeftWidth) + parseFloat(css.borderRightWidth);
  const range = document.createRange();
  const text = Math.max(0, ...[...fig.querySelectorAll(".dae-name, .dae-psnr, .dae-ssim")].map((el) => {
    range.selectNodeContents(el);
    return range.getBoundingClientRect().width;
  }));
  return { chromeH: box.height - imgH, chromeW, perW: imgW / w, perH: imgH / w, text };
}

let pending = 0;
function relayout() {
  if (!state.on || pending) return;
  pending = requestAnimationFrame(() => {
    pending = 0;
    layout();
    showSetting();
  });
}

function start() {
  const list = $("#stage-keys-list");
  if (list && !list.childElementCount) {
    list.innerHTML = KEYS.map((k) => `<dt><kbd>${k.label}</kbd></dt><dd>${k.does}</dd>`).join("");
  }
}

document.addEventListener("keydown", onKey);
document.addEventListener("click", (e) => {
  const t = e.target instanceof Element ? e.target : null;
  const thumb = t?.closest("#gallery button.thumbnail-item");
  if (thumb) state.digit = thumbs().indexOf(thumb);
  else if (t?.closest("#random")) state.digit = -1;
  if (t?.closest("#stage-toggle")) setStage(!state.on);
});
document.addEventListener("input", () => state.on && requestAnimationFrame(showSetting), true);
document.addEventListener("fullscreenchange", () => {
  if (!document.fullscreenElement && state.byFullscreen) setStage(false);
  relayout();
});
window.addEventListener("resize", relayout);
// the strip is rewritten by every server render and by a change of its shape (error maps, ticked
// models): lay it out again then; a σ step only changes attributes, which this does not watch
new MutationObserver(() => { start(); relayout(); }).observe(document.documentElement, { childList: true, subtree: true });
start();

window.daeStage = {
  get on() { return state.on; },
  get fullscreen() { return !!document.fullscreenElement; },
  /** [{keys, label, does}] as the help lists them. */
  keys: KEYS.map(({ keys, label, does }) => ({ keys, label, does })),
  set: (on) => setStage(!!on),
  layout,
};
