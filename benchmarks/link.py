"""Opening a prepared link, measured against the first paint of a plain visit, in one run.

    python benchmarks/link.py                       # 6 visits of each, about 3 minutes
    python benchmarks/link.py --visits 3 --baseline /path/to/other/checkout

Headless Chromium (Debian's), a fresh page per visit, plain and linked visits alternating
on the same server:
- **first paint**: from navigation to the first strip on screen (``#out-unet-wide`` drawn), on
  ``/``: what every visit waits for;
- **prepared link**: from navigation to the first strip on screen that shows the link's state
  (its ``data-state`` is the link's digit, σ, noise and models), on
  ``/?digit=123&noise=uniform&level=0.8&models=dense,unet,unet-wide&errors=on``; which path
  computed it (server or browser) is reported too.
Both are timed in the page (``performance.now()`` from navigation start, a MutationObserver),
not by the driver's polling. ``--baseline`` also measures the first paint of another checkout
of this app (say, the revision before links existed), served the same way, as the floor.

Writes benchmarks/results/link.json. Traffic goes only to servers this script starts on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS, cpu, free_port, percentiles, save, start_app, wait_for  # noqa: E402

LINK = "?digit=123&noise=uniform&level=0.8&models=dense,unet,unet-wide&errors=on"
WANT = {"digit": 123, "noise": "uniform", "level": 0.8, "models": ["dense", "unet", "unet-wide"], "errors": True}
# in the page, from navigation start: the first strip drawn, and the first showing WANT
WATCH = """
window.__t = {};
(function watch() {
  const want = %s;
  new MutationObserver(() => {
    const strip = document.querySelector('#panels .dae-strip');
    if (!strip || !document.querySelector('#out-unet-wide img')) return;
    window.__t.first ??= performance.now();
    let s = null;
    try { s = JSON.parse(strip.dataset.state || 'null'); } catch {}
    if (s && !window.__t.linked && Object.entries(want).every(([k, v]) => JSON.stringify(s[k]) === JSON.stringify(v))) {
      window.__t.linked = performance.now();
      window.__t.source = document.querySelector('#dae-source')?.dataset.source;
    }
  }).observe(document, {childList: true, subtree: true, attributes: true});
})();
""" % json.dumps(WANT)


def visit(browser, url: str, linked: bool) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.add_init_script(WATCH)
    page.goto(url + (LINK if linked else ""))
    key = "linked" if linked else "first"
    page.wait_for_function(f"() => window.__t.{key}", timeout=120_000, polling=100)
    t = page.evaluate("() => window.__t")
    page.close()
    return t


def measure(url: str, visits: int, linked_too: bool = True) -> dict:
    from playwright.sync_api import sync_playwright

    first, link, sources = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        visit(browser, url, False)  # warm: the server's caches, Chromium's disk cache of Gradio's bundle
        for _ in range(visits):
            first.append(visit(browser, url, False)["first"] / 1000)
            if linked_too:
                t = visit(browser, url, True)
                link.append(t["linked"] / 1000)
                sources.append(t.get("source"))
        browser.close()
    out = {"first_paint": percentiles(first)}
    if linked_too:
        out.update(prepared_link=percentiles(link), linked_state_drawn_by=sources)
    return out


def start_other(checkout: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)], cwd=checkout,
                            env=os.environ.copy(), stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    wait_for(url)
    return proc, url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--visits", type=int, default=6)
    ap.add_argument("--baseline", type=Path, help="another checkout of this app: its first paint, as the floor")
    a = ap.parse_args()
    result = {"cpu": cpu(), "load_before": os.getloadavg(), "visits": a.visits, "link": LINK}
    if a.baseline:
        proc, url = start_other(a.baseline, Path("/tmp/link-baseline.log"))
        try:
            result["baseline"] = {"checkout": str(a.baseline), **measure(url, a.visits, linked_too=False)}
        finally:
            proc.terminate()
            proc.wait(30)
    proc, url, _ = start_app()
    try:
        result["this"] = measure(url, a.visits)
    finally:
        proc.terminate()
        proc.wait(30)
    result["load_after"] = os.getloadavg()
    this = result["this"]
    floor = result.get("baseline", this)["first_paint"]["p50_ms"]
    print(f"first paint, plain visit (p50 / p95):        {this['first_paint']['p50_ms']:.0f} / "
          f"{this['first_paint']['p95_ms']:.0f} ms")
    if "baseline" in result:
        b = result["baseline"]["first_paint"]
        print(f"first paint, baseline checkout (p50 / p95):  {b['p50_ms']:.0f} / {b['p95_ms']:.0f} ms")
    print(f"prepared link, its state drawn (p50 / p95):  {this['prepared_link']['p50_ms']:.0f} / "
          f"{this['prepared_link']['p95_ms']:.0f} ms, by {sorted(set(this['linked_state_drawn_by']))}")
    verdict = "meets" if this["prepared_link"]["p50_ms"] <= floor else "misses"
    print(f"target: prepared link <= first paint ({floor:.0f} ms at p50): {verdict} it")
    result["target_met"] = verdict == "meets"
    print("wrote", save("link", result))


if __name__ == "__main__":
    main()
