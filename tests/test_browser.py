"""A real browser: the Digits tab on one projector screen, the panels following the controls,
the robustness legend visible, and the screenshots README shows (written to a temporary
folder; `scripts/screenshots.sh` refreshes the ones in docs/).

Uses Debian's chromium through Playwright (no browser download). Skips only where no
chromium can be found, and never in CI, where .ci/run installs it.
"""
import os
import tempfile
from pathlib import Path

import pytest

from dae.baselines import DIGIT_BASELINES
from dae.registry import digit_models
from tests.conftest import skip_without_chromium
from ui.panels import panel_id

# Screenshots go to a temporary folder; scripts/screenshots.sh points this at docs/ on purpose.
SHOTS = Path(os.environ.get("DAE_SCREENSHOTS") or tempfile.mkdtemp(prefix="dae-shots-"))
PANELS = ["original", "noisy", *(panel_id(m) for m in digit_models())]

skip_without_chromium()


SETTLED = """() => {
  const d = window.daeDigits, source = document.querySelector('#dae-source');
  return d && (d.why || (d.mode === 'browser' && source && source.dataset.source === 'browser'));
}"""


def _open(browser, url, width, height):
    """The page once the in-browser path has taken over (or said why not), so that no test
    measures a strip that the switch-over is about to replace."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    page.locator("#out-unet-wide img").wait_for(timeout=60_000)
    page.wait_for_function(SETTLED, timeout=60_000)
    return page


def _src(page, elem_id):
    return page.locator(f"#{elem_id} img").first.get_attribute("src")


def _wait_new(page, elem_id, old, timeout=30_000):
    page.wait_for_function(f"() => document.querySelector('#{elem_id} img').src !== {old!r}", timeout=timeout)


def _inside(page, selector, width, height):
    box = page.locator(selector).first.bounding_box()
    assert box, f"{selector} is not rendered"
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width and \
        box["y"] + box["height"] <= height, f"{selector} at {box} is outside the {width}×{height} viewport"
    return box


@pytest.mark.parametrize("width,height", [(1280, 720), (1366, 768), (1920, 1080)])
def test_one_screen_holds_picker_controls_and_every_panel(browser, app_url, width, height):
    """Before any scrolling: the picker, the noise controls, and every panel at ≥ 120 px, with
    all three classical filters ticked too (ten panels)."""
    page = _open(browser, app_url, width, height)
    for name in DIGIT_BASELINES:
        page.locator("#methods label", has_text=name).click()
    page.wait_for_function(f"() => document.querySelectorAll('.dae-panel').length === {len(PANELS) + 3}")
    for sel in ["#gallery", "#noise-kind", "#sigma", "#blur", "#methods"]:
        _inside(page, sel, width, height)
    for elem_id in PANELS + [panel_id(b) for b in DIGIT_BASELINES]:
        box = _inside(page, f"#{elem_id}", width, height)
        assert box["width"] >= 120, (elem_id, box)
        text = page.locator(f"#{elem_id}").inner_text()
        assert elem_id == "original" or ("PSNR" in text and "SSIM" in text), text
    # the filters run on the server only, so the whole strip came from there
    assert "computed on the server" in page.locator("#dae-source").inner_text()
    # no gallery thumbnail clipped, none scrolled out of sight sideways
    gallery = page.locator("#gallery").bounding_box()
    thumbs = page.locator("#gallery button.thumbnail-item")
    assert thumbs.count() >= 30
    for i in range(thumbs.count()):
        b = thumbs.nth(i).bounding_box()
        assert gallery["x"] <= b["x"] and b["x"] + b["width"] <= gallery["x"] + gallery["width"] + 0.5, (i, b)
        assert gallery["y"] <= b["y"] and b["y"] + b["height"] <= gallery["y"] + gallery["height"] + 0.5, (i, b)
    page.close()


def test_gallery_click_and_slider_update_the_panels_and_screenshots(browser, app_url):
    page = _open(browser, app_url, 1280, 720)
    first = _src(page, "out-unet")
    page.locator("#gallery button.thumbnail-item").nth(13).click()  # a different digit
    _wait_new(page, "out-unet", first)
    after_pick, noisy_before = _src(page, "out-unet"), _src(page, "noisy")
    slider = page.locator("#sigma input[type=range]")
    slider.focus()
    for _ in range(25):  # drag-like: many quick steps; only the last value needs computing
        page.keyboard.press("ArrowRight")
    _wait_new(page, "out-unet", after_pick)
    assert _src(page, "noisy") != noisy_before
    assert page.locator("#sigma input[type=number]").input_value() == "0.75"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "screenshot-1280x720.png"))
    page.close()
    assert (SHOTS / "screenshot-1280x720.png").stat().st_size > 10_000


def test_error_maps_show_under_every_panel(browser, app_url):
    page = _open(browser, app_url, 1280, 720)
    assert page.locator(".dae-err").count() == 0
    page.locator("#error-maps input").check()
    page.wait_for_function("() => document.querySelectorAll('.dae-err').length > 0", timeout=30_000)
    for elem_id in PANELS[1:]:
        assert page.locator(f"#{elem_id} img.dae-err").count() == 1, elem_id
    page.close()


def test_phone_puts_the_panels_right_after_the_controls(browser, app_url):
    page = _open(browser, app_url, 390, 844)
    blur = page.locator("#blur").bounding_box()
    methods = page.locator("#methods").bounding_box()
    more = page.locator("#more").bounding_box()
    panels = page.locator("#panels").bounding_box()
    assert panels["y"] >= max(blur["y"] + blur["height"], methods["y"] + methods["height"])
    assert panels["y"] - (more["y"] + more["height"]) < 60, "something sits between the controls and the panels"
    for elem_id in PANELS:
        assert page.locator(f"#{elem_id}").bounding_box()["width"] >= 120
    page.screenshot(path=str(SHOTS / "screenshot-phone.png"), full_page=True)
    page.close()


def test_dark_theme_reads(browser, app_url):
    """In ?__theme=dark the panel captions are light text on a dark panel."""
    page = _open(browser, app_url + "?__theme=dark", 1280, 720)
    colours = page.evaluate("""() => { const f = document.querySelector('#out-unet figcaption');
        const p = document.querySelector('#out-unet');
        return [getComputedStyle(f).color, getComputedStyle(p).backgroundColor]; }""")
    lum = [sum(int(v) for v in c[c.index("(") + 1:c.index(")")].split(",")[:3]) / 3 for c in colours]
    assert lum[0] > 150 and lum[1] < 100, colours
    page.close()


def test_robustness_legend_names_every_method_and_is_visible(browser, app_url):
    page = _open(browser, app_url, 1280, 720)
    page.get_by_role("tab", name="Robustness").click()
    entries = page.locator("#robustness-legend .dae-legend-text")
    entries.first.wait_for(timeout=60_000)
    names = entries.all_inner_texts()
    for m in ["noisy input", *digit_models(), *DIGIT_BASELINES]:
        assert any(n.startswith(m) for n in names), (m, names)
    for i in range(entries.count()):
        b = entries.nth(i).bounding_box()
        hit = page.evaluate(f"""() => {{ const e = document.elementFromPoint({b['x'] + b['width'] / 2},
            {b['y'] + b['height'] / 2}); return e && e.closest('.dae-legend-text') !== null; }}""")
        assert hit, f"legend entry {names[i]!r} is covered or clipped"
    assert "σ = 0.50" in page.locator("#robustness-legend").inner_text()
    page.close()


def test_models_tab_opens_with_the_comparison_table(browser, app_url):
    page = _open(browser, app_url, 1280, 720)
    page.get_by_role("tab", name="Models").click()
    table = page.locator("#model-table table")
    table.wait_for(timeout=30_000)
    headers = table.locator("th").all_inner_texts()
    assert headers and all(h.strip() for h in headers), headers
    body = table.inner_text()
    for m in digit_models():
        assert m in body
    for t in page.locator("table").all():
        assert all(h.strip() for h in t.locator("th").all_inner_texts())
    page.close()
