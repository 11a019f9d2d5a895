"""The Inside tab's 2-D map (dense-2d) in Chromium: ui/inside_browser.js held to dae.latent
(decoder and journey against the server's Keras halves), and in the real app: hovering
decodes with no request, σ on the Digits tab moves ✕ with no request, the map follows the
theme, and the map, the decoded digit and the journey fit one 1280×720 screen.

Skips only where no chromium can be found, and never in CI. Screenshots go to /tmp.
"""
from __future__ import annotations

import base64

import numpy as np
import pytest

import dae
from dae import corrupt, data, latent
from dae.inference import WEIGHTS_DIR
from dae.registry import map_models
from tests.conftest import skip_without_chromium

skip_without_chromium()

NAME = map_models()[0]
SERVER_CALL = "/gradio_api/queue/join"  # every Python event the page sends goes through it


@pytest.fixture(scope="module")
def space():
    x, y = data.gallery()
    return latent.build_maps({NAME: dae.load(NAME).model}, x, y)[NAME]


@pytest.fixture(scope="module")
def bare(browser, space):
    """A bare Gradio app serving both in-browser manifests as app.py does, with the map's
    controller loaded (no #map2d on it: the maths only)."""
    import gradio as gr

    from benchmarks.common import free_port
    from ui import browser_assets, inside_assets

    man = browser_assets.register()
    inside = inside_assets.register({NAME: space}, WEIGHTS_DIR)
    with gr.Blocks() as demo:
        gr.Markdown("2-D map parity")
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                head=browser_assets.head_script(man) + inside_assets.head_script(inside),
                app_kwargs=browser_assets.app_kwargs())
    page = browser.new_page()
    page.goto(f"http://127.0.0.1:{port}/")
    page.wait_for_function("() => window.daeInsideMap !== undefined", timeout=60_000)
    page.evaluate("() => window.daeInsideMap.ready")
    page.evaluate("""() => {
        window.unpack = (b64) => new Float32Array(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer);
        window.pack = (arrays) => {
            const flat = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
            arrays.reduce((at, a) => (flat.set(a, at), at + a.length), 0);
            let s = ""; const bytes = new Uint8Array(flat.buffer);
            for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
            return btoa(s);
        };
    }""")
    yield page
    page.close()
    demo.close()


def _pack(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, "<f4").tobytes()).decode()


def _unpack(b64: str, shape) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), "<f4").reshape(shape)


def test_the_browser_decodes_20_map_points_as_the_keras_decoder_does(bare, space):
    e = space.extent
    rng = np.random.default_rng(0)
    pts = np.stack([rng.uniform(e.x0, e.x1, 20), rng.uniform(e.y0, e.y1, 20)], 1).astype(np.float32)
    got = bare.evaluate("""async (pts) => pack(await Promise.all(pts.map(([x, y]) => daeInsideMap.decode(x, y))))""",
                        pts.tolist())
    ours = _unpack(got, (20, 28, 28))
    theirs = np.stack([space.decode_point(float(x), float(y)) for x, y in pts])
    worst = float(np.abs(ours - theirs).max())
    print(f"{NAME}: browser decode vs Keras decoder, 20 map points: max |diff| {worst:.2e}")
    assert worst <= 5e-3
    assert np.abs(theirs[0] - theirs[1]).max() > 0.1  # different points, different digits


def test_the_browser_journey_is_dae_latents(bare, space):
    """On the same noisy digits (numpy's noise, handed over), the three codes match."""
    clean = data.heldout_digits(2)[..., 0]  # 20 held-out digits
    noisy = corrupt.apply(clean, corrupt.gaussian(0.5), seed=3)
    got = bare.evaluate("""async ([c, n]) => {
        const [clean, noisy] = [unpack(c), unpack(n)];
        const out = [];
        for (let i = 0; i < 20; i++) {
            const j = await daeInsideMap.journey(clean.subarray(784 * i, 784 * (i + 1)), noisy.subarray(784 * i, 784 * (i + 1)));
            out.push(j.clean, j.noisy, j.denoised);
        }
        return pack(out);
    }""", [_pack(clean), _pack(noisy)])
    ours = _unpack(got, (20, 3, 2))
    for i in range(20):
        c, n = space.encode(np.stack([clean[i], noisy[i]]))
        d = space.encode(space.decode(n))[0]
        scale = max(1.0, float(np.abs(np.stack([c, n, d])).max()))
        assert np.abs(ours[i] - np.stack([c, n, d])).max() <= 5e-3 * scale, i


# --- in the real app ---------------------------------------------------------------------

def _open(browser, url, width=1280, height=720):
    page = browser.new_page(viewport={"width": width, "height": height})
    calls = []
    page.on("request", lambda r: calls.append(r.url) if SERVER_CALL in r.url else None)
    page.goto(url)
    page.locator("#out-unet-wide img").wait_for(timeout=60_000)
    page.wait_for_function("() => window.daeDigits && window.daeDigits.mode === 'browser'", timeout=60_000)
    return page, calls


def _inside(page):
    page.get_by_role("tab", name="Inside").click()
    page.wait_for_function("() => document.querySelector('#map2d-source')?.dataset.source === 'browser'",
                           timeout=60_000)
    page.wait_for_function("() => window.daeInsideMap.current.points !== null", timeout=30_000)


