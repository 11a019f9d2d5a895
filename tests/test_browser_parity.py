"""The in-browser digit path held to the server's: ui/digits_browser.js run in Chromium against
dae.corrupt, dae.metrics and the server's TFLite interpreter, on each wasm build.

A bare Gradio app (``assets_app`` in conftest) serves the assets as the real one does
(ui.browser_assets.register and its route); Python hands digits to the
page and compares what comes back. What is served, and how loading fails:
test_browser_assets.py. The browser's noise generator is not numpy's, so corruptions are
compared by their statistics, and everything downstream of the noise is compared on the same
noisy digits.
Skips only where no chromium can be found, and never in CI.
"""
from __future__ import annotations

import base64

import numpy as np
import pytest
from scipy import ndimage

from dae import corrupt, metrics
from dae.registry import digit_models

DIGIT_MODELS = digit_models()
# max |browser - server TFLite| per build. Both builds run the same dynamic-range quantised
# kernels; what differs is unet's and unet-wide's activation quantisation rounding (which
# kernel rounds an activation to its int8 bin), bounded by the spread between XNNPACK and
# TFLite's built-in kernels on the server alone, 5.9e-3. Measured with the U-Nets on their
# 4-bit grid: unet 5.6e-3 and unet-wide 3.3e-3 in both builds (with the float U-Nets, the
# relaxed build's unet was 3.8e-3 and the compat build's 5.2e-3).
TOLERANCE = {"relaxed": 6e-3, "compat": 6e-3}
# what a visitor reads, held to the server's figures for the server's images
SCORE_TOLERANCE = {"psnr": 0.05, "ssim": 0.002}


@pytest.fixture(scope="module", params=["relaxed", "compat"])
def page(browser, assets_app, request):
    """The app's page with ui/digits_browser.js imported as `window.dj`, the runtime of one
    build and all five models loaded (`window.models`)."""
    url, man = assets_app
    build = request.param
    pg = browser.new_page()
    pg.goto(url + "/")
    pg.wait_for_function("() => window.daeBrowser !== undefined")
    assert pg.evaluate("window.daeBrowser") == man  # what head_script put on the page
    failed = pg.evaluate("""async (build) => {
        const man = window.daeBrowser;
        // float32 arrays travel as base64 both ways: JSON lists of 150,000 numbers are slow
        window.unpack = (b64) => new Float32Array(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer);
        window.pack = (arrays) => {
            const flat = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
            arrays.reduce((at, a) => (flat.set(a, at), at + a.length), 0);
            const bytes = new Uint8Array(flat.buffer);
            let s = "";
            for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
            return btoa(s);
        };
        window.dj = await import(man.module);
        const runtime = await dj.loadRuntime(man.runtime, build);
        const {models, failed} = await dj.loadModels(man.models, undefined, {runtime});
        window.models = models;
        window.build = build;
        return failed;
    }""", build)
    assert failed == {}, failed
    pg.build = build
    yield pg
    pg.close()


def _pack(images: np.ndarray) -> str:
    """Digits for the page's ``unpack``: little-endian float32, base64."""
    return base64.b64encode(np.ascontiguousarray(images, "<f4").tobytes()).decode()


def _unpack(b64: str, shape) -> np.ndarray:
    """What the page's ``pack`` returned, as float32 of this shape."""
    return np.frombuffer(base64.b64decode(b64), "<f4").reshape(shape)


def _corrupt_in_browser(page, clean: np.ndarray, controls: dict, seeds) -> np.ndarray:
    out = page.evaluate("""([clean, controls, seeds]) => {
        const x = unpack(clean);
        return pack(seeds.map((seed, i) => dj.corrupt(x.subarray(784 * i, 784 * (i + 1)), controls, seed)));
    }""", [_pack(clean), controls, [int(s) for s in seeds]])
    return _unpack(out, clean.shape)


