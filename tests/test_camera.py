"""The simulated camera (dae.camera) and the blind real-noise model it trains (photo-real)."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from dae import camera, metrics
from tests.conftest import ROOT

CC15 = ROOT.parent / "shared" / "data" / "real-noise" / "cc15"


def _ramp(h: int = 64, w: int = 256) -> np.ndarray:
    """A smooth left-to-right ramp from black to white, the same in R, G, B."""
    return np.repeat(np.tile(np.linspace(0.02, 0.98, w), (h, 1))[..., None], 3, -1)


def test_noise_grows_with_the_signal():
    """Shot noise: the variance of noisy − clean rises with brightness (a positive slope)."""
    cam = camera.Camera(shot=2e-3, read=1e-6, saturation=0.0, jpeg_quality=None)
    noisy, clean = camera.apply(_ramp(), cam, np.random.default_rng(0))
    err = (noisy - clean).mean(-1)
    cols = np.array_split(np.arange(err.shape[1]), 8)
    var = np.array([err[:, c].var() for c in cols])
    level = np.array([clean[:, c].mean() for c in cols])
    assert np.polyfit(level[:5], var[:5], 1)[0] > 0  # the tone curve flattens the top, so the lower part


def test_noise_is_correlated_between_neighbouring_pixels():
    """Demosaicing spreads each sample's noise to its neighbours; white noise has none."""
    flat = np.full((96, 96, 3), 0.4)
    noisy, clean = camera.apply(flat, camera.Camera(shot=2e-3, read=1e-5, jpeg_quality=None),
                                np.random.default_rng(1))
    r = _lag1((noisy - clean)[..., 1])
    assert r > 0.2, r
    white = np.random.default_rng(2).standard_normal((96, 96))
    assert abs((white[:, :-1] * white[:, 1:]).mean() / white.var()) < 0.05


def _lag1(e: np.ndarray) -> float:
    e = e - e.mean()
    return float((e[:, :-1] * e[:, 1:]).mean() / e.var())


def test_in_camera_noise_reduction_makes_the_noise_blotchy_and_keeps_its_share():
    """Smoothing the noise raises its correlation between neighbours (well past demosaicing's),
    leaves the scene alone, and keeps the share of the noise's RMS the camera says."""
    flat = np.full((96, 96, 3), 0.4)
    plain = camera.Camera(shot=2e-3, read=1e-5, jpeg_quality=None)
    smooth = camera.Camera(shot=2e-3, read=1e-5, jpeg_quality=None, nr_luma=1.0, nr_chroma=2.0,
                           keep_luma=0.7, keep_chroma=0.7)
    n0, c0 = camera.apply(flat, plain, np.random.default_rng(1))
    n1, c1 = camera.apply(flat, smooth, np.random.default_rng(1))
    assert np.array_equal(c0, c1)
    r0, r1 = _lag1((n0 - c0)[..., 1]), _lag1((n1 - c1)[..., 1])
    assert r1 > r0 + 0.3, (r0, r1)
    assert 0.6 < (n1 - c1).std() / (n0 - c0).std() < 0.8


def test_a_jpeg_reference_keeps_the_files_chroma_subsampling():
    """Without sensor noise, a high-quality JPEG shot is within rounding of its reference:
    the reference holds the subsampling the file has (a mean of many shots keeps it)."""
    img = ndimage.gaussian_filter(np.random.default_rng(4).random((64, 64, 3)), (1, 1, 0))
    noisy, clean = camera.apply(img, camera.Camera(shot=0.0, read=0.0, jpeg_quality=98), np.random.default_rng(0))
    assert metrics.psnr(clean, noisy) > 40
    assert metrics.psnr(camera.apply(img, camera.Camera(shot=0.0, read=0.0), np.random.default_rng(0))[1], noisy) < \
        metrics.psnr(clean, noisy)


def test_reproducible_from_a_seed_and_in_range():
    img = np.random.default_rng(3).random((40, 40, 3))
    a, ca, cam_a = camera.photograph(img, seed=7)
    b, cb, cam_b = camera.photograph(img, seed=7)
    c, _, _ = camera.photograph(img, seed=8)
    assert cam_a == cam_b and np.array_equal(a, b) and np.array_equal(ca, cb) and not np.array_equal(a, c)
    for x in (a, ca, c):
        assert x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
    assert np.allclose(a * 255, np.round(a * 255), atol=1e-4)  # saved as 8 bits, like a file


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="shot"):
        camera.Camera(shot=-1, read=0)
    with pytest.raises(ValueError, match="jpeg_quality"):
        camera.Camera(shot=1e-3, read=0, jpeg_quality=101)
    with pytest.raises(ValueError, match="RGB"):
        camera.apply(np.zeros((8, 8)), camera.Camera(shot=1e-3, read=0), np.random.default_rng(0))


def _weights():
    from dae.inference import WEIGHTS_DIR

    if not (WEIGHTS_DIR / "photo-real.keras").is_file():
        pytest.fail("weights/photo-real.keras is not shipped")
    import dae

    return dae.load("photo-real")


@pytest.mark.skipif(not CC15.is_dir(), reason="../shared/data/real-noise/cc15 is absent (validation data, not shipped)")
def test_real_noise_model_brings_three_cc15_shots_closer_to_their_reference():
    """On real camera noise the blind model's output is closer to the mean-of-500-shots
    reference than the shot itself; validation only, never trained or tuned on."""
    den = _weights()
    for name in ("5dmark3_iso3200_1", "d600_iso3200_2", "d800_iso6400_1"):
        shot = np.asarray(Image.open(CC15 / f"{name}_real.png"), np.float32)[:256, :256] / 255
        ref = np.asarray(Image.open(CC15 / f"{name}_mean.png"), np.float32)[:256, :256] / 255
        out, noise_map = den.denoise_with_map(shot)
        assert metrics.psnr(ref, out) > metrics.psnr(ref, shot) + 0.3, name
        assert noise_map.shape == shot.shape[:2] and noise_map.max() > 0


def test_noise_map_follows_where_the_noise_is():
    """The estimator's map is higher where more noise was added (left half σ 5, right σ 20)."""
    den = _weights()
    clean = ndimage.gaussian_filter(np.random.default_rng(4).random((96, 96, 3)), (3, 3, 0))
    sigma = np.where(np.arange(96) < 48, 5 / 255, 20 / 255)[None, :, None]
    noisy = clean + np.random.default_rng(5).standard_normal(clean.shape) * sigma
    _, m = den.denoise_with_map(noisy.astype(np.float32))
    assert m[:, 56:].mean() > 1.5 * m[:, :40].mean()
