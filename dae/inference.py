"""Loading shipped weights once and running them fast.

Why not ``model.predict``: for one 28×28 digit its per-call set-up costs about 20× the
model's own compute. Both paths below run an inference copy with BatchNorm folded into the
convolutions (:mod:`dae.fold`):

- digit models run ``weights/<name>.tflite`` in TensorFlow Lite's interpreter (XNNPACK
  kernels) with dynamic-range quantisation: int8 weights, activations quantised on the fly.
  ``python -m dae export`` and ``train.py`` write that file from the ``.keras`` weights
  (:mod:`dae.export`); a missing or stale one is converted again at load time. benchmarks/speed.py times it against
  the float32 ``tf.function`` it replaced; tests/test_models.py holds its PSNR to the float
  model's within 0.01 dB.
- ``photo`` runs in one ``tf.function`` whose input signature leaves the batch and
  spatial dimensions open, so it is traced once per process whatever the image size;
- ``photo-real`` runs a float32 TFLite graph with open height and width, converted at load
  (:class:`PhotoLite`): XNNPACK takes a 512² photo in about half of TensorFlow's time.

``tf.lite.Interpreter`` is deprecated in favour of the ``ai-edge-litert`` package, which has
no Windows build; the interpreter in the pinned TensorFlow wheel runs on all three systems.
"""
from __future__ import annotations

import functools
import os
import threading
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import quiet
from .export import _shipped_lite, lite_flatbuffer, photo_flatbuffer
from .fold import fold_batchnorm
from .images import as_batch as check_images
from .models import PHOTO_CHANNELS
from .registry import MODELS, spec

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"


class WeightsUnavailable(RuntimeError):
    """Raised when a model's weights are missing or cannot be read."""

    def __init__(self, name: str, path: Path, why: str):
        self.name = name
        super().__init__(
            f"model {name!r} is unavailable: {path} {why}. Restore the shipped file with "
            f"`git checkout -- weights/{name}.keras` or retrain it with `python train.py --model {name}`."
        )


def load_keras(name: str, weights_dir: Path) -> keras.Model:
    """The saved Keras model itself (safe mode, uncompiled), for callers that need the graph
    rather than a denoiser: the export command. Missing or unreadable files raise
    :class:`WeightsUnavailable` with how to restore them."""
    path = weights_dir / f"{name}.keras"
    if not path.is_file():
        raise WeightsUnavailable(name, path, "does not exist")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as e:  # corrupt zip, wrong format, truncated file...
        raise WeightsUnavailable(name, path, f"could not be read ({type(e).__name__}: {e})") from None


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask, where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class LiteRunner:
    """One TFLite interpreter for one image per call, run over a batch image by image.

    The lock is taken per image: an interpreter is not thread-safe, the app serves two
    requests at a time, and a long batch (the robustness curves) must not hold a visitor's
    digit back for more than one image. At most 4 threads: a 28×28 graph is too small to
    share among more (a judgement, not a measurement: this machine has 2 cores).
    """

    def __init__(self, flatbuffer: bytes):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the deprecation notice, see above
            self._it = tf.lite.Interpreter(model_content=flatbuffer, num_threads=min(4, usable_cores()))
        with quiet.filtered_stderr():  # TFLite's XNNPACK banner: only fd 2 hides it (dae.quiet)
            self._it.allocate_tensors()
        self._input = self._it.get_input_details()[0]["index"]
        # outputs ordered by rank, highest first: the image, then the code if there is one
        outs = sorted(self._it.get_output_details(), key=lambda d: -len(d["shape"]))
        self._outputs = [d["index"] for d in outs]
        self._lock = threading.Lock()

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        """Outputs for a (N, ...) float32 batch, each stacked back to N rows."""
        rows = []
        for image in x:
            with self._lock:
                self._it.set_tensor(self._input, image[None])
                self._it.invoke()
                rows.append([self._it.get_tensor(i)[0] for i in self._outputs])
        return [np.stack(out) for out in zip(*rows)]


