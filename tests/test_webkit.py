"""The Digits tab in WebKitGTK, Safari's engine: Debian's webkit2gtk-driver (WebKitWebDriver)
driving its MiniBrowser through Selenium, under xvfb-run.

WebKit has no WebAssembly relaxed SIMD, so the page must switch over on the compat build; then
10 σ steps send no request, and its outputs on a few held-out digits match the server's. Classic
WebDriver cannot watch the network, so requests are counted from the page's own resource
timing entries (a ?server=1 page shows that the count sees them). Skipped where the driver or
xvfb-run is missing, never in CI (.ci/run installs both).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from benchmarks.common import free_port
from tests.engine_parity import PARITY_JS, assert_matches_server, few_digits

DRIVER = shutil.which("WebKitWebDriver")
XVFB_RUN = shutil.which("xvfb-run")
MINIBROWSER = next((str(p) for p in Path("/usr/lib").glob("*/webkit2gtk-4.*/MiniBrowser")), None)
SERVER_CALL = "/gradio_api/queue/join"

if not (DRIVER and XVFB_RUN and MINIBROWSER) and not os.environ.get("CI"):
    pytest.skip("needs webkit2gtk-driver and xvfb (apt-get install webkit2gtk-driver xvfb)", allow_module_level=True)


def start_webkit(env: dict | None = None):
    """WebKitWebDriver under xvfb-run on a free port, and a Selenium session on it:
    (driver process, session). ``env`` is added to the driver's environment, which the
    browser and its web process inherit. Stop both with stop_webkit."""
    from selenium import webdriver
    from selenium.webdriver.webkitgtk.options import Options

    assert DRIVER and XVFB_RUN and MINIBROWSER, "CI must have webkit2gtk-driver and xvfb (.ci/run installs them)"
    port = free_port()
    proc = subprocess.Popen([XVFB_RUN, "-a", DRIVER, f"--port={port}"], start_new_session=True,
                            env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2).read()
            break
        except OSError:
            if time.monotonic() > end or proc.poll() is not None:
                stop_webkit(proc, None)
                raise RuntimeError("WebKitWebDriver did not start")
            time.sleep(0.2)
    opts = Options()
    opts.binary_location = MINIBROWSER
    opts.add_argument("--automation")
    return proc, webdriver.Remote(command_executor=f"http://127.0.0.1:{port}", options=opts)


def stop_webkit(proc, session) -> None:
    if session is not None:
        try:
            session.quit()
        except Exception:  # noqa: BLE001  (the driver may be gone already)
            pass
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # xvfb-run, its Xvfb and the driver: one group we started
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def webkit():
    proc, session = start_webkit()
    yield session
    stop_webkit(proc, session)


def wait_until(session, script: str, timeout: float = 60, *args):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = session.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(script)


def server_calls(session) -> int:
    return session.execute_script("return performance.getEntriesByType('resource')"
                                  f".filter(e => e.name.includes('{SERVER_CALL}')).length")


def step(session) -> float:
    """One → on the σ slider; returns when a new unet-wide image is on the page (seconds)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    old = session.execute_script("return document.querySelector('#out-unet-wide img').src")
    t = time.perf_counter()
    session.find_element(By.CSS_SELECTOR, "#sigma input[type=range]").send_keys(Keys.ARROW_RIGHT)
    wait_until(session, "return document.querySelector('#out-unet-wide img').src !== arguments[0]", 30, old)
    return time.perf_counter() - t


def switched(session) -> str:
    """Waits for the page to compute in the browser; returns the build."""
    wait_until(session, "return window.daeDigits && window.daeDigits.mode === 'browser' && "
                        "document.querySelector('#dae-source')?.dataset.build", 90)
    return session.execute_script("return window.daeDigits.build")


def test_webkit_switches_over_and_sigma_sends_no_request(webkit, app_url):
    webkit.get(app_url + "?server=1")  # the count sees the server path's requests
    wait_until(webkit, "return document.querySelector('#out-unet-wide img')")
    webkit.execute_script("performance.setResourceTimingBufferSize(10000); performance.clearResourceTimings()")
    step(webkit)
    assert server_calls(webkit) >= 1

    webkit.get(app_url)
    build = switched(webkit)
    assert build == "compat", build  # WebKit has no relaxed SIMD
    text = webkit.execute_script("return document.querySelector('#dae-source').textContent")
    assert text.startswith("computed in your browser (LiteRT.js compat, plain SIMD, "), text
    webkit.execute_script("performance.setResourceTimingBufferSize(10000); performance.clearResourceTimings()")
    for _ in range(10):
        step(webkit)
    assert server_calls(webkit) == 0
    assert webkit.execute_script("return document.querySelector('#dae-source').dataset.source") == "browser"


def test_webkit_matches_the_server_on_a_few_digits(webkit, app_url):
    webkit.get(app_url)
    build = switched(webkit)
    noisy, b64 = few_digits()
    webkit.set_script_timeout(120)
    got = webkit.execute_async_script(f"""
        const [b64, build, done] = arguments;
        ({PARITY_JS})(b64, build).then(done, (e) => done({{error: String(e)}}));
    """, b64, build)
    assert_matches_server(got, noisy, build)


def test_webkit_with_its_partial_relaxed_simd_switched_on_passes_the_relaxed_build_over(app_url):
    """JavaScriptCore's hidden switch (JSC_useWasmRelaxedSIMD=1) makes WebKit pass LiteRT's
    one-opcode probe, yet it implements only part of relaxed SIMD: the relaxed build must be
    passed over, and the compat build computes the strip."""
    proc, session = start_webkit({"JSC_useWasmRelaxedSIMD": "1"})
    try:
        session.get(app_url)
        build = switched(session)
        tried = session.execute_script("return window.daeDigits.tried")
        session.set_script_timeout(60)
        probe = session.execute_async_script("""
            const done = arguments[arguments.length - 1];
            import(window.daeBrowser.runtime.lib).then((lib) => lib.supportsFeature("relaxedSimd"))
                .then(done, (e) => done(String(e)));
        """)
    finally:
        stop_webkit(proc, session)
    assert probe is True, probe  # the probe alone would have picked the relaxed build
    assert build == "compat", (build, tried)
    assert "relaxed" in tried, tried