def _decoded(page) -> str:
    return page.evaluate("() => document.querySelector('#map2d-decoded').toDataURL()")


def test_hovering_decodes_in_the_browser_with_no_request(browser, app_url):
    page, calls = _open(browser, app_url)
    _inside(page)
    page.wait_for_timeout(500)  # the tab's own opening request (the projection map) has gone
    box = page.locator("#map2d-canvas").bounding_box()
    before, seen = len(calls), set()
    for i in range(50):
        t = i / 49
        page.mouse.move(box["x"] + box["width"] * (0.15 + 0.7 * t), box["y"] + box["height"] * (0.8 - 0.6 * t))
        page.wait_for_function("n => window.daeInsideMap.stats.hover.length > n", arg=i, timeout=10_000)
        seen.add(_decoded(page))
    assert len(calls) == before, calls[before:]
    assert len(seen) > 10  # the digit changed as the pointer moved
    assert "exactly this code" in page.locator("#map2d-at").inner_text()
    width = page.locator("#map2d-decoded").bounding_box()["width"]
    assert width >= 168
    assert page.locator("#map2d-decoded").evaluate("e => getComputedStyle(e).imageRendering") == "pixelated"
    page.close()


def _sigma_step(page, selector):
    n = page.evaluate("() => window.daeInsideMap.stats.journey.length")
    page.locator(selector).focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("n => window.daeInsideMap.stats.journey.length > n", arg=n, timeout=10_000)


def test_sigma_moves_the_noisy_code_with_no_request(browser, app_url):
    """σ on the Digits tab: 8 steps send no request, and the Inside map shows the new ✕ (it is
    computed when the tab shows it). The map's own σ slider: each step moves ✕ there, no request."""
    page, calls = _open(browser, app_url)
    _inside(page)
    start = page.evaluate("() => window.daeInsideMap.current.points.noisy")
    page.get_by_role("tab", name="Digits").click()
    before = len(calls)
    for _ in range(8):
        old = page.locator("#out-unet-wide img").get_attribute("src")
        page.locator("#sigma input[type=range]").focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("old => document.querySelector('#out-unet-wide img').src !== old", arg=old,
                               timeout=30_000)
    assert len(calls) == before, calls[before:]
    page.get_by_role("tab", name="Inside").click()
    page.wait_for_function("() => Math.abs(window.daeInsideMap.current.values.level - 0.58) < 1e-9", timeout=30_000)
    moved = page.evaluate("() => window.daeInsideMap.current.points.noisy")
    assert np.hypot(*np.subtract(moved, start)) > 1e-3
    assert page.locator("#map2d-sigma-value").inner_text() == "0.58"
    page.wait_for_timeout(500)  # the tab's own opening request (the projection map) has gone
    before = len(calls)
    for _ in range(5):
        _sigma_step(page, "#map2d-sigma")
    assert len(calls) == before, calls[before:]
    cur = page.evaluate("() => window.daeInsideMap.current")
    assert abs(cur["values"]["level"] - 0.63) < 1e-9
    assert np.hypot(*np.subtract(cur["points"]["noisy"], moved)) > 1e-3
    page.close()


@pytest.mark.parametrize("theme, dark", [("light", False), ("dark", True)])
def test_the_map_background_follows_the_theme(browser, app_url, theme, dark):
    page, _ = _open(browser, app_url + f"?__theme={theme}")
    _inside(page)
    rgb = page.evaluate("""() => { const c = document.querySelector('#map2d-canvas');
        return Array.from(c.getContext('2d').getImageData(3, 3, 1, 1).data).slice(0, 3); }""")
    assert (sum(rgb) / 3 < 100) == dark, rgb
    page.screenshot(path=f"/tmp/inside-{theme}.png")
    page.close()


def test_map_decoded_digit_and_journey_on_one_screen(browser, app_url):
    for width, height, name in [(1280, 720, "inside-1280x720"), (390, 844, "inside-phone")]:
        page, _ = _open(browser, app_url, width, height)
        _inside(page)
        page.screenshot(path=f"/tmp/{name}.png", full_page=height != 720)
        if width == 1280:
            for sel in ("#map2d-canvas", "#map2d-decoded", "#map2d-clean", "#map2d-denoised", "#map2d-dist"):
                b = page.locator(sel).bounding_box()
                assert b and b["y"] >= 0 and b["y"] + b["height"] <= height, (sel, b)
        page.close()


def test_the_browser_interpolates_between_two_map_points_as_dae_latent_does(bare, space):
    a, b = space.points[5].tolist(), space.points[4000].tolist()
    got = bare.evaluate("""async ([a, b]) => { const r = await daeInsideMap.interpolate(a, b, 8);
        return [pack(r.decoded), pack(r.crossfade)]; }""", [a, b])
    decoded, fade = _unpack(got[0], (8, 28, 28)), _unpack(got[1], (8, 28, 28))
    t = np.linspace(0, 1, 8, dtype=np.float32)[:, None]
    ref = space.decode((1 - t) * np.float32(a) + t * np.float32(b))
    assert np.abs(decoded - ref).max() <= 5e-3
    assert np.abs(fade - latent.crossfade(ref[0], ref[-1], 8)).max() <= 5e-3
