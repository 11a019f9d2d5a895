"""The parity check the other engines share (tests/test_webkit.py, tests/test_firefox.py): six
held-out digits through every model of one build in the page, against the server's TFLite
within that build's tolerance (tests/test_browser_parity.py's TOLERANCE, where Chromium is
held to the server on many more digits)."""
from __future__ import annotations

import base64

import numpy as np

from tests.test_browser_parity import TOLERANCE

# The page's side of the parity check (an async JS function of the digits' base64 float32 and
# a build): every model the build loads, on every digit.
PARITY_JS = """async (b64, build) => {
    const man = window.daeBrowser;
    const dj = await import(man.module);
    const runtime = await dj.loadRuntime(man.runtime, build);
    const {models, failed} = await dj.loadModels(man.models, undefined, {runtime});
    const x = new Float32Array(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer);
    const out = {};
    for (const [name, model] of Object.entries(models)) {
        const images = [];
        for (let i = 0; i < x.length / 784; i++) {
            images.push(...(await dj.denoise(model, x.subarray(784 * i, 784 * (i + 1)))).image);
        }
        out[name] = images;
    }
    return {out, failed};
}"""


def few_digits() -> tuple[np.ndarray, str]:
    """Six held-out digits under Gaussian σ 0.5 (seed 7), and the same as base64 float32."""
    from dae import corrupt, data

    clean = data.heldout_digits(1)[:6]
    noisy = corrupt.apply(clean, corrupt.from_controls("gaussian", 0.5), seed=7)
    return noisy, base64.b64encode(np.ascontiguousarray(noisy, "<f4").tobytes()).decode()


def assert_matches_server(got: dict, noisy: np.ndarray, build: str) -> None:
    """PARITY_JS's answer against the server's TFLite, within the build's tolerance."""
    import dae
    from dae.registry import digit_models

    assert "error" not in got and got["failed"] == {}, got
    for name in digit_models():
        server = dae.load(name).denoise_and_encode(noisy)[0]
        mine = np.asarray(got["out"][name], np.float32).reshape(noisy.shape)
        assert np.abs(mine - server).max() <= TOLERANCE[build], name
