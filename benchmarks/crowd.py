"""A room opening the link at once, measured (issue #18's numbers).

    python benchmarks/crowd.py            # about 9 minutes; writes benchmarks/results/crowd.json
    python benchmarks/crowd.py --quick    # a smaller run of each part
    python benchmarks/crowd.py --browser-only   # part 3 alone, about 2 minutes

1. The API: 32 clients × 20 identical ``/denoise_digit`` requests, 8 × 5 identical
   ``/denoise_photo`` ones; failed requests and exceptions in the server's log.
2. Throughput of the page's own digit event (``/digit_view``, what the σ slider sends) with 16
   concurrent clients, against Gradio's one-image echo app measured in the same run (its
   floor: a file in, one image out, no work). Both servers are separate processes.
3. A real browser (Debian's chromium): one visitor's σ steps, then 8 visitors stepping at
   once (all 8 pages open first, then step together), 10 steps each: the time from the key
   press to a new ``#out-unet-wide`` image in the page's DOM (timed in the page; Playwright's
   own view, which adds its polling, too), lost steps (none arrived within 10 s), broken
   images and server calls during the steps; first on the server path (``?server=1``), then
   on the in-browser path, after its switch-over (whose time from page open, and bytes
   transferred until then, are reported too).

Traffic goes only to servers this script starts on 127.0.0.1; every loop is bounded.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (CHROMIUM, CHROMIUM_ARGS, ROOT, cpu, free_port, percentiles, save,  # noqa: E402
                               start_app, wait_for)

# the page's own event takes the page's state (dae/state.py) as JSON; the fields left out take their defaults
PAGE_EVENT = json.dumps({"digit": 0, "noise": "gaussian", "level": 0.5, "blur": 0.0, "mean": 0.0, "clip": True, "seed": 0,
                         "models": ["dense", "conv-latent", "conv-pool", "unet", "unet-wide"], "errors": False})


def inputs() -> dict[str, str]:
    from PIL import Image

    from dae import data

    tmp = Path(tempfile.mkdtemp())
    Image.fromarray((data.heldout_digits(1)[0, ..., 0] * 255).astype(np.uint8)).save(tmp / "d.png")
    Image.fromarray((data.sample_photo("coffee")[:256, :256] * 255).astype(np.uint8)).save(tmp / "p.png")
    return {"digit": str(tmp / "d.png"), "photo": str(tmp / "p.png")}


def server_exceptions(log: Path) -> int:
    """Tracebacks and uvicorn's 'Exception in ASGI application' lines in a server's log."""
    text = log.read_text(errors="replace")
    return text.count("Traceback (most recent call last)") + text.count("Exception in ASGI application")


def crowd(url: str, clients: int, requests: int, call) -> dict:
    """``clients`` visitors at once, each with its own Client, each sending ``requests`` identical calls."""
    from gradio_client import Client

    def visitor(_):
        c, times, errors = Client(url, verbose=False), [], []
        for _ in range(requests):
            t = time.perf_counter()
            try:
                call(c)
                times.append(time.perf_counter() - t)
            except Exception as e:  # counted, not raised: the point is to see how many
                errors.append(f"{type(e).__name__}: {e}")
        return times, errors

    t = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(visitor, range(clients)))
    times = [x for r in results for x in r[0]]
    errors = [x for r in results for x in r[1]]
    return {"clients": clients, "requests_each": requests, "errors": len(errors), "first_errors": errors[:3],
            "wall_s": round(time.perf_counter() - t, 1), **percentiles(times or [0.0])}


def throughput(url: str, clients: int, seconds: float, call) -> dict:
    """Completed requests per second with ``clients`` callers looping for ``seconds``."""
    from gradio_client import Client

    end = time.perf_counter() + seconds

    def visitor(_):
        c, done, errors = Client(url, verbose=False), 0, 0
        while time.perf_counter() < end:
            try:
                call(c)
                done += 1
            except Exception:
                errors += 1
        return done, errors

    t = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(visitor, range(clients)))
    wall = time.perf_counter() - t
    done = sum(r[0] for r in results)
    return {"clients": clients, "requests": done, "errors": sum(r[1] for r in results),
            "requests_per_s": round(done / wall, 1)}


def start_echo(log: Path) -> tuple[subprocess.Popen, str]:
    """Gradio's own floor (benchmarks/common.py:echo_server) in a process of its own."""
    port = free_port()
    code = ("import time, benchmarks.common as c; import gradio as gr; "
            f"d, _ = c.echo_server(5, port={port}); time.sleep(10**6)")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    wait_for(url)
    return proc, url


