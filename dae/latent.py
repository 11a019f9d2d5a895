"""Inside a bottleneck model: its encoder and decoder halves, a 2-D map of its codes,
decoding any point of that map, and interpolation between two digits.

``dense``, ``conv-latent`` and ``dense-2d`` have a bottleneck (a layer named ``latent``, see
:mod:`dae.models`); the U-Nets carry detail around theirs through skips, so no single code
describes a digit there.

``dense-2d``'s code has two numbers: its map is the code itself (``projection="none"``), and
a map point decodes exactly. For the larger codes the map is a linear projection to 2-D of
the codes of the 5,000 gallery digits (:func:`dae.data.gallery`, never trained on by a
shipped model), fitted once per model when the :class:`LatentMap` is built. Two
projections, both scikit-learn:

- ``"lda"`` (the app's map): linear discriminant analysis, the 2-D linear view of the code in
  which the ten classes stand furthest apart. It uses the gallery's labels to choose the
  view, but can only show separation that the code already has.
- ``"pca"``: the two directions of largest variance. They hold only 30–35 % of the codes'
  variance here and the classes pile on top of each other in them.

A point of the map goes back to code space as the mean code of the gallery digits nearest
to it on the map (:meth:`LatentMap.code_at`); for PCA, inverse PCA (the point on the fitted
plane) is the other choice. We chose by the issue's class-mean test (decode at each class's
mean map position; is the image closest to that class's mean digit?): LDA + nearest codes
passes 9/10 classes for ``dense`` and 10/10 for ``conv-latent``; on the PCA map inverse PCA
gets 4/10 for both, nearest codes 6/10 and 4/10 (docs/inside.md has every figure).

Encoder and decoder run the float32 Keras layers (one ``tf.function`` each, batch open), not
the TFLite graph the app denoises with: the gallery's 5,000 codes and a visitor's digit must
come from the same encoder, and the decoder has no TFLite export.
"""
from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.decomposition import PCA

from . import corrupt, params

LATENT_LAYER = "latent"
MAP_MARGIN = 0.08  # the map extends this fraction of the codes' spread beyond them on each side
SHOWN_LO, SHOWN_HI = 0.5, 99.5  # a 2-D code's map: the percentiles of the codes it spans (per axis)
MAX_STEPS = int(params.STEPS.hi)  # interpolation steps one request may ask for (dae.params)
NEIGHBOURS = 16  # gallery codes averaged to decode a map point
PROJECTIONS = ("none", "lda", "pca")


def split(model: keras.Model) -> tuple[keras.Model, keras.Model]:
    """The encoder (image → code) and decoder (code → image) halves of a bottleneck model.

    The decoder re-applies the layers after ``latent`` to a new input, sharing their
    weights, so ``decoder(encoder(x))`` is ``model(x)``. Both bottleneck models are plain
    chains, which this relies on (and checks).
    """
    names = [l.name for l in model.layers]
    if LATENT_LAYER not in names:
        raise ValueError(f"model {model.name!r} has no layer named {LATENT_LAYER!r} (no bottleneck)")
    latent = model.get_layer(LATENT_LAYER)
    encoder = keras.Model(model.input, latent.output, name=f"{model.name}_encoder")
    z = keras.Input(latent.output.shape[1:], name="code")
    x = z
    for layer in model.layers[names.index(LATENT_LAYER) + 1:]:
        x = layer(x)
    if tuple(x.shape[1:]) != tuple(model.output.shape[1:]):
        raise ValueError(f"model {model.name!r} is not a chain after its bottleneck")
    return encoder, keras.Model(z, x, name=f"{model.name}_decoder")


def _runner(net: keras.Model):
    """One trace per process whatever the batch size."""
    sig = [tf.TensorSpec([None, *net.input.shape[1:]], tf.float32)]
    return tf.function(lambda x: net(x, training=False), input_signature=sig)


@dataclass(frozen=True)
class Extent:
    """The rectangle the map shows (map coordinates): clicks and ``/decode_point`` must fall inside."""

    x0: float
    x1: float
    y0: float
    y1: float

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1

    def as_dict(self) -> dict:
        return {"x": [round(self.x0, 4), round(self.x1, 4)], "y": [round(self.y0, 4), round(self.y1, 4)]}


