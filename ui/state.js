// The Digits tab's state in the page: one named object, the one truth.
//
// dae/state.py defines it (fields, defaults, ranges, choices); the server puts that definition
// on the page as window.daeStateDef (ui/state_page.py), and this file reads and writes the
// state by those names only. tests/test_state.py holds the two to each other.
//
// window.daeState:
//   get()                    the current state: {tab, digit, noise, level, blur, mean, clip, seed,
//                            models, errors}; digit is a gallery index, or a drawn or uploaded
//                            digit's pixels (base64 of 784 float32)
//   set(partial, {source})   applies the named fields: the widgets, the strip (computed in the
//                            browser where it can be), the tab; a Promise resolved once applied
//   toQuery(state)           the query a link carries; fromQuery(query) -> {state, notices}
//   link(state?)             the shareable address of a state (a Space's public one on a Space)
// After every change (a widget, set(), the link the page was opened with) document receives
// CustomEvent("dae-state", {detail: {state, source}}): source "user" for the visitor's own
// change, "url" for the link, and whatever set() was given otherwise. The address bar follows
// (history.replaceState), so copying it shares the view.
//
// How the widgets are reached (ui/digits.py): every widget's change calls fromWidgets() with
// the values by name; a pick, upload or drawing reaches fromServerDigit() through a hidden
// textbox; set() presses a hidden button whose click (no request) writes widgetValues() into
// the widgets. Server renders take get() as their input (ui/digits.py PAGE_STATE).

const DEF = window.daeStateDef;
const FIELDS = DEF.fields.map((f) => f.name);
const BY_NAME = Object.fromEntries(DEF.fields.map((f) => [f.name, f]));
const CONTROLS = ["noise", "level", "blur", "mean", "clip", "seed", "models", "errors"]; // ui/digits.py CONTROLS
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/; // dae/state.py NUMBER
const PIXELS_B64 = 4 * Math.ceil((4 * DEF.pixels) / 3); // base64 of the float32 bytes

const clone = (v) => (Array.isArray(v) ? [...v] : v);
const defaults = () => Object.fromEntries(DEF.fields.map((f) => [f.name, clone(f.default)]));
const key = (s) => JSON.stringify(FIELDS.map((n) => s[n]));
/** dae/state.py _num: the shortest text that reads back to the same number. */
const num = (v) => String(Number(v));

/** One parameter's text -> [value, ""] or [null, why] (dae/state.py Spec._parse). */
function parse(name, raw) {
  const f = BY_NAME[name];
  if (f.kind === "choice") return f.choices.includes(raw) ? [raw, ""] : [null, "must be one of " + f.choices.join(", ")];
  if (f.kind === "flag") {
    const low = raw.toLowerCase();
    return DEF.on.includes(low) ? [true, ""] : DEF.off.includes(low) ? [false, ""] : [null, "must be on or off"];
  }
  if (f.kind === "names") {
    const keep = [], dropped = [];
    for (const n of raw ? raw.split(",").filter(Boolean) : []) (f.choices.includes(n) && !keep.includes(n) ? keep : dropped).push(n);
    return [[keep, dropped], ""];
  }
  const span = `must be a ${f.kind !== "number" ? "whole " : ""}number from ${num(f.lo)} to ${num(f.hi)}`;
  if (!NUMBER.test(raw)) return [null, span];
  const v = Number(raw);
  if (!Number.isFinite(v) || v < f.lo || v > f.hi || (f.kind !== "number" && !Number.isInteger(v))) return [null, span];
  return [v, ""];
}

/** A link's query -> {state: the fields it sets, notices}; each bad one dropped alone. */
function fromQuery(query) {
  const seen = new Map();
  for (const [k, v] of new URLSearchParams(query)) if (!seen.has(k)) seen.set(k, v);
  const state = {}, notices = [];
  for (const [k, raw] of seen) {
    if (DEF.other.includes(k)) continue;
    if (!FIELDS.includes(k)) { notices.push(`ignored ${k}: not a setting of this page`); continue; }
    const [value, why] = parse(k, raw);
    if (why) notices.push(`ignored ${k}=${raw.slice(0, 40)}: ${why}`);
    else state[k] = value;
  }
  if ("models" in state) {
    const [keep, dropped] = state.models;
    state.models = keep;
    for (const m of dropped) notices.push(`ignored model ${m.slice(0, 40)}: not on this page`);
  }
  return { state, notices };
}

const encode = (t) => encodeURIComponent(t).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%2C/g, ",");

/** A state -> the query a link carries (no "?"), every field but pixels (dae/state.py to_query). */
function toQuery(state) {
  const parts = [];
  for (const name of FIELDS) {
    if (!(name in state)) continue;
    const v = state[name];
    if (name === "digit" && typeof v === "string") continue; // a drawn digit's pixels stay out of links
    const text = typeof v === "boolean" ? (v ? "on" : "off") : name === "models" ? v.join(",") : typeof v === "number" ? num(v) : String(v);
    parts.push(`${name}=${encode(text)}`);
  }
  return parts.join("&");
}

