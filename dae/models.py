"""Keras builders for every architecture in the registry.

Each builder returns an uncompiled ``keras.Model``. Layers that the app shows
(the bottleneck) are named ``latent`` so :mod:`dae.inference` can find them.
Digit models take (28, 28, 1) in [0, 1] (or beyond, for unclipped noise) and end in a
sigmoid; the photo model is fully convolutional and predicts the noise (residual).
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers

DIGIT_SHAPE = (28, 28, 1)


def dense(width: int = 32) -> keras.Model:
    """Applied Deep Learning notebook: 784 -> 32 (ReLU) -> 784 (sigmoid)."""
    inp = keras.Input(DIGIT_SHAPE, name="noisy")
    x = layers.Flatten()(inp)
    z = layers.Dense(width, activation="relu", name="latent")(x)
    x = layers.Dense(784, activation="sigmoid")(z)
    out = layers.Reshape(DIGIT_SHAPE, name="clean")(x)
    return keras.Model(inp, out, name="dense")


def conv_latent(latent_dim: int = 16, filters: tuple[int, ...] = (32, 64)) -> keras.Model:
    """TF2 DAE article: strided convs -> Dense latent of 16 -> mirrored transposed convs."""
    inp = keras.Input(DIGIT_SHAPE, name="noisy")
    x = inp
    for f in filters:
        x = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu")(x)
    h, w, c = x.shape[1:]
    z = layers.Dense(latent_dim, name="latent")(layers.Flatten()(x))
    x = layers.Dense(h * w * c)(z)
    x = layers.Reshape((h, w, c))(x)
    for f in reversed(filters):
        x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu")(x)
    out = layers.Conv2DTranspose(1, 3, padding="same", activation="sigmoid", name="clean")(x)
    return keras.Model(inp, out, name="conv_latent")


def dense_2d(widths: tuple[int, ...] = (256, 64)) -> keras.Model:
    """A true 2-D code: 784 -> 256 -> 64 -> 2 -> 64 -> 256 -> 784, ReLU inside, a linear
    code and a sigmoid output. Its code needs no projection to be drawn: the map is the code,
    so a decoded map point is exactly what lies under the pointer."""
    inp = keras.Input(DIGIT_SHAPE, name="noisy")
    x = layers.Flatten()(inp)
    for w in widths:
        x = layers.Dense(w, activation="relu")(x)
    z = layers.Dense(2, name="latent")(x)
    x = z
    for w in reversed(widths):
        x = layers.Dense(w, activation="relu")(x)
    x = layers.Dense(784, activation="sigmoid")(x)
    out = layers.Reshape(DIGIT_SHAPE, name="clean")(x)
    return keras.Model(inp, out, name="dense_2d")


def conv_2d(filters: tuple[int, ...] = (32, 64), hidden: int = 64) -> keras.Model:
    """The other 2-D candidate: ``conv_latent``'s strided-conv encoder into a 2-D code
    (through a Dense ``hidden``), decoded by the mirrored transposed convs."""
    inp = keras.Input(DIGIT_SHAPE, name="noisy")
    x = inp
    for f in filters:
        x = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu")(x)
    h, w, c = x.shape[1:]
    x = layers.Dense(hidden, activation="relu")(layers.Flatten()(x))
    z = layers.Dense(2, name="latent")(x)
    x = layers.Dense(hidden, activation="relu")(z)
    x = layers.Reshape((h, w, c))(layers.Dense(h * w * c, activation="relu")(x))
    for f in reversed(filters):
        x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu")(x)
    out = layers.Conv2DTranspose(1, 3, padding="same", activation="sigmoid", name="clean")(x)
    return keras.Model(inp, out, name="conv_2d")


def conv_block(x, filters: int, strides: int = 1):
    """The CIFAR article's block: Conv2D -> BatchNorm -> ReLU."""
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def deconv_block(x, filters: int):
    """The CIFAR article's up block: Conv2DTranspose (stride 2) -> BatchNorm -> ReLU."""
    x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def _unet_body(x, widths: tuple[int, ...]):
    """Encoder with strided down-sampling, decoder with concatenated skips.

    A full-resolution block comes first so that the finest skip carries pixel detail.
    """
    skips = []
    x = conv_block(x, widths[0])
    for w in widths[1:]:
        skips.append(x)
        x = conv_block(x, w, strides=2)
        x = conv_block(x, w)
    for w, skip in zip(reversed(widths[:-1]), reversed(skips)):
        x = deconv_block(x, w)
        x = layers.Concatenate()([x, skip])
        x = conv_block(x, w)
    return x


