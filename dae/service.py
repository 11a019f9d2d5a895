"""What the demo asks of the domain, with no Gradio in sight.

The app (and its API endpoints) call these functions; they hold the loaded models, run
every selected denoiser on the same noisy image, and score each against the original.
Keeping this here means the UI file is only layout and wiring, and the tests can check
the numbers without a browser.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import baselines, corrupt, images, metrics
from .inference import WeightsUnavailable, load
from .preprocess import mnist_style
from .registry import MODELS

MAX_PHOTO_PIXELS = 1_000_000  # photos above this are downscaled, with a notice


@dataclass
class Panel:
    """One denoised image and how close it is to the original."""

    name: str
    image: np.ndarray
    psnr: float
    ssim: float

    @property
    def caption(self) -> str:
        return f"{self.name} · PSNR {self.psnr:.2f} dB · SSIM {self.ssim:.3f}"

    def as_dict(self) -> dict:
        """JSON-safe scores: identical images have infinite PSNR, reported as null."""
        finite = lambda v, d: round(v, d) if np.isfinite(v) else None  # noqa: E731
        return {"psnr": finite(self.psnr, 2), "ssim": finite(self.ssim, 4)}


@dataclass
class Result:
    original: np.ndarray
    noisy: Panel
    panels: list[Panel]
    latents: dict[str, np.ndarray] = field(default_factory=dict)
    notice: str = ""

    def metrics(self) -> dict:
        return {"noisy": self.noisy.as_dict(), **{p.name: p.as_dict() for p in self.panels}}


def _panel(name: str, original: np.ndarray, image: np.ndarray) -> Panel:
    return Panel(name, image, metrics.psnr(original, image), metrics.ssim(original, image))


class Lab:
    """Every registered model that could be loaded, warmed once; and what could not be.

    A model whose weights are missing or corrupt is listed in ``unavailable`` with the
    message that says how to restore it; the rest keep working.
    """

    def __init__(self, weights_dir: str | Path | None = None):
        self.models, self.unavailable = {}, {}
        for name in MODELS:
            try:
                self.models[name] = load(name, weights_dir)
            except WeightsUnavailable as e:
                self.unavailable[name] = str(e)

    @property
    def digit_models(self) -> list[str]:
        """The Digits tab's models that loaded (``dense-2d`` is on the Inside tab only)."""
        return [n for n in self.models if MODELS[n].kind == "digit" and MODELS[n].panel]

    def warm(self) -> None:
        """Run every model once now (the photo model is traced), so no visitor's first request pays for it."""
        for d in self.models.values():
            d.warm()

    # --- digits ----------------------------------------------------------------------

    def digit(self, clean: np.ndarray, corruption: corrupt.Corruption, seed: int,
              methods: list[str]) -> Result:
        """Corrupt a 28×28 digit once and run each chosen model or baseline on it."""
        clean = np.asarray(clean, np.float32).reshape(28, 28)
        noisy = corrupt.apply(clean, corruption, seed)
        hint = corruption.sigma_hint
        panels, latents = [], {}
        for name in methods:
            if name in self.models and MODELS[name].kind == "digit":
                out, code = self.models[name].denoise_and_encode(noisy)
                if code is not None:
                    latents[name] = code[0]
            elif name in baselines.DIGIT_BASELINES:
                out = baselines.DIGIT_BASELINES[name](noisy, hint)
            else:
                continue  # unavailable model: the app says so elsewhere
            panels.append(_panel(name, clean, out))
        return Result(clean, _panel("noisy", clean, noisy), panels, latents)

    # --- photos ----------------------------------------------------------------------

    def photo(self, image: np.ndarray, corruption: corrupt.Corruption, seed: int,
              extra: list[str] = (), max_pixels: int = MAX_PHOTO_PIXELS) -> Result:
        """Corrupt a photo (σ on the [0, 1] scale), denoise at full resolution, score.

        With σ = 0 the photo is taken as already noisy: the model estimates the noise
        level itself and the scores compare against the upload.
        """
        if "photo" not in self.models:
            raise WeightsUnavailable("photo", Path("weights/photo.keras"), "is not loaded")
        img, scaled = images.fit_pixels(np.asarray(image, np.float32), max_pixels)
        noisy = corrupt.apply(img, corruption, seed)
        hint = corruption.sigma_hint
        panels = [_panel("photo", img, self.models["photo"].denoise(noisy, sigma=hint))]
        for name in extra:
            if name in baselines.PHOTO_BASELINES:
                panels.append(_panel(name, img, baselines.PHOTO_BASELINES[name](noisy, hint)))
        h, w = image.shape[:2]
        notice = (f"Downscaled from {w}×{h} to {img.shape[1]}×{img.shape[0]} to stay under "
                  f"{max_pixels / 1e6:g} megapixels." if scaled else "")
        return Result(img, _panel("noisy", img, noisy), panels, notice=notice)


def digit_from_file(path: str) -> np.ndarray:
    """An uploaded or drawn image file → MNIST-style 28×28 (raises images.ImageError)."""
    return mnist_style(images.read_image(path))


def digit_from_array(array: np.ndarray) -> np.ndarray:
    """A sketchpad canvas (uint8 or float, grey/RGB/RGBA) → MNIST-style 28×28."""
    a = np.asarray(array)
    a = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)
    return mnist_style(a)


def upscale(image: np.ndarray, factor: int = 8) -> np.ndarray:
    """Nearest-neighbour enlargement, so a 28×28 digit shows as crisp large pixels."""
    x = images.to_uint8(image)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    return x.repeat(factor, 0).repeat(factor, 1)


def latent_strip(code: np.ndarray, cell: int = 14) -> np.ndarray:
    """A bottleneck code as a strip of grey cells (brighter = larger), for display."""
    c = np.asarray(code, np.float32)
    span = c.max() - c.min()
    norm = (c - c.min()) / span if span > 0 else np.zeros_like(c)
    return upscale(norm[None, :], cell)