/** A value set() was given -> [value, ""] or [null, why] (dae/state.py Spec._check, loosely). */
function check(name, v) {
  const f = BY_NAME[name];
  if (!f) return [null, "not a setting of this page"];
  if (f.kind === "digit" && typeof v === "string") return /^[A-Za-z0-9+/]+=*$/.test(v) && v.length === PIXELS_B64 ? [v, ""] : [null, "pixels must be base64 of 784 float32"];
  if (f.kind === "flag") return typeof v === "boolean" ? [v, ""] : [null, "must be true or false"];
  if (f.kind === "names") {
    if (!Array.isArray(v)) return [null, "must be a list of names"];
    const bad = v.filter((n) => !f.choices.includes(n));
    return bad.length || new Set(v).size !== v.length ? [null, `must be distinct names from ${f.choices.join(", ")}`] : [[...v], ""];
  }
  if (f.kind === "choice") return f.choices.includes(v) ? [v, ""] : [null, "must be one of " + f.choices.join(", ")];
  return typeof v === "number" ? parse(name, String(v)) : [null, "must be a number"];
}

// --- the page ---------------------------------------------------------------------------------
let current = defaults();

function emit(source) {
  document.dispatchEvent(new CustomEvent("dae-state", { detail: { state: get(), source } }));
}

function get() {
  return Object.fromEntries(FIELDS.map((n) => [n, clone(current[n])]));
}

/** The address of a state to hand to others: the Space's public address on a Space (not the
 * iframe's inner one, nor its signed parameters), else this page's; state parameters only. */
function link(state = current) {
  const base = DEF.publicUrl || location.origin + location.pathname;
  return `${base}?${toQuery(state)}`;
}

function followAddress() {
  const keep = new URLSearchParams();
  for (const [k, v] of new URLSearchParams(location.search)) if (DEF.other.includes(k)) keep.append(k, v);
  const rest = keep.toString();
  history.replaceState(history.state, "", `?${toQuery(current)}${rest ? "&" + rest : ""}${location.hash}`);
}

/** Make next the state; true when it changed anything. The strip is rendered when a field it
 * shows changed; the tab alone does not. */
function update(next, source) {
  if (key(next) === key(current)) return false;
  const drawn = FIELDS.some((n) => n !== "tab" && JSON.stringify(next[n]) !== JSON.stringify(current[n]));
  current = next;
  followAddress();
  if (drawn && window.daeDigits) window.daeDigits.changed(get(), pixelsOf(current.digit));
  else if (drawn) document.getElementById("digits-refresh")?.click();
  emit(source);
  return true;
}

/** A digit field's pixels: its own, or those the server sent for a gallery index (ui/digits.js
 * keeps them), or null. */
function pixelsOf(digit) {
  return typeof digit === "string" ? digit : window.daeDigits?.pixelsOf(digit) ?? null;
}

function normalise(controls) {
  const out = {};
  for (const n of CONTROLS) {
    if (!(n in controls)) continue;
    const v = controls[n];
    if (n === "level" || n === "blur" || n === "mean") out[n] = Number(v);
    else if (n === "seed") out[n] = v === null || v === "" ? 0 : Number(v);
    else if (n === "clip" || n === "errors") out[n] = !!v;
    else if (n === "models") out[n] = [...(v ?? [])];
    else out[n] = v;
  }
  return out;
}

let applying = null; // {target, done}: set()'s widgets being written, until they report back

/** Every widget's change (ui/digits.py DISPATCH), values by field name. */
function fromWidgets(controls) {
  const next = { ...current, ...normalise(controls) };
  if (applying) {
    if (key(next) === key(applying.target)) applying.done();
    return; // the widgets are being set from the state: they report what they were told
  }
  update(next, "user");
}

/** A pick, an upload or a drawing (ui/digits.py _digit_message). */
function fromServerDigit(message) {
  if (!message) return;
  const { digit, pixels: b64 } = JSON.parse(message);
  window.daeDigits?.learnPixels(digit, b64);
  update({ ...current, digit }, "user");
}

/** The widgets' values for the state, in ui/digits.py CONTROLS order (the hidden apply button). */
function widgetValues() {
  return CONTROLS.map((n) => clone(current[n]));
}

function syncWidgets() {
  const button = document.getElementById("dae-apply");
  if (!button) return Promise.resolve();
  return new Promise((resolve) => {
    const target = { ...current };
    const finish = () => { if (applying?.target === target) applying = null; resolve(); };
    applying = { target, done: finish };
    button.click();
    setTimeout(finish, 1500); // widgets whose value did not change report nothing
  });
}

// --- tabs --------------------------------------------------------------------------------------
function tabButtons() {
  return [...document.querySelectorAll('[role="tab"]')];
}

function selectedTab() {
  const b = tabButtons().find((t) => t.getAttribute("aria-selected") === "true");
  return b ? b.textContent.trim().toLowerCase() : null;
}

