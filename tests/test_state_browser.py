"""The Digits tab's state in the page, in Chromium: ui/state.js reads dae/state.py's definition
and parses and writes links exactly as Python does, a prepared link opens exactly there, junk in
a link is dropped with a visible notice, a server render draws the page's digit even after its
session was evicted, and the QR code decodes to the current view's link."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np

from dae.state import FIELDS
from tests.conftest import skip_without_chromium

skip_without_chromium()
ROOT = Path(__file__).resolve().parent.parent


# --- the page: ui/state.js against dae/state.py, in Chromium ---------------------------------------
QUERIES = ["", "?digit=123&level=0.8&models=dense,unet&errors=on",
           "?level=abc&digit=123&foo=1&blur=0x1&models=dense,nope,unet&clip=maybe&seed=1.5&noise=pink&tab=stage",
           "?digit=4999&level=1.5&mean=-0.5&blur=3&seed=0&clip=OFF&errors=TRUE&tab=models&models=",
           "?digit=-0&level=.5&mean=+0.25&blur=1e-1&level=0.2&models=median%20filter,dense,dense",
           "?digit=NaN&level=Infinity&seed=4294967296&x=%3Cscript%3E"]


def test_the_js_and_python_definitions_agree(browser, app_url):
    """One test reads both: the page's definition is dae/state.py's, ui/state.js's widget names
    are ui/digits.py's, and the JS parses and writes links exactly as Python does."""
    import app
    from ui import digits

    spec = digits.spec(app.CTX)
    js = (ROOT / "ui" / "state.js").read_text()
    listed = json.loads(re.search(r"const CONTROLS = (\[[^\]]*\]);", js).group(1))
    assert listed == list(digits.CONTROLS) == [f for f in FIELDS if f not in ("tab", "digit")]
    page = browser.new_page()
    page.goto(app_url)
    page.wait_for_function("() => window.daeState", timeout=60_000)
    page_def = page.evaluate("() => window.daeState.definition")
    assert {k: v for k, v in page_def.items() if k not in ("publicUrl", "qrLib")} == spec.definition()
    for q in QUERIES:
        js_state, js_notices = page.evaluate("q => { const r = window.daeState.fromQuery(q); return [r.state, r.notices]; }", q)
        assert [js_state, js_notices] == list(spec.from_query(q)), q
    for state in [spec.defaults(), {**spec.defaults(), "digit": 17, "level": 0.35, "blur": 2.5, "mean": -0.05,
                                    "clip": False, "seed": 123456, "models": ["median filter"], "errors": True}]:
        assert page.evaluate("s => window.daeState.toQuery(s)", state) == spec.to_query(state)
    page.close()


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(url)
    page.wait_for_function("() => window.daeState", timeout=60_000)
    page.evaluate("() => window.daeState.opened")
    return page


def _grey(page, selector):
    """The 28×28 grey values of a panel's image, as drawn in the page."""
    return np.array(page.evaluate("""sel => { const img = document.querySelector(sel);
        const c = document.createElement('canvas'); c.width = 28; c.height = 28;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0, 28, 28);
        return Array.from(g.getImageData(0, 0, 28, 28).data).filter((_, i) => i % 4 === 0); }""", selector),
        float).reshape(28, 28)


def test_a_prepared_link_opens_exactly_there(browser, app_url):
    import app

    page = _open(browser, app_url + "?digit=123&level=0.8&models=dense,unet&errors=on&noise=uniform")
    page.locator("#out-unet img.dae-img:not(.dae-err)").wait_for(timeout=30_000)
    shown = json.loads(page.locator("#panels .dae-strip").get_attribute("data-state"))
    assert shown == {"digit": 123, "noise": "uniform", "level": 0.8, "blur": 0, "mean": 0, "clip": True, "seed": 0,
                     "models": ["dense", "unet"], "errors": True}
    assert page.evaluate("() => [...document.querySelectorAll('#panels figure')].map(f => f.id)") == \
        ["original", "noisy", "out-dense", "out-unet"]
    assert page.locator("#panels .dae-err").count() == 3  # noisy, dense, unet
    assert np.abs(_grey(page, "#original img") - app.CTX.digits[123] * 255).max() <= 1
    assert page.locator("#sigma input[type=number]").input_value() == "0.8"
    assert page.locator("#noise-kind input[value=uniform]").is_checked()
    assert not page.locator("#methods label", has_text="conv-pool").locator("input").is_checked()
    assert "digit=123" in page.evaluate("() => location.search")
    page.close()


def test_a_junk_parameter_is_dropped_with_a_visible_notice(browser, app_url):
    page = _open(browser, app_url + "?level=abc&digit=42")
    notice = page.locator("#dae-notice")
    notice.wait_for(timeout=10_000)
    assert "level=abc" in notice.inner_text() and notice.is_visible()
    assert page.evaluate("() => window.daeState.get().digit") == 42
    assert page.evaluate("() => window.daeState.get().level") == 0.5
    page.close()


