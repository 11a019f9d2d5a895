"""The Digits tab's result strip as one piece of HTML: every panel a 28×28 PNG inline.

Why HTML and not a row of ``gr.Image``: seven to ten images through Gradio's per-image file
cache cost a file write, a file read and a request each, and the cache broke under identical
concurrent requests (see ``ui/gradio_fixes.py``). Inline PNGs at native size are a few
hundred bytes each, arrive with the event's own response, and CSS enlarges them crisply
(``image-rendering: pixelated``). Element ids ``#original``, ``#noisy`` and ``#out-<model>``
are what browser tests and outside checks hold on to; keep them.
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


def _img(src: str, alt: str, cls: str = "dae-img") -> str:
    return f'<img class="{cls}" src="{src}" alt="{html.escape(alt)}" width="28" height="28">'


def _score(psnr: float, ssim: float) -> str:
    value = "∞" if not np.isfinite(psnr) else f"{psnr:.2f}"
    return (f'<span class="dae-psnr"><small>PSNR</small> {value} <small>dB</small></span>'
            f'<span class="dae-ssim"><small>SSIM</small> {ssim:.3f}</span>')


def _figure(elem_id: str, name: str, image: np.ndarray, caption: str, extra: str = "", cls: str = "") -> str:
    return (f'<figure id="{elem_id}" class="dae-panel {cls}">{_img(png_uri(image), name)}'
            f'<figcaption><span class="dae-name">{html.escape(name)}</span>{caption}</figcaption>{extra}</figure>')


def _error_block(clean: np.ndarray, test: np.ndarray, name: str) -> str:
    return _img(png_uri(heatmap(metrics.error_map(clean, test))), f"error map of {name}", "dae-img dae-err")


def _scale_block() -> str:
    ramp = np.linspace(0.0, 1.0, 28, dtype=np.float32)[None, :].repeat(4, 0)
    return (f'<div class="dae-scale"><img src="{png_uri(heatmap(ramp))}" alt="error colour scale">'
            '<span>|denoised − original|: 0</span><span>1</span></div>')


def strip(r: service.Result, error_maps: bool = False, source: str = "computed on the server",
          state: list | None = None) -> str:
    """The original, the noisy digit and one panel per method, in the order they were run.

    The best PSNR among the methods is marked; bottleneck models carry their code as a
    strip of grey cells (brighter = larger); ``error_maps`` adds |denoised − original| under
    every panel on one fixed colour scale. ``state`` (the controls that made it, in the order
    ui/digits.js receives them) rides along as ``data-state``, so the in-browser path can take
    over from exactly this picture. ui/digits.js builds the same markup: keep the two alike.
    """
    best = max(r.panels, key=lambda p: p.psnr).name if r.panels else None
    err = (lambda img, name: _error_block(r.original, img, name)) if error_maps else (lambda img, name: "")
    parts = [_figure("original", "original", r.original, '<span class="dae-psnr">&nbsp;</span>'
                     '<span class="dae-ssim">held out</span>', _scale_block() if error_maps else ""),
             _figure("noisy", "noisy", r.noisy.image, _score(r.noisy.psnr, r.noisy.ssim),
                     err(r.noisy.image, "noisy"))]
    for p in r.panels:
        code = r.latents.get(p.name)
        extra = err(p.image, p.name)
        if code is not None:
            extra += (f'<img class="dae-code" src="{png_uri(service.latent_strip(code, cell=1))}" '
                      f'alt="{p.name}: {len(code)}-number code" title="{len(code)}-number code">')
        parts.append(_figure(panel_id(p.name), p.name, p.image, _score(p.psnr, p.ssim), extra,
                             "dae-best" if p.name == best else ""))
    data = f' data-state="{html.escape(json.dumps(state))}"' if state is not None else ""
    return (f'<div class="dae-strip"{data}>{"".join(parts)}</div>'
            f'<p class="dae-source" id="dae-source" data-source="server">{html.escape(source)}</p>')
