"""Every registered model builds, loads its shipped weights, and really denoises."""
import shutil

import numpy as np
import pytest

import dae
from dae import corrupt, data, metrics, models
from dae.export import _shipped_lite
from dae.inference import WEIGHTS_DIR
from dae.registry import MODELS, digit_models


@pytest.mark.parametrize("name", list(MODELS))
def test_builds_with_the_right_shape(name):
    m = MODELS[name].build()
    if MODELS[name].kind == "digit":
        assert m.output_shape == (None, 28, 28, 1)
    elif MODELS[name].real_noise:  # blind: RGB in; the clean photo and its noise map out
        out = m(np.zeros((1, 20, 24, 3), np.float32))
        assert out["clean"].shape == (1, 20, 24, 3) and out["noise_map"].shape == (1, 20, 24, 1)
    else:
        assert m(np.zeros((1, 20, 24, 4), np.float32)).shape == (1, 20, 24, 3)


@pytest.mark.parametrize("name", digit_models())
def test_digit_model_raises_psnr_on_held_out_digits(name, digits):
    noisy = corrupt.apply(digits, corrupt.gaussian(0.5), seed=0)
    out = dae.load(name).denoise(noisy)
    assert out.shape == digits.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    before, after = metrics.mean_psnr(digits, noisy), metrics.mean_psnr(digits, out)
    assert after > before + 5, (name, before, after)


@pytest.mark.parametrize("name, floors", [
    # regression floors just under the shipped figures at σ 0.25 / 0.5 / 1.0 (unet: 25.07 /
    # 20.87 / 16.14 dB on README's 1,000 digits; unet-wide: 25.48 / 21.26 / 16.56 there)
    ("unet", (24.5, 20.3, 15.6)),
    ("unet-wide", (25.0, 20.9, 16.2)),
])
def test_quality_floor(name, floors, digits):
    """Raise these when a better model ships. The issue's targets for the best model
    (26 / 21.5 / 16.5 dB on 1,000 digits) are met at σ 1.0 only; README says by how much."""
    model = dae.load(name)

    def score(c):
        return metrics.mean_psnr(digits, model.denoise(corrupt.apply(digits, c, seed=0)))
    for sigma, floor in zip((0.25, 0.5, 1.0), floors):
        assert score(corrupt.gaussian(sigma)) >= floor, (name, sigma)
    assert score(corrupt.preset("conv-latent article")) >= 15


def test_denoise_accepts_every_documented_shape():
    d = dae.load("dense")
    x = data.heldout_digits(1)
    assert d.denoise(x[0, ..., 0]).shape == (28, 28)
    assert d.denoise(x[0]).shape == (28, 28, 1)
    assert d.denoise(x).shape == x.shape
    assert d.denoise(x[0] * 3 - 1).max() <= 1  # values outside [0, 1] are allowed in


@pytest.mark.parametrize("bad, match", [
    (np.zeros((0, 28, 28, 1)), "empty"),
    (np.full((28, 28), np.nan), "NaN"),
    (np.full((28, 28), np.inf), "NaN or inf"),
    (np.zeros((32, 32)), "28×28"),
    (np.zeros((28, 28, 3)), "28×28"),
    (np.zeros((1, 1, 28, 28, 1)), "shaped"),
    ("not an image", "numeric"),
])
def test_bad_inputs_raise_clear_value_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        dae.load("unet").denoise(bad)


@pytest.mark.parametrize("name", ["unet", "photo"])
@pytest.mark.parametrize("sigma", [-0.1, float("nan"), float("inf")])
def test_a_bad_sigma_hint_is_refused_by_every_kind_of_model(name, sigma):
    """The digit models ignore the hint, but a nonsense one is still the caller's bug."""
    with pytest.raises(ValueError, match="sigma must be a finite number"):
        dae.load(name).denoise(np.zeros((28, 28), np.float32), sigma=sigma)


def test_latent_code_for_bottleneck_models():
    x = data.heldout_digits(1)
    assert dae.load("dense").encode(x).shape == (10, 32)
    assert dae.load("conv-latent").encode(x).shape == (10, 16)
    with pytest.raises(ValueError, match="no bottleneck"):
        dae.load("unet").encode(x)


