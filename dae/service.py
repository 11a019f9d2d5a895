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
from .export import export_status
from .inference import WEIGHTS_DIR, WeightsUnavailable, load
from .preprocess import mnist_style
from .registry import MODELS

MAX_PHOTO_PIXELS = 1_000_000  # photos above this are downscaled, with a notice
# BM3D (the bm3d package, one native call that cannot be interrupted) is run only on photos
# small enough to stay within a photo request's 5 s bound: CBM3D took 14.8 s on 120×120 and
# 24.1 s on 190×190 on a 2-core AMD EPYC at load average 9.6 (about 3 and 5 s unloaded), and
# 12.9 s on a 481×321 BSDS500 photo unloaded; the photo U-Net does a megapixel in 2.7 s.
BM3D_MAX_PIXELS = 112 * 112


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
    why: str = ""  # photos: which model ran, and why that one
    noise_map: np.ndarray | None = None  # photos, blind model: its per-pixel noise level (σ, [0, 1] scale)

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
        from .training import card_problem  # training imports TensorFlow's data pipeline: only here

        self.models, self.unavailable, self.notices = {}, {}, {}
        wd = Path(weights_dir or WEIGHTS_DIR)
        for name in MODELS:
            try:
                model = load(name, weights_dir)
            except WeightsUnavailable as e:
                self.unavailable[name] = str(e)
                continue
            if problem := card_problem(name, wd):
                self.unavailable[name] = f"model {name!r} is unavailable: {problem}."
                continue
            self.models[name] = model
            if MODELS[name].kind == "digit" and (why := export_status(name, wd)[1]):
                self.notices[name] = (f"model {name!r} runs on the server only (converted again at start-up), "
                                      f"not in the browser: {why}.")

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
        name, why = self.photo_model(corruption)
        img, scaled = images.fit_pixels(np.asarray(image, np.float32), max_pixels)
        noisy = corrupt.apply(img, corruption, seed)
        hint = corruption.sigma_hint
        noise_map = None
        if MODELS[name].real_noise:
            out, noise_map = self.models[name].denoise_with_map(noisy)
        else:
            out = self.models[name].denoise(noisy, sigma=hint)
        panels = [_panel(name, img, out)]
        h, w = image.shape[:2]
        notices = [f"Downscaled from {w}×{h} to {img.shape[1]}×{img.shape[0]} to stay under "
                   f"{max_pixels / 1e6:g} megapixels."] if scaled else []
        for name in extra:
            if name == "BM3D" and baselines.bm3d_pixels(img) > BM3D_MAX_PIXELS:
                side = round(BM3D_MAX_PIXELS ** 0.5)
                notices.append(f"BM3D was skipped: on this server it runs on photos of up to {BM3D_MAX_PIXELS:,} "
                               f"pixels ({side}×{side}), which it denoises in a few seconds; this one is "
                               f"{img.shape[1]}×{img.shape[0]}, which would hold the server for a minute or more. "
                               f"Crop the photo to compare with BM3D.")
            elif name in baselines.PHOTO_BASELINES:
                panels.append(_panel(name, img, baselines.PHOTO_BASELINES[name](noisy, hint)))
        return Result(img, _panel("noisy", img, noisy), panels, notice=" ".join(notices), why=why,
                      noise_map=noise_map)

    def photo_model(self, corruption: corrupt.Corruption) -> tuple[str, str]:
        """Which photo model serves this corruption, and a sentence saying why.

        Added Gaussian noise goes to ``photo``, which is told its σ and was trained on exactly
        that. No added noise means the photo is already noisy, as a night shot is: that goes
        to the blind ``photo-real``, trained on simulated camera noise, which estimates the
        noise pixel by pixel; ``photo`` with one estimated σ stands in when it is not loaded.
        """
        real = next((n for n in self.models if MODELS[n].real_noise), None)
        if corruption.sigma_hint is None and real:
            return real, (f"No noise was added, so the photo is taken as already noisy: `{real}` ran, a blind "
                          "model trained on simulated camera noise (signal-dependent, demosaiced, JPEG) that "
                          "estimates the noise at every pixel; its map is shown.")
        if "photo" not in self.models:
            raise WeightsUnavailable("photo", Path("weights/photo.keras"), "is not loaded")
        if corruption.sigma_hint is None:
            return "photo", ("No noise was added and no real-noise model is loaded, so `photo` ran with one "
                             "noise level estimated from the photo (scikit-image's wavelet estimate).")
        return "photo", (f"Gaussian noise σ {corruption.sigma * 255:.0f}/255 was added, so `photo` ran, told that σ: "
                         "it was trained on exactly this white noise.")


DIGIT_SOURCE_SIDE = 512  # a digit's source image is shrunk to this before preprocessing


def digit_from_file(source: str | bytes) -> np.ndarray:
    """An uploaded or drawn image (a path, or a file's bytes) → MNIST-style 28×28, through
    the one decoding path with its caps (raises images.ImageError). At most 512 pixels a
    side are decoded into floats: MNIST's 20×20 box needs no more."""
    return mnist_style(images.read_image(source, max_side=DIGIT_SOURCE_SIDE))


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
