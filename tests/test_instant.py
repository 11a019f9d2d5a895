"""The Digits tab's in-browser path in the real app, in Chromium: after the switch-over σ sends
no request, on the relaxed-SIMD build and on the compat one; ?server=1 sends one per change;
the fallback chain (a blocked relaxed wasm: compat; both blocked: the server, which says so;
a runtime abort mid-session: compat, and the page keeps working); both paths draw the
strip with one renderer (ui/digits.js drawStrip), from the page's numbers or the server's. (tests/test_browser_parity.py holds the numbers; tests/test_webkit.py runs the same
switch-over in WebKitGTK.)
"""
import pytest

from tests.conftest import skip_without_chromium
from tests.test_browser_assets import REFUSE_RELAXED_SIMD_PROBE

skip_without_chromium()

SERVER_CALL = "/gradio_api/queue/join"  # every Python event the page sends goes through it
STRUCTURE = """() => [...document.querySelectorAll('#panels figure')].map(f =>
    [f.id, f.className.replace('dae-best', '').trim(),
     [...f.querySelectorAll('img')].map(i => i.className).join(',')].join('|'))"""


def _page(browser, url, block_wasm=False, init_script=None):
    """block_wasm: True blocks every wasm, a glob only those it matches."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    calls = []
    page.on("request", lambda r: calls.append(r.url) if SERVER_CALL in r.url else None)
    if init_script:
        page.add_init_script(init_script)
    if block_wasm:
        page.route("**/*.wasm" if block_wasm is True else block_wasm, lambda route: route.abort())
    page.goto(url)
    page.locator("#out-unet-wide img").wait_for(timeout=60_000)
    return page, calls


def _step(page):
    """One → on the σ slider; returns when a new unet-wide image is on the page."""
    old = page.locator("#out-unet-wide img").get_attribute("src")
    page.locator("#sigma input[type=range]").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("old => document.querySelector('#out-unet-wide img').src !== old", arg=old,
                           timeout=30_000)


def _browser_mode(page, build="relaxed"):
    page.wait_for_function("() => window.daeDigits && window.daeDigits.mode === 'browser'", timeout=60_000)
    page.wait_for_function("b => document.querySelector('#dae-source')?.dataset.build === b", arg=build,
                           timeout=30_000)


LABELS = {"relaxed": "LiteRT.js relaxed SIMD", "compat": "LiteRT.js compat, plain SIMD"}


@pytest.mark.parametrize("build", ["relaxed", "compat"])
def test_after_the_switch_sigma_sends_no_request(browser, app_url, build):
    """Compat is forced as an engine without relaxed SIMD forces it: LiteRT's probe refused."""
    page, calls = _page(browser, app_url, init_script=REFUSE_RELAXED_SIMD_PROBE if build == "compat" else None)
    _browser_mode(page, build)
    assert page.evaluate("() => window.daeDigits.build") == build
    before = len(calls)
    for _ in range(10):
        _step(page)
    assert len(calls) == before, calls[before:]
    text = page.locator("#dae-source").inner_text()
    assert text.startswith(f"computed in your browser ({LABELS[build]}, "), text
    assert page.locator("#sigma input[type=number]").input_value() == "0.6"
    # the steps patched the strip in place (ui/digits.js: patch): its state is the last step's,
    # and it is what a fresh render of those values draws
    state = page.evaluate("() => JSON.parse(document.querySelector('#panels .dae-strip').dataset.state)")
    assert abs(state["level"] - 0.6) < 1e-9
    patched = page.evaluate("() => document.querySelector('#panels .dae-strip').outerHTML")
    fresh = page.evaluate("async () => (await window.daeDigits.render(JSON.parse("
                          "document.querySelector('#panels .dae-strip').dataset.state)))")
    assert _strip_without_timing(patched) == _strip_without_timing(fresh)
    page.close()


def _strip_without_timing(html: str) -> str:
    """The strip's markup up to the source line (which says how long the render took)."""
    return html.split('<p class="dae-source"')[0]


def test_server_flag_sends_one_request_per_change(browser, app_url):
    page, calls = _page(browser, app_url + "?server=1")
    before = len(calls)
    for _ in range(4):
        _step(page)
    assert len(calls) - before == 4, calls[before:]
    assert page.evaluate("() => window.daeDigits.mode") == "server"
    assert "computed on the server" in page.locator("#dae-source").inner_text()
    page.close()


def test_with_the_wasm_blocked_the_server_takes_over_and_says_so(browser, app_url):
    page, calls = _page(browser, app_url, block_wasm=True)
    page.wait_for_function("() => window.daeDigits && window.daeDigits.why.includes('unavailable')", timeout=60_000)
    before = len(calls)
    _step(page)
    assert len(calls) > before
    text = page.locator("#dae-source").inner_text()
    assert "computed on the server" in text and "in-browser path unavailable" in text, text
    page.close()


def test_with_the_relaxed_wasm_blocked_the_compat_build_takes_over(browser, app_url):
    page, calls = _page(browser, app_url, block_wasm="**/litert_wasm_internal.*.wasm")
    _browser_mode(page, "compat")
    assert "relaxed" in page.evaluate("() => window.daeDigits.tried")
    before = len(calls)
    for _ in range(3):
        _step(page)
    assert len(calls) == before, calls[before:]
    page.close()


def test_a_runtime_abort_mid_session_moves_to_compat_and_the_page_keeps_working(browser, app_url):
    """WebKit's partial relaxed SIMD aborts in the middle of a run: simulated by making every
    model of the relaxed build's LiteRT.js instance throw Emscripten's abort error. The step
    that hit it is answered by the server, the compat build loads, and the steps after it are
    computed in the page again."""
    page, calls = _page(browser, app_url)
    _browser_mode(page, "relaxed")
    wasm = []
    page.on("request", lambda r: wasm.append(r.url) if r.url.endswith(".wasm") else None)
    page.evaluate("""() => {
        const lib = Object.values(window.daeDigits.models)[0].lib;
        lib.CompiledModel.prototype.run = async function () {
            throw new WebAssembly.RuntimeError("Aborted(invalid extended simd op 275)");
        };
    }""")
    _step(page)  # hits the abort; the server draws this step
    _browser_mode(page, "compat")
    assert "invalid extended simd op" in page.evaluate("() => window.daeDigits.tried.relaxed")
    assert [u.rsplit("/", 1)[1].split(".")[0] for u in wasm] == ["litert_wasm_compat_internal"]
    before = len(calls)
    for _ in range(3):
        _step(page)
    assert len(calls) == before, calls[before:]
    assert page.locator("#dae-source").inner_text().startswith(f"computed in your browser ({LABELS['compat']}, ")
    page.close()


def test_a_ticked_filter_sends_the_strip_to_the_server(browser, app_url):
    page, calls = _page(browser, app_url)
    _browser_mode(page)
    before = len(calls)
    page.locator("#methods label", has_text="median filter").click()
    page.locator("#out-median-filter img").wait_for(timeout=30_000)
    assert len(calls) > before
    assert "median filter runs on the server only" in page.locator("#dae-source").inner_text()
    page.close()


def test_both_paths_draw_the_same_markup(browser, app_url):
    shapes = []
    for url in (app_url, app_url + "?server=1"):
        page, _ = _page(browser, url)
        if "server" not in url:
            _browser_mode(page)
        page.locator("#error-maps input").check()
        page.wait_for_function("() => document.querySelectorAll('.dae-err').length > 0", timeout=30_000)
        shapes.append(page.evaluate(STRUCTURE))
        page.close()
    assert shapes[0] == shapes[1]
