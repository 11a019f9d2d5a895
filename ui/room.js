// Rooms: an audience that follows the presenter's page live (ui/rooms.py serves the API).
//
// "Start a room" makes two links: the audience's, `?room=<id>` (reading only), and the
// presenter's, `?room=<id>#key=<key>`: the key is the only way to drive the room, and in the
// fragment it is never sent with any request (no server log, no Referer). The presenter's page
// publishes its state (window.daeState.get(), the page's one state object) after each of its
// own changes, at most one request in flight, the newest state winning; an unchanged state is
// re-sent every pingS seconds so the room stays alive. A follower long-polls the room
// (`?since=<version>`: the server answers when the presenter next changes something) and
// applies each new state with window.daeState.set(state, {source: "room"}), which computes
// the step in the follower's own browser like any other change. A change of the follower's
// own (a "dae-state" event with source "user") steps out of the room; "Rejoin" applies the
// presenter's latest state again and follows on.

const C = window.daeRoomConfig; // ui/rooms.py head_script()
const STORE = "dae-room"; // sessionStorage: the tab's room survives a reload that lost the fragment
const room = {
  role: "none", // "none" | "presenter" | "follower"
  id: "",
  key: "",
  following: true, // a follower applies the presenter's states (false once it steps out)
  version: -1, // the newest version received (follower) or published (presenter)
  applied: -1, // the version on the follower's page
  latest: null, // the newest state received
  followers: 0, // how many followers were waiting at the presenter's last publish
  open: true, // the presenter's links are shown
  ended: false,
  error: "",
};
let applying = 0; // set() calls of ours in progress (their events are not the visitor's)
let pending = null; // the presenter's newest unpublished state
let sending = null; // the presenter's publish loop in progress (a promise)
let pinger = null; // the presenter's ping, every pingS seconds while nothing changes

const NARROW = matchMedia("(max-width: 640px)"); // a phone: the panel along the bottom (ui/room.css)
NARROW.addEventListener?.("change", () => draw());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const api = (id = "") => C.api + (id ? "/" + encodeURIComponent(id) : "");
// a Space's public address on a Space (ui/state_page.py), else this page's
const base = () => window.daeStateDef?.publicUrl || location.origin + location.pathname;
const audienceLink = () => `${base()}?room=${encodeURIComponent(room.id)}`;
const presenterLink = () => `${audienceLink()}#key=${encodeURIComponent(room.key)}`;
let resumed = false; // the presenter's page has the room's state (or made the room): it may publish

async function daeState() {
  while (!window.daeState) await sleep(100); // the page's state module loads beside this one
  return window.daeState;
}