def test_a_control_change_updates_the_address_and_tells_the_page(browser, app_url):
    page = _open(browser, app_url + "?server=1")
    page.evaluate("""() => { window.got = [];
        document.addEventListener('dae-state', e => window.got.push([e.detail.source, e.detail.state.level])); }""")
    page.locator("#sigma input[type=range]").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => location.search.includes('level=0.51')", timeout=30_000)
    assert "server=1" in page.evaluate("() => location.search")  # other parameters stay
    assert page.evaluate("() => window.got")[-1] == ["user", 0.51]
    page.evaluate("() => window.daeState.set({level: 0.7, tab: 'robustness'}, {source: 'room'})")
    assert page.evaluate("() => window.got")[-1] == ["room", 0.7]
    assert page.evaluate("() => document.querySelector('[role=tab][aria-selected=true]').textContent.trim()") == "Robustness"
    page.close()


def test_a_session_evicted_in_the_middle_still_renders_the_pages_digit(browser, served_app):
    """The page picks a digit; then more than SESSION_CAPACITY other sessions push its session
    out of the server's memory; a ticked filter (a server render) still draws the picked digit."""
    import app

    demo, url = served_app
    page = _open(browser, url + "?server=1")
    page.locator("#gallery button").nth(13).click()  # the picker's 14th digit
    page.wait_for_function("() => window.daeState.get().digit !== %d" % int(app.CTX.gallery_idx[0]), timeout=30_000)
    picked = page.evaluate("() => window.daeState.get().digit")
    page.wait_for_function("d => JSON.parse(document.querySelector('#panels .dae-strip').dataset.state).digit === d",
                           arg=picked, timeout=30_000)
    holder = demo.state_holder
    mine = set(holder.session_data)
    for i in range(app.SESSION_CAPACITY + 1):
        holder[f"evicting-{i}"]
    assert not mine & set(holder.session_data), "the page's session should have been evicted"
    page.locator("#methods label", has_text="median filter").click()
    page.locator("#out-median-filter img").wait_for(timeout=30_000)
    assert json.loads(page.locator("#panels .dae-strip").get_attribute("data-state"))["digit"] == picked
    assert np.abs(_grey(page, "#original img") - app.CTX.digits[picked] * 255).max() <= 1
    for k in [k for k in holder.session_data if k.startswith("evicting-")]:
        del holder.session_data[k]
    page.close()


def test_the_qr_code_decodes_to_the_current_link(browser, app_url):
    import zxingcpp
    from PIL import Image

    page = _open(browser, app_url + "?digit=77&level=0.65&models=dense,unet-wide")
    page.locator("#dae-qr-open").click()
    code = page.locator("#dae-qr .dae-qr-code svg")
    code.wait_for(timeout=10_000)
    box = code.bounding_box()
    assert box["height"] >= 0.6 * 720, box
    link = page.evaluate("() => window.daeState.link()")
    assert link == app_url + "?tab=digits&digit=77&noise=gaussian&level=0.65&blur=0&mean=0&clip=on&seed=0" \
                             "&models=dense,unet-wide&errors=off"
    assert page.locator("#dae-qr .dae-qr-link").inner_text() == link

    def decoded() -> str:
        found = zxingcpp.read_barcodes(Image.open(io.BytesIO(code.screenshot())))
        return found[0].text if found else ""

    assert decoded() == link
    # it follows the view while shown, and shrinks to a corner the page stays usable around
    page.evaluate("() => window.daeState.set({level: 0.9})")
    page.wait_for_function("() => window.daeQr.url.includes('level=0.9')", timeout=10_000)
    assert decoded() == page.evaluate("() => window.daeState.link()")
    page.locator("#dae-qr .dae-qr-size").click()
    small = code.bounding_box()
    assert small["height"] < 200 and small["x"] > 1280 - 250 and small["y"] > 720 - 300, small
    assert decoded() == page.evaluate("() => window.daeState.link()")
    page.locator("#sigma input[type=range]").focus()  # the page under it still answers
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.daeState.get().level > 0.9", timeout=30_000)
    page.close()


def test_another_feature_shows_its_own_link(browser, app_url):
    import zxingcpp
    from PIL import Image

    page = _open(browser, app_url)
    page.evaluate("() => window.daeQr.show('https://example.org/room?room=abc', 'Follow the presenter')")
    code = page.locator("#dae-qr .dae-qr-code svg")
    code.wait_for(timeout=10_000)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(code.screenshot())))
    assert found and found[0].text == "https://example.org/room?room=abc"
    assert page.locator("#dae-qr .dae-qr-label").inner_text() == "Follow the presenter"
    page.evaluate("() => window.daeState.set({level: 0.9})")  # does not replace another feature's link
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.daeQr.url") == "https://example.org/room?room=abc"
    page.close()


def test_a_drawn_digit_travels_as_pixels_and_stays_out_of_links(browser, app_url):
    """set() with pixels (what a drawing or an upload makes): the server and the page both
    render those very pixels; the link carries every other field."""
    import base64

    digit = np.zeros((28, 28), "<f4")
    digit[6:22, 12:16] = 1.0  # a "1"
    b64 = base64.b64encode(digit.tobytes()).decode()
    page = _open(browser, app_url + "?server=1")
    page.evaluate("p => window.daeState.set({digit: p, level: 0.2, models: ['dense']})", b64)
    page.wait_for_function("() => document.querySelectorAll('#panels figure').length === 3", timeout=30_000)
    assert np.abs(_grey(page, "#original img.dae-img") - digit * 255).max() <= 1
    link = page.evaluate("() => window.daeState.link()")
    assert "digit=" not in link and "level=0.2" in link and "models=dense&" in link
    page.close()