# --- the browser ------------------------------------------------------------------------

_NEW_IMAGE = "old => document.querySelector('#out-unet-wide img').src !== old"
_BROKEN = "() => [...document.querySelectorAll('#panels img')].filter(i => !i.complete || i.naturalWidth === 0).length"
_SWITCHED = ("() => window.daeDigits && window.daeDigits.mode === 'browser' && "
             "document.querySelector('#dae-source')?.dataset.source === 'browser'")
SERVER_CALL = "/gradio_api/queue/join"
# Timed in the page, so the figure is the page's and not the test driver's: from the key press
# (captured before Gradio sees it) to the mutation that puts a new unet-wide image in the DOM.
_STOPWATCH = """
window.__steps = [];
document.addEventListener('keydown', () => { window.__key = performance.now(); }, true);
(function watch() {
  const panels = document.querySelector('#panels');
  if (!panels) return setTimeout(watch, 50);
  let last = null;
  new MutationObserver(() => {
    const img = document.querySelector('#out-unet-wide img');
    if (!img || img.src === last) return;
    last = img.src;
    if (window.__key != null) { window.__steps.push(performance.now() - window.__key); window.__key = null; }
  }).observe(panels, {childList: true, subtree: true, attributes: true});
})();
"""


async def _visitor(browser, url: str, steps: int, in_browser: bool, ready: asyncio.Barrier) -> dict:
    """Open the page, then press → on the σ slider ``steps`` times, each time waiting for a
    new unet-wide image. With ``in_browser``, first wait for the switch-over to the in-browser
    path, and count the server calls the steps make (there should be none).

    ``ready``: every visitor opens its page (and switches over) first, and all start stepping
    together, so the figure is "visitors dragging at once", not dragging while other pages
    still load (page loads are reported on their own: first_paint_s, page_open_to_switch_s)."""
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    await page.add_init_script(_STOPWATCH)
    calls, sizes = [], []
    page.on("request", lambda r: calls.append(r.url) if SERVER_CALL in r.url else None)
    page.on("requestfinished", lambda r: sizes.append(r))
    t_open = time.perf_counter()
    await page.goto(url)
    await page.locator("#out-unet-wide img").wait_for(timeout=60_000)
    out = {"first_paint_s": time.perf_counter() - t_open}
    if in_browser:
        await page.wait_for_function(_SWITCHED, timeout=120_000, polling=50)
        out["switch_s"] = time.perf_counter() - t_open
        total = 0
        for r in list(sizes):
            try:
                total += (await r.sizes())["responseBodySize"]
            except Exception:  # a request without a body (or already gone): nothing transferred
                pass
        out["bytes_to_switch"] = total
    await ready.wait()
    slider = page.locator("#sigma input[type=range]")
    await slider.focus()
    times, driver, lost, broken, before = [], [], 0, 0, len(calls)
    await page.evaluate("() => { window.__steps = []; window.__key = null; }")
    for _ in range(steps):
        old = await page.locator("#out-unet-wide img").get_attribute("src")
        t = time.perf_counter()
        await page.keyboard.press("ArrowRight")
        try:
            await page.wait_for_function(_NEW_IMAGE, arg=old, timeout=10_000, polling="raf")
            driver.append(time.perf_counter() - t)
        except Exception:  # Playwright's TimeoutError: the step never arrived
            lost += 1
        broken += await page.evaluate(_BROKEN)
    times = [ms / 1000 for ms in await page.evaluate("() => window.__steps")]
    out.update(times=times, driver=driver, lost=lost, broken=broken, server_calls=len(calls) - before)
    await page.close()
    return out