class PhotoLite:
    """One TFLite interpreter for photos of any size, one at a time: it is resized when a
    photo's shape differs from the last one's (16-65 ms here for a 512² tile), and its
    outputs come back by name: ``clean`` (3 channels) and ``noise_map`` (1)."""

    def __init__(self, flatbuffer: bytes):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the deprecation notice, see above
            self._it = tf.lite.Interpreter(model_content=flatbuffer, num_threads=min(4, usable_cores()))
        self._input = self._it.get_input_details()[0]["index"]
        self._shape: tuple[int, ...] = ()
        self._lock = threading.Lock()

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Outputs for one (1, H, W, C) float32 photo."""
        with self._lock:
            if x.shape != self._shape:
                self._it.resize_tensor_input(self._input, x.shape, strict=False)
                with quiet.filtered_stderr():  # XNNPACK's banner on the first allocation
                    self._it.allocate_tensors()
                self._shape = x.shape
            self._it.set_tensor(self._input, np.ascontiguousarray(x, np.float32))
            self._it.invoke()
            outs = [self._it.get_tensor(d["index"]) for d in self._it.get_output_details()]
        return {"clean" if o.shape[-1] == PHOTO_CHANNELS else "noise_map": o for o in outs}


def check_sigma(sigma: float | None) -> None:
    """``sigma`` is None (unknown) or a finite number >= 0; anything else is a ValueError."""
    if sigma is not None and not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma!r}")


class DigitDenoiser:
    """A 28×28 greyscale model; ``sigma`` is checked and then ignored: the digit models are
    blind, because they read the noise level off the digit as well as they are told it (a
    σ-aware ``unet-wide`` gained at most 0.02 dB from being told; see README).

    For models with a bottleneck, one converted graph returns both the clean estimate and
    the code, so the app gets the latent strip from the same forward pass.
    """

    def __init__(self, name: str, model: keras.Model, flatbuffer: bytes | None = None):
        self.name, self.model, self.spec = name, model, spec(name)
        self._run = LiteRunner(flatbuffer or lite_flatbuffer(name, model))

    def _batch(self, images) -> tuple[np.ndarray, tuple[int, ...]]:
        x, shape = check_images(images)
        if x.shape[1:] != (28, 28, 1):
            raise ValueError(
                f"digit model {self.name!r} takes 28×28 greyscale images; got shape {shape}. "
                "Use dae.preprocess.mnist_style() to bring any image to MNIST's format."
            )
        return x, shape

    def denoise_and_encode(self, images) -> tuple[np.ndarray, np.ndarray | None]:
        """The clean estimate (shaped like ``images``) and the bottleneck code (N, latent),
        or None for models without one."""
        x, shape = self._batch(images)
        out = self._run(np.ascontiguousarray(x, np.float32))
        clean = np.clip(out[0], 0.0, 1.0).reshape(shape)
        return clean, (out[1] if len(out) > 1 else None)

    def denoise(self, images, sigma: float | None = None) -> np.ndarray:
        """Return the clean estimate, float32 in [0, 1], shaped like ``images``."""
        check_sigma(sigma)
        return self.denoise_and_encode(images)[0]

    def encode(self, images) -> np.ndarray:
        """The bottleneck code (N, latent) for models that have one."""
        if not self.spec.has_latent:
            raise ValueError(f"model {self.name!r} has no bottleneck code")
        return self.denoise_and_encode(images)[1]

    def warm(self) -> None:
        """Run once so the first real request does not pay for the interpreter's set-up."""
        self.denoise(np.zeros((28, 28), np.float32))


