"""Corruptions: what the demo does to a clean image before a model cleans it up.

Everything here is NumPy/SciPy so that training (through ``tf.data``), the app, the
benchmarks and the tests all draw noise from one implementation. A corruption is a
small frozen dataclass; applying it with a seed is deterministic.

Order of operations, as in the blur-and-noise post: blur first, then noise, then an
optional clip to [0, 1].
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
from scipy import ndimage

from .images import as_batch

NOISE_KINDS = ("gaussian", "uniform", "salt-pepper", "none")


@dataclass(frozen=True)
class Corruption:
    """One corruption setting.

    noise:  "gaussian" (mean + sigma * N(0, 1)), "uniform" (U(-radius, radius)),
            "salt-pepper" (a fraction ``amount`` of pixels set to 0 or 1), or "none".
    blur:   standard deviation of a Gaussian blur applied before the noise (pixels).
    clip:   clip the result to [0, 1]; some tutorials do not.
    """

    noise: str = "gaussian"
    sigma: float = 0.0
    mean: float = 0.0
    radius: float = 0.0
    amount: float = 0.0
    blur: float = 0.0
    clip: bool = True

    def __post_init__(self) -> None:
        if self.noise not in NOISE_KINDS:
            raise ValueError(f"unknown noise kind {self.noise!r}; choose one of {NOISE_KINDS}")
        for name in ("sigma", "radius", "amount", "blur"):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {getattr(self, name)!r}")
        if self.amount > 1:
            raise ValueError(f"amount is a fraction of pixels and must be <= 1, got {self.amount}")

    @property
    def sigma_hint(self) -> float | None:
        """The σ a denoiser may be told: the Gaussian σ (whatever the blur, mean or clip),
        None for the other noise kinds and for no noise. The app and the benchmarks both
        use this one rule (the baselines and the photo model take it)."""
        return self.sigma if self.noise == "gaussian" and self.sigma > 0 else None

    def describe(self) -> str:
        """Short human-readable label, used in tables and plots."""
        parts = []
        if self.blur:
            parts.append(f"blur {self.blur:g}")
        if self.noise == "gaussian" and (self.sigma or self.mean):
            parts.append(f"σ {self.sigma:g}" + (f" mean {self.mean:g}" if self.mean else ""))
        elif self.noise == "uniform" and self.radius:
            parts.append(f"uniform ±{self.radius:g}")
        elif self.noise == "salt-pepper" and self.amount:
            parts.append(f"s&p {self.amount:g}")
        parts.append("clipped" if self.clip else "unclipped")
        return ", ".join(parts) if len(parts) > 1 else "clean"

    def as_dict(self) -> dict:
        return asdict(self)


def from_controls(noise: str, level: float, blur: float = 0.0, mean: float = 0.0, clip: bool = True) -> Corruption:
    """The app's controls → a corruption. One "level" slider means σ for Gaussian noise,
    ±r for uniform noise and the fraction of pixels hit for salt-and-pepper."""
    level = float(level)
    return Corruption(
        noise, sigma=level if noise == "gaussian" else 0.0, mean=float(mean) if noise == "gaussian" else 0.0,
        radius=level if noise == "uniform" else 0.0, amount=min(level, 1.0) if noise == "salt-pepper" else 0.0,
        blur=float(blur), clip=bool(clip),
    )


def controls(c: Corruption) -> tuple[str, float, float, float, bool]:
    """Inverse of :func:`from_controls`, so a preset can set the sliders."""
    level = {"gaussian": c.sigma, "uniform": c.radius, "salt-pepper": c.amount}.get(c.noise, 0.0)
    return c.noise, round(level, 3), round(c.blur, 3), c.mean, c.clip


def gaussian(sigma: float, clip: bool = True, mean: float = 0.0, blur: float = 0.0) -> Corruption:
    """Shorthand for the commonest setting."""
    return Corruption("gaussian", sigma=sigma, mean=mean, blur=blur, clip=clip)


def _blur(images: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Blur each image (N, H, W, C) with its own sigma, spatial axes only."""
    out = images.copy()
    for i, s in enumerate(sigma):
        if s > 0:
            out[i] = ndimage.gaussian_filter(images[i], sigma=(s, s, 0), mode="nearest")
    return out


def apply_batch(
    images: np.ndarray,
    rng: np.random.Generator,
    *,
    noise: np.ndarray,
    sigma: np.ndarray,
    mean: np.ndarray,
    radius: np.ndarray,
    amount: np.ndarray,
    blur: np.ndarray,
    clip: np.ndarray,
) -> np.ndarray:
    """Corrupt a batch (N, H, W, C) with per-image parameters (arrays of length N).

    This is the one place noise is made; :func:`apply` and the training sampler call it.
    ``noise`` holds indices into :data:`NOISE_KINDS`.
    """
    x = _blur(images, blur)
    col = (slice(None), None, None, None)
    kind = noise[col]
    g = rng.standard_normal(x.shape, dtype=np.float32) * sigma[col] + mean[col]
    u = rng.uniform(-1.0, 1.0, size=x.shape).astype(np.float32) * radius[col]
    x = x + np.where(kind == 0, g, 0) + np.where(kind == 1, u, 0)
    # salt and pepper: one mask per pixel position, shared by the channels
    hit = rng.random(x.shape[:3] + (1,)) < amount[col]
    salt = rng.random(x.shape[:3] + (1,)) < 0.5
    sp = (kind == 2) & hit
    x = np.where(sp & salt, 1.0, np.where(sp & ~salt, 0.0, x))
    x = np.where(clip[col], np.clip(x, 0.0, 1.0), x)
    return x.astype(np.float32)


