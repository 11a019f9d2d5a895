"""The Digits tab's result strip, as the server sends it: every panel a 28×28 PNG inline.

Why HTML and not a row of ``gr.Image``: seven to ten images through Gradio's per-image file
cache cost a file write, a file read and a request each, and the cache broke under identical
concurrent requests (see ``ui/gradio_fixes.py``). Inline PNGs at native size are a few
hundred bytes each, arrive with the event's own response, and CSS enlarges them crisply
(``image-rendering: pixelated``). Element ids ``#original``, ``#noisy`` and ``#out-<model>``
are what browser tests and outside checks hold on to; keep them. The markup itself is drawn
in the page (ui/digits.js, ``drawStrip``) from :func:`numbers`, for server and in-browser
results alike.
"""
from __future__ import annotations

import base64
import html
import io
import json
import re

import numpy as np
from matplotlib import colormaps
from PIL import Image

from dae import images, metrics, service

ERROR_CMAP = "magma"  # perceptually uniform, dark at 0: a clean panel stays dark


def png_uri(image: np.ndarray) -> str:
    """A float [0, 1] or uint8 image (grey or RGB) as a ``data:image/png;base64`` URI."""
    x = image if image.dtype == np.uint8 else images.to_uint8(image)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    buf = io.BytesIO()
    Image.fromarray(x).save(buf, format="PNG", optimize=False, compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def encode_digit(digit: np.ndarray) -> str:
    """A 28×28 digit as base64 of its 784 float32 values (little-endian): how the page hands the
    exact digit to the in-browser path (ui/digits.js), which decodes it with a Float32Array."""
    return base64.b64encode(np.asarray(digit, "<f4").reshape(784).tobytes()).decode("ascii")


def error_lut() -> list[list[int]]:
    """The error colour map as 256 RGB rows, for the browser to colour error maps exactly as
    :func:`heatmap` does (matplotlib maps x in [0, 1] to row min(255, floor(256 x)))."""
    return colormaps[ERROR_CMAP](np.arange(256), bytes=True)[:, :3].tolist()


def heatmap(error: np.ndarray) -> np.ndarray:
    """|error| in [0, 1] → RGB uint8 through a fixed colour map, on a fixed scale (0 … 1),
    so panels can be compared with each other by eye."""
    rgba = colormaps[ERROR_CMAP](np.clip(error, 0.0, 1.0), bytes=True)
    return rgba[..., :3]


def panel_id(name: str) -> str:
    """``out-<name>``, with anything but letters, digits and dashes made a dash, so that
    ``#out-gaussian-filter`` is a valid selector as ``#out-unet-wide`` is."""
    return "out-" + re.sub(r"[^A-Za-z0-9-]", "-", name)


def _score(psnr: float) -> float | None:
    """A PSNR as JSON can carry it: None for ∞ (a perfect panel)."""
    return float(psnr) if np.isfinite(psnr) else None


def _err(clean: np.ndarray, test: np.ndarray, error_maps: bool) -> str | None:
    return png_uri(heatmap(metrics.error_map(clean, test))) if error_maps else None


def scale_uri() -> str:
    """The error colour scale's ramp, 28×4 (ui/digits.js draws the same from the LUT)."""
    ramp = np.linspace(0.0, 1.0, 28, dtype=np.float32)[None, :].repeat(4, 0)
    return png_uri(heatmap(ramp))


def numbers(r: service.Result, error_maps: bool = False) -> dict:
    """What the strip shows, as numbers and inline PNGs, JSON-ready: the page draws the
    markup from these (ui/digits.js, ``drawStrip``), exactly as it draws its own in-browser
    results, so the strip's markup is written once. Panels are in the order they were run;
    a PSNR of None is ∞; ``err`` is the |denoised − original| map on one fixed colour scale,
    ``code`` a bottleneck model's code as a strip of grey cells (brighter = larger)."""
    def panel(name: str, image: np.ndarray, psnr: float, ssim: float, code=None) -> dict:
        p = {"name": name, "src": png_uri(image), "psnr": _score(psnr), "ssim": float(ssim),
             "err": _err(r.original, image, error_maps)}
        if code is not None:
            p["code"] = {"src": png_uri(service.latent_strip(code, cell=1)), "n": len(code)}
        return p

    return {"original": png_uri(r.original), "noisy": panel("noisy", r.noisy.image, r.noisy.psnr, r.noisy.ssim),
            "panels": [panel(p.name, p.image, p.psnr, p.ssim, r.latents.get(p.name)) for p in r.panels],
            "errors": bool(error_maps), "scale": scale_uri() if error_maps else None}


def carrier(payload: dict) -> str:
    """The server's render as the strip's HTML value: its numbers in one hidden element,
    which ui/digits.js turns into the strip the moment it lands (first paint included)."""
    data = html.escape(json.dumps(payload, separators=(",", ":")), quote=True)
    return f'<div class="dae-numbers" hidden data-numbers="{data}"></div>'