function selectTab(name) {
  const b = tabButtons().find((t) => t.textContent.trim().toLowerCase() === name);
  if (b && b.getAttribute("aria-selected") !== "true") b.click();
}

document.addEventListener("click", (e) => {
  if (!e.target.closest?.('[role="tab"]')) return;
  setTimeout(() => {
    const tab = selectedTab();
    if (tab && BY_NAME.tab.choices.includes(tab) && tab !== current.tab) update({ ...current, tab }, "user");
  }, 0);
}, true);

// --- set() -------------------------------------------------------------------------------------
async function set(partial, { source = "api" } = {}) {
  const next = { ...current };
  for (const [n, v] of Object.entries(partial ?? {})) {
    const [value, why] = check(n, v);
    if (why) console.warn(`daeState.set: ignored ${n}: ${why}`);
    else next[n] = value;
  }
  const before = current;
  if (!update(next, source)) return get();
  if (CONTROLS.some((n) => JSON.stringify(before[n]) !== JSON.stringify(current[n]))) await syncWidgets();
  if (before.tab !== current.tab) selectTab(current.tab);
  if (window.daeDigits && FIELDS.some((n) => n !== "tab" && JSON.stringify(before[n]) !== JSON.stringify(current[n]))) {
    await window.daeDigits.whenDrawn(get());
  }
  return get();
}

// --- notices: what a link asked for that the page could not do -----------------------------------
function showNotices(notices) {
  if (!notices.length) return;
  let box = document.getElementById("dae-notice");
  if (!box) {
    box = document.createElement("div");
    box.id = "dae-notice";
    box.setAttribute("role", "status");
    document.body.append(box);
  }
  box.replaceChildren();
  const text = document.createElement("span");
  text.textContent = `The link's ${notices.length === 1 ? "parameter was" : "parameters were"} partly ignored: ${notices.join("; ")}.`;
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "✕";
  close.setAttribute("aria-label", "Dismiss");
  close.addEventListener("click", () => box.remove());
  box.append(text, close);
  setTimeout(() => box.remove(), 20_000);
}

// --- opening a link -----------------------------------------------------------------------------
const opened = fromQuery(location.search);
const STRIP = FIELDS.filter((n) => n !== "tab");

/** A link that changes what the strip shows is rendered at once, while Gradio is still
 * loading: the server's render of the linked state (/digit_view, through Gradio's REST API) is
 * requested as this script runs, so the first strip on screen can already be the link's. */
async function renderEarly(state) {
  const url = new URL("gradio_api/call/digit_view", location.origin + location.pathname.replace(/[^/]*$/, ""));
  const body = JSON.stringify({ data: [JSON.stringify(Object.fromEntries(STRIP.map((n) => [n, state[n]])))] });
  const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body });
  const { event_id: id } = await r.json();
  const text = await (await fetch(`${url}/${id}`)).text();
  const done = text.match(/event: complete\ndata: (.*)/);
  if (!done) throw new Error("no render: " + text.slice(0, 200));
  return JSON.parse(done[1])[0];
}
const early = STRIP.some((n) => n in opened.state) && !new URLSearchParams(location.search).get("server")
  ? renderEarly({ ...defaults(), ...opened.state }).catch((e) => { console.warn("early render failed:", e); return null; })
  : null;
window.daeState = {
  get, set, toQuery, fromQuery, link,
  /** The definition this page reads (dae/state.py Spec.definition). */
  definition: DEF,
  /** The notices the link this page was opened with gave. */
  notices: opened.notices,
  /** A Promise: the state of the link this page was opened with, applied. */
  opened: null,
  fromWidgets, fromServerDigit, widgetValues,
  /** The pixels the page knows for a digit field (a gallery index the server sent, or pixels). */
  pixelsOf,
};

function whenMounted() {
  return new Promise((resolve) => {
    const ready = () => document.getElementById("dae-apply") && document.querySelector("#sigma input") && tabButtons().length;
    if (ready()) return resolve();
    const watch = new MutationObserver(() => { if (ready()) { watch.disconnect(); resolve(); } });
    watch.observe(document.documentElement, { childList: true, subtree: true });
  });
}

/** The link's state, applied: the widgets and the tab set, and the strip drawn from the early
 * render when it came (else rendered as any change is). */
async function openLink() {
  await whenMounted();
  showNotices(opened.notices);
  if (!Object.keys(opened.state).length) return get();
  const html = early && (await early);
  if (!html) return set(opened.state, { source: "url" });
  const next = { ...current };
  for (const [n, v] of Object.entries(opened.state)) next[n] = v;
  current = next;
  const box = document.querySelector("#panels .prose") ?? document.querySelector("#panels .dae-strip")?.parentElement;
  if (box) box.innerHTML = html; // ui/digits.js draws it, and learns the digit's pixels
  followAddress();
  emit("url");
  await syncWidgets();
  selectTab(current.tab);
  if (window.daeDigits) await window.daeDigits.whenDrawn(get());
  return get();
}

window.daeState.opened = openLink();
