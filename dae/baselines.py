"""Classical denoisers to compare against: what a demo of learned denoising must beat.

Each takes a float image (H, W) or (H, W, C) and an optional noise level ``sigma`` on the
[0, 1] scale (estimated when None), and returns float32 in [0, 1] of the same shape.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import ndimage
from skimage.restoration import denoise_nl_means

from .inference import estimate_sigma


def _spatial(img: np.ndarray, size: float) -> tuple:
    return (size, size) + (0,) * (img.ndim - 2)


def gaussian_filter(img: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """Gaussian smoothing, σ = 1 pixel (a fair middle for 28×28 digits)."""
    return np.clip(ndimage.gaussian_filter(img, _spatial(img, 1.0), mode="nearest"), 0, 1).astype(np.float32)


def median_filter(img: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """3×3 median: the classic answer to salt-and-pepper noise."""
    size = (3, 3) + (1,) * (img.ndim - 2)
    return np.clip(ndimage.median_filter(img, size=size, mode="nearest"), 0, 1).astype(np.float32)


def nl_means(img: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """scikit-image non-local means with its documented recipe h = 0.8·σ, fast mode."""
    x = np.asarray(img, np.float32)
    s = estimate_sigma(x) if sigma is None else float(sigma)
    small = min(x.shape[:2]) < 64
    colour = x.ndim == 3 and x.shape[-1] > 1
    out = denoise_nl_means(x if colour else np.squeeze(x, -1) if x.ndim == 3 else x, h=0.8 * max(s, 1e-3),
                           sigma=s, fast_mode=True, patch_size=3 if small else 5,
                           patch_distance=5 if small else 6, channel_axis=-1 if colour else None)
    return np.clip(out, 0, 1).astype(np.float32).reshape(x.shape)


def bm3d(img: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """BM3D (the ``bm3d`` package; CBM3D for colour): the classical state of the art."""
    import bm3d as _bm3d

    x = np.asarray(img, np.float32)
    s = estimate_sigma(x) if sigma is None else float(sigma)
    s = max(s, 1e-3)
    h, w = x.shape[:2]
    # bm3d refuses images under its block size and, at 8×8, ends the process without a word
    # (bm3d 4.0.3's native code): smaller images are mirrored out to BM3D_MIN_SIDE and cut back
    pad = ((0, max(0, BM3D_MIN_SIDE - h)), (0, max(0, BM3D_MIN_SIDE - w))) + ((0, 0),) * (x.ndim - 2)
    xp = np.pad(x, pad, mode="symmetric") if any(p[1] for p in pad) else x
    if xp.ndim == 3 and xp.shape[-1] == 3:
        out = _bm3d.bm3d_rgb(xp, s)
    else:
        out = _bm3d.bm3d(xp.reshape(xp.shape[:2]), s).reshape(xp.shape)
    return np.clip(out[:h, :w], 0, 1).astype(np.float32)


BM3D_MIN_SIDE = 32


def bm3d_pixels(img: np.ndarray) -> int:
    """The pixels :func:`bm3d` works on (small sides mirrored out to ``BM3D_MIN_SIDE``): its cost."""
    return max(img.shape[0], BM3D_MIN_SIDE) * max(img.shape[1], BM3D_MIN_SIDE)


DIGIT_BASELINES: dict[str, Callable] = {
    "gaussian filter": gaussian_filter,
    "median filter": median_filter,
    "NL-means": nl_means,
}
PHOTO_BASELINES: dict[str, Callable] = {"BM3D": bm3d, "NL-means": nl_means}


def run_batch(fn: Callable, images: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """Apply a per-image baseline to a batch (N, H, W, C)."""
    return np.stack([fn(im, sigma) for im in images])
