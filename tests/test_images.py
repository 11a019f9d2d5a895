"""Untrusted uploads: each bad file gets a clear ImageError or a sensible image.
Also MNIST-style preprocessing of photos and drawings."""
import io

import numpy as np
import pytest
from PIL import Image

from dae import images
from dae.images import ImageError, read_image
from dae.preprocess import mnist_style
from tests.badfiles import bomb_png, encode


def png_bytes(img: Image.Image, **kw) -> bytes:
    return encode(img, kw.pop("format", "PNG"), **kw)


def test_text_file_renamed_png(tmp_path):
    p = tmp_path / "x.png"
    p.write_text("definitely not an image")
    with pytest.raises(ImageError, match="not an image"):
        read_image(p)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        read_image(p)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files(fmt):
    data = png_bytes(Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), np.uint8)), format=fmt)
    with pytest.raises(ImageError, match="truncated or corrupt|not an image"):
        read_image(data[: len(data) // 2])


def test_tiny_and_extreme_aspect_images():
    assert read_image(png_bytes(Image.new("L", (1, 1), 200))).shape == (1, 1)
    tall = read_image(png_bytes(Image.new("RGB", (2, 3000), (10, 200, 30))))
    assert tall.shape == (3000, 2, 3)


def test_sixteen_bit_png_keeps_its_range():
    a = np.linspace(0, 65535, 64 * 64).astype(np.uint16).reshape(64, 64)
    x = read_image(png_bytes(Image.fromarray(a)))
    assert x.shape == (64, 64) and x.min() == 0 and abs(x.max() - 1) < 1e-6


def test_rgba_transparency_composited_on_white():
    a = np.zeros((10, 10, 4), np.uint8)
    a[..., 3] = 0  # fully transparent black
    a[5, 5] = (0, 0, 0, 255)  # one opaque black pixel
    x = read_image(png_bytes(Image.fromarray(a, "RGBA")))
    assert x.ndim == 2 and x[0, 0] == 1.0 and x[5, 5] == 0.0


def test_palette_png():
    p = Image.new("P", (8, 8))
    p.putpalette([255, 0, 0] + [0, 0, 255] * 255)
    x = read_image(png_bytes(p))
    assert x.shape == (8, 8, 3) and np.allclose(x[0, 0], (1, 0, 0))


def test_cmyk_jpeg():
    x = read_image(png_bytes(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), format="JPEG"))
    assert x.shape == (16, 16, 3) and x[..., 0].mean() > 0.8 and x[..., 1].mean() < 0.2


def test_exif_rotation_is_respected():
    img = Image.new("RGB", (40, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    x = read_image(png_bytes(img, format="JPEG", exif=exif.tobytes()))
    assert x.shape[:2] == (40, 20)


def test_animated_gif_gives_first_frame():
    frames = [Image.new("L", (8, 8), v) for v in (0, 255)]
    b = io.BytesIO()
    frames[0].save(b, format="GIF", save_all=True, append_images=frames[1:])
    assert read_image(b.getvalue()).max() == 0


def test_all_black_and_all_white_come_back_blank_digits():
    for v in (0, 255):
        digit = mnist_style(read_image(png_bytes(Image.new("L", (50, 50), v))))
        assert digit.shape == (28, 28) and digit.max() == 0


def test_decompression_bomb_refused_before_decoding():
    data = bomb_png(30000, 30000)
    assert len(data) < 20_000
    with pytest.raises(ImageError, match="megapixels"):
        read_image(data)


def test_file_over_the_size_cap(tmp_path):
    p = tmp_path / "big.png"
    p.write_bytes(b"\0" * 2048)
    with pytest.raises(ImageError, match="limit"):
        read_image(p, max_bytes=1024)


def test_fit_pixels_downscales_keeping_aspect():
    x, scaled = images.fit_pixels(np.zeros((2000, 1000, 3), np.float32), 500_000)
    assert scaled and x.shape[2] == 3 and x.shape[0] * x.shape[1] <= 500_000
    assert abs(x.shape[0] / x.shape[1] - 2) < 0.01


def test_mnist_style_phone_photo_of_a_digit():
    """Dark ink on light, off-centre, large: comes out white-on-black, 20×20, centred."""
    paper = np.full((300, 400), 0.85, np.float32)
    paper[40:200, 250:290] = 0.1  # a thick "1", far from the centre
    d = mnist_style(paper)
    assert d.shape == (28, 28) and d.max() > 0.9 and d[0].max() == 0
    rows, cols = np.nonzero(d > 0.5)
    assert rows.max() - rows.min() + 1 <= 21
    cy, cx = (d * np.arange(28)[:, None]).sum() / d.sum(), (d * np.arange(28)).sum() / d.sum()
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1


def test_mnist_style_keeps_gallery_digits_alike():
    from dae import data, metrics
    x = data.heldout_digits(2)[..., 0]
    assert np.mean([metrics.psnr(d, mnist_style(d)) for d in x]) > 15