async def _browser(url: str, visitors: int, steps: int, in_browser: bool) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        t = time.perf_counter()
        ready = asyncio.Barrier(visitors)
        results = await asyncio.gather(*[_visitor(browser, url, steps, in_browser, ready) for _ in range(visitors)])
        wall = time.perf_counter() - t
        await browser.close()
    times = [x for r in results for x in r["times"]]
    driver = percentiles([x for r in results for x in r["driver"]] or [0.0])
    out = {"visitors": visitors, "steps_each": steps, "lost_steps": sum(r["lost"] for r in results),
           "first_paint_s_max": round(max(r["first_paint_s"] for r in results), 2),
           "broken_images": sum(r["broken"] for r in results),
           "server_calls_during_steps": sum(r["server_calls"] for r in results), "wall_s": round(wall, 1),
           **percentiles(times or [0.0]),
           "as_the_driver_saw_it": {k: driver[k] for k in ("p50_ms", "p95_ms")}}
    if in_browser:
        out["page_open_to_switch_s"] = round(max(r["switch_s"] for r in results), 2)
        out["bytes_to_switch"] = max(r["bytes_to_switch"] for r in results)
    return out


def browser_steps(url: str, visitors: int, steps: int, in_browser: bool = False) -> dict:
    """σ steps in Chromium: the server path (``?server=1``) or the in-browser path."""
    if not CHROMIUM:
        return {"skipped": "no chromium (apt-get install chromium)"}
    return asyncio.run(_browser(url if in_browser else url + "?server=1", visitors, steps, in_browser))


def api_and_throughput(url: str, echo_url: str, files: dict, n: tuple, result: dict) -> None:
    """Parts 1 and 2: identical API crowds, and the page event's throughput against the echo."""
    from gradio_client import handle_file

    digit = lambda c: c.predict(image=handle_file(files["digit"]), api_name="/denoise_digit")  # noqa: E731
    photo = lambda c: c.predict(image=handle_file(files["photo"]), sigma=25, api_name="/denoise_photo")  # noqa: E731
    result["api_digit_identical"] = crowd(url, n[0], n[1], digit)
    print("API /denoise_digit, identical:", result["api_digit_identical"])
    result["api_photo_identical"] = crowd(url, n[2], n[3], photo)
    print("API /denoise_photo, identical:", result["api_photo_identical"])
    event = lambda c: c.predict(PAGE_EVENT, api_name="/digit_view")  # noqa: E731
    echo_call = lambda c: c.predict(handle_file(files["digit"]), api_name="/echo")  # noqa: E731
    result["throughput_page_event"] = throughput(url, 16, n[4], event)
    result["throughput_echo_one_image"] = throughput(echo_url, 16, n[4], echo_call)
    ratio = result["throughput_page_event"]["requests_per_s"] / result["throughput_echo_one_image"]["requests_per_s"]
    result["throughput_ratio_page_event_to_echo"] = round(ratio, 2)
    print("throughput, 16 clients: page event", result["throughput_page_event"], "echo",
          result["throughput_echo_one_image"], f"ratio {ratio:.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smaller counts: a smoke run")
    p.add_argument("--browser-only", action="store_true",
                   help="only part 3, the σ steps in Chromium (writes crowd_browser.json)")
    a = p.parse_args()
    n = (8, 4, 4, 2, 5.0, 5) if a.quick else (32, 20, 8, 5, 20.0, 20)
    files, logs = inputs(), Path(tempfile.mkdtemp())
    result: dict = {"cpu": cpu(), "quick": a.quick}
    proc, url, startup = start_app(log=logs / "app.log")
    echo, echo_url = start_echo(logs / "echo.log")
    try:
        print(f"app up in {startup:.1f} s on {result['cpu']}")
        if not a.browser_only:
            api_and_throughput(url, echo_url, files, n, result)
        for path, in_browser in (("server_path", False), ("in_browser_path", True)):
            result[f"{path}_one_visitor"] = browser_steps(url, 1, n[5], in_browser)
            print(f"{path}, one visitor:", result[f"{path}_one_visitor"])
            result[f"{path}_eight_visitors"] = browser_steps(url, 8, 10, in_browser)
            print(f"{path}, 8 visitors:", result[f"{path}_eight_visitors"])
    finally:
        for pr in (proc, echo):
            pr.terminate()
            pr.wait(30)
    result["server_exceptions"] = server_exceptions(logs / "app.log")
    result["echo_server_exceptions"] = server_exceptions(logs / "echo.log")
    print(f"server exceptions: app {result['server_exceptions']}, echo {result['echo_server_exceptions']}")
    name = "crowd_browser" if a.browser_only else "crowd"
    print(f"wrote {save(name + '_quick' if a.quick else name, result)}")


if __name__ == "__main__":
    main()
