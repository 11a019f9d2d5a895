"""The Digits tab in front of a room, in Chromium: the keyboard shortcuts drive the page's own
controls (and leave a field being typed in alone), the page lists them, and stage mode puts the
panels alone on a 1280×720 screen, large enough to read from the back of a room.

"Readable" is measured as type size: at 1280×720 the model names and the PSNR/SSIM figures are
at least 32 px high (4.4 % of the screen's height, what 24 pt is on a 540 pt-high slide, the
usual smallest size for projected text) and every other text in the strip at least 24 px.
"""
import pytest

from tests.conftest import skip_without_chromium
from tests.test_browser import SHOTS, _open, _src, _wait_new

skip_without_chromium()

FIGURES_PX = 32  # names, PSNR and SSIM
TEXT_PX = 24  # everything else on the stage (units, the bar)

SIGMA = "#sigma input[type=number]"

# every visible text node in the stage: (its text, its parent's class, font size in px)
STAGE_TEXTS = """() => {
  const out = [];
  for (const root of [document.querySelector('#panels'), document.querySelector('#stage-bar')]) {
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const el = n.parentElement, text = n.nodeValue.trim();
      if (!text || !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
      out.push([text, el.className, parseFloat(getComputedStyle(el).fontSize)]);
    }
  }
  return out;
}"""


def _sigma(page) -> float:
    return float(page.locator(SIGMA).input_value())


def _wait_sigma(page, value):
    page.wait_for_function(f"() => Math.abs(parseFloat(document.querySelector({SIGMA!r}).value) - {value}) < 1e-6",
                           timeout=10_000)


def _union(boxes):
    x0, y0 = min(b["x"] for b in boxes), min(b["y"] for b in boxes)
    x1, y1 = max(b["x"] + b["width"] for b in boxes), max(b["y"] + b["height"] for b in boxes)
    return x0, y0, x1, y1


@pytest.fixture
def page(browser, app_url):
    p = _open(browser, app_url, 1280, 720)
    yield p
    p.close()


def test_keys_move_sigma_step_digits_and_toggle_error_maps(page):
    page.locator("body").click(position={"x": 5, "y": 700})  # focus on the page, not a control
    assert _sigma(page) == 0.5
    noisy = _src(page, "noisy")
    page.keyboard.press("ArrowUp")
    _wait_sigma(page, 0.55)
    _wait_new(page, "noisy", noisy)
    page.keyboard.press("-")
    page.keyboard.press("ArrowDown")
    _wait_sigma(page, 0.45)
    original = _src(page, "original")
    page.keyboard.press("ArrowLeft")  # from no pick: the gallery's last digit, a 9
    _wait_new(page, "original", original)
    last = _src(page, "original")
    page.keyboard.press("ArrowRight")  # round to the first, a 0
    _wait_new(page, "original", last)
    first = _src(page, "original")
    page.keyboard.press("PageDown")
    _wait_new(page, "original", first)
    page.keyboard.press("PageUp")  # back to the first
    page.wait_for_function(f"() => document.querySelector('#original img').src === {first!r}", timeout=30_000)
    assert page.locator(".dae-err").count() == 0
    page.keyboard.press("e")
    page.wait_for_function("() => document.querySelectorAll('.dae-err').length > 0", timeout=30_000)
    page.keyboard.press("E")
    page.wait_for_function("() => document.querySelectorAll('.dae-err').length === 0", timeout=30_000)


def test_keys_are_left_alone_while_typing(page):
    page.locator("#more button").first.click()  # the folded controls: the preset's search field
    field = page.locator("#more input[role=listbox], #more .secondary-wrap input").first
    field.click()
    original = _src(page, "original")
    for key in ["e", "s", "f", "ArrowRight", "PageDown", "?"]:
        page.keyboard.press(key)
    page.keyboard.press("Escape")
    page.wait_for_timeout(1500)
    assert not page.evaluate("window.daeStage.on")
    assert page.locator(".dae-err").count() == 0
    assert _src(page, "original") == original
    assert not page.locator("#stage-keys").evaluate("d => d.open")
    # nor while Ctrl is held (the browser's own shortcuts)
    page.locator("body").click(position={"x": 5, "y": 700})
    page.keyboard.press("Control+e")
    page.wait_for_timeout(500)
    assert page.locator(".dae-err").count() == 0


