"""Corruptions: the statistics they promise, determinism, and the tutorials' presets."""
import numpy as np
import pytest

from dae import corrupt

ZEROS = np.zeros((64, 64, 64, 1), np.float32)
HALF = np.full((64, 64, 64, 1), 0.5, np.float32)


def test_gaussian_statistics_unclipped():
    x = corrupt.apply(ZEROS, corrupt.gaussian(0.3, clip=False, mean=0.2), seed=1)
    assert abs(x.mean() - 0.2) < 0.005 and abs(x.std() - 0.3) < 0.005


def test_clipping_bounds_and_unclipped_exceeds():
    assert corrupt.apply(HALF, corrupt.gaussian(1.0), seed=0).min() >= 0
    assert corrupt.apply(HALF, corrupt.gaussian(1.0), seed=0).max() <= 1
    raw = corrupt.apply(HALF, corrupt.gaussian(1.0, clip=False), seed=0)
    assert raw.min() < -1 and raw.max() > 2


def test_uniform_range_and_spread():
    x = corrupt.apply(ZEROS, corrupt.Corruption("uniform", radius=0.4, clip=False), seed=2) 
    assert -0.4 <= x.min() < -0.39 and 0.39 < x.max() <= 0.4
    assert abs(x.std() - 0.4 / np.sqrt(3)) < 0.005


def test_salt_and_pepper_fraction():
    x = corrupt.apply(HALF, corrupt.Corruption("salt-pepper", amount=0.2), seed=3)
    hit = (x == 0) | (x == 1)
    assert abs(hit.mean() - 0.2) < 0.01
    assert abs((x == 1).mean() - (x == 0).mean()) < 0.01


def test_blur_then_noise_order():
    img = np.zeros((28, 28), np.float32)
    img[14, 14] = 1
    blurred = corrupt.apply(img, corrupt.Corruption("none", blur=1.0), seed=0)
    assert blurred.max() < 0.2 and abs(blurred.sum() - 1) < 1e-3
    both = corrupt.apply(img, corrupt.gaussian(0.1, clip=False, blur=1.0), seed=0)
    assert abs((both - blurred).std() - 0.1) < 0.02


def test_deterministic_for_a_seed_and_shape_kept():
    c = corrupt.gaussian(0.5)
    for shape in [(28, 28), (28, 28, 1), (5, 28, 28, 1), (9, 13, 3)]:
        x = np.random.default_rng(0).random(shape).astype(np.float32)
        a, b = corrupt.apply(x, c, seed=7), corrupt.apply(x, c, seed=7)
        assert a.shape == shape and np.array_equal(a, b)
        assert not np.array_equal(a, corrupt.apply(x, c, seed=8))


def test_presets_reproduce_the_tutorials():
    assert corrupt.preset("feed-forward notebook") == corrupt.gaussian(0.55, clip=False)
    assert corrupt.preset("conv-latent article") == corrupt.gaussian(0.5, clip=True, mean=0.5)
    assert corrupt.preset("Keras example") == corrupt.gaussian(0.4)
    assert corrupt.preset("CIFAR article") == corrupt.gaussian(0.1)
    draws = [corrupt.preset("blur post", seed=s) for s in range(200)]
    assert all(d.noise == "uniform" and 0 <= d.blur <= 2 and 0.01 <= d.radius <= 1.5 for d in draws)
    assert corrupt.preset("blur post", seed=4) == corrupt.preset("blur post", seed=4)


def test_controls_round_trip():
    for name in corrupt.PRESETS:
        c = corrupt.preset(name, seed=1)
        again = corrupt.from_controls(*corrupt.controls(c))
        assert again.noise == c.noise and again.clip == c.clip and abs(again.blur - c.blur) < 1e-3


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="noise kind"):
        corrupt.Corruption("poisson")
    with pytest.raises(ValueError, match="sigma"):
        corrupt.gaussian(-1)
    with pytest.raises(ValueError, match="amount"):
        corrupt.Corruption("salt-pepper", amount=2)


def test_training_distribution_covers_the_controls():
    x = np.random.default_rng(0).random((4096, 28, 28, 1)).astype(np.float32)
    y = corrupt.sample_training(x, np.random.default_rng(0))
    assert y.shape == x.shape and np.isfinite(y).all()
    assert y.min() < -0.5 and y.max() > 1.5  # some unclipped, some strong


def test_focus_mixes_in_the_apps_default_noise_and_keeps_the_rest():
    """focus=1: every digit gets clipped Gaussian (in [0, 1], mean residual ~0 on mid-grey);
    focus=0.5: the other kinds are still there (unclipped values), deterministic per seed."""
    x = np.full((4096, 28, 28, 1), 0.5, np.float32)
    only = corrupt.sample_training(x, np.random.default_rng(0), focus=1.0)
    assert only.min() >= 0 and only.max() <= 1
    assert abs(float(only.mean()) - 0.5) < 0.01  # no mean shifts, no salt-and-pepper bias
    half = corrupt.sample_training(x, np.random.default_rng(0), focus=0.5)
    assert half.min() < -0.5 and half.max() > 1.5
    np.testing.assert_array_equal(half, corrupt.sample_training(x, np.random.default_rng(0), focus=0.5))
    assert "clipped" in corrupt.training_distribution(0.5) and corrupt.training_distribution(0) == corrupt.TRAINING_DISTRIBUTION


def test_sigma_hint_is_the_gaussian_sigma_only():
    """What the app and the benchmarks tell the baselines and the photo model."""
    assert corrupt.gaussian(0.3, blur=1.0, mean=0.2, clip=False).sigma_hint == 0.3
    assert corrupt.gaussian(0.0).sigma_hint is None
    assert corrupt.from_controls("uniform", 0.5).sigma_hint is None
    assert corrupt.from_controls("salt-pepper", 0.2).sigma_hint is None