def apply(images: np.ndarray, corruption: Corruption, seed: int | None = 0) -> np.ndarray:
    """Corrupt ``images`` (any of the accepted shapes, values in [0, 1]).

    The same ``seed`` gives the same noise; the result keeps the input's shape.
    """
    x, shape = as_batch(images)
    n = x.shape[0]
    c = corruption
    full = lambda v: np.full(n, v, dtype=np.float32)  # noqa: E731
    out = apply_batch(
        x,
        np.random.default_rng(seed),
        noise=np.full(n, NOISE_KINDS.index(c.noise)),
        sigma=full(c.sigma),
        mean=full(c.mean if c.noise == "gaussian" else 0.0),
        radius=full(c.radius),
        amount=full(c.amount),
        blur=full(c.blur),
        clip=np.full(n, c.clip),
    )
    return out.reshape(shape)


# --- the tutorials' exact settings --------------------------------------------------

def _blur_post(rng: np.random.Generator) -> Corruption:
    """Blur σ ~ U(0, 2) then uniform noise ±r, r ~ U(0.01, 1.5), unclipped."""
    return Corruption("uniform", blur=float(rng.uniform(0, 2)), radius=float(rng.uniform(0.01, 1.5)), clip=False)


PRESETS: dict[str, tuple[str, Callable[[np.random.Generator], Corruption]]] = {
    "feed-forward notebook": ("x + 0.55·N(0,1), unclipped", lambda rng: gaussian(0.55, clip=False)),
    "conv-latent article": ("x + N(0.5, 0.5), clipped", lambda rng: gaussian(0.5, clip=True, mean=0.5)),
    "Keras example": ("x + 0.4·N(0,1), clipped", lambda rng: gaussian(0.4, clip=True)),
    "CIFAR article": ("x + 0.1·N(0,1), clipped", lambda rng: gaussian(0.1, clip=True)),
    "blur post": ("blur σ~U(0,2), then uniform ±r, r~U(0.01,1.5)", _blur_post),
}


def preset(name: str, seed: int | None = 0) -> Corruption:
    """The corruption a tutorial used; the blur post draws its parameters from ``seed``."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {list(PRESETS)}")
    return PRESETS[name][1](np.random.default_rng(seed))


# --- the training distribution ------------------------------------------------------

TRAINING_DISTRIBUTION = (
    "per digit, fresh every batch: noise kind gaussian/uniform/salt-pepper/none with p "
    "0.6/0.17/0.15/0.08; Gaussian σ ~ U(0, 1.05), with p 0.3 a mean ~ U(-0.3, 0.6); uniform "
    "±r, r ~ U(0.01, 1.5); salt-and-pepper amount ~ U(0, 0.5); with p 0.35 a blur σ ~ U(0, 2) "
    "first; clipped to [0, 1] with p 0.7"
)


def training_distribution(focus: float = 0.0) -> str:
    """The card's description of :func:`sample_training` with this ``focus``."""
    if not focus:
        return TRAINING_DISTRIBUTION
    return (f"with p {focus:g} the app's default noise (Gaussian σ ~ U(0, 1.05), clipped, no mean, "
            f"no blur); otherwise {TRAINING_DISTRIBUTION}")


def sample_training(images: np.ndarray, rng: np.random.Generator, focus: float = 0.0) -> np.ndarray:
    """Corrupt a digit batch with a fresh draw from the distribution the app offers.

    Why a distribution: one shipped model must answer sensibly at every slider position
    (σ 0-1, blur 0-2, mean shifts, every noise kind, clipped or not) and at every preset.
    ``focus`` is the share of digits that get the app's default instead (clipped Gaussian
    at σ ~ U(0, 1.05)), the noise most visitors see and the quality table's main columns;
    with the full mixture alone a fixed-size model spreads itself over every kind.
    """
    n = images.shape[0]
    u = lambda lo, hi: rng.uniform(lo, hi, n).astype(np.float32)  # noqa: E731
    noise = rng.choice(4, size=n, p=[0.6, 0.17, 0.15, 0.08])
    sigma = u(0.0, 1.05)
    mean = np.where(rng.random(n) < 0.3, u(-0.3, 0.6), 0.0).astype(np.float32)
    blur = np.where(rng.random(n) < 0.35, u(0.0, 2.0), 0.0).astype(np.float32)
    clip = rng.random(n) < 0.7
    if focus:
        default = rng.random(n) < focus
        noise, mean, blur = np.where(default, 0, noise), np.where(default, 0, mean), np.where(default, 0, blur)
        clip = clip | default
    return apply_batch(
        images, rng, noise=noise, sigma=sigma, mean=mean.astype(np.float32), radius=u(0.01, 1.5),
        amount=u(0.0, 0.5), blur=blur.astype(np.float32), clip=clip,
    )