def test_loading_is_cached_and_any_batch_size_gives_the_same_answer(digits):
    a, b = dae.load("unet"), dae.load("unet")
    assert a is b
    noisy = corrupt.apply(digits[:17], corrupt.gaussian(0.5), seed=3)
    whole = a.denoise(noisy)
    for n in (1, 3):
        np.testing.assert_array_equal(np.concatenate([a.denoise(noisy[i:i + n]) for i in range(0, 17, n)]), whole)


@pytest.mark.parametrize("name", digit_models())
def test_shipped_tflite_is_current_and_matches_the_float_model(name, digits):
    """The app runs weights/<name>.tflite (int8 weights): it must come from the shipped .keras
    and denoise as well as the float Keras model, to a hundredth of a dB."""
    assert _shipped_lite(name, WEIGHTS_DIR) is not None, f"run `python -m dae export --model {name}`"
    d = dae.load(name)
    noisy = corrupt.apply(digits, corrupt.gaussian(0.5), seed=4)
    float_out = np.clip(d.model(noisy, training=False).numpy(), 0, 1)
    assert abs(metrics.mean_psnr(digits, d.denoise(noisy)) - metrics.mean_psnr(digits, float_out)) < 0.01


def test_a_stale_export_is_not_used(tmp_path, digits):
    """Retrained weights beside an old export: the export is ignored and the new weights run."""
    shutil.copy(WEIGHTS_DIR / "conv-pool.keras", tmp_path / "unet.keras")  # "retrained"
    for f in ("unet.json", "unet.tflite"):  # what the old unet left behind
        shutil.copy(WEIGHTS_DIR / f, tmp_path / f)
    assert _shipped_lite("unet", tmp_path) is None
    np.testing.assert_array_equal(dae.load("unet", tmp_path).denoise(digits), dae.load("conv-pool").denoise(digits))


def test_unknown_model_and_missing_weights(tmp_path):
    with pytest.raises(ValueError, match="unknown model"):
        dae.load("nope")
    with pytest.raises(dae.WeightsUnavailable, match="python train.py --model unet"):
        dae.load("unet", tmp_path)
    (tmp_path / "unet.keras").write_bytes(b"not a zip")
    with pytest.raises(dae.WeightsUnavailable, match="could not be read"):
        dae.load("unet", tmp_path)


def test_unclipped_and_mean_shifted_presets_still_help(digits):
    unet = dae.load("unet")
    for name in ("feed-forward notebook", "conv-latent article", "blur post"):
        noisy = corrupt.apply(digits, corrupt.preset(name), seed=1)
        assert metrics.mean_psnr(digits, unet.denoise(noisy)) > metrics.mean_psnr(digits, noisy) + 3, name


def test_conv_pool_did_not_collapse(digits):
    out = dae.load("conv-pool").denoise(corrupt.apply(digits, corrupt.gaussian(0.3), seed=0))
    assert out.std(axis=0).mean() > 0.1  # outputs differ from digit to digit


@pytest.mark.parametrize("name", list(MODELS))
def test_folded_inference_copy_matches_the_saved_model(name):
    """dae.inference runs a BatchNorm-folded copy; it must compute what the .keras file does."""
    from dae.fold import fold_batchnorm

    model = dae.load(name).model
    folded = fold_batchnorm(model)
    n_bn = sum(type(l).__name__ == "BatchNormalization" for l in model.layers)
    assert sum(type(l).__name__ == "BatchNormalization" for l in folded.layers) == 0
    assert n_bn == 0 or folded is not model
    shape = (8, 28, 28, 1) if MODELS[name].kind == "digit" else (1, 36, 44, 3 if MODELS[name].real_noise else 4)
    x = np.random.default_rng(0).uniform(-0.3, 1.3, shape).astype(np.float32)
    a, b = folded(x, training=False), model(x, training=False)
    for k in (a if isinstance(a, dict) else [None]):
        np.testing.assert_allclose(a[k] if k else a, b[k] if k else b, atol=2e-4)


def test_psnr_loss_is_minus_the_mean_per_image_psnr(digits):
    from dae.training import psnr_loss

    noisy = corrupt.apply(digits[:16], corrupt.gaussian(0.3), seed=0)
    loss = float(np.mean(psnr_loss(digits[:16], noisy)))
    expected = -np.mean([metrics.psnr(c, n) for c, n in zip(digits[:16], np.clip(noisy, 0, 1))])
    assert abs(loss - expected) < 0.05, (loss, expected)
