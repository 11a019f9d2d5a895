"""The one list of models. Weights, model cards, the app and the benchmarks read it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import keras

from . import models


@dataclass(frozen=True)
class ModelSpec:
    """What the rest of the project needs to know about a model.

    kind:      "digit" (28x28 greyscale) or "photo" (any size, colour or grey)
    build:     returns a fresh, untrained Keras model
    tutorial:  the tutorial whose architecture family it follows
    differs:   what our training changes relative to that tutorial (goes on the card)
    real_noise: a blind photo model for real camera noise: needs no σ, and draws where it
               thinks the noise is (``noise_map``); the Photos tab sends it "already noisy" uploads
    has_latent: a bottleneck layer named ``latent`` (dae.latent looks inside it)
    code_is_map: that code has two numbers, so the Inside tab draws it as it is (no projection),
               and ``train.py`` also exports its encoder and decoder halves for the browser
    panel:     one of the Digits tab's panels (and ``/denoise_digit``'s default models)
    train:     default training settings for ``train.py``
    """

    name: str
    kind: str
    description: str
    tutorial: str
    build: Callable[[], keras.Model]
    differs: str
    has_latent: bool = False
    real_noise: bool = False  # blind, trained on simulated camera noise (dae.camera); outputs a noise map
    code_is_map: bool = False
    panel: bool = True
    train: dict = field(default_factory=dict)


_DIGIT_DIFFERS = (
    "MSE loss, Adam with cosine-decayed learning rate, trained on a distribution of "
    "corruptions (see 'corruption') drawn fresh for every batch instead of one fixed noise level"
)

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            "dense", "digit",
            "Fully connected 784 → 32 (ReLU) → 784 (sigmoid): the smallest autoencoder there is.",
            "Applied Deep Learning (Michelucci & Sperti), feed-forward DAE notebook",
            models.dense, _DIGIT_DIFFERS + "; the notebook used binary cross-entropy, σ 0.55 unclipped",
            has_latent=True, train={"epochs": 40, "batch_size": 128, "learning_rate": 2e-3},
        ),
        ModelSpec(
            "conv-latent", "digit",
            "Conv 32/64 stride 2 → Dense latent of 16 → mirrored transposed convs.",
            "DAE article (TensorFlow 2), MNIST",
            models.conv_latent, _DIGIT_DIFFERS + "; the article used N(0.5, 0.5) clipped, 10 epochs",
            has_latent=True, train={"epochs": 30, "batch_size": 128, "learning_rate": 1e-3},
        ),
        ModelSpec(
            "conv-pool", "digit",
            "Conv + MaxPooling encoder, Conv + UpSampling decoder (32/64 wide, BatchNorm), no skips.",
            "Omdena article / 'Denoise with autoencoders' blog (Keras-blog style)",
            models.conv_pool, _DIGIT_DIFFERS + "; widened from 16/8/8 to 32/64 with BatchNorm after "
            "each conv: without it, MSE training on this noise collapsed to a constant image",
            train={"epochs": 15, "batch_size": 128, "learning_rate": 1e-3, "precision": "mixed_bfloat16"},
        ),
        ModelSpec(
            "unet", "digit",
            "U-Net: Conv+BatchNorm+ReLU blocks, strided down-sampling, transposed-conv "
            "up-sampling with concatenated skips, sigmoid output.",
            "Denoising autoencoder for CIFAR (U-Net-like)",
            models.unet, _DIGIT_DIFFERS + "; sized for 28×28 (32/64/128, two down-samplings "
            "after a full-resolution block) instead of 32×32×3 with four",
            train={"epochs": 20, "batch_size": 128, "learning_rate": 2e-3, "precision": "mixed_bfloat16"},
        ),
        ModelSpec(
            "unet-wide", "digit",
            "The U-Net above at twice the width (64/128/256): the best digit model here.",
            "Denoising autoencoder for CIFAR (U-Net-like)",
            models.unet_wide, _DIGIT_DIFFERS + "; sized for 28×28 like `unet`, and twice as wide "
            "(64/128/256): the 32-wide U-Net stopped short of this project's quality targets",
            train={"epochs": 50, "batch_size": 128, "learning_rate": 2e-3, "precision": "mixed_bfloat16"},
        ),
        ModelSpec(
            "dense-2d", "digit",
            "Fully connected 784 → 256 → 64 → 2 → 64 → 256 → 784: a code of two numbers, drawn as it is "
            "on the Inside tab.",
            "The VAE Explainer / ConvNetJS autoencoder demo (a 2-D code), as a denoiser",
            models.dense_2d, _DIGIT_DIFFERS + "; a plain (not variational) autoencoder, denoising: the demos "
            "it follows add no noise. Chosen over a conv encoder into 2-D by the held-out classes' kNN "
            "accuracy in the code (scripts/pick_2d.py)",
            has_latent=True, code_is_map=True, panel=False,
            train={"epochs": 40, "batch_size": 128, "learning_rate": 2e-3},
        ),
        ModelSpec(
            "photo", "photo",
            "Fully convolutional U-Net with a noise-level map input and residual output, "
            "for photos at their own resolution.",
            "Denoising autoencoder for CIFAR (U-Net-like)",
            models.photo, "residual output (predicts the noise) instead of a sigmoid; a σ map as "
            "a fourth input channel; trained on random 64×64 crops of BSDS500 with flips and "
            "rotations, σ ~ U(0, 60/255), a third of the crops greyscale",
            train={"steps": 8000, "batch_size": 16, "learning_rate": 1e-3, "patch": 64,
                   "precision": "mixed_bfloat16"},
        ),
        ModelSpec(
            "photo-real", "photo",
            "Blind denoiser for real camera noise: a noise estimator draws a per-pixel σ map, "
            "which feeds the photo U-Net (CBDNet's idea).",
            "Denoising autoencoder for CIFAR (U-Net-like)",
            models.photo_real, "blind: a 5-layer estimator at 1/4 resolution predicts the noise-level map that `photo` "
            "is told; trained from `photo`'s weights on simulated camera noise (dae.camera: mosaic, "
            "shot + read noise, demosaicing, tone curve, JPEG) instead of white Gaussian noise",
            real_noise=True,
            train={"steps": 5000, "batch_size": 16, "learning_rate": 5e-4, "patch": 64, "loss": "psnr",
                   "precision": "mixed_bfloat16"},
        ),
    ]
}


def digit_models(every: bool = False) -> list[str]:
    """The Digits tab's models (``panel``), or with ``every`` every digit model (``dense-2d``
    too: trained, exported and tested like the others, shown on the Inside tab only)."""
    return [n for n, s in MODELS.items() if s.kind == "digit" and (every or s.panel)]


def map_models() -> list[str]:
    """Digit models whose code is 2-D, drawn as it is on the Inside tab."""
    return [n for n, s in MODELS.items() if s.code_is_map]


def spec(name: str) -> ModelSpec:
    """Look a model up by name, with a message that lists the choices."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {list(MODELS)}")
    return MODELS[name]
