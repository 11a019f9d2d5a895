"""Reading untrusted image files: every failure becomes an :class:`ImageError` with a
message a person can act on, and nothing huge is decoded.

Why here and not in the app: the command line reads files too, and the rules (size cap,
pixel cap checked from the header before decoding, EXIF rotation, transparency on white)
should be the same everywhere.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 20 * 1024 * 1024  # 20 MB upload cap
MAX_DECODE_PIXELS = 40_000_000  # refuse to decode more than this (decompression bombs)

Image.MAX_IMAGE_PIXELS = MAX_DECODE_PIXELS  # PIL's own guard, as a second line


class ImageError(ValueError):
    """An upload that cannot be used; the message says why."""


def read_image(source: str | os.PathLike | bytes, max_bytes: int = MAX_BYTES,
               max_pixels: int = MAX_DECODE_PIXELS, max_side: int | None = None) -> np.ndarray:
    """Decode an image file to float32 in [0, 1]: (H, W) for grey sources, (H, W, 3) otherwise.

    Transparency is composited on white (paper), EXIF orientation is applied, animations
    give their first frame, 16-bit images keep their range. The one decoding path for
    uploads, drawings and API files: size cap, then the header's pixel count, then decoding.

    ``max_side``: the caller needs no more than this many pixels a side (a digit becomes
    28×28), so the image is shrunk before it becomes float32: JPEGs decode at a reduced
    scale (Pillow's ``draft``, DCT scaling), others are reduced while still 8-bit. A 40 MP
    photo of a digit then costs tens of MB, not the 1 GB of its float32 copy.
    """
    data = _read_bytes(source, max_bytes)
    try:
        im = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError("this file is not an image we can read (PNG, JPEG, GIF, BMP, TIFF or WebP)") from None
    except Image.DecompressionBombError:  # PIL's own header check, past 2× its limit
        raise ImageError(f"image refused: too many pixels to decode safely (the limit is "
                         f"{max_pixels / 1e6:.0f} megapixels)") from None
    w, h = im.size
    if w * h > max_pixels:
        raise ImageError(f"image is {w}×{h} = {w * h / 1e6:.0f} megapixels; the limit is "
                         f"{max_pixels / 1e6:.0f} megapixels")
    if w < 1 or h < 1:
        raise ImageError(f"image has no pixels ({w}×{h})")
    try:
        im.seek(0)
        if max_side:
            im.draft(im.mode, (max_side, max_side))  # JPEG only; a no-op for other formats
        im.load()
        im = ImageOps.exif_transpose(im)
        if max_side and max(im.size) > max_side:
            im = _shrink(im, max_side)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise ImageError(f"the image file is truncated or corrupt ({e})") from None
    return to_float(im)


def _shrink(im: Image.Image, max_side: int) -> Image.Image:
    """Fit ``im`` in ``max_side``² keeping its aspect, in its own 8-bit (or 16-bit) mode; palette
    and odd modes are first converted to one that resamples (RGBA keeps the transparency)."""
    if im.mode not in ("1", "L", "LA", "RGB", "RGBA", "I", "I;16", "F"):
        im = im.convert("RGBA")
    elif im.mode == "1":
        im = im.convert("L")
    im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return im


def _read_bytes(source, max_bytes: int) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"no such file: {path.name}")
        size = path.stat().st_size
        if size > max_bytes:
            raise ImageError(f"file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
        data = path.read_bytes()
    if not data:
        raise ImageError("the file is empty (0 bytes)")
    if len(data) > max_bytes:
        raise ImageError(f"file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
    return data


def to_float(im: Image.Image) -> np.ndarray:
    """A decoded PIL image → float32 in [0, 1], grey (H, W) or RGB (H, W, 3)."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(im, np.float64)
        top = 65535.0 if (mode.startswith("I;16") or a.max() > 255) else 255.0
        return np.clip(a / top, 0, 1).astype(np.float32)
    if mode in ("P", "LA", "La", "PA", "RGBA", "RGBa"):  # may carry transparency: composite on paper
        paper = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(paper, im.convert("RGBA")).convert("RGB")
    if im.mode in ("1", "L"):
        return np.asarray(im.convert("L"), np.float32) / 255.0
    rgb = np.asarray(im.convert("RGB"), np.float32) / 255.0
    if np.allclose(rgb[..., 0], rgb[..., 1]) and np.allclose(rgb[..., 1], rgb[..., 2]):
        return rgb[..., 0].copy()
    return rgb


def as_batch(images) -> tuple[np.ndarray, tuple[int, ...]]:
    """Validate and view input as a float32 (N, H, W, C) batch; return it and the original shape.

    The contract every denoiser shares: finite floats shaped (H, W), (H, W, C) or
    (N, H, W, C); values outside [0, 1] are fine (unclipped noise is a preset).
    """
    try:
        x = np.asarray(images, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError(f"images must be a numeric array: {e}") from None
    shape = x.shape
    if x.ndim == 2:
        x = x[None, :, :, None]
    elif x.ndim == 3:
        x = x[None]
    elif x.ndim != 4:
        raise ValueError(f"images must be shaped (H, W), (H, W, C) or (N, H, W, C); got {shape}")
    if x.size == 0:
        raise ValueError(f"images is empty (shape {shape})")
    if not np.isfinite(x).all():
        raise ValueError("images contain NaN or infinity")
    return x, shape


def fit_pixels(image: np.ndarray, max_pixels: int) -> tuple[np.ndarray, bool]:
    """Downscale (keeping aspect) so the image has at most ``max_pixels``; say whether it did."""
    h, w = image.shape[:2]
    if h * w <= max_pixels:
        return image, False
    scale = (max_pixels / (h * w)) ** 0.5
    size = (max(1, int(w * scale)), max(1, int(h * scale)))
    chans = [np.asarray(Image.fromarray(c).resize(size, Image.Resampling.LANCZOS))
             for c in np.moveaxis(np.atleast_3d(image), -1, 0)]
    out = np.stack(chans, -1) if image.ndim == 3 else chans[0]
    return np.clip(out, 0, 1).astype(np.float32), True


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] (values beyond are clipped) → uint8 for display and saving."""
    return (np.clip(np.asarray(image, np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)


def save_image(image: np.ndarray, path: str | os.PathLike) -> None:
    Image.fromarray(to_uint8(np.squeeze(image))).save(path)
