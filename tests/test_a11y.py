"""Accessibility, in Chromium: axe-core 4 (bundled by axe-playwright-python, nothing is
downloaded) on every tab in the light and the dark theme, and the Digits tab from the keyboard.

No critical or serious violation may come from our markup. The ones Gradio's own components
cause are listed in :data:`GRADIO_OWN`, each by its rule and a selector that matches only that
component's element, with the upstream issue (docs/accessibility.md); a node is excused only
when it matches both, so a violation of another rule there, or of that rule anywhere else, fails.
"""
import pytest

from tests.conftest import skip_without_chromium
from tests.test_browser import _open

skip_without_chromium()

# (axe rule, CSS selector of Gradio's element, why and where upstream)
GRADIO_OWN = [
    ("aria-prohibited-attr", '.empty.unpadded_box[aria-label="Empty value"]',
     "Gradio's Empty placeholder (an empty Image, ImageSlider or plot) is a <div aria-label> with no role; "
     "gradio-app/gradio#1178"),
]
SEVERE = ("critical", "serious")

# each tab, and what shows once it has drawn
TABS = {"Digits": "#panels .dae-strip", "Photos": "#photo-slider img", "Inside": "#inside-map img",
        "Robustness": "#robustness-legend .dae-legend-text", "Models": "#model-table table"}

EXCUSED = """([target, selector]) => {
  const el = document.querySelector(target);
  return !!el && el.matches(selector);
}"""


def _severe(page, excused: dict) -> list[str]:
    """Critical and serious violations on the page as shown, less Gradio's own (counted in
    ``excused`` by rule), one line each."""
    from axe_playwright_python.sync_playwright import Axe

    found = []
    for v in Axe().run(page).response["violations"]:
        if v["impact"] not in SEVERE:
            continue
        for node in v["nodes"]:
            target = node["target"][0]
            own = [sel for rule, sel, _ in GRADIO_OWN if rule == v["id"] and page.evaluate(EXCUSED, [target, sel])]
            if own:
                excused[own[0]] = excused.get(own[0], 0) + 1
                continue
            found.append(f"{v['id']} ({v['impact']}) {target}: {node.get('failureSummary', '')[:200]}")
    return found


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_violation_on_any_tab(browser, app_url, theme):
    """Every tab once drawn, then the Digits tab with error maps and in stage mode. Each of
    Gradio's excused elements must still be met, so that the list stays true."""
    page = _open(browser, app_url + ("?__theme=dark" if theme == "dark" else ""), 1280, 720)
    problems, excused = {}, {}
    for tab, ready in TABS.items():
        page.get_by_role("tab", name=tab).click()
        page.locator(ready).first.wait_for(timeout=120_000)
        page.wait_for_timeout(500)  # the tab's fade-in, which axe would read as low contrast
        problems[tab] = _severe(page, excused)
    page.get_by_role("tab", name="Digits").click()
    page.locator("#error-maps input").check()
    page.wait_for_function("() => document.querySelectorAll('.dae-err').length > 0", timeout=30_000)
    problems["Digits, error maps"] = _severe(page, excused)
    page.evaluate("window.daeStage.set(true)")
    page.wait_for_timeout(500)
    problems["Digits, stage mode"] = _severe(page, excused)
    page.close()
    assert not any(problems.values()), problems
    assert set(excused) == {sel for _, sel, _ in GRADIO_OWN}, excused


# What each focus stop is: the control's id, or the id of the control it belongs to.
WHERE = """() => {
  const el = document.activeElement;
  const ids = ['gallery', 'random', 'noise-kind', 'sigma', 'blur', 'methods', 'error-maps', 'upload', 'sketch',
               'stage-toggle', 'stage-keys'];
  for (const id of ids) if (el.closest('#' + id)) return id;
  const block = el.closest('.block');
  const more = el.closest('#more');  // the accordion's own header, not a control inside it
  if (more && !(block && block !== more && more.contains(block))) return 'more';
  const label = block?.querySelector('[data-testid=block-info], label span, .label-text');
  return label ? 'label:' + label.textContent.trim() : el.tagName.toLowerCase();
}"""

IN_ORDER = ["gallery", "random", "stage-toggle", "stage-keys", "noise-kind", "sigma", "blur", "methods", "error-maps",
            "more"]
FOLDED = ["label:Tutorial preset", "label:Noise mean (Gaussian)", "label:Clip to [0, 1]", "label:Seed", "upload", "sketch"]


def _tab_through(page, presses=160) -> list[str]:
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        where = page.evaluate(WHERE)
        if not seen or seen[-1] != where:
            seen.append(where)
    return seen


def test_every_digits_control_is_reachable_with_tab_in_order(browser, app_url):
    page = _open(browser, app_url, 1280, 720)
    page.locator("body").click(position={"x": 5, "y": 700})
    page.locator("#title").click()
    seen = _tab_through(page)
    firsts = [s for i, s in enumerate(seen) if s in IN_ORDER and s not in seen[:i]]
    assert firsts == IN_ORDER, seen
    # the folded controls, once "More" is opened from the keyboard
    page.locator("#more button").first.focus()
    page.keyboard.press("Enter")
    page.locator("#sketch").wait_for(timeout=10_000)
    seen = _tab_through(page, 60)
    for want in FOLDED:
        assert want in seen or any(s.startswith(want) for s in seen), (want, seen)
    page.close()


def test_the_digits_controls_work_from_the_keyboard(browser, app_url):
    page = _open(browser, app_url, 1280, 720)
    original = page.locator("#original img").get_attribute("src")
    page.locator("#gallery button.thumbnail-item").nth(12).focus()
    page.keyboard.press("Enter")  # a digit picked
    page.wait_for_function(f"() => document.querySelector('#original img').src !== {original!r}", timeout=30_000)
    # Gradio 6.31 names each radio input apart (radio-1, radio-2, …), so they are not one group
    # and arrows do not move between them: each is a Tab stop of its own, ticked with Space
    page.locator("#noise-kind input[value=uniform]").focus()
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('#noise-kind input:checked').value === 'uniform'")
    page.locator("#error-maps input").focus()
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelectorAll('.dae-err').length > 0", timeout=30_000)
    page.locator("#methods input").first.focus()
    page.keyboard.press("Space")  # dense unticked
    page.wait_for_function("() => !document.querySelector('#out-dense')", timeout=30_000)
    page.locator("#stage-toggle").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.daeStage.on")
    # on stage only the bar's button takes focus: Tab never lands on a hidden control
    for _ in range(4):
        page.keyboard.press("Tab")
        assert page.evaluate("() => !document.activeElement.closest('.gradio-container')"), \
            page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
    page.locator("#stage-leave").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => !window.daeStage.on")
    page.close()
