"""Training: the same loop for every model, fed by ``tf.data`` with fresh noise per batch.

``train.py`` is the command line; this module does the work so that tests can call it.
Each run keeps the best checkpoint by validation loss and writes, next to the weights,
a model card (``<name>.json``) that records how they were made.
"""
from __future__ import annotations

import json
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import camera, corrupt, data, grid, metrics
from .export import export_lite
from .inference import from_model, usable_cores
from .registry import spec

CARD_SIGMAS = (0.25, 0.5, 0.75, 1.0)  # digits, clipped Gaussian, on the validation digits
PHOTO_SIGMAS = (15, 25, 50)  # photos, 0-255 scale, unclipped
PHOTO_SIGMA_MAX = 60 / 255
PHOTO_FOCUS_MAX = 30 / 255  # --focus: the Photos tab's default σ 25 and around it


@dataclass
class Settings:
    """Everything a run depends on; recorded on the card."""

    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    steps: int = 0  # photo model: optimisation steps (epochs × steps_per_epoch)
    patch: int = 64
    limit: int = 0  # use at most this many training examples (0: all); --quick sets it
    precision: str = "float32"  # Keras dtype policy while training; weights are saved float32
    init: str = ""  # start from these .keras weights (a continued run) instead of from scratch
    loss: str = "mse"  # "mse", or "psnr": minus the mean per-image PSNR, what the quality table scores
    focus: float = 0.0  # share of the app's default noise in the mix (corrupt.sample_training, _photo_noisy)
    checkpoint: str = ""  # photo models: a folder to save the best model in as it improves (resumable)
    note: str = ""  # said on the card: what the command line alone does not (a checkpoint's history)
    weight_bits: int = 0  # fine-tune with the kernels on this grid (dae.grid); 0: float weights


# --- digits ------------------------------------------------------------------------

def digit_dataset(x: np.ndarray, batch_size: int, seed: int, focus: float = 0.0) -> tf.data.Dataset:
    """Clean digits → (noisy, clean) batches, a new corruption draw for every batch."""
    rng = np.random.default_rng(seed)

    def noisy(clean: np.ndarray) -> np.ndarray:
        return corrupt.sample_training(clean, rng, focus)

    def pair(clean):
        y = tf.numpy_function(noisy, [clean], tf.float32)
        y.set_shape(clean.shape)
        return y, clean

    ds = tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=True).map(pair).prefetch(tf.data.AUTOTUNE)


