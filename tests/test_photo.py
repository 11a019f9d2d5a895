"""The photo model: any size, grey/RGB/RGBA, tiling without seams, a real PSNR gain."""
import numpy as np
import pytest

import dae
from dae import corrupt, data, metrics


@pytest.fixture(scope="module")
def photo():
    return dae.load("photo")


@pytest.mark.parametrize("shape", [(1, 1), (1, 57), (57, 1), (3, 500), (31, 17, 3), (33, 35, 4), (20, 21, 1), (2, 9, 10, 3)])
def test_any_size_and_channel_count(photo, shape):
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    y = photo.denoise(x, sigma=0.1)
    assert y.shape == shape and y.dtype == np.float32 and 0 <= y.min() and y.max() <= 1


def test_alpha_is_kept(photo):
    x = np.random.default_rng(0).random((16, 16, 4)).astype(np.float32)
    assert np.array_equal(photo.denoise(x, sigma=0.1)[..., 3], x[..., 3])


def test_tiled_equals_whole_image(photo):
    img = data.sample_photo("astronaut")[:300, :260]
    noisy = corrupt.apply(img, corrupt.gaussian(0.1, clip=False), seed=0)
    whole = photo._whole(noisy, 0.1)
    tiled = photo._tiled(noisy, 0.1, tile=128)  # many tiles, many seams
    assert np.abs(whole - tiled).max() < 0.01
    assert metrics.psnr(whole, tiled) > 50


def test_tiles_only_what_does_not_fit(photo, monkeypatch):
    pieces = []
    run = photo._whole
    monkeypatch.setattr(photo, "_whole", lambda rgb, s: pieces.append(rgb.shape[:2]) or run(rgb, s))
    photo._tiled(np.zeros((128, 128, 3), np.float32), 0.1, tile=128)
    assert pieces == [(128, 128)]  # fits: one pass, no margins to pay for
    pieces.clear()
    photo._tiled(np.zeros((129, 128, 3), np.float32), 0.1, tile=128)
    assert len(pieces) > 1 and max(max(p) for p in pieces) <= 128  # bounded pieces


def test_psnr_gain_on_a_bundled_photo(photo):
    img = data.sample_photo("coffee")
    noisy = corrupt.apply(img, corrupt.gaussian(25 / 255, clip=False), seed=0)
    assert metrics.psnr(img, photo.denoise(noisy, sigma=25 / 255)) > metrics.psnr(img, noisy) + 7
    # and blind, estimating σ itself
    assert metrics.psnr(img, photo.denoise(noisy)) > metrics.psnr(img, noisy) + 6


def test_greyscale_photo(photo):
    img = data.sample_photo("camera")
    noisy = corrupt.apply(img, corrupt.gaussian(25 / 255, clip=False), seed=0)
    out = photo.denoise(noisy, sigma=25 / 255)
    assert out.shape == img.shape and metrics.psnr(img, out) > metrics.psnr(img, noisy) + 7


def test_traces_stay_bounded_across_sizes(photo):
    before = photo.tracing_count
    for shape in [(40, 40, 3), (64, 100, 3), (13, 7), (700, 90, 3)]:
        photo.denoise(np.zeros(shape, np.float32), sigma=0.05)
    assert photo.tracing_count - before <= 1


def test_bad_photo_inputs(photo):
    with pytest.raises(ValueError, match="channels"):
        photo.denoise(np.zeros((8, 8, 2)))
    with pytest.raises(ValueError, match="sigma"):
        photo.denoise(np.zeros((8, 8, 3)), sigma=float("nan"))


@pytest.mark.parametrize("shape", [(1, 1), (2, 300), (8, 8), (8, 8, 3), (20, 40, 3)])
def test_bm3d_answers_on_images_smaller_than_its_blocks(shape):
    """bm3d refuses images under its block size and ended the whole process at 8×8: padded."""
    from dae.baselines import bm3d

    x = np.random.default_rng(0).random(shape).astype(np.float32)
    assert bm3d(x, 0.1).shape == shape


def test_bm3d_is_skipped_on_photos_it_cannot_finish_in_time():
    from dae import corrupt, service

    lab = service.Lab()
    big = np.random.default_rng(0).random((200, 200, 3)).astype(np.float32)
    r = lab.photo(big, corrupt.gaussian(0.1, clip=False), 0, ["BM3D", "NL-means"])
    assert [p.name for p in r.panels] == ["photo", "NL-means"] and "BM3D was skipped" in r.notice
    small = big[:100, :100]
    r = lab.photo(small, corrupt.gaussian(0.1, clip=False), 0, ["BM3D"])
    assert [p.name for p in r.panels] == ["photo", "BM3D"] and not r.notice