class LatentMap:
    """One bottleneck model's codes, their 2-D map and the way back from the map to images.

    Built once per model (encoding the 5,000 gallery digits and fitting the PCA: see
    benchmarks/inside.py for what it costs); every method after that is read-only, so one
    instance serves concurrent requests.
    """

    def __init__(self, name: str, model: keras.Model, digits: np.ndarray, labels: np.ndarray,
                 projection: str = "lda", way_back: str = "nearest"):
        if projection not in PROJECTIONS:
            raise ValueError(f"projection must be one of {PROJECTIONS}, got {projection!r}")
        if way_back not in ("nearest", "inverse") or (way_back == "inverse" and projection != "pca"):
            raise ValueError("way_back is 'nearest', or 'inverse' for the PCA map only")
        enc, dec = split(model)
        self.latent_dim = int(enc.output.shape[-1])
        if (projection == "none") != (self.latent_dim == 2):
            raise ValueError(f"projection 'none' is for a 2-D code, and only it; {name!r} has {self.latent_dim} numbers")
        self.name, self.projection = name, projection
        self.way_back = "exact" if projection == "none" else way_back
        self._enc, self._dec = _runner(enc), _runner(dec)
        self.codes = self.encode(digits)
        self.labels = np.asarray(labels)
        self.projector = (None if projection == "none" else
                          LinearDiscriminantAnalysis(n_components=2).fit(self.codes, self.labels)
                          if projection == "lda" else PCA(n_components=2, random_state=0).fit(self.codes))
        self.points = self.to_map(self.codes)
        # A 2-D code has a few far outliers (a linear code is unbounded) that would squeeze the
        # clusters into a corner: its map shows the middle 99 % of the codes on each axis.
        lo, hi = ((self.points.min(0), self.points.max(0)) if projection != "none" else
                  np.percentile(self.points, [SHOWN_LO, SHOWN_HI], axis=0).astype(np.float32))
        pad = (hi - lo) * MAP_MARGIN
        self.extent = Extent(float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1]))

    # --- the two halves -----------------------------------------------------------------

    def encode(self, images: np.ndarray, batch: int = 1000) -> np.ndarray:
        """Codes (N, latent_dim) of 28×28 images ((28, 28), (N, 28, 28) or (N, 28, 28, 1))."""
        x = np.asarray(images, np.float32).reshape(-1, 28, 28, 1)
        return np.concatenate([self._enc(tf.constant(x[i:i + batch])).numpy() for i in range(0, len(x), batch)])

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Images (N, 28, 28) in [0, 1] that the decoder draws for codes (N, latent_dim)."""
        z = np.asarray(codes, np.float32).reshape(-1, self.latent_dim)
        return self._dec(tf.constant(z)).numpy().reshape(-1, 28, 28)

    # --- the map ------------------------------------------------------------------------

    def to_map(self, codes: np.ndarray) -> np.ndarray:
        """Map positions (N, 2) of codes (N, latent_dim)."""
        z = np.asarray(codes, np.float32).reshape(-1, self.latent_dim)
        return z.copy() if self.projector is None else self.projector.transform(z).astype(np.float32)

    def code_at(self, x: float, y: float) -> np.ndarray:
        """The code behind a map point: for a 2-D code the point itself (exact); for a
        projection the mean code of the :data:`NEIGHBOURS` gallery digits nearest to it on the
        map (an approximation: many codes share one map point), or (``way_back="inverse"``,
        PCA only) the point on the fitted plane. Off-map or non-finite coordinates are a
        ValueError."""
        self._check_point(x, y)
        if self.way_back == "exact":
            return np.array([x, y], np.float32)
        if self.way_back == "inverse":
            return self.projector.inverse_transform(np.array([[x, y]], np.float64)).astype(np.float32)[0]
        d = np.sum((self.points - np.array([x, y], np.float32)) ** 2, axis=1)
        return self.codes[np.argpartition(d, NEIGHBOURS)[:NEIGHBOURS]].mean(0)

    def decode_point(self, x: float, y: float) -> np.ndarray:
        """The 28×28 digit the decoder draws at a map point."""
        return self.decode(self.code_at(x, y))[0]

    def _check_point(self, x: float, y: float) -> None:
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ValueError(f"map coordinates must be finite numbers, got x={x!r}, y={y!r}")
        if not self.extent.contains(x, y):
            e = self.extent
            raise ValueError(f"({x:g}, {y:g}) is off the {self.name} map: x must lie in "
                             f"[{e.x0:.2f}, {e.x1:.2f}] and y in [{e.y0:.2f}, {e.y1:.2f}]")

    def class_means(self) -> np.ndarray:
        """Mean map position of each class, (10, 2): where the legend's clusters sit."""
        return np.stack([self.points[self.labels == k].mean(0) for k in range(10)])

    # --- one digit's journey --------------------------------------------------------------

    def journey(self, clean: np.ndarray, corruption: corrupt.Corruption, seed: int) -> "Journey":
        """The three codes the map's arrow shows for one digit and one corruption."""
        clean = np.asarray(clean, np.float32).reshape(28, 28)
        noisy = corrupt.apply(clean, corruption, seed)
        c_clean, c_noisy = self.encode(np.stack([clean, noisy]))
        denoised = self.decode(c_noisy)[0]
        c_denoised = self.encode(denoised)[0]
        pos = self.to_map(np.stack([c_clean, c_noisy, c_denoised]))
        return Journey(clean, noisy, denoised, c_clean, c_noisy, c_denoised, pos)

    # --- interpolation --------------------------------------------------------------------

    def interpolate(self, a: np.ndarray, b: np.ndarray, steps: int = 8) -> np.ndarray:
        """``steps`` images (steps, 28, 28) decoded along the straight line between the codes
        of ``a`` and ``b`` (both ends included)."""
        za, zb = self.encode(np.stack([np.reshape(a, (28, 28)), np.reshape(b, (28, 28))]))
        t = _fractions(steps)[:, None]
        return self.decode((1 - t) * za + t * zb)


