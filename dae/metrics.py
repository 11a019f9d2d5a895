"""Image quality metrics: scikit-image's PSNR and SSIM with a fixed data range of 1."""
from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def _pair(clean, test) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(clean, np.float64), np.asarray(test, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return np.squeeze(a), np.squeeze(b)


def psnr(clean, test) -> float:
    """PSNR in dB of one image (any shape); identical images give +inf (without the
    divide-by-zero warning scikit-image raises on the way: +inf is the right answer)."""
    a, b = _pair(clean, test)
    with np.errstate(divide="ignore"):
        return float(peak_signal_noise_ratio(a, b, data_range=1.0))


def ssim(clean, test) -> float:
    """SSIM of one image; colour when the last axis has 3 channels."""
    a, b = _pair(clean, test)
    colour = a.ndim == 3 and a.shape[-1] in (3, 4)
    spatial = a.shape[:2] if a.ndim >= 2 else ()
    if len(spatial) < 2 or min(spatial) < 3:  # SSIM needs at least a 3×3 window
        return float("nan")
    win = min(7, *(d if d % 2 else d - 1 for d in spatial))
    return float(structural_similarity(a, b, data_range=1.0, channel_axis=-1 if colour else None, win_size=win))


def mean_psnr(clean: np.ndarray, test: np.ndarray) -> float:
    """PSNR averaged per image over a batch (N, ...), the literature's convention."""
    return float(np.mean([psnr(c, t) for c, t in zip(clean, test)]))


def mean_ssim(clean: np.ndarray, test: np.ndarray) -> float:
    return float(np.mean([ssim(c, t) for c, t in zip(clean, test)]))


def error_map(clean, test) -> np.ndarray:
    """|test − clean| per pixel (float32, same shape): where a denoiser failed. For colour
    images the channels are averaged, so the map is one plane either way."""
    a, b = _pair(clean, test)
    err = np.abs(b - a).astype(np.float32)
    return err.mean(axis=-1) if err.ndim == 3 else err
