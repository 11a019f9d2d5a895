"""The Digits tab in Firefox ESR (Debian's firefox-esr), driven through its built-in WebDriver
BiDi (tests/firefox.py: no geckodriver). Firefox has WebAssembly relaxed SIMD, so the page
switches over on the relaxed build; 10 σ steps send no request (BiDi's network events count
every request; a ?server=1 page shows that the count sees them); and its outputs on a few
held-out digits match the server's. Skipped where firefox-esr is missing, never in CI (.ci/run
installs it).
"""
from __future__ import annotations

import json
import os
import time

import pytest

from tests.firefox import FIREFOX, Firefox
from tests.engine_parity import PARITY_JS, assert_matches_server, few_digits

SERVER_CALL = "/gradio_api/queue/join"
UNET_WIDE_SRC = "document.querySelector('#out-unet-wide img')?.src ?? null"

if not FIREFOX and not os.environ.get("CI"):
    pytest.skip("needs firefox-esr (apt-get install firefox-esr)", allow_module_level=True)


@pytest.fixture(scope="module")
def firefox():
    with Firefox() as f:
        yield f


def server_calls(f: Firefox) -> int:
    return sum(SERVER_CALL in u for u in f.requests)


def step(f: Firefox) -> float:
    """One → on the focused σ slider; returns when a new unet-wide image is on the page (s)."""
    old = f.js(UNET_WIDE_SRC)
    t = time.perf_counter()
    f.press("ArrowRight")
    f.wait_for(f"{UNET_WIDE_SRC} !== {json.dumps(old)}", 30)
    return time.perf_counter() - t


def focus_sigma(f: Firefox) -> None:
    f.js("document.querySelector('#sigma input[type=range]').focus()")
    f.press("Home")  # σ 0: the steps stay inside the slider's range
    time.sleep(0.5)


def switched(f: Firefox, timeout: float = 90) -> str:
    """Waits for the page to compute in the browser; returns the build."""
    return f.wait_for("window.daeDigits && window.daeDigits.mode === 'browser' && "
                      "document.querySelector('#dae-source')?.dataset.build", timeout, every=0.1)


def test_firefox_switches_over_and_sigma_sends_no_request(firefox, app_url):
    firefox.get(app_url + "?server=1")  # the count sees the server path's requests
    firefox.wait_for("document.querySelector('#out-unet-wide img') !== null", 60, every=0.1)
    focus_sigma(firefox)
    before = server_calls(firefox)
    step(firefox)
    assert server_calls(firefox) > before

    firefox.get(app_url)
    build = switched(firefox)
    assert build == "relaxed", (build, firefox.js("window.daeDigits.tried"))
    text = firefox.js("document.querySelector('#dae-source').textContent")
    assert text.startswith("computed in your browser (LiteRT.js relaxed SIMD, "), text
    focus_sigma(firefox)
    before = server_calls(firefox)
    for _ in range(10):
        step(firefox)
    assert server_calls(firefox) == before
    assert firefox.js("document.querySelector('#dae-source').dataset.source") == "browser"


def test_firefox_matches_the_server_on_a_few_digits(firefox, app_url):
    firefox.get(app_url)
    build = switched(firefox)
    noisy, b64 = few_digits()
    assert_matches_server(firefox.js(f"({PARITY_JS})({json.dumps(b64)}, {json.dumps(build)})"), noisy, build)