def conv_pool(filters: tuple[int, ...] = (32, 64)) -> keras.Model:
    """Keras-blog style: Conv + MaxPooling encoder, Conv + UpSampling decoder, no skips.

    Widths 32/64 rather than the blog's 16/8/8, and BatchNorm after each conv: trained
    naively with MSE on strong, unclipped noise, the plain version's ReLUs die and it
    collapses to a constant grey image (we saw exactly that: loss stuck at 0.113).
    """
    inp = keras.Input(DIGIT_SHAPE, name="noisy")
    x = inp
    for f in filters:
        x = conv_block(x, f)
        x = layers.MaxPooling2D(2, padding="same")(x)
    x = conv_block(x, filters[-1])
    for f in reversed(filters):
        x = layers.UpSampling2D(2)(x)
        x = conv_block(x, f)
    out = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="clean")(x)
    return keras.Model(inp, out, name="conv_pool")


def unet(widths: tuple[int, ...] = (32, 64, 128), name: str = "unet") -> keras.Model:
    """CIFAR DAE article's U-Net, sized for 28x28 (two down-samplings: 28 -> 14 -> 7)."""
    inp = keras.Input(DIGIT_SHAPE, name="noisy")
    x = _unet_body(inp, widths)
    out = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="clean")(x)
    return keras.Model(inp, out, name=name)


def unet_wide() -> keras.Model:
    """The same U-Net at twice the width (64/128/256): 4x the parameters, about 2x the
    time per digit on this CPU, for the extra quality the 32-wide one could not reach."""
    return unet((64, 128, 256), name="unet_wide")


PHOTO_CHANNELS = 3


def photo(widths: tuple[int, ...] = (32, 64, 128)) -> keras.Model:
    """Fully convolutional U-Net for photos of any size (multiples of 4 inside).

    Input: RGB plus a noise-level map (σ on the [0, 1] scale, one channel), as in FFDNet,
    so one network covers every σ and the app can pass the slider's value. Output: the
    clean image = input RGB - predicted noise (residual learning trains far faster than
    the article's sigmoid output at photo noise levels).
    """
    inp = keras.Input((None, None, PHOTO_CHANNELS + 1), name="noisy_and_sigma")
    return keras.Model(inp, _photo_denoise(inp, widths), name="photo")


def _photo_denoise(inp, widths: tuple[int, ...]):
    """RGB + noise-level map in, clean RGB out: the U-Net predicts the noise, subtracted."""
    x = _unet_body(inp, widths)
    # the last layers stay float32 under a mixed-precision training policy, so the image
    # is not rounded to bfloat16's 8 bits of mantissa
    residual = layers.Conv2D(PHOTO_CHANNELS, 3, padding="same", name="noise", dtype="float32")(x)
    # A frozen 1x1 conv picks the RGB channels out of the input: a Lambda layer would
    # do the same but cannot be loaded in Keras' safe mode.
    pick = np.eye(PHOTO_CHANNELS + 1, PHOTO_CHANNELS, dtype="float32")[None, None]
    rgb = layers.Conv2D(PHOTO_CHANNELS, 1, use_bias=False, trainable=False, name="rgb", dtype="float32",
                        kernel_initializer=keras.initializers.Constant(pick))(inp)
    return layers.Subtract(name="clean", dtype="float32")([rgb, residual])


def photo_real(widths: tuple[int, ...] = (32, 64, 128), stride: int = 4) -> keras.Model:
    """Blind denoiser for real camera noise, after CBDNet (Guo et al., CVPR 2019).

    A small fully convolutional estimator reads the noisy photo and draws a noise-level map,
    one σ per pixel; the map and the photo then go into exactly the ``photo`` U-Net, so that
    model's weights are a warm start (``train.py --init weights/photo.keras``). Real noise
    varies with brightness and colour, so one σ per photo (what ``photo`` is told) cannot
    describe it. Outputs: ``clean`` and ``noise_map`` (what the Photos tab shows).

    The estimator works at 1/``stride`` of the resolution (a strided 7×7 conv that still sees
    every pixel, three 3×3 convs, 39 px reach) and its map is interpolated linearly back up: a noise
    level changes slowly across a photo, and at full resolution the estimator cost ~20 % of
    the U-Net's time, where at 1/4 it costs ~2 %.
    """
    inp = keras.Input((None, None, PHOTO_CHANNELS), name="noisy")
    m = layers.Conv2D(32, 2 * stride - 1, strides=stride, padding="same", activation="relu")(inp)
    for _ in range(3):
        m = layers.Conv2D(32, 3, padding="same", activation="relu")(m)
    coarse = layers.Conv2D(1, 3, padding="same", activation="relu", dtype="float32")(m)
    # Linear interpolation as nearest upsampling then a box of the same width (box * box =
    # triangle). UpSampling2D's own "bilinear" fails on photos of open size under
    # tf.function in Keras 3.15: ops.image.resize tests `size[0] <= 0` in Python, a symbolic
    # tensor there (keras-team/keras#22079, reported in its comments).
    fine = layers.UpSampling2D(stride, interpolation="nearest", dtype="float32")(coarse)
    smap = layers.AveragePooling2D(stride, strides=1, padding="same", name="noise_map", dtype="float32")(fine)
    x = layers.Concatenate(name="noisy_and_map", dtype="float32")([inp, smap])
    return keras.Model(inp, {"clean": _photo_denoise(x, widths), "noise_map": smap}, name="photo_real")
