"""Denoising autoencoders: corruptions, models, inference, metrics and baselines.

    import dae
    clean = dae.load("unet").denoise(noisy_digits)

Nothing here knows about Gradio; ``app.py`` wires these pieces into a web page.
"""
from . import corrupt
from .inference import WeightsUnavailable, load
from .registry import MODELS, ModelSpec

__all__ = ["MODELS", "ModelSpec", "WeightsUnavailable", "corrupt", "load"]