def test_every_model_matches_the_server_tflite_and_the_metrics_match_dae(page):
    import dae
    from dae import data

    clean = data.heldout_digits(2)  # 20 held-out digits
    settings = [corrupt.from_controls("gaussian", 0.5), corrupt.from_controls("salt-pepper", 0.2, blur=1.0),
                corrupt.from_controls("uniform", 0.8, mean=0.0, clip=False)]
    noisy = np.concatenate([corrupt.apply(clean, c, seed=7) for c in settings])
    ref = np.concatenate([clean] * len(settings))
    got = page.evaluate("""async ([noisyB64, refB64, n]) => {
        const digit = (flat, i) => flat.subarray(784 * i, 784 * (i + 1));
        const [noisy, ref] = [unpack(noisyB64), unpack(refB64)];
        const out = {};
        for (const [name, model] of Object.entries(models)) {
            const images = [], codes = [], psnr = [], ssim = [];
            for (let i = 0; i < n; i++) {
                const r = await dj.denoise(model, digit(noisy, i));
                images.push(r.image);
                if (r.code) codes.push(r.code);
                psnr.push(dj.psnr(digit(ref, i), r.image));
                ssim.push(dj.ssim(digit(ref, i), r.image));
            }
            out[name] = {images: pack(images), codes: codes.length ? pack(codes) : null,
                         codeLength: codes.length ? codes[0].length : 0, psnr, ssim};
        }
        const idx = [...Array(n).keys()];
        out.noisy = {psnr: idx.map((i) => dj.psnr(digit(ref, i), digit(noisy, i))),
                     ssim: idx.map((i) => dj.ssim(digit(ref, i), digit(noisy, i)))};
        return out;
    }""", [_pack(noisy), _pack(ref), len(noisy)])
    for name in DIGIT_MODELS:
        server_img, server_code = dae.load(name).denoise_and_encode(noisy)
        img = _unpack(got[name]["images"], noisy.shape)
        assert img.min() >= 0 and img.max() <= 1
        assert np.abs(img - server_img).max() <= TOLERANCE[page.build], name
        if server_code is None:
            assert got[name]["codes"] is None, name
        else:  # the same output is the code: LiteRunner's order
            code = _unpack(got[name]["codes"], (len(noisy), got[name]["codeLength"]))
            assert code.shape == server_code.shape
            assert np.abs(code - server_code).max() <= TOLERANCE[page.build] * max(1.0, np.abs(server_code).max()), name
        for i in range(len(noisy)):  # the browser's maths on the browser's images
            assert got[name]["psnr"][i] == pytest.approx(metrics.psnr(ref[i], img[i]), abs=1e-3)
            assert got[name]["ssim"][i] == pytest.approx(metrics.ssim(ref[i], img[i]), abs=1e-3)
            # and what the page shows beside the image is what the server would show
            assert got[name]["psnr"][i] == pytest.approx(metrics.psnr(ref[i], server_img[i]),
                                                         abs=SCORE_TOLERANCE["psnr"]), (name, i)
            assert got[name]["ssim"][i] == pytest.approx(metrics.ssim(ref[i], server_img[i]),
                                                         abs=SCORE_TOLERANCE["ssim"]), (name, i)
    for i in range(len(noisy)):
        assert got["noisy"]["psnr"][i] == pytest.approx(metrics.psnr(ref[i], noisy[i]), abs=1e-3)
        assert got["noisy"]["ssim"][i] == pytest.approx(metrics.ssim(ref[i], noisy[i]), abs=1e-3)


def test_metrics_edge_cases_match_dae(page):
    a = np.zeros(784, np.float32)
    b = np.linspace(0, 1, 784, dtype=np.float32)
    got = page.evaluate("""([a, b]) => [dj.psnr(Float32Array.from(b), Float32Array.from(b)),
        dj.ssim(Float32Array.from(b), Float32Array.from(b)), dj.ssim(Float32Array.from(a), Float32Array.from(b)),
        dj.psnr(Float32Array.from(a), Float32Array.from(b))]""", [a.tolist(), b.tolist()])
    assert got[0] == float("inf")
    assert got[1] == pytest.approx(1.0)
    assert got[2] == pytest.approx(metrics.ssim(a.reshape(28, 28), b.reshape(28, 28)), abs=1e-9)
    assert got[3] == pytest.approx(metrics.psnr(a, b), abs=1e-9)


CORRUPTIONS = {  # the app's controls: (noise, level, blur, mean, clip)
    "gaussian, mean, unclipped": ("gaussian", 0.5, 0.0, 0.2, False),
    "gaussian, clipped": ("gaussian", 0.7, 0.0, 0.0, True),
    "uniform, unclipped": ("uniform", 0.6, 0.0, 0.0, False),
    "uniform, blur, clipped": ("uniform", 0.4, 1.5, 0.0, True),
    "salt-pepper": ("salt-pepper", 0.3, 0.0, 0.0, True),
    "none, blur": ("none", 0.5, 1.0, 0.0, True),
}


def _stats(clean: np.ndarray, noisy: np.ndarray, blur: float) -> dict:
    base = corrupt.apply(clean, corrupt.Corruption("none", blur=blur, clip=False)) if blur else clean
    d = (noisy - base).ravel()
    moved = noisy != base
    return {"mean": noisy.mean(), "std": noisy.std(), "residual mean": d.mean(), "residual std": d.std(),
            "clipped": np.isin(noisy, (0.0, 1.0)).mean() - np.isin(base, (0.0, 1.0)).mean(),
            "salt": (moved & (noisy == 1)).mean(), "pepper": (moved & (noisy == 0)).mean()}


