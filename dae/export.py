"""The TFLite exports, made and checked: what ``train.py`` and ``python -m dae export`` write
beside a model's ``.keras`` file, and whether a shipped export is current.

- ``<name>.tflite``: a digit model's inference graph (BatchNorm folded, int8 weights), which
  the server's :class:`dae.inference.LiteRunner` and the browser (LiteRT.js) both run;
- ``<name>.encoder.tflite`` / ``.decoder.tflite``: a 2-D-code model's halves, for the map;
- ``<file>.br`` beside each: its quality-11 Brotli, what the browser downloads;
- the card's ``inference`` entry records which ``.keras`` file each came from, so a retrained
  model never runs a stale export (:func:`export_status`), here or in the browser.

:func:`photo_flatbuffer` makes the photo graph ``photo-real`` converts at load.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import keras
import tensorflow as tf

from .fold import fold_batchnorm
from .registry import spec

LITE_FORMAT = "TFLite flatbuffer: BatchNorm folded, dynamic-range quantised (int8 weights)"


def lite_flatbuffer(name: str, model: keras.Model) -> bytes:
    """A digit model's inference graph for TFLite: BatchNorm folded, the code as a second
    output for models with a bottleneck, int8 weights, one digit per call.

    Why one digit: with an open batch dimension the int8 graph falls outside XNNPACK and runs
    ten times slower (32 against 3.4 ms for ``unet-wide``), while XNNPACK on one digit at a
    time keeps up with batched float32 per digit (3.4 against 3.5 ms).
    """
    net = fold_batchnorm(model)
    if spec(name).has_latent:
        net = keras.Model(net.input, [net.output, net.get_layer("latent").output])
    fn = tf.function(lambda x: net(x, training=False), autograph=False)
    return _convert(fn.get_concrete_function(tf.TensorSpec([1, *net.input.shape[1:]], tf.float32)), quantise=True)


def _convert(concrete, quantise: bool = False) -> bytes:
    """One concrete function as a TFLite flatbuffer; ``quantise``: dynamic range (int8
    weights). The converter logs a deprecation notice on every call, hushed here."""
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)
    try:
        converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
        if quantise:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        return converter.convert()
    finally:
        absl.setLevel(level)


def photo_flatbuffer(model: keras.Model) -> bytes:
    """A photo model's inference graph for TFLite: BatchNorm folded, float32 (a photo's
    quality is the point), one photo per call with its height and width left open."""
    net = fold_batchnorm(model)
    fn = tf.function(lambda x: net(x, training=False), autograph=False)
    return _convert(fn.get_concrete_function(tf.TensorSpec([1, None, None, net.input.shape[-1]], tf.float32)))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


HALVES = ("encoder", "decoder")
HALVES_FORMAT = ("TFLite flatbuffers, float32 (not quantised: the browser's decode of a map point is held "
                 "to the Keras decoder within 5e-3), one image or one code per call")


def halves_flatbuffers(model: keras.Model) -> dict[str, bytes]:
    """A 2-D-code model's encoder (image → code) and decoder (code → image) as two float32
    TFLite graphs (:func:`dae.latent.split`), for the browser: the decoder draws any point of
    the map, the encoder places a digit on it."""
    from .latent import split  # scikit-learn comes with dae.latent: only the export needs it

    out = {}
    for half, net in zip(HALVES, split(model)):
        fn = tf.function(lambda x, net=net: net(x, training=False), autograph=False)
        out[half] = _convert(fn.get_concrete_function(tf.TensorSpec([1, *net.input.shape[1:]], tf.float32)))
    return out


def halves_status(name: str, weights_dir: str | Path) -> tuple[dict[str, Path] | None, str]:
    """``({"encoder": path, "decoder": path}, "")`` when both ``<name>.<half>.tflite`` files
    were exported from this very ``.keras`` file, together with ``<name>.tflite``
    (:func:`export_status`), and are the bytes the card records (``inference.halves``), else
    ``(None, why)``."""
    lite, why = export_status(name, weights_dir)
    if lite is None:
        return None, why
    redo = f"run `python -m dae export --model {name}` to rewrite them"
    try:
        recorded = json.loads((Path(weights_dir) / f"{name}.json").read_text())["inference"]["halves"]
    except (ValueError, KeyError, TypeError):
        return None, f"{name}.json records no encoder/decoder halves; {redo}"
    paths = {h: Path(weights_dir) / f"{name}.{h}.tflite" for h in HALVES}
    for h, p in paths.items():
        if not p.is_file():
            return None, f"{p.name} is missing; {redo}"
        if recorded.get(h, {}).get("sha256") != _sha256(p):
            return None, f"{p.name} does not match the sha256 {name}.json records; {redo}"
    return paths, ""


def export_lite(name: str, model: keras.Model, weights_dir: str | Path) -> dict:
    """Write ``<name>.tflite`` beside the already-saved ``<name>.keras``; return the model
    card's ``inference`` entry, which records the ``.keras`` file it was made from so that a
    retrained model never runs a stale export.

    Why ship it at all: converting the five digit models takes about 1.5 s of start-up.
    A model whose code is its map (``code_is_map``) also gets ``<name>.encoder.tflite`` and
    ``<name>.decoder.tflite`` (:func:`halves_flatbuffers`), written in the same call, so they
    are as current as ``<name>.tflite`` is.
    """
    weights_dir = Path(weights_dir)
    out = weights_dir / f"{name}.tflite"
    _write_with_brotli(out, lite_flatbuffer(name, model))
    entry = {"file": out.name, "format": LITE_FORMAT, "tensorflow": tf.__version__,
             "from_keras_sha256": _sha256(weights_dir / f"{name}.keras"), "sha256": _sha256(out)}
    if spec(name).code_is_map:  # the browser's map: its encoder and decoder, each on its own
        halves = {"format": HALVES_FORMAT}
        for half, flat in halves_flatbuffers(model).items():
            path = weights_dir / f"{name}.{half}.tflite"
            _write_with_brotli(path, flat)
            halves[half] = {"file": path.name, "sha256": _sha256(path)}
        entry["halves"] = halves
    return entry


def _write_with_brotli(path: Path, flat: bytes) -> None:
    """Write an export, and beside it ``<file>.br`` (Brotli quality 11), what the browser
    downloads: made once here, because quality 11 takes seconds per file (too long for every
    start-up), and a file on the 4-bit grid (:mod:`dae.grid`) shrinks 15 % more than at the 9
    the server could afford. The server uses it only if it decompresses to the export."""
    import brotli

    path.write_bytes(flat)
    path.with_name(path.name + ".br").write_bytes(brotli.compress(flat, mode=brotli.MODE_GENERIC, quality=11, lgwin=24))


def export_status(name: str, weights_dir: str | Path) -> tuple[Path | None, str]:
    """``(path, "")`` when ``<name>.tflite`` is the export of this very ``.keras`` file (the
    card's ``inference.from_keras_sha256`` is the ``.keras`` file's sha256), else
    ``(None, why)`` with a one-line reason a person can act on."""
    weights_dir = Path(weights_dir)
    lite, card_path, keras_path = (weights_dir / f"{name}{ext}" for ext in (".tflite", ".json", ".keras"))
    redo = "run `python -m dae export` to rewrite it"
    if not lite.is_file():
        return None, f"{lite.name} is missing; {redo}"
    if not (card_path.is_file() and keras_path.is_file()):
        return None, f"{(keras_path if card_path.is_file() else card_path).name} is missing, so {lite.name} cannot be checked"
    try:
        entry = json.loads(card_path.read_text()).get("inference", {})
        made_from, own = entry.get("from_keras_sha256"), entry.get("sha256")
    except (ValueError, AttributeError):
        return None, f"{card_path.name} is unreadable, so {lite.name} cannot be checked"
    if made_from != _sha256(keras_path):
        return None, f"{lite.name} is stale: it was not exported from the current {keras_path.name}; {redo}"
    if own != _sha256(lite):
        return None, f"{lite.name} does not match the sha256 its card records (truncated or changed); {redo}"
    return lite, ""


def current_export(name: str, weights_dir: str | Path) -> Path | None:
    """The shipped ``<name>.tflite`` if it is current (see :func:`export_status`), else None.

    One rule for both places that run the export: :func:`load` (which converts in-process
    when this is None) and the browser path (ui/browser_assets.py, which then keeps the model
    on the server), so a stale export never runs anywhere."""
    return export_status(name, weights_dir)[0]


def _shipped_lite(name: str, weights_dir: Path) -> bytes | None:
    """The exported flatbuffer if it is current; None otherwise (the caller converts in-process)."""
    lite = current_export(name, weights_dir)
    return lite.read_bytes() if lite else None
