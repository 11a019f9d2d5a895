"""MNIST-style preprocessing, so that an uploaded photo of a handwritten digit or a
mouse drawing looks like the digits the models were trained on.

MNIST's own recipe: white ink on black, the digit scaled to fit a 20×20 box keeping its
aspect ratio, then placed in 28×28 so that its centre of mass is at the centre.
"""
from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage


def to_grey(image: np.ndarray) -> np.ndarray:
    """Float greyscale (H, W) in [0, 1] from (H, W), (H, W, 1), RGB or RGBA floats."""
    x = np.asarray(image, np.float32)
    if x.ndim == 3:
        if x.shape[-1] == 4:  # composite on white: a transparent canvas is paper
            a = x[..., 3:]
            x = x[..., :3] * a + (1.0 - a)
        x = x[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32) if x.shape[-1] >= 3 else x[..., 0]
    return x


def mnist_style(image: np.ndarray) -> np.ndarray:
    """Any image of one digit → float32 (28, 28) in [0, 1], white ink on black.

    Inverts when the ink is darker than the paper (judged by the border, which is paper),
    crops to the ink, fits it in 20×20 and centres it by centre of mass. A blank image
    comes back blank rather than failing.
    """
    g = to_grey(image)
    if g.ndim != 2 or min(g.shape) < 1:
        raise ValueError(f"expected one image, got shape {np.shape(image)}")
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    if np.median(border) > 0.5:
        g = 1.0 - g
    paper = np.median(np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]]))
    if g.max() - paper < 0.05:  # nothing darker or lighter than the paper: blank
        return np.zeros((28, 28), np.float32)
    g = np.clip((g - paper) / (g.max() - paper), 0.0, 1.0)  # paper to 0, strongest ink to 1, as in MNIST
    ink = g > 0.2
    if not ink.any():
        return np.zeros((28, 28), np.float32)
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    g = g[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = g.shape
    scale = 20.0 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    g = np.asarray(Image.fromarray(g).resize(size, Image.Resampling.LANCZOS), np.float32).clip(0, 1)
    out = np.zeros((28, 28), np.float32)
    top, left = (28 - g.shape[0]) // 2, (28 - g.shape[1]) // 2
    out[top:top + g.shape[0], left:left + g.shape[1]] = g
    cy, cx = ndimage.center_of_mass(out)
    shifted = ndimage.shift(out, (round(13.5 - cy), round(13.5 - cx)), order=0, mode="constant")
    return np.clip(shifted, 0.0, 1.0).astype(np.float32)
