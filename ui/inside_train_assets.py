"""What the page needs to train a DAE in the visitor's own browser (``ui/inside_train.js``).

Every visitor can train at once and the server computes nothing: it serves files, once
compressed and then cached for a year, through ``ui/browser_assets.py``'s route:

- TensorFlow.js (``ui/vendor/tfjs/``, pinned and rebuilt by ``scripts/vendor_tfjs.sh``): its
  UMD bundle, its wasm backend and that backend's SIMD and plain wasm builds. The page loads
  them only when the visitor opens the training view, so a visit that never trains pays nothing;
- the architecture of each model the browser can train, read from the registry's own Keras
  model (:func:`architecture`: ``spec(name).build()``'s layers and their configs, in the form
  TensorFlow.js's layers API takes), so there is no second, hand-written copy to drift;
- the data of the server's live run (:mod:`dae.live`): its 4,000 training gallery digits and
  the 1,000 held-out ones (the map's points while a 2-D model trains), their classes, and the
  server's fixed noisy test digit, as one binary file (:func:`data_bytes`), written once per
  process in a temporary folder, named by its content's sha256;
- the run's settings from :mod:`dae.live` (batch size, learning rate, its cosine decay, the
  share of the app's default noise, the epochs' range).

:func:`register` returns the manifest that ``ui/inside_assets.head_script`` puts on the page
as ``window.daeInside.train``.
"""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import numpy as np

from dae import live, params
from dae.registry import spec

from .browser_assets import UI_DIR, Assets

VENDOR = UI_DIR / "vendor" / "tfjs"
LIB_FILES = {"lib": "tf.min.js", "backend": "tf-backend-wasm.min.js",
             "simd": "tfjs-backend-wasm-simd.wasm", "plain": "tfjs-backend-wasm.wasm"}
CONTROLLER = UI_DIR / "inside_train.js"
NOISE = UI_DIR / "inside_train_noise.js"  # the noisy batches, in a module worker
MODELS = ("dense", "dense-2d")  # the live run's model, and the one whose code is its map
LR_ALPHA = 0.02  # dae.training.compile_for_training's CosineDecay floor
# Keras initialiser class -> TensorFlow.js's identifier (the layers API's own names)
INITIALISERS = {"GlorotUniform": "glorotUniform", "Zeros": "zeros"}
DATA_QUALITY = 5  # brotli for the 3.9 MB data at start-up: 0.8 s for 768 KB; 9 takes 3× as long for 1 % less
_FOLDER: Path | None = None


class Untrainable(ValueError):
    """The registry's model uses something this page's builder does not translate."""


def _initialiser(cfg: dict | str) -> str:
    name = cfg if isinstance(cfg, str) else cfg.get("class_name")
    if name not in INITIALISERS:
        raise Untrainable(f"initialiser {name!r} is not translated for the browser")
    return INITIALISERS[name]


def _layer(layer) -> dict:
    """One Keras layer as ``{"class_name", "config"}`` for ``tf.layers.<camelCase>(config)``,
    with what the page checks the built model against: its output shape and weight count."""
    cfg, kind = layer.get_config(), type(layer).__name__
    if kind == "Dense":
        if any(cfg.get(k) for k in ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                                    "kernel_constraint", "bias_constraint", "lora_rank")):
            raise Untrainable(f"{layer.name}: regularisers, constraints and LoRA are not translated")
        config = {"units": cfg["units"], "activation": cfg["activation"], "useBias": cfg["use_bias"],
                  "kernelInitializer": _initialiser(cfg["kernel_initializer"]),
                  "biasInitializer": _initialiser(cfg["bias_initializer"])}
    elif kind == "Flatten":
        config = {}
    elif kind == "Reshape":
        config = {"targetShape": list(cfg["target_shape"])}
    else:
        raise Untrainable(f"layer {layer.name} ({kind}) is not translated for the browser")
    return {"class_name": kind, "name": layer.name, "config": config,
            "output_shape": list(layer.output.shape[1:]), "params": int(layer.count_params())}


def architecture(name: str) -> dict:
    """The registry model ``name`` as a chain of layers the page builds with TensorFlow.js.

    Only a straight chain (each layer feeding the next, as every dense DAE here is) of
    Dense, Flatten and Reshape layers is translated; anything else raises
    :class:`Untrainable` and that model is not offered."""
    model = spec(name).build()
    chain = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    for before, after in zip(chain, chain[1:]):
        if after.input is not before.output:
            raise Untrainable(f"{name} is not a straight chain of layers")
    return {"model": name, "input_shape": list(model.input.shape[1:]), "layers": [_layer(lay) for lay in chain],
            "params": int(model.count_params()), "code": _code_size(chain)}