def test_the_page_lists_every_key(page):
    keys = page.evaluate("window.daeStage.keys")
    assert {"ArrowUp", "ArrowDown", "ArrowRight", "ArrowLeft", "e", "f", "s"} <= {k for e in keys for k in e["keys"]}
    listed = page.locator("#stage-keys-list")
    assert not listed.is_visible()
    page.locator("#stage-keys summary").click()
    assert listed.is_visible()
    text = listed.inner_text()
    for entry in keys:
        assert entry["label"] in text and entry["does"] in text, entry
    page.locator("body").click(position={"x": 5, "y": 700})
    page.keyboard.press("?")
    assert not listed.is_visible()
    page.keyboard.press("?")
    assert listed.is_visible()


def _check_stage(page, width, height):
    """The controls hidden, every panel inside the screen; returns the panels' boxes."""
    for sel in ["#gallery", "#sigma", "#methods", "#title"]:
        assert not page.locator(sel).is_visible(), f"{sel} still shows in stage mode"
    figs = page.locator(".dae-panel")
    boxes = [figs.nth(i).bounding_box() for i in range(figs.count())]
    for b in boxes:
        assert b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= width + 0.5 and \
            b["y"] + b["height"] <= height + 0.5, b
    return boxes


def test_stage_mode_fills_a_1280x720_screen_with_readable_panels(page):
    page.locator("body").click(position={"x": 5, "y": 700})
    page.keyboard.press("s")
    page.wait_for_function("() => window.daeStage.on && document.querySelector('#panels').style.getPropertyValue('--stage-img')")
    page.wait_for_timeout(300)
    boxes = _check_stage(page, 1280, 720)
    assert len(boxes) == 7
    x0, y0, x1, y1 = _union(boxes)
    assert (x1 - x0) / 1280 >= 0.9, (x0, x1)
    assert (y1 - y0) / 720 >= 0.8, (y0, y1)
    digit = page.locator("#out-unet img.dae-img:not(.dae-err)").bounding_box()
    assert digit["width"] >= 180, digit  # the 28×28 digit 6.4× (150 px off stage)
    texts = page.evaluate(STAGE_TEXTS)
    assert texts
    for text, cls, px in texts:
        floor = FIGURES_PX if any(c in cls for c in ("dae-name", "dae-psnr", "dae-ssim")) else TEXT_PX
        assert px >= floor, (text, cls, px)
    assert "σ 0.50" in page.locator("#stage-setting").inner_text()
    page.keyboard.press("ArrowUp")  # the keys still work on stage, and the bar follows
    page.wait_for_function("() => document.querySelector('#stage-setting').textContent.includes('σ 0.55')",
                           timeout=10_000)
    page.screenshot(path=str(SHOTS / "stage-1280x720.png"))
    page.keyboard.press("e")  # error maps make each panel taller: still on one screen
    page.wait_for_function("() => document.querySelectorAll('.dae-err').length > 0", timeout=30_000)
    page.wait_for_timeout(300)
    boxes = _check_stage(page, 1280, 720)
    assert page.locator("#out-unet img.dae-img:not(.dae-err)").bounding_box()["width"] >= 120
    page.screenshot(path=str(SHOTS / "stage-errors-1280x720.png"))
    page.keyboard.press("Escape")
    page.wait_for_function("() => !window.daeStage.on")
    assert page.locator("#sigma").is_visible()
    assert page.locator("#out-unet img.dae-img:not(.dae-err)").bounding_box()["width"] <= 150


def test_stage_button_on_a_phone(browser, app_url):
    page = _open(browser, app_url, 390, 844)
    page.locator("#stage-toggle").click()
    page.wait_for_function("() => window.daeStage.on")
    page.wait_for_timeout(300)
    boxes = _check_stage(page, 390, 844)
    assert min(b["width"] for b in boxes) >= 100
    assert page.locator("#stage-toggle").get_attribute("aria-pressed") == "true"
    page.screenshot(path=str(SHOTS / "stage-phone.png"))
    page.locator("#stage-leave").click()
    page.wait_for_function("() => !window.daeStage.on")
    assert page.locator("#stage-toggle").get_attribute("aria-pressed") == "false"
    page.close()


def test_f_puts_the_strip_full_screen_and_back(page):
    page.locator("body").click(position={"x": 5, "y": 700})
    page.keyboard.press("f")
    page.wait_for_function("() => window.daeStage.on && window.daeStage.fullscreen", timeout=10_000)
    page.keyboard.press("f")
    page.wait_for_function("() => !window.daeStage.fullscreen && !window.daeStage.on", timeout=10_000)
