"""The Inside tab's 2-D map in Chromium, and how well the classes separate in each map.

    python benchmarks/inside2d.py        # about 2 minutes; writes benchmarks/results/inside2d.json

Starts ``python app.py`` on loopback and drives Debian's Chromium (headless, --disable-gpu):

- **hover decode**: 50 pointer moves across the dense-2d map; each from the pointer handler to
  the decoded digit drawn (``daeInsideMap.stats.hover``, ui/inside_browser.js), the same from
  the event's time stamp (``stats.hoverEvent``: Chromium dispatches pointer moves aligned to
  animation frames, so this adds up to a frame of the browser's own waiting), the decoder call
  alone (``stats.decode``), and the server calls the page made meanwhile
  (``/gradio_api/queue/join``, every Python event's door);
- **journey per σ step**: 30 → presses on the map's own σ slider; each from the change to ○ ✕ →
  recomputed (corrupt, three encodes, a decode) and drawn (``stats.journey``), and the server
  calls. (A σ step on the Digits tab costs the journey nothing: it is computed when the Inside
  tab shows the map.)
- **kNN accuracy** (k = 10, stratified 5-fold, ``dae.latent.knn_accuracy``) of the 5,000
  held-out gallery digits: dense-2d's code as it is, and the LDA maps of dense and
  conv-latent (LDA fitted on the training folds only).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS, cpu, percentiles, save, start_app  # noqa: E402

SERVER_CALL = "/gradio_api/queue/join"


def browser_figures(url: str) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = b.new_page(viewport={"width": 1280, "height": 720})
        calls = []
        page.on("request", lambda r: calls.append(r.url) if SERVER_CALL in r.url else None)
        page.goto(url)
        page.wait_for_function("() => window.daeDigits && window.daeDigits.mode === 'browser'", timeout=120_000)
        page.get_by_role("tab", name="Inside").click()
        page.wait_for_function("() => document.querySelector('#map2d-source')?.dataset.source === 'browser'",
                               timeout=60_000)
        page.wait_for_timeout(1000)  # the tab's own opening request (the projection map) has gone
        box = page.locator("#map2d-canvas").bounding_box()
        before = len(calls)
        for i in range(50):
            t = i / 49
            page.mouse.move(box["x"] + box["width"] * (0.12 + 0.76 * t),
                            box["y"] + box["height"] * (0.15 + 0.7 * (i % 7) / 6))
            page.wait_for_function("n => window.daeInsideMap.stats.hover.length > n", arg=i, timeout=10_000)
        hover = page.evaluate("() => window.daeInsideMap.stats.hover.slice()")
        decode = page.evaluate("() => window.daeInsideMap.stats.decode.slice(-50)")
        hover_calls = len(calls) - before
        slider = page.locator("#map2d-sigma")
        slider.focus()
        page.keyboard.press("Home")  # σ 0, then 30 steps of 0.01 upwards
        page.wait_for_timeout(500)
        n0 = page.evaluate("() => window.daeInsideMap.stats.journey.length")
        before = len(calls)
        for i in range(30):
            page.keyboard.press("ArrowRight")
            page.wait_for_function("n => window.daeInsideMap.stats.journey.length > n", arg=n0 + i, timeout=10_000)
        journey = page.evaluate(f"() => window.daeInsideMap.stats.journey.slice({n0})")
        journey_calls = len(calls) - before
        hover_event = page.evaluate("() => window.daeInsideMap.stats.hoverEvent.slice(0, 50)")
        b.close()
    return {"hover_decode": {**percentiles([ms / 1000 for ms in hover]), "server_calls": hover_calls},
            "decoder_call_alone": percentiles([ms / 1000 for ms in decode]),
            "hover_from_event_time_stamp": percentiles([ms / 1000 for ms in hover_event]),
            "journey_per_sigma_step": {**percentiles([ms / 1000 for ms in journey]), "server_calls": journey_calls}}


def knn_figures() -> dict:
    import dae
    from dae import data, latent

    x, y = data.gallery()
    out = {}
    for name in ("dense-2d", "dense", "conv-latent"):
        m = latent.build_maps({name: dae.load(name).model}, x, y)[name]
        out[f"{name} ({'code' if m.projection == 'none' else 'LDA map'})"] = round(
            latent.knn_accuracy(m.codes, m.labels, m.projection), 4)
    return out


def main() -> int:
    proc, url, startup = start_app()
    try:
        result = {"cpu": cpu(), "chromium": CHROMIUM, "startup_s": round(startup, 2), **browser_figures(url)}
    finally:
        proc.terminate()
        proc.wait(30)
    result["knn_accuracy_k10_5fold"] = knn_figures()
    result["cpu_after"] = cpu()
    for k in ("hover_decode", "hover_from_event_time_stamp", "journey_per_sigma_step"):
        r = result[k]
        print(f"{k}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms over {r['n']}, server calls {r.get('server_calls', '-')}")
    d = result["decoder_call_alone"]
    print(f"decoder call alone: p50 {d['p50_ms']} ms, p95 {d['p95_ms']} ms over {d['n']}")
    for k, v in result["knn_accuracy_k10_5fold"].items():
        print(f"kNN accuracy (k=10), {k}: {v:.4f}")
    print("wrote", save("inside2d", result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