class PhotoDenoiser:
    """Any-size colour or greyscale photos, tiled so memory stays bounded.

    Tiles overlap by ``margin`` pixels on each side and only their centres are kept, so
    seams do not show: with a margin larger than the network's reach, tiled output equals
    whole-image output up to float rounding.
    """

    multiple = 4  # two stride-2 down-samplings
    tile = 512
    margin = 32
    channels = 4  # the network's input: RGB and the σ map

    def __init__(self, name: str, model: keras.Model):
        self.name, self.model, self.spec = name, model, spec(name)
        net = fold_batchnorm(model)
        sig = [tf.TensorSpec([None, None, None, self.channels], tf.float32)]
        self._run = tf.function(lambda x: net(x, training=False), input_signature=sig)

    def denoise(self, images, sigma: float | None = None) -> np.ndarray:
        """Return the clean estimate, float32 in [0, 1], shaped like ``images``.

        ``sigma`` is the noise level on the [0, 1] scale; when None it is estimated
        from the image (scikit-image's wavelet estimator).
        """
        x, shape = check_images(images)
        c = x.shape[-1]
        if c not in (1, 3, 4):
            raise ValueError(f"photos need 1 (grey), 3 (RGB) or 4 (RGBA) channels; got {c}")
        check_sigma(sigma)
        out = np.empty(x.shape, np.float32)
        for i, img in enumerate(x):
            rgb = np.repeat(img, 3, axis=-1) if c == 1 else img[..., :3]
            s = estimate_sigma(rgb) if sigma is None else float(sigma)
            y = self._tiled(rgb, s)
            out[i] = y.mean(axis=-1, keepdims=True) if c == 1 else np.concatenate([y, img[..., 3:]], -1)[..., :c]
        return np.clip(out, 0.0, 1.0).reshape(shape)

    def _tiled(self, rgb: np.ndarray, sigma: float, tile: int | None = None) -> np.ndarray:
        """Whole when the photo fits in one tile; else overlapping tiles of at most ``tile``²
        (the margins make a 512² photo cost 1.26× its pixels as four tiles, so it runs whole)."""
        return _tile(rgb, tile or self.tile, self.margin, self.multiple, lambda piece: self._whole(piece, sigma))

    def _whole(self, rgb: np.ndarray, sigma: float) -> np.ndarray:
        """Run the network on one piece, padding by mirroring to a multiple of 4 (≥ 16)."""
        h, w, _ = rgb.shape
        x = self._padded(rgb)
        inp = np.concatenate([x, np.full(x.shape[:2] + (1,), sigma, np.float32)], -1)
        return self._run(tf.constant(inp[None])).numpy()[0, :h, :w]

    def _padded(self, rgb: np.ndarray) -> np.ndarray:
        """Mirrored out to a multiple of 4 and at least 16 a side, what the U-Net takes."""
        h, w, _ = rgb.shape
        ph = max(-h % self.multiple, 16 - h)
        pw = max(-w % self.multiple, 16 - w)
        return np.pad(rgb, ((0, ph), (0, pw), (0, 0)), mode="symmetric")

    def warm(self) -> None:
        self.denoise(np.zeros((64, 64, 3), np.float32), sigma=0.1)

    @property
    def tracing_count(self) -> int:
        return self._run.experimental_get_tracing_count()


def _tile(rgb: np.ndarray, tile: int, margin: int, multiple: int, run) -> np.ndarray:
    """``run(piece)`` on ``rgb`` whole, or on overlapping tiles whose centres are kept.
    ``run`` returns an (h, w, C) array for an (h, w, 3) piece; so does this."""
    h, w, _ = rgb.shape
    if h <= tile and w <= tile:
        return run(rgb)
    m = margin
    out = None
    step = max(tile - 2 * m, multiple)
    for y0 in range(0, h, step):
        for x0 in range(0, w, step):
            y1, x1 = min(y0 + step, h), min(x0 + step, w)
            # the tile with its margin, clamped to the image
            ya, yb, xa, xb = max(y0 - m, 0), min(y1 + m, h), max(x0 - m, 0), min(x1 + m, w)
            res = run(rgb[ya:yb, xa:xb])
            if out is None:
                out = np.empty((h, w, res.shape[-1]), np.float32)
            out[y0:y1, x0:x1] = res[y0 - ya:y1 - ya, x0 - xa:x1 - xa]
    return out