def _code_size(chain) -> int:
    """The width of the layer named ``latent`` (the code), 0 when there is none."""
    return next((int(lay.output.shape[-1]) for lay in chain if lay.name == "latent"), 0)


def data_bytes() -> tuple[bytes, dict]:
    """The live run's data as one buffer, and its layout (byte offsets, counts).

    ``train`` 4,000 × 784 uint8 (the gallery's own 0–255 values, so nothing is lost), then
    ``held`` 1,000 × 784 uint8, ``labels`` 1,000 uint8 (the held-out digits' classes), then
    ``noisy`` 784 float32: the server's fixed noisy test digit (dae.live.test_digit), so the
    page's PSNR curve is the server's figure for the same model."""
    train, held = live.split()
    labels = np.repeat(np.arange(10, dtype=np.uint8), live.HELDOUT_PER_CLASS)  # split() orders them by class
    _, noisy = live.test_digit()
    parts = {"train": np.rint(train[..., 0] * 255).astype(np.uint8), "held": np.rint(held[..., 0] * 255).astype(np.uint8),
             "labels": labels, "noisy": noisy.astype("<f4")}
    layout, at, chunks = {}, 0, []
    for key, arr in parts.items():
        raw = arr.tobytes()
        pad = (-at) % 4 if key == "noisy" else 0  # a Float32Array needs a 4-byte aligned offset
        chunks.append(b"\0" * pad + raw)
        at += pad
        layout[key] = {"offset": at, "count": int(arr.shape[0]) if key in ("train", "held") else int(arr.size)}
        at += len(raw)
    layout["test_index"] = live.TEST_INDEX
    return b"".join(chunks), layout


def write_data(folder: Path) -> tuple[Path, dict]:
    """Write :func:`data_bytes` as ``live-data.<sha256[:16]>.bin`` and return its path and layout."""
    raw, layout = data_bytes()
    path = folder / f"live-data.{hashlib.sha256(raw).hexdigest()[:16]}.bin"
    if not path.is_file():
        path.write_bytes(raw)
    return path, layout


def run_settings(name: str) -> dict:
    """How ``name`` is trained: ``dense`` as the server's live run trains it (:mod:`dae.live`),
    any other model with its registry training settings (batch size, learning rate, focus),
    both with :func:`dae.training.compile_for_training`'s Adam and cosine decay."""
    if name == live.MODEL:
        return {"batch_size": live.BATCH_SIZE, "learning_rate": live.LEARNING_RATE, "focus": live.FOCUS,
                "from": "dae.live (the server's live run)"}
    t = spec(name).train
    return {"batch_size": int(t["batch_size"]), "learning_rate": float(t["learning_rate"]),
            "focus": float(t.get("focus", 0.0)), "from": f"the registry's training settings for {name}"}


def settings() -> dict:
    """What every in-browser run shares: the learning rate's decay floor, the epochs' and
    seeds' ranges (:mod:`dae.params`, as the server's live run checks them)."""
    return {"lr_alpha": LR_ALPHA, "epochs": {"min": int(params.EPOCHS.lo), "max": live.MAX_EPOCHS,
                                             "default": live.DEFAULT_EPOCHS},
            "seed": {"min": int(params.SEED.lo), "max": int(params.SEED.hi)}}


def register(assets: Assets, root: str = "") -> dict:
    """Serve the library, the controller and the data through ``assets`` and return the
    manifest: ``{"lib", "backend", "wasm": {"simd", "plain"}, "controller", "noise", "data": {"url",
    "bytes", "layout"}, "models": {name: architecture | {"why"}}, "settings"}``."""
    global _FOLDER
    _FOLDER = _FOLDER or Path(tempfile.mkdtemp(prefix="dae-train-"))
    data, layout = write_data(_FOLDER)
    assets.add([VENDOR / f for f in LIB_FILES.values()], vendor_dir=VENDOR)
    assets.add([CONTROLLER, NOISE])
    assets.add([data], quality=DATA_QUALITY)
    models = {}
    for name in MODELS:
        try:
            models[name] = {**architecture(name), "run": run_settings(name)}
        except Untrainable as e:
            models[name] = {"why": str(e)}
    url = lambda p: assets.url(p, root)  # noqa: E731
    return {"lib": url(VENDOR / LIB_FILES["lib"]), "backend": url(VENDOR / LIB_FILES["backend"]),
            "wasm": {k: url(VENDOR / LIB_FILES[k]) for k in ("simd", "plain")}, "controller": url(CONTROLLER),
            "noise": url(NOISE), "data": {"url": url(data), "bytes": data.stat().st_size, "layout": layout},
            "models": models, "settings": settings()}