/** The room this page was opened for: ?room= (and #key= for the presenter), else this tab's. */
function fromAddress() {
  const id = new URLSearchParams(location.search).get("room");
  const key = new URLSearchParams(location.hash.replace(/^#/, "")).get("key");
  if (id) return { id, key: key || "" };
  try {
    return JSON.parse(sessionStorage.getItem(STORE) || "null");
  } catch {
    return null;
  }
}

const withoutRoom = (search) => search.replace(/^\?/, "").split("&").filter((p) => p && !/^(room|key)=/.test(p)).join("&");

/** Keep the room in the address bar (ui/state.js keeps ?room= and the fragment as it rewrites
 * the query), so a reload or a copied address stays in the room. */
function keepAddress() {
  if (room.role === "none" || room.ended) return;
  const hash = room.role === "presenter" ? `#key=${encodeURIComponent(room.key)}` : location.hash;
  if (new URLSearchParams(location.search).get("room") === room.id && location.hash === hash) return;
  const rest = withoutRoom(location.search);
  history.replaceState(history.state, "", `${location.pathname}?${rest ? rest + "&" : ""}room=${encodeURIComponent(room.id)}${hash}`);
}

function leaveAddress() {
  const rest = withoutRoom(location.search);
  history.replaceState(history.state, "", `${location.pathname}${rest ? "?" + rest : ""}`);
}

// --- the presenter ----------------------------------------------------------------------

async function start() {
  const r = await fetch(api(), { method: "POST" });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  becomePresenter(body.id, body.key, false);
}

/** Drive the room: a new one publishes this page's state; a reopened presenter link first
 * takes the room's state, so a reload does not reset the audience. */
async function becomePresenter(id, key, resume) {
  Object.assign(room, { role: "presenter", id, key, ended: false, error: "", open: !resume });
  sessionStorage.setItem(STORE, JSON.stringify({ id, key }));
  keepAddress();
  draw();
  const s = await daeState();
  if (resume) {
    await s.opened;
    try {
      const r = await fetch(api(id), { cache: "no-store" });
      const body = await r.json();
      if (r.status === 404) return end(body.error);
      if (r.ok && Object.keys(body.state).length) await s.set(body.state, { source: "room" });
    } catch (e) {
      room.error = `could not read the room (${e.message})`;
    }
  }
  resumed = true;
  publish(s.get());
  pinger ??= setInterval(() => { if (room.role === "presenter" && !room.ended && !sending) publish(window.daeState?.get()); }, C.pingS * 1000);
}

function publish(state) {
  if (!state || !resumed) return;
  pending = state;
  sending ??= sendLoop().finally(() => { sending = null; });
}

async function sendLoop() {
  while (pending && !room.ended) {
    const body = JSON.stringify(pending);
    pending = null;
    try {
      const r = await fetch(api(room.id), { method: "PUT", body, headers: { [C.keyHeader]: room.key, "Content-Type": "application/json" } });
      const answer = await r.json();
      if (r.status === 404 || r.status === 403) return end(answer.error);
      if (!r.ok) throw new Error(answer.error || `HTTP ${r.status}`);
      room.version = answer.version;
      room.followers = answer.waiting;
      room.error = "";
    } catch (e) {
      room.error = `not sent: ${e.message}; retrying`;
      pending ??= JSON.parse(body);
      await sleep(2000);
    }
    draw();
  }
}

async function endRoom() {
  await fetch(api(room.id), { method: "DELETE", headers: { [C.keyHeader]: room.key } }).catch(() => {});
  end("you ended the room");
}

function end(why) {
  room.ended = true;
  room.error = why || "the room has ended";
  sessionStorage.removeItem(STORE);
  leaveAddress();
  draw();
}

// --- a follower -------------------------------------------------------------------------

function becomeFollower(id) {
  Object.assign(room, { role: "follower", id, key: "", following: true, ended: false, error: "" });
  sessionStorage.setItem(STORE, JSON.stringify({ id }));
  keepAddress();
  draw();
  followLoop();
}

async function followLoop() {
  let backoff = 1000;
  while (!room.ended) {
    try {
      const since = room.version >= 0 ? `?since=${room.version}` : "";
      const r = await fetch(api(room.id) + since, { cache: "no-store" });
      const body = await r.json();
      if (r.status === 404) return end(body.error);
      if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
      backoff = 1000;
      room.error = "";
      if (body.version !== room.version) {
        room.version = body.version;
        room.latest = body.state;
        if (room.following) await apply();
      }
    } catch (e) {
      room.error = `reconnecting (${e.message})`;
      draw();
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 10000);
    }
  }
}

async function apply() {
  if (!room.latest || !Object.keys(room.latest).length || room.applied === room.version) return draw();
  const version = room.version;
  const s = await daeState();
  await s.opened; // the page's widgets are mounted and its own link applied
  applying++;
  try {
    await s.set(room.latest, { source: "room" });
    room.applied = version;
  } finally {
    applying--;
    draw();
  }
}

function stepOut() {
  room.following = false;
  draw();
}

function rejoin() {
  room.following = true;
  room.applied = -1; // apply the presenter's latest, even if it is the one we stepped out from
  apply();
}

document.addEventListener("dae-state", (e) => {
  setTimeout(keepAddress, 0);
  const source = e.detail?.source;
  if (room.role === "presenter" && !room.ended && source !== "room") publish(e.detail.state);
  else if (room.role === "follower" && room.following && source === "user" && !applying) stepOut();
});

// --- the panel ----------------------------------------------------------------------------

const el = (tag, props = {}, ...kids) => {
  const n = Object.assign(document.createElement(tag), props);
  n.append(...kids);
  return n;
};

function linkRow(label, value, id, hint) {
  const input = el("input", { id, value, readOnly: true, className: "dae-room-link", onfocus: () => input.select() });
  const copy = el("button", { type: "button", textContent: "Copy", className: "dae-room-btn" });
  copy.onclick = async () => {
    input.select();
    try { await navigator.clipboard.writeText(value); } catch { document.execCommand?.("copy"); }
    copy.textContent = "Copied";
    setTimeout(() => { copy.textContent = "Copy"; }, 1500);
  };
  return el("label", { className: "dae-room-row" }, el("span", { textContent: label, title: hint }), input, copy);
}

function presenterPanel(box) {
  const who = room.followers === 1 ? "1 follower" : `${room.followers} followers`;
  const toggle = el("button", { type: "button", className: "dae-room-btn", id: "dae-room-toggle",
    textContent: room.open ? "Hide links" : "Links", onclick: () => { room.open = !room.open; draw(); } });
  toggle.setAttribute("aria-expanded", String(room.open));
  box.append(el("p", { className: "dae-room-title" }, `Room ${room.id} · `, el("span", { id: "dae-room-count", textContent: who }), " ", toggle));
  if (!room.open) return;
  box.append(linkRow("Audience link", audienceLink(), "dae-room-audience", "anyone with it follows your page"));
  box.append(linkRow("Presenter link (keep private)", presenterLink(), "dae-room-presenter", "it drives the room"));
  const row = el("div", { className: "dae-room-actions" });
  if (window.daeQr?.show) {
    row.append(el("button", { type: "button", className: "dae-room-btn", id: "dae-room-qr", textContent: "QR code",
      onclick: () => window.daeQr.show(audienceLink(), `Follow the presenter: room ${room.id}`) }));
  }
  row.append(el("button", { type: "button", className: "dae-room-btn", id: "dae-room-end", textContent: "End room", onclick: endRoom }));
  box.append(row);
}

function followerPanel(box) {
  if (room.following) {
    box.append(el("p", { id: "dae-room-status", textContent: `Following the presenter (room ${room.id})` }),
      el("button", { type: "button", className: "dae-room-btn", id: "dae-room-leave", textContent: "Explore alone", onclick: stepOut }));
  } else {
    box.append(el("p", { id: "dae-room-status", textContent: "Exploring alone: the presenter's changes wait" }),
      el("button", { type: "button", className: "dae-room-btn dae-room-primary", id: "dae-room-rejoin", textContent: "Rejoin the presenter", onclick: rejoin }));
  }
}

function draw() {
  let box = document.getElementById("dae-room");
  if (!box) {
    box = el("section", { id: "dae-room", className: "dae-room" });
    box.setAttribute("aria-label", "Room: follow the presenter");
    box.setAttribute("aria-live", "polite");
    document.body.append(box);
  }
  box.classList.toggle("dae-room-narrow", NARROW.matches);
  box.dataset.role = room.role;
  box.dataset.open = String(room.role === "presenter" && !room.ended && room.open);
  box.dataset.following = String(room.role === "follower" && room.following && !room.ended);
  box.dataset.ended = String(room.ended);
  box.replaceChildren();
  if (room.role === "none" || room.ended) {
    const startBtn = el("button", { type: "button", className: "dae-room-btn", id: "dae-room-start", textContent: "Start a room",
      title: "an audience link that follows this page live, and a presenter link that drives it" });
    startBtn.onclick = () => start().catch((e) => { room.error = e.message; draw(); });
    box.append(startBtn);
  } else if (room.role === "presenter") {
    presenterPanel(box);
  } else {
    followerPanel(box);
  }
  if (room.error) box.append(el("p", { className: "dae-room-error", id: "dae-room-error", textContent: room.error }));
}

/** For tests and benchmarks: where this page stands in its room. */
window.daeRoom = {
  get status() { return { ...room, key: room.key ? "(set)" : "" }; },
  start,
  rejoin,
  stepOut,
};

function init() {
  if (!C) return;
  const found = fromAddress();
  if (found?.id && found.key) becomePresenter(found.id, found.key, true);
  else if (found?.id) becomeFollower(found.id);
  else draw();
}

if (document.body) init();
else document.addEventListener("DOMContentLoaded", init);
