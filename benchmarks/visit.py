"""What a visit to the Digits tab costs: bytes on the wire, first and repeat, and the σ step in
Chromium, Firefox and WebKitGTK, measured the same way.

    python benchmarks/visit.py          # about 3 minutes; writes benchmarks/results/visit.json
    python benchmarks/visit.py --ssr    # the two visits' bytes under Gradio's SSR (Node 24): visit_ssr.json

1. First visit in a fresh Chromium profile (Debian's chromium, headless): every response's
   bytes on the wire (Chrome's own count, ``Network.loadingFinished.encodedDataLength``, so
   headers included and compression as sent), from opening the page until it has switched
   over to the in-browser path; per kind (the wasm, the exports, the page, the rest). Then
   what opening the Inside tab adds (its 2-D map's halves and codes are fetched only then).
2. Repeat visit in the same profile, closed and reopened (a persistent context): the same
   count, and whether any wasm or .tflite body came over the wire again.
3. The σ step p50 in Chromium, WebKitGTK (WebKitWebDriver + Selenium under xvfb-run) and
   Firefox ESR (its built-in WebDriver BiDi, tests/firefox.py), 20 steps each after the
   switch-over: the time from the key press until the new ``#out-unet-wide`` image is in the
   DOM, seen from the driver (Playwright polls every animation frame; the WebKit and Firefox
   loops every 10 ms), plus each page's server calls during the steps.

The app runs as ``python app.py`` on a free loopback port; nothing else is contacted.
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS, cpu, percentiles, save, start_app  # noqa: E402

SERVER_CALL = "/gradio_api/queue/join"
SWITCHED = ("() => window.daeDigits && window.daeDigits.mode === 'browser' && "
            "document.querySelector('#dae-source')?.dataset.source === 'browser'")


def kind(url: str) -> str:
    path = url.split("?", 1)[0]
    if path.endswith(".wasm"):
        return "wasm"
    if path.endswith(".tflite"):
        return "tflite"
    if path.endswith(("/config", "/gradio_api/info")):
        return "config"  # what the front end fetches under SSR: the page's content
    if path.rstrip("/").count("/") <= 2 and "." not in path.rsplit("/", 1)[-1]:
        return "page"
    return "other"


INSIDE_READY = "() => document.querySelector('#map2d-source')?.dataset.source === 'browser'"


def chromium_visit(context, url: str, timeout_ms: int = 120_000, inside: bool = False) -> dict:
    """Open ``url`` in a new page of ``context`` and wait for the switch-over; return the bytes
    each response took on the wire (Chrome's encodedDataLength; 0 for a cache hit), per URL.
    With ``inside``, then open the Inside tab and wait for its 2-D map to decode in the page
    (its two halves are fetched only then); ``inside_bytes`` is what that added."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    urls, wire, cached = {}, {}, set()
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.requestServedFromCache", lambda e: cached.add(e["requestId"]))
    cdp.on("Network.responseReceived", lambda e: cached.add(e["requestId"]) if e["response"].get("fromDiskCache")
           or e["response"].get("fromMemoryCache") else None)
    cdp.on("Network.loadingFinished", lambda e: wire.__setitem__(e["requestId"], e["encodedDataLength"]))
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_function(SWITCHED, timeout=timeout_ms)
    switch_s = time.perf_counter() - t0
    page.wait_for_timeout(500)  # let the last responses finish
    at_switch = set(wire)
    if inside:
        page.get_by_role("tab", name="Inside").click()
        page.wait_for_function(INSIDE_READY, timeout=timeout_ms)
        page.wait_for_timeout(500)
    responses = [{"url": urls.get(r, "?"), "bytes": n, "kind": kind(urls.get(r, "?")), "cache": r in cached,
                  "after_switch": r not in at_switch} for r, n in wire.items()]
    by_kind = {}
    for r in responses:
        if r["after_switch"]:
            continue
        by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + r["bytes"]
    return {"page": page, "bytes": sum(r["bytes"] for r in responses if not r["after_switch"]),
            "inside_bytes": sum(r["bytes"] for r in responses if r["after_switch"]), "by_kind": by_kind,
            "responses": responses, "switch_s": round(switch_s, 2),
            "heavy_bodies": [r["url"] for r in responses if r["kind"] in ("wasm", "tflite") and r["bytes"] > 0
                             and not r["cache"]]}


def chromium_steps(page, n: int) -> dict:
    calls = []
    page.on("request", lambda r: calls.append(r.url) if SERVER_CALL in r.url else None)
    times = []
    slider = page.locator("#sigma input[type=range]")
    slider.focus()
    page.keyboard.press("Home")  # σ 0: the steps below stay inside the slider's range
    page.wait_for_timeout(500)
    before = len(calls)
    for _ in range(n):
        old = page.locator("#out-unet-wide img").get_attribute("src")
        t = time.perf_counter()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("old => document.querySelector('#out-unet-wide img').src !== old", arg=old)
        times.append(time.perf_counter() - t)
    return {**percentiles(times), "server_calls": len(calls) - before}


def webkit_steps(url: str, n: int) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from tests.test_webkit import server_calls, start_webkit, stop_webkit, switched

    proc, session = start_webkit()
    try:
        t0 = time.perf_counter()
        session.get(url)
        build = switched(session)
        switch_s = time.perf_counter() - t0
        session.execute_script("performance.setResourceTimingBufferSize(10000)")
        slider = session.find_element(By.CSS_SELECTOR, "#sigma input[type=range]")
        slider.send_keys(Keys.HOME)
        time.sleep(0.5)
        session.execute_script("performance.clearResourceTimings()")
        times = []
        for _ in range(n):
            old = session.execute_script("return document.querySelector('#out-unet-wide img').src")
            t = time.perf_counter()
            slider.send_keys(Keys.ARROW_RIGHT)
            end = t + 30
            while session.execute_script("return document.querySelector('#out-unet-wide img').src") == old:
                if time.perf_counter() > end:
                    raise TimeoutError("no new image in 30 s")
                time.sleep(0.01)
            times.append(time.perf_counter() - t)
        version = session.capabilities.get("browserVersion")
        return {**percentiles(times), "server_calls": server_calls(session), "build": build,
                "switch_s": round(switch_s, 2), "engine": f"WebKitGTK {version} (MiniBrowser)"}
    finally:
        stop_webkit(proc, session)


def firefox_steps(url: str, n: int) -> dict:
    """The same σ steps in firefox-esr, through its built-in WebDriver BiDi (tests/firefox.py);
    the driver polls the page every 10 ms, each poll a BiDi round trip (about 1-3 ms here)."""
    from tests.firefox import Firefox
    from tests.test_firefox import focus_sigma, server_calls, step, switched

    with Firefox() as f:
        t0 = time.perf_counter()
        f.get(url)
        build = switched(f)
        switch_s = time.perf_counter() - t0
        focus_sigma(f)
        before = server_calls(f)
        times = [step(f) for _ in range(n)]
        return {**percentiles(times), "server_calls": server_calls(f) - before, "build": build,
                "switch_s": round(switch_s, 2), "engine": f.version}


def children_of(pid: int) -> list[int]:
    """The direct children of a process, from /proc."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def ssr_visits() -> None:
    """``--ssr``: the first and repeat visit's bytes only, with the app under Gradio's SSR mode
    (its Node 24 server in front: GRADIO_NODE_PATH, as .ci/run sets it); results/visit_ssr.json."""
    from playwright.sync_api import sync_playwright

    from tests.test_cache import node24

    node = node24()
    if not node:
        raise SystemExit("--ssr needs Node 24: set GRADIO_NODE_PATH (see .ci/run)")
    proc, url, startup = start_app(env={"GRADIO_SSR_MODE": "true", "GRADIO_NODE_PATH": node}, timeout=600)
    result = {"cpu": cpu(), "startup_s": round(startup, 2), "load_average_at_start": os.getloadavg()}
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
            for name in ("first_visit", "repeat_visit"):
                ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                v = chromium_visit(ctx, url)
                ctx.close()
                result[name] = {"bytes": v["bytes"], "by_kind": v["by_kind"], "responses": len(v["responses"]),
                                "switch_s": v["switch_s"], "heavy_bodies": len(v["heavy_bodies"]),
                                "largest": sorted(({"url": r["url"].rsplit("/", 1)[-1], "bytes": r["bytes"]}
                                                   for r in v["responses"]), key=lambda r: -r["bytes"])[:8]}
                print(f"{name}, Chromium, SSR: {v['bytes']:,} B over {len(v['responses'])} responses; "
                      f"by kind: {v['by_kind']}; wasm/.tflite bodies: {len(v['heavy_bodies'])}")
    finally:
        children = children_of(proc.pid)  # Gradio's Node server outlives its Python parent
        proc.terminate()
        proc.wait(timeout=30)
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    result["load_average_at_end"] = os.getloadavg()
    print(f"wrote {save('visit_ssr', result)}")


def main() -> None:
    from playwright.sync_api import sync_playwright

    if "--ssr" in sys.argv[1:]:
        return ssr_visits()
    proc, url, startup = start_app()
    result = {"cpu": cpu(), "startup_s": round(startup, 2), "load_average_at_start": os.getloadavg()}
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
            ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            first = chromium_visit(ctx, url, inside=True)
            result["chromium"] = {"version": ctx.browser.version if ctx.browser else None}
            first["page"].get_by_role("tab", name="Digits").click()  # back from the Inside tab
            steps = chromium_steps(first["page"], 20)
            ctx.close()
            ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            repeat = chromium_visit(ctx, url)
            ctx.close()
        for name, v in (("first_visit", first), ("repeat_visit", repeat)):
            result[name] = {"bytes": v["bytes"], "by_kind": v["by_kind"], "responses": sum(not r["after_switch"] for r in v["responses"]),
                            "inside_tab_bytes": v["inside_bytes"],
                            "switch_s": v["switch_s"], "heavy_bodies": v["heavy_bodies"],
                            "largest": sorted(({"url": r["url"].rsplit("/", 1)[-1], "bytes": r["bytes"]}
                                               for r in v["responses"] if not r["after_switch"]),
                                              key=lambda r: -r["bytes"])[:8]}
        result["chromium"]["sigma_step"] = steps
        result["webkitgtk"] = {"sigma_step": webkit_steps(url, 20)}
        result["firefox"] = {"sigma_step": firefox_steps(url, 20)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    result["load_average_at_end"] = os.getloadavg()  # the machine may be shared: read the figures with it
    path = save("visit", result)
    f, r = result["first_visit"], result["repeat_visit"]
    print(f"CPU: {result['cpu']['model']} ({result['cpu']['cores']} cores), load average "
          f"{result['load_average_at_start'][0]:.1f} at start, {result['load_average_at_end'][0]:.1f} at end")
    print(f"first visit, Chromium: {f['bytes']:,} B over {f['responses']} responses (target <= 4,500,000), "
          f"switched over in {f['switch_s']} s; by kind: {f['by_kind']}")
    print(f"repeat visit, same profile: {r['bytes']:,} B over {r['responses']} responses (target <= 400,000); "
          f"wasm/.tflite bodies sent again: {len(r['heavy_bodies'])}")
    print(f"then opening the Inside tab (its 2-D map's halves and codes): {f['inside_tab_bytes']:,} B more")
    for engine in ("chromium", "firefox", "webkitgtk"):
        s = result[engine]["sigma_step"]
        print(f"σ step, {engine}: p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms over {s['n']} steps, "
              f"server calls {s['server_calls']}" + (f", build {s['build']}" if "build" in s else ""))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
