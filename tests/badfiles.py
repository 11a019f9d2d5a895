"""Every kind of awkward upload a public Space gets, as bytes, with what should happen.

``expect`` is a regex the error must match, or None where a sensible result is expected.
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    b = io.BytesIO()
    img.save(b, format=fmt, **kw)
    return b.getvalue()


def bomb_png(w: int, h: int) -> bytes:
    """A valid PNG header claiming w×h pixels, with a tiny compressed body (a few KB)."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    comp = zlib.compressobj(9)
    body = comp.compress((b"\x00" * (w // 8 + 2)) * 64) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def _noise_rgb(n: int = 200) -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 255, (n, n, 3), np.uint8))


def _rgba() -> bytes:
    a = np.zeros((40, 40, 4), np.uint8)
    a[10:30, 18:22] = (0, 0, 0, 255)  # an opaque black stroke on a transparent canvas
    return encode(Image.fromarray(a, "RGBA"))


def _palette() -> bytes:
    p = Image.new("P", (8, 8))
    p.putpalette([255, 0, 0] + [0, 0, 255] * 255)
    return encode(p)


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(Image.new("RGB", (40, 20), "white"), "JPEG", exif=exif.tobytes())


def _gif() -> bytes:
    frames = [Image.new("L", (8, 8), v) for v in (0, 255)]
    b = io.BytesIO()
    frames[0].save(b, format="GIF", save_all=True, append_images=frames[1:])
    return b.getvalue()


def catalogue() -> dict[str, tuple[str, bytes, str | None]]:
    """name → (file suffix, bytes, expected error regex or None)."""
    png, jpg = encode(_noise_rgb()), encode(_noise_rgb(), "JPEG")
    return {
        "text renamed .png": (".png", b"definitely not an image\n", "not an image"),
        "0-byte file": (".png", b"", "empty"),
        "truncated PNG": (".png", png[: len(png) // 2], "truncated or corrupt|not an image"),
        "truncated JPEG": (".jpg", jpg[: len(jpg) // 2], "truncated or corrupt|not an image"),
        "1×1": (".png", encode(Image.new("L", (1, 1), 200)), None),
        "2×3000": (".png", encode(Image.new("RGB", (2, 3000), (10, 200, 30))), None),
        "16-bit PNG": (".png", encode(Image.fromarray(np.linspace(0, 65535, 4096).astype(np.uint16).reshape(64, 64))), None),
        "RGBA with transparency": (".png", _rgba(), None),
        "palette PNG": (".png", _palette(), None),
        "CMYK JPEG": (".jpg", encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG"), None),
        "EXIF-rotated JPEG": (".jpg", _exif_rotated(), None),
        "animated GIF": (".gif", _gif(), None),
        "all black": (".png", encode(Image.new("L", (50, 50), 0)), None),
        "all white": (".png", encode(Image.new("L", (50, 50), 255)), None),
        "decompression bomb 30000×30000": (".png", bomb_png(30000, 30000), "megapixels"),
    }