def digit_validation(val: np.ndarray, seed: int = 1234, focus: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A fixed draw from the training distribution, so validation losses compare across epochs."""
    return corrupt.sample_training(val, np.random.default_rng(seed), focus), val


def evaluate_digits(denoiser, clean: np.ndarray) -> dict:
    """PSNR/SSIM at the card's σ levels (clipped Gaussian, fixed seed)."""
    out = {}
    for s in CARD_SIGMAS:
        noisy = corrupt.apply(clean, corrupt.gaussian(s), seed=int(s * 1000))
        den = denoiser.denoise(noisy)
        out[f"sigma_{s}"] = {"psnr": round(metrics.mean_psnr(clean, den), 2),
                             "ssim": round(metrics.mean_ssim(clean, den), 4)}
    return out


# --- photos ------------------------------------------------------------------------

def _photo_noisy(clean: np.ndarray, rng: np.random.Generator, focus: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian noise at σ ~ U(0, 60/255) per crop; a third of crops grey, a fifth clipped,
    like the app's clip option. ``focus`` is the share of crops that get the Photos tab's
    default case instead: colour, unclipped, σ ~ U(0, 30/255) around the slider's 25.
    Returns network input (noisy RGB + σ map) and the clean target."""
    n, h, w, _ = clean.shape
    sigma = rng.uniform(0, PHOTO_SIGMA_MAX, n).astype(np.float32)
    default = np.zeros(n, bool)
    if focus:  # drawn only when asked, so runs without it see the same noise as before
        default = rng.random(n) < focus
        sigma = np.where(default, rng.uniform(0, PHOTO_FOCUS_MAX, n), sigma).astype(np.float32)
    grey = (rng.random(n) < 1 / 3) & ~default
    clean = np.where(grey[:, None, None, None], clean.mean(-1, keepdims=True), clean)
    noise = rng.standard_normal((n, h, w, 3), dtype=np.float32)
    noise = np.where(grey[:, None, None, None], noise[..., :1], noise)  # grey: same noise in R, G, B
    noisy = clean + noise * sigma[:, None, None, None]
    clip = (rng.random(n) < 0.2) & ~default
    noisy = np.where(clip[:, None, None, None], np.clip(noisy, 0, 1), noisy)
    smap = np.broadcast_to(sigma[:, None, None, None], (n, h, w, 1))
    return np.concatenate([noisy, smap], -1).astype(np.float32), clean.astype(np.float32)


def photo_corruption(s: Settings) -> str:
    """The card's description of what :func:`photo_dataset` does."""
    focus = (f"; with p {s.focus:g} instead colour, unclipped, σ ~ U(0, 30/255) (the Photos tab's default)"
             if s.focus else "")
    return (f"additive Gaussian σ ~ U(0, 60/255) per crop, 1/3 greyscale crops (same noise in R, G, B), "
            f"1/5 clipped{focus}; random {s.patch}×{s.patch} crops, flips and 90° rotations, fresh every batch")


def _random_crops(photos: list[np.ndarray], n: int, p: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random p×p crops with a random flip and 90° rotation each."""
    crops = []
    for i in rng.integers(len(photos), size=n):
        img = photos[i]
        y, x = rng.integers(img.shape[0] - p + 1), rng.integers(img.shape[1] - p + 1)
        c = np.rot90(img[y:y + p, x:x + p], k=rng.integers(4))
        crops.append(c[:, ::-1] if rng.random() < 0.5 else c)
    return np.stack(crops)


def photo_dataset(photos: list[np.ndarray], s: Settings) -> tf.data.Dataset:
    """Random crops with flips and 90° rotations, fresh noise per batch."""
    rng = np.random.default_rng(s.seed)
    p = s.patch

    def batch(_):
        return _photo_noisy(_random_crops(photos, s.batch_size, p, rng).astype(np.float32) / 255.0, rng, s.focus)

    def make(i):
        x, y = tf.numpy_function(batch, [i], (tf.float32, tf.float32))
        x.set_shape((s.batch_size, p, p, 4))
        y.set_shape((s.batch_size, p, p, 3))
        return x, y

    return tf.data.Dataset.range(1 << 30).map(make).prefetch(tf.data.AUTOTUNE)


def photo_validation(val: list[np.ndarray], size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Centre crops of the validation photos at fixed σ 15/25/50, half of them grey."""
    crops = []
    for img in val:
        y, x = (img.shape[0] - size) // 2, (img.shape[1] - size) // 2
        crops.append(img[y:y + size, x:x + size])
    clean = np.repeat(np.stack(crops), len(PHOTO_SIGMAS), axis=0)
    rng = np.random.default_rng(1234)
    sig = np.tile(np.array(PHOTO_SIGMAS, np.float32) / 255, len(crops))
    noisy = clean + rng.standard_normal(clean.shape, dtype=np.float32) * sig[:, None, None, None]
    smap = np.broadcast_to(sig[:, None, None, None], clean.shape[:3] + (1,))
    return np.concatenate([noisy, smap], -1).astype(np.float32), clean.astype(np.float32)


def evaluate_photos(denoiser, val: list[np.ndarray], limit: int = 0) -> dict:
    """Per-image mean PSNR on whole validation photos, colour and grey, at σ 15/25/50."""
    out = {}
    rng = np.random.default_rng(0)
    imgs = val[:limit] if limit else val
    for s in PHOTO_SIGMAS:
        for mode in ("colour", "grey"):
            clean = [im if mode == "colour" else im.mean(-1) for im in imgs]
            noisy = [c + rng.standard_normal(c.shape).astype(np.float32) * s / 255 for c in clean]
            den = [denoiser.denoise(n, sigma=s / 255) for n in noisy]
            out[f"{mode}_sigma_{s}"] = {"psnr": round(float(np.mean([metrics.psnr(c, d) for c, d in zip(clean, den)])), 2)}
    return out


# --- real camera noise (the blind photo model) ------------------------------------

REAL_AWGN_SHARE = 0.15  # crops that get white Gaussian noise instead, so blind AWGN is covered too
REAL_AWGN_MAX = 30 / 255
REAL_MARGIN = 4  # pixels simulated beyond each crop's edge and cut away: demosaicing's 5×5 reach


def noise_map(noisy: np.ndarray, clean: np.ndarray, width: float = 2.0) -> np.ndarray:
    """The noise level each pixel actually got: the local RMS of noisy − clean over a
    Gaussian window, averaged over channels. The target for the model's ``noise_map``,
    on the same scale as the σ that ``photo`` is told, so the warm start means something."""
    from scipy import ndimage

    sq = ((noisy - clean) ** 2).mean(-1)
    return np.sqrt(ndimage.gaussian_filter(sq, width, axes=(-2, -1)))[..., None].astype(np.float32)


def real_noisy(crops: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clean uint8 crops (N, p + 2·margin, ·, 3) → ``(noisy, clean, map)`` float32, each
    (N, p, p, ·): camera noise (:mod:`dae.camera`, a new camera per crop), or with
    probability ``REAL_AWGN_SHARE`` white noise σ ~ U(0, 30/255), rounded to 8 bits like a file."""
    m = REAL_MARGIN
    noisy, clean = [], []
    for c in crops.astype(np.float64) / 255:
        if rng.random() < REAL_AWGN_SHARE:
            n = np.round(np.clip(c + rng.standard_normal(c.shape) * rng.uniform(0, REAL_AWGN_MAX), 0, 1) * 255) / 255
            n, c = n.astype(np.float32), c.astype(np.float32)
        else:
            n, c = camera.apply(c, camera.sample(rng), rng)
        noisy.append(n[m:-m, m:-m])
        clean.append(c[m:-m, m:-m])
    noisy, clean = np.stack(noisy), np.stack(clean)
    return noisy, clean, noise_map(noisy, clean)


def real_corruption(s: Settings) -> str:
    """The card's description of what :func:`real_dataset` does."""
    return (f"simulated camera noise (dae.camera: inverse tone curve, gamma, colour matrix and white balance, "
            f"RGGB mosaic, shot + read noise with Brooks et al.'s ranges, Malvar demosaicing, processing back, "
            f"with p {camera.NR_SHARE} an in-camera noise reduction blurring the noise's luma and chroma, "
            f"JPEG quality {camera.JPEG_QUALITY[0]}-{camera.JPEG_QUALITY[1] - 1} with p 0.6 (the reference "
            f"with the same chroma subsampling), else 8-bit), a new camera per crop; with p {REAL_AWGN_SHARE} "
            f"instead white Gaussian σ ~ U(0, 30/255), 8-bit; random {s.patch}×{s.patch} crops, flips and "
            f"90° rotations, fresh every batch; noise-map target: local RMS of the added noise")


def real_dataset(photos: list[np.ndarray], s: Settings) -> tf.data.Dataset:
    """Random crops with camera noise: noisy → {clean, noise_map}, fresh every batch."""
    rng = np.random.default_rng(s.seed)
    p = s.patch

    def batch(_):
        return real_noisy(_random_crops(photos, s.batch_size, p + 2 * REAL_MARGIN, rng), rng)

    def make(i):
        x, y, m = tf.numpy_function(batch, [i], (tf.float32, tf.float32, tf.float32))
        x.set_shape((s.batch_size, p, p, 3))
        y.set_shape((s.batch_size, p, p, 3))
        m.set_shape((s.batch_size, p, p, 1))
        return x, {"clean": y, "noise_map": m}

    return tf.data.Dataset.range(1 << 30).map(make, num_parallel_calls=2).prefetch(4)


def real_validation(val: list[np.ndarray], size: int = 128) -> tuple[np.ndarray, dict]:
    """Centre crops of the validation photos, each with a fixed camera draw."""
    m = REAL_MARGIN
    crops = np.stack([(img[(img.shape[0] - size) // 2 - m:, (img.shape[1] - size) // 2 - m:][:size + 2 * m, :size + 2 * m]
                       * 255).round().astype(np.uint8) for img in val])
    noisy, clean, smap = real_noisy(crops, np.random.default_rng(1234))
    return noisy, {"clean": clean, "noise_map": smap}


def evaluate_real(denoiser, val: list[np.ndarray], limit: int = 0) -> dict:
    """Per-image mean PSNR on whole validation photos: simulated camera noise (one seeded
    camera per photo), and white noise at σ 15/25/50 told nothing (blind)."""
    imgs = val[:limit] if limit else val
    cams = [camera.photograph(im, seed=i) for i, im in enumerate(imgs)]
    out = {"camera": {"noisy_psnr": round(float(np.mean([metrics.psnr(c, n) for n, c, _ in cams])), 2),
                      "psnr": round(float(np.mean([metrics.psnr(c, denoiser.denoise(n)) for n, c, _ in cams])), 2)}}
    rng = np.random.default_rng(0)
    for sig in PHOTO_SIGMAS:
        noisy = [im + rng.standard_normal(im.shape).astype(np.float32) * sig / 255 for im in imgs]
        out[f"colour_sigma_{sig}_blind"] = {"psnr": round(float(np.mean(
            [metrics.psnr(c, denoiser.denoise(n)) for c, n in zip(imgs, noisy)])), 2)}
    return out


@keras.saving.register_keras_serializable(package="dae")
def map_loss(target, estimate):
    """Mean squared error of the noise-level map, on the 0-255 scale (a few levels² when
    close), so that with weight 0.1 it steers the estimator without outweighing the image."""
    d = (tf.cast(estimate, tf.float32) - tf.cast(target, tf.float32)) * 255.0
    return tf.reduce_mean(tf.square(d), axis=[1, 2, 3])


MAP_LOSS_WEIGHT = 0.1


# --- one loop for all --------------------------------------------------------------

@keras.saving.register_keras_serializable(package="dae")
def psnr_loss(clean, denoised):
    """Minus the per-image PSNR (dB), capped at 40 dB (error floor 1e-4), averaged over the batch
    (digits, or photo crops: `--loss` reaches both kinds of model).

    Why: with plain MSE a batch's gradient is dominated by its noisiest digits (σ 1 errs
    about 8× more than σ 0.25), so a model trained on a wide noise distribution underfits
    the light noise. Per-image PSNR weights each digit by the inverse of its own error,
    which is exactly what the quality table averages.
    """
    clean = tf.cast(clean, tf.float32)
    err = tf.reduce_mean(tf.square(tf.cast(denoised, tf.float32) - clean), axis=[1, 2, 3])
    return 10.0 * tf.math.log(err + 1e-4) / tf.math.log(10.0)


LOSSES = {"mse": "mse", "psnr": psnr_loss}


def compile_for_training(model: keras.Model, epochs: int, steps_per_epoch: int, lr: float,
                         loss: str = "mse") -> None:
    """Adam with a cosine-decayed learning rate over the whole run, and the named loss: how
    every model here is trained (``train.py`` and the Inside tab's live run alike). A model
    with a ``noise_map`` output (``photo-real``) also learns the map, at ``MAP_LOSS_WEIGHT``."""
    schedule = keras.optimizers.schedules.CosineDecay(lr, decay_steps=epochs * steps_per_epoch, alpha=0.02)
    if isinstance(model.output, dict):
        model.compile(optimizer=keras.optimizers.Adam(schedule),
                      loss={"clean": LOSSES[loss], "noise_map": map_loss},
                      loss_weights={"clean": 1.0, "noise_map": MAP_LOSS_WEIGHT})
    else:
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss=LOSSES[loss])


def _fit(model: keras.Model, train_ds, val_xy, epochs: int, steps_per_epoch: int, lr: float,
         loss: str = "mse", checkpoint: Path | None = None, weight_bits: int = 0) -> list[dict]:
    """Adam with cosine decay, keep the weights with the lowest validation loss (of the
    image, for a model with two outputs). ``checkpoint``: also save that best model there as
    it improves, a whole ``.keras`` file that ``train.py --init`` resumes from, for runs
    longer than the process that started them. ``weight_bits``: the kernels stay on that
    grid throughout (:class:`dae.grid.OnGrid`), so the best weights are on it too."""
    compile_for_training(model, epochs, steps_per_epoch, lr, loss)
    monitor = "val_clean_loss" if isinstance(model.output, dict) else "val_loss"
    with tempfile.TemporaryDirectory() as tmp:
        best = str(Path(tmp) / "best.weights.h5")
        callbacks = [keras.callbacks.ModelCheckpoint(best, monitor=monitor, mode="min", save_best_only=True,
                                                     save_weights_only=True)]
        if checkpoint:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            callbacks.append(keras.callbacks.ModelCheckpoint(str(checkpoint), monitor=monitor, mode="min",
                                                             save_best_only=True))
        if weight_bits:
            callbacks.insert(0, grid.OnGrid(weight_bits))  # first: snapped before any checkpoint
        hist = model.fit(train_ds, validation_data=val_xy, epochs=epochs, steps_per_epoch=steps_per_epoch,
                         callbacks=callbacks, verbose=2 if not sys.stdout.isatty() else 1)
        model.load_weights(best)
    return [{k: round(float(v[i]), 6) for k, v in hist.history.items()} for i in range(len(hist.history["loss"]))]


def train(name: str, s: Settings, out_dir: Path, digits: str | None = None, photos: str | None = None,
          command: str = "") -> dict:
    """Train one registered model, save ``<out_dir>/<name>.keras`` and its card; return the card."""
    sp = spec(name)
    keras.utils.set_random_seed(s.seed)
    keras.mixed_precision.set_global_policy(s.precision)
    try:
        model = sp.build()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    earlier = _warm_start(model, s.init) if s.init else None
    t0 = time.time()
    if sp.kind == "digit":
        d = data.load_digits(digits)
        x = d.train[: s.limit] if s.limit else d.train
        steps = len(x) // s.batch_size
        history = _fit(model, digit_dataset(x, s.batch_size, s.seed, s.focus),
                       digit_validation(d.val[:2000], focus=s.focus),
                       s.epochs, steps, s.learning_rate, s.loss, weight_bits=s.weight_bits)
        trained_on = {"source": d.source, "train_count": int(len(x)), "val_count": int(min(len(d.val), 2000))}
        corruption = corrupt.training_distribution(s.focus)
        score = partial(evaluate_digits, clean=d.val[:1000])
    else:
        root = Path(photos or "")
        train_imgs = [(im * 255).astype(np.uint8) for im in data.load_photos(root / "train")]
        val_imgs = data.load_photos(root / "val")
        steps_per_epoch = min(500, s.steps)
        epochs = max(1, s.steps // steps_per_epoch) if s.steps else 0  # 0: validate and save --init as it is
        if sp.real_noise:
            train_ds, val_xy = real_dataset(train_imgs, s), real_validation(val_imgs)
            corruption, evaluate = real_corruption(s), evaluate_real
        else:
            train_ds, val_xy = photo_dataset(train_imgs, s), photo_validation(val_imgs)
            corruption, evaluate = photo_corruption(s), evaluate_photos
        history = _fit(model, train_ds, val_xy, epochs, steps_per_epoch, s.learning_rate, s.loss,
                       Path(s.checkpoint) / f"{name}.keras" if s.checkpoint else None) if epochs else []
        trained_on = {"source": f"BSDS500 photos from {root / 'train'} (validated on {root / 'val'})",
                      "train_count": len(train_imgs), "val_count": len(val_imgs)}
        score = partial(evaluate, val=val_imgs, limit=4 if s.limit else 0)
    shipped = _float32_copy(sp, model)  # what is saved, so what the card validates
    if s.weight_bits:
        grid.snap_model(shipped, s.weight_bits)  # exactly on the grid after the float32 copy
    validation = score(from_model(name, shipped))
    training = {"epochs": s.epochs if sp.kind == "digit" else epochs,
                "steps": s.steps if sp.kind == "photo" else None, "wall_time_s": round(time.time() - t0, 1),
                "history": history}
    if s.note:
        training["note"] = s.note
    if s.weight_bits:
        training["weight_bits"] = s.weight_bits
    if earlier:
        training["continued_from"] = earlier
        training["total_epochs"] = training["epochs"] + (earlier.get("total_epochs") or earlier.get("epochs") or 0)
        training["total_wall_time_s"] = round(training["wall_time_s"] + (earlier.get("total_wall_time_s")
                                                                         or earlier.get("wall_time_s") or 0), 1)
    return save(name, shipped, s, out_dir, trained_on, corruption, training, validation, command)


def save(name: str, model: keras.Model, s: Settings, out_dir: Path, trained_on: dict, corruption: str,
         training: dict, validation: dict, command: str) -> dict:
    """Write ``<name>.keras`` from ``model`` (float32: see :func:`_float32_copy`), its model
    card and, for digit models, the ``<name>.tflite`` that the app runs; return the card."""
    sp = spec(name)
    history = training.get("history") or []
    card = {
        "name": name, "kind": sp.kind, "description": sp.description, "tutorial": sp.tutorial,
        "differs_from_tutorial": sp.differs,
        "parameters": int(model.count_params()),
        "architecture": _summary(model),
        "data": trained_on, "corruption": corruption,
        "training": {"batch_size": s.batch_size, "learning_rate": s.learning_rate, "seed": s.seed,
                     "optimizer": "Adam, cosine decay", "loss": s.loss, "precision": s.precision,
                     "best_val_loss": min((h["val_loss"] for h in history), default=None), **training},
        "validation": validation,
        "made": {"command": command, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
                 "tensorflow": tf.__version__, "keras": keras.__version__,
                 "machine": f"{platform.machine()}, {usable_cores()} cores, CPU"},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(out_dir / f"{name}.keras")
    if sp.kind == "digit":
        card["inference"] = export_lite(name, model, out_dir)
    write_card(name, out_dir, card)
    return card


def _warm_start(model: keras.Model, path: str) -> dict:
    """Load earlier weights into ``model``; return the earlier card's training record.

    The earlier model may differ in front: a smaller one whose layers ``model`` ends with
    (``photo`` inside ``photo-real``, behind its noise estimator), or an earlier version with
    another estimator. Then the longest run of trailing weights whose shapes match is copied,
    and the layers in front keep their fresh initialisation; the record says how many."""
    earlier = keras.saving.load_model(path, compile=False, safe_mode=True)
    old, new = earlier.get_weights(), model.get_weights()
    same = 0
    while same < min(len(old), len(new)) and old[-1 - same].shape == new[-1 - same].shape:
        same += 1
    if sum(w.size for w in old[len(old) - same:]) < sum(w.size for w in old) / 2:
        raise ValueError(f"{path} does not fit {model.name}: under half its weights match the last layers")
    model.set_weights(new[:len(new) - same] + old[len(old) - same:])
    card = Path(path).with_suffix(".json")
    record = json.loads(card.read_text())["training"] if card.is_file() else {}
    record = {k: v for k, v in record.items() if k != "history"}
    if card.is_file():
        record["command"] = json.loads(card.read_text())["made"]["command"]
    return {"weights": str(path), "weights_carried": f"the last {same} of {len(new)} weight tensors", **record}


def _float32_copy(sp, model: keras.Model) -> keras.Model:
    """The same weights in a fresh float32 model, which is what ships and so what the card
    validates: bfloat16 inference is slow on CPUs without it, TFLite will not convert a
    bfloat16 graph, and a fresh model carries no optimizer state (Adam's would triple the file)."""
    clean = sp.build()
    clean.set_weights(model.get_weights())
    return clean


def native_precision(preferred: str) -> str:
    """``preferred`` where the CPU computes bfloat16 natively (AVX-512 BF16 or AMX), else
    float32: elsewhere TensorFlow emulates bfloat16 and a photo step takes 4 s, not 0.35 s."""
    if preferred != "mixed_bfloat16":
        return preferred
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: no cheap way to ask, and float32 is never the slow one
        return "float32"
    return preferred if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"


def _summary(model: keras.Model) -> list[str]:
    """One line per layer: name, type, output shape, parameters."""
    return [f"{l.name}: {type(l).__name__} {tuple(l.output.shape)[1:]} {l.count_params()}" for l in model.layers]


CARD_FIELDS = {"name": str, "kind": str, "parameters": int, "architecture": list, "data": dict,
               "corruption": str, "training": dict, "validation": dict, "made": dict}
TRAINING_FIELDS = ("batch_size", "learning_rate", "loss", "epochs", "wall_time_s")


def card_problem(name: str, weights_dir: str | Path) -> str:
    """Why ``<name>.json`` cannot describe the model ('' when it can): missing, unreadable, or
    without a field that the Models tab and the summary table read. Says how to restore it."""
    p = Path(weights_dir) / f"{name}.json"
    fix = f"; restore it with `git checkout -- weights/{name}.json` or retrain with `python train.py --model {name}`"
    if not p.is_file():
        return f"{p} does not exist{fix}"
    try:
        card = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return f"{p} could not be read ({type(e).__name__}: {e}){fix}"
    if not isinstance(card, dict):
        return f"{p} is not a model card (a JSON object){fix}"
    for key, kind in CARD_FIELDS.items():
        if not isinstance(card.get(key), kind):
            return f"{p} has no valid {key!r} (a {kind.__name__}){fix}"
    missing = [k for k in TRAINING_FIELDS if k not in card["training"]]
    if missing:
        return f"{p}: 'training' lacks {missing}{fix}"
    return ""


def read_card(name: str, weights_dir: str | Path) -> dict | None:
    """The model card next to the weights, or None when there is none."""
    p = Path(weights_dir) / f"{name}.json"
    return json.loads(p.read_text()) if p.is_file() else None


def write_card(name: str, weights_dir: str | Path, card: dict) -> None:
    """Write ``<name>.json`` as every card is written (indented, UTF-8 kept readable)."""
    (Path(weights_dir) / f"{name}.json").write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n")
