"""Every parameter a visitor or an API client can set, with its range, declared once.

The page's widgets are built from these ranges and every endpoint checks its inputs against
them, so the API can never be wider than the page: a blur of 10⁶ (which would make SciPy
build a kernel of four million pixels) is refused with a message, not computed. The ranges
also bound the work of a request (docs/architecture.md, "Limits set on purpose").

:class:`ParamError` is a ``ValueError`` whose message names the parameter, the value and
the range; the UI turns it into a ``gr.Error``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from . import corrupt


class ParamError(ValueError):
    """An input outside its declared range, of the wrong type, or not one of the choices."""


@dataclass(frozen=True)
class Range:
    """A number from ``lo`` to ``hi`` (inclusive); ``whole`` for integers."""

    name: str
    lo: float
    hi: float
    default: float
    step: float = 1.0
    whole: bool = False

    def check(self, value: object) -> float | int:
        """``value`` as a float (an int when ``whole``), or :class:`ParamError`."""
        if isinstance(value, bool) or not isinstance(value, Real):  # "3" too: JSON has numbers
            shown = value if not isinstance(value, str) or len(value) <= 60 else value[:60] + "…"
            raise ParamError(f"{self.name} must be a number {self.span}, got {shown!r}")
        v = float(value)
        if not math.isfinite(v) or not self.lo <= v <= self.hi:
            raise ParamError(f"{self.name} must be a number {self.span}, got {value!r}")
        if self.whole:
            if not v.is_integer():
                raise ParamError(f"{self.name} must be a whole number {self.span}, got {value!r}")
            return int(v)
        return v

    @property
    def span(self) -> str:
        return f"from {self.lo:g} to {self.hi:g}"

    def widget(self) -> dict:
        """The keyword arguments a slider or number box takes: minimum, maximum, value, step."""
        return {"minimum": self.lo, "maximum": self.hi, "value": self.default, "step": self.step}


# --- the digit controls (Digits tab, /denoise_digit, /digit_view, /encode) ---------------
LEVEL = Range("sigma", 0.0, 1.5, 0.5, 0.01)  # σ, ±r or the salt-and-pepper fraction: one slider
BLUR = Range("blur", 0.0, 3.0, 0.0, 0.05)
MEAN = Range("mean", -0.5, 0.5, 0.0, 0.05)
SEED = Range("seed", 0, 2**32 - 1, 0, 1, whole=True)


def digit_index(gallery_size: int, default: int = 0) -> Range:
    """A digit of the held-out gallery, by its index: its size depends on the data loaded."""
    return Range("digit", 0, gallery_size - 1, default, 1, whole=True)


# --- photos (Photos tab, /denoise_photo); σ on the 0-255 scale --------------------------
PHOTO_SIGMA = Range("sigma", 0.0, 75.0, 25.0, 1.0)
PHOTO_BLUR = Range("blur", 0.0, 3.0, 0.0, 0.1)
# --- the Inside tab ----------------------------------------------------------------------
STEPS = Range("steps", 2, 16, 8, 1, whole=True)  # interpolation: decoded digits between two codes
EPOCHS = Range("epochs", 1, 50, 30, 1, whole=True)  # a live training; ~0.7 s each on 2 cores
MAP_X = Range("x", -1000.0, 1000.0, 0.0, 0.01)  # a map point; the maps span a few units
MAP_Y = Range("y", -1000.0, 1000.0, 0.0, 0.01)


def choice(name: str, value: object, choices: list[str] | tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else :class:`ParamError` listing them."""
    if not isinstance(value, str) or value not in choices:
        shown = value if not isinstance(value, str) or len(value) <= 60 else value[:60] + "…"
        raise ParamError(f"{name} must be one of {list(choices)}, got {shown!r}")
    return value


def flag(name: str, value: object) -> bool:
    """A true/false switch: a bool (or 0/1), nothing else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ParamError(f"{name} must be true or false, got {value!r}")


def subset(name: str, values: object, choices: list[str], default: list[str]) -> list[str]:
    """A list of distinct names from ``choices`` (``default`` for None); at most all of them."""
    if values is None:
        return list(default)
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise ParamError(f"{name} must be a list of names from {choices}, got {values!r}")
    out = [choice(name, v, choices) for v in values]
    if len(set(out)) != len(out):
        raise ParamError(f"{name} lists a name twice: {out}")
    return out


def digit_corruption(noise: object, level: object, blur: object = 0.0, mean: object = 0.0,
                     clip: object = True) -> corrupt.Corruption:
    """The Digits tab's controls, checked against their ranges, as a corruption."""
    return corrupt.from_controls(choice("noise", noise, corrupt.NOISE_KINDS), LEVEL.check(level),
                                 BLUR.check(blur), MEAN.check(mean), flag("clip", clip))


def photo_corruption(sigma: object, blur: object = 0.0, clip: object = False) -> corrupt.Corruption:
    """The Photos tab's controls (σ on the 0-255 scale), checked, as a corruption."""
    return corrupt.Corruption("gaussian", sigma=PHOTO_SIGMA.check(sigma) / 255, blur=PHOTO_BLUR.check(blur),
                              clip=flag("clip", clip))


def seed(value: object) -> int:
    """A noise seed; None (an empty box) is 0."""
    return 0 if value is None else SEED.check(value)