@pytest.mark.parametrize("label", list(CORRUPTIONS))
def test_corruption_statistics_match_dae_corrupt(page, digits, label):
    noise, level, blur, mean, clip = CORRUPTIONS[label]
    controls = {"noise": noise, "level": level, "blur": blur, "mean": mean, "clip": clip}
    ours = _corrupt_in_browser(page, digits, controls, seeds=range(len(digits)))  # 200 digits
    theirs = corrupt.apply(digits, corrupt.from_controls(noise, level, blur, mean, clip), seed=0)
    s_ours, s_theirs = _stats(digits, ours, blur), _stats(digits, theirs, blur)
    for key in s_ours:  # 156,800 pixels: the standard error of a mean is under 0.002
        assert s_ours[key] == pytest.approx(s_theirs[key], abs=0.01), (label, key, s_ours[key], s_theirs[key])
    if clip:
        assert ours.min() >= 0 and ours.max() <= 1
    if noise == "uniform" and not clip:
        assert np.abs(ours - digits).max() <= level
    if noise == "none":
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_salt_and_pepper_hits_the_fraction_asked_half_salt(page):
    grey = np.full((50, 28, 28, 1), 0.5, np.float32)  # every hit shows, whatever its colour
    for amount in (0.05, 0.5, 1.0):
        out = _corrupt_in_browser(page, grey, {"noise": "salt-pepper", "level": amount}, seeds=range(50))
        hit = out != 0.5
        assert hit.mean() == pytest.approx(amount, abs=0.01)
        assert (out[hit] == 1).mean() == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("sigma", [0.3, 1.0, 2.0, 3.7])
def test_blur_alone_matches_scipy(page, digits, sigma):
    clean = digits[:20]
    ours = _corrupt_in_browser(page, clean, {"noise": "none", "blur": sigma, "clip": False}, seeds=[0] * 20)
    ref = np.stack([ndimage.gaussian_filter(d, sigma=(sigma, sigma, 0), mode="nearest") for d in clean])
    assert np.abs(ours - ref).max() <= 1e-5


def test_each_seed_is_reproducible_and_seeds_differ(page, digits):
    clean = np.repeat(digits[:1], 4, axis=0)
    for noise in ("gaussian", "uniform", "salt-pepper"):
        controls = {"noise": noise, "level": 0.4, "blur": 0.5}
        a = _corrupt_in_browser(page, clean, controls, seeds=[3, 3, 4, 2**40 + 3])
        b = _corrupt_in_browser(page, clean, controls, seeds=[3, 3, 4, 2**40 + 3])
        np.testing.assert_array_equal(a, b)  # across calls
        np.testing.assert_array_equal(a[0], a[1])  # within a call
        assert not np.array_equal(a[0], a[2]) and not np.array_equal(a[0], a[3])


def test_bad_controls_are_refused_as_dae_refuses_them(page):
    errors = page.evaluate("""() => [
        {noise: "speckle", level: 0.1}, {noise: "gaussian", level: -1}, {noise: "gaussian", level: 0.1, blur: NaN},
    ].map((c) => { try { dj.corrupt(new Float32Array(784), c, 0); return null; } catch (e) { return e.name; } })""")
    assert errors == ["RangeError"] * 3
    for kwargs in ({"noise": "speckle", "level": 0.1}, {"noise": "gaussian", "level": -1},
                   {"noise": "gaussian", "level": 0.1, "blur": float("nan")}):
        with pytest.raises(ValueError):
            corrupt.from_controls(**kwargs)


def test_a_digit_is_drawn_with_the_servers_pixels(page, digits):
    """digitDataUrl / drawDigit paint what dae.images.to_uint8 makes of the same floats."""
    import io

    from PIL import Image

    from dae.images import to_uint8

    image = np.clip(digits[3] * 1.3 - 0.1, -0.2, 1.2).astype(np.float32)  # out of range on both sides
    url = page.evaluate("(b64) => dj.digitDataUrl(unpack(b64))", _pack(image))
    assert url.startswith("data:image/png;base64,")
    png = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert png.size == (28, 28)
    rgba = np.asarray(png.convert("RGBA"))
    assert (rgba[..., 3] == 255).all() and (rgba[..., 0] == rgba[..., 1]).all() and (rgba[..., 1] == rgba[..., 2]).all()
    np.testing.assert_array_equal(rgba[..., 0], to_uint8(image)[..., 0])
