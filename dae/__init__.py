"""Denoising autoencoders: corruptions, models, inference, metrics and baselines.

    import dae
    clean = dae.load("unet").denoise(noisy_digits)

Nothing here knows about Gradio; ``app.py`` wires these pieces into a web page.

:mod:`dae.quiet` runs first, before anything can import TensorFlow, so that its start-up
banners stay out of the terminal (``DAE_VERBOSE=1`` or ``python -m dae --verbose`` keeps
them). The names below that need TensorFlow are imported on first use, not here, so that
``--verbose`` can still be decided after ``import dae``.
"""
from __future__ import annotations

import importlib
from typing import Any

from . import quiet

quiet.configure()

from . import corrupt  # noqa: E402  (NumPy/SciPy only: after quiet for uniformity)

# name -> submodule that defines it; imported (with TensorFlow) on first access
_LAZY = {"MODELS": "registry", "ModelSpec": "registry", "WeightsUnavailable": "inference", "load": "inference"}

__all__ = ["MODELS", "ModelSpec", "WeightsUnavailable", "corrupt", "load"]


def __getattr__(name: str) -> Any:
    """``dae.load`` etc. on first use; ``dae.<submodule>`` as if it had been imported."""
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    try:
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