@dataclass
class Journey:
    """A digit, its noisy copy and what the model made of it, with their codes.

    clean code = enc(clean); noisy code = enc(noisy); denoised code = enc(dec(enc(noisy))),
    the code of the model's output: where the denoiser sends the noisy digit.
    ``points`` holds their map positions in that order, (3, 2).
    """

    clean: np.ndarray
    noisy: np.ndarray
    denoised: np.ndarray
    clean_code: np.ndarray
    noisy_code: np.ndarray
    denoised_code: np.ndarray
    points: np.ndarray

    @property
    def noisy_distance(self) -> float:
        """How far the noise pushed the code: |enc(noisy) − enc(clean)|."""
        return float(np.linalg.norm(self.noisy_code - self.clean_code))

    @property
    def denoised_distance(self) -> float:
        """How far the denoised digit's code lies from the clean one: what the arrow claims shrinks."""
        return float(np.linalg.norm(self.denoised_code - self.clean_code))

    def as_dict(self) -> dict:
        """JSON-safe: the codes and map positions (the ``/encode`` endpoint's answer)."""
        r = lambda v: [round(float(u), 5) for u in v]  # noqa: E731
        return {"clean": {"code": r(self.clean_code), "map": r(self.points[0])},
                "noisy": {"code": r(self.noisy_code), "map": r(self.points[1])},
                "denoised": {"code": r(self.denoised_code), "map": r(self.points[2])}}


def _fractions(steps: int) -> np.ndarray:
    if not isinstance(steps, (int, np.integer)) or not 2 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be a whole number from 2 to {MAX_STEPS}, got {steps!r}")
    return np.linspace(0.0, 1.0, int(steps), dtype=np.float32)


def crossfade(a: np.ndarray, b: np.ndarray, steps: int = 8) -> np.ndarray:
    """The naive blend to compare with: ``steps`` pixel-space mixtures (1 - t)·a + t·b."""
    t = _fractions(steps)[:, None, None]
    return (1 - t) * np.reshape(a, (28, 28)).astype(np.float32) + t * np.reshape(b, (28, 28)).astype(np.float32)


KNN_K = 10  # neighbours of the held-out kNN accuracy
KNN_FOLDS = 5


def knn_accuracy(codes: np.ndarray, labels: np.ndarray, projection: str = "none", k: int = KNN_K,
                 folds: int = KNN_FOLDS) -> float:
    """How well the classes separate in a map: the k-nearest-neighbour accuracy (k = 10,
    Euclidean) of held-out codes, by stratified ``folds``-fold cross-validation over the given
    codes (shuffled, seed 0), each fold classified by its neighbours in the other folds.

    ``projection="none"`` scores the codes as they are (a 2-D code is its own map);
    ``"lda"`` scores the app's LDA map of larger codes, the projection fitted on the training
    folds only, so the labels of a fold never choose the view it is scored in."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline

    knn = KNeighborsClassifier(n_neighbors=k)
    clf = make_pipeline(LinearDiscriminantAnalysis(n_components=2), knn) if projection == "lda" else knn
    cv = StratifiedKFold(folds, shuffle=True, random_state=0)
    return float(cross_val_score(clf, np.asarray(codes, np.float64), np.asarray(labels), cv=cv).mean())


def build_maps(models: dict[str, keras.Model], digits: np.ndarray, labels: np.ndarray) -> dict[str, LatentMap]:
    """The app's :class:`LatentMap` for each bottleneck model given (name → Keras model): a
    2-D code as it is, a larger one as its LDA map (decoded through the nearest codes)."""
    def projection(m: keras.Model) -> str:
        return "none" if int(m.get_layer(LATENT_LAYER).output.shape[-1]) == 2 else "lda"
    return {name: LatentMap(name, m, digits, labels, projection(m)) for name, m in models.items()}