class BlindPhotoDenoiser(PhotoDenoiser):
    """A photo model that needs no σ (``photo-real``): it estimates a noise-level map per
    pixel itself, and :meth:`denoise_with_map` returns that map beside the photo."""

    channels = 3  # RGB alone: the network draws its own σ map

    def __init__(self, name: str, model: keras.Model):
        """Runs in TFLite (XNNPACK, float32) rather than a ``tf.function``: the same numbers
        to 2e-6 in 0.47 s per 512² photo against 0.84 s (benchmarks/real_noise.py), which
        pays for the estimator in front of ``photo``'s U-Net. Converting takes about a second."""
        self.name, self.model, self.spec = name, model, spec(name)
        self._lite = PhotoLite(photo_flatbuffer(model))

    def denoise(self, images, sigma: float | None = None) -> np.ndarray:
        """Return the clean estimate, float32 in [0, 1], shaped like ``images``; ``sigma`` is
        checked and then ignored (the model is blind)."""
        check_sigma(sigma)
        return super().denoise(images, sigma=0.0)

    def denoise_with_map(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One photo (H, W[, C]) → (clean, shaped like it; noise map (H, W), [0, 1] scale)."""
        x, shape = check_images(image)
        if x.shape[0] != 1 or x.shape[-1] not in (1, 3, 4):
            raise ValueError(f"denoise_with_map takes one grey, RGB or RGBA photo; got shape {shape}")
        img = x[0]
        rgb = np.repeat(img, 3, axis=-1) if img.shape[-1] == 1 else img[..., :3]
        both = _tile(rgb, self.tile, self.margin, self.multiple, self._whole_with_map)
        y = both[..., :3]
        c = img.shape[-1]
        out = y.mean(axis=-1, keepdims=True) if c == 1 else np.concatenate([y, img[..., 3:]], -1)[..., :c]
        return np.clip(out, 0.0, 1.0).reshape(shape), both[..., 3]

    def _whole_with_map(self, rgb: np.ndarray) -> np.ndarray:
        """The network on one piece: clean RGB and the noise map as a fourth channel."""
        h, w, _ = rgb.shape
        out = self._lite(self._padded(rgb)[None])
        return np.concatenate([out["clean"][0], out["noise_map"][0]], -1)[:h, :w]

    def _whole(self, rgb: np.ndarray, sigma: float) -> np.ndarray:
        return self._whole_with_map(rgb)[..., :3]

    def warm(self) -> None:
        self.denoise(np.zeros((64, 64, 3), np.float32))


def estimate_sigma(image: np.ndarray) -> float:
    """Noise level of an already-noisy photo (scale [0, 1])."""
    from skimage.restoration import estimate_sigma as _est

    return float(_est(image, channel_axis=-1 if image.ndim == 3 else None, average_sigmas=True))


@functools.lru_cache(maxsize=None)
def _load_cached(name: str, weights_dir: str):
    model = load_keras(name, Path(weights_dir))
    if spec(name).kind == "photo":
        return (BlindPhotoDenoiser if spec(name).real_noise else PhotoDenoiser)(name, model)
    try:
        return DigitDenoiser(name, model, _shipped_lite(name, Path(weights_dir)))
    except (ValueError, RuntimeError):  # a flatbuffer the interpreter refuses: convert it again
        return DigitDenoiser(name, model)


def load(name: str, weights_dir: str | Path | None = None) -> DigitDenoiser | PhotoDenoiser:
    """The denoiser for a registered model, loaded once per process and cached.

    Raises :class:`WeightsUnavailable` (with how to restore them) when the weights are
    missing or corrupt, and ``ValueError`` for an unknown name.
    """
    spec(name)
    return _load_cached(name, str(Path(weights_dir or WEIGHTS_DIR).resolve()))


def from_model(name: str, model: keras.Model) -> DigitDenoiser | PhotoDenoiser:
    """Wrap an in-memory model (fresh from training) in the same inference path."""
    if MODELS[name].kind == "photo":
        return (BlindPhotoDenoiser if MODELS[name].real_noise else PhotoDenoiser)(name, model)
    return DigitDenoiser(name, model)
