// A QR code for the room: the current view's link, large enough for the back rows, the link
// written out beside it; shrunk, it stays in a corner while the presenter works.
//
// Drawn in the page by uqr (ui/vendor/uqr/, MIT, a port of Project Nayuki's QR Code
// generator; scripts/vendor_uqr.sh rebuilds it at its pinned version): offline, no request.
//
// window.daeQr:
//   show(url, label)   show this link (another feature's, e.g. a room's audience link); with no
//                      url, the current view's link (ui/state.js link()), kept current as the
//                      state changes
//   shrink() / enlarge() / hide()
//   get url()          the link on show, "" when hidden

const DEF = window.daeStateDef;
let lib = null;
const qr = { el: null, url: "", label: "", follow: false, small: false };

async function encoder() {
  lib ??= await import(DEF.qrLib);
  return lib;
}

function build() {
  const el = document.createElement("div");
  el.id = "dae-qr";
  el.setAttribute("role", "dialog");
  el.setAttribute("aria-label", "Link to this view, as a QR code");
  el.innerHTML = `<div class="dae-qr-card">
      <div class="dae-qr-code" aria-hidden="true"></div>
      <div class="dae-qr-side">
        <p class="dae-qr-label"></p>
        <p class="dae-qr-link"><a target="_blank" rel="noopener"></a></p>
        <p class="dae-qr-buttons">
          <button type="button" class="dae-qr-size"></button>
          <button type="button" class="dae-qr-close">Close</button>
        </p>
      </div>
    </div>`;
  el.querySelector(".dae-qr-size").addEventListener("click", () => (qr.small ? enlarge() : shrink()));
  el.querySelector(".dae-qr-close").addEventListener("click", hide);
  el.addEventListener("keydown", (e) => { if (e.key === "Escape") hide(); });
  document.body.append(el);
  return el;
}

async function draw() {
  const el = (qr.el ??= build());
  const { renderSVG } = await encoder();
  // error correction M: a projected code stays readable with some glare; border 4 (the standard quiet zone)
  el.querySelector(".dae-qr-code").innerHTML = renderSVG(qr.url, { ecc: "M", border: 4, blackColor: "#000", whiteColor: "#fff" });
  el.querySelector(".dae-qr-label").textContent = qr.label;
  const a = el.querySelector(".dae-qr-link a");
  a.href = qr.url;
  a.textContent = qr.url;
  el.querySelector(".dae-qr-size").textContent = qr.small ? "Enlarge" : "Shrink to the corner";
  el.classList.toggle("dae-qr-small", qr.small);
  el.hidden = false;
}

function show(url, label) {
  qr.follow = !url;
  qr.url = url || window.daeState.link();
  qr.label = label || (qr.follow ? "Open this view on your phone" : "");
  qr.small = false;
  return draw().then(() => qr.el.querySelector(".dae-qr-size").focus());
}

function shrink() { qr.small = true; return draw(); }
function enlarge() { qr.small = false; return draw(); }
function hide() {
  if (qr.el) qr.el.hidden = true;
  qr.url = "";
  qr.follow = false;
  document.getElementById("dae-qr-open")?.focus();
}

// the current view's link follows every change while it is shown
document.addEventListener("dae-state", () => {
  if (qr.follow && qr.url) {
    qr.url = window.daeState.link();
    draw();
  }
});

/** The button, at the end of the page's title line (so it covers nothing, on a phone either);
 * in the top-right corner if the page has no title. */
function addButton() {
  if (document.getElementById("dae-qr-open")) return;
  const b = document.createElement("button");
  b.id = "dae-qr-open";
  b.type = "button";
  b.textContent = "Link / QR code";
  b.title = "Show this view's link as a QR code for the room";
  b.addEventListener("click", () => show());
  const place = () => {
    const title = document.querySelector("#title h2");
    if (!title) return false;
    title.append(b);
    return true;
  };
  if (place()) return;
  const watch = new MutationObserver(() => { if (place()) watch.disconnect(); });
  watch.observe(document.documentElement, { childList: true, subtree: true });
  setTimeout(() => {
    if (b.isConnected) return;
    watch.disconnect();
    b.classList.add("dae-qr-corner");
    document.body.append(b);
  }, 15_000);
}

window.daeQr = { show, shrink, enlarge, hide, get url() { return qr.url; } };
addButton();
