"""Weights on a coarse grid, so that a model downloads in fewer bytes.

The browser fetches every digit model once, Brotli-compressed. An int8 export of normally
trained weights takes about 7 bits a weight even then: the values fill the int8 range. On a
grid of 2^(b-1)-1 steps each side of zero per output channel (15 values for b = 4), the int8
export holds at most 15 distinct values, the same 15 in every channel, and Brotli keeps under
3 bits a weight: ``unet-wide`` goes from 1.59 MB to about 0.64 MB on the wire.

Snapping trained weights to the grid costs quality (0.34 dB for ``unet-wide`` at σ 0.5), so
the shipped weights are fine-tuned on it: the forward and backward passes see the snapped
weights, the optimiser's steps accumulate in float "shadow" weights, and the variables are
snapped again after every step (the straight-through estimator of Bengio et al. 2013, as in
quantisation-aware training). The grid survives BatchNorm folding, which scales each output
channel by one factor, and int8 quantisation, whose per-channel scale is the channel's
largest magnitude, a grid point, and whose int8 values are the grid's points exactly.
"""
from __future__ import annotations

import keras
import numpy as np

GRID_LAYERS = ("Conv2D", "Conv2DTranspose", "Dense")


def out_axis(layer: keras.layers.Layer) -> int:
    """The kernel axis of output channels: last for Conv2D and Dense, -2 for a transposed
    convolution (Keras stores its kernel as (h, w, out, in))."""
    return -2 if type(layer).__name__ == "Conv2DTranspose" else -1


INT8 = 127  # the int8 export's per-channel scale is the channel's largest magnitude / 127


def snap(kernel: np.ndarray, bits: int, axis: int = -1) -> np.ndarray:
    """``kernel`` on a symmetric grid per output channel (``axis``): 2^(bits-1)-1 steps each
    side of zero, the outermost at the channel's largest magnitude. Each point is the int8
    value nearest the uniform step (k · 127/7 rounded, for 4 bits), so that the int8 export
    holds exactly these weights: the model that was trained is the one the browser runs."""
    levels = 2 ** (bits - 1) - 1
    others = tuple(i for i in range(kernel.ndim) if i != axis % kernel.ndim)
    peak = np.abs(kernel).max(axis=others, keepdims=True)
    peak = np.where(peak > 0, peak, 1.0)
    return (np.round(np.round(kernel / peak * levels) * INT8 / levels) * peak / INT8).astype(kernel.dtype)


def gridded(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers whose kernels go on the grid: every trainable convolution and dense layer."""
    return [l for l in model.layers if type(l).__name__ in GRID_LAYERS and l.trainable]


def distinct_per_channel(layer: keras.layers.Layer) -> int:
    """The most distinct kernel values any one output channel of ``layer`` holds."""
    k = np.moveaxis(layer.kernel.numpy(), out_axis(layer), 0)
    return max(len(np.unique(c)) for c in k.reshape(k.shape[0], -1))


class OnGrid(keras.callbacks.Callback):
    """Fine-tuning on the grid (straight-through): the variables hold snapped kernels
    whenever the model runs, validation and checkpoints included; each optimiser step's
    change is added to the float shadow kernel, which is then snapped again."""

    def __init__(self, bits: int):
        super().__init__()
        self.bits = bits

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.layers = gridded(self.model)
        self.shadow = [l.kernel.numpy() for l in self.layers]
        self.snapped = [self._assign(l, s) for l, s in zip(self.layers, self.shadow)]

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        for i, layer in enumerate(self.layers):
            self.shadow[i] = self.shadow[i] + (layer.kernel.numpy() - self.snapped[i])
            self.snapped[i] = self._assign(layer, self.shadow[i])

    def _assign(self, layer: keras.layers.Layer, kernel: np.ndarray) -> np.ndarray:
        q = snap(kernel, self.bits, out_axis(layer))
        layer.kernel.assign(q)
        return q


def snap_model(model: keras.Model, bits: int) -> None:
    """Put every gridded kernel of ``model`` on the grid, in place."""
    for layer in gridded(model):
        layer.kernel.assign(snap(layer.kernel.numpy(), bits, out_axis(layer)))
