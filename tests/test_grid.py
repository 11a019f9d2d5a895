"""Weights on a grid (dae.grid): what makes the U-Nets' exports small on the wire."""
import json

import brotli
import keras
import numpy as np
import pytest

import dae
from dae import export, grid
from dae.inference import WEIGHTS_DIR


def test_snap_puts_each_channel_on_its_own_symmetric_grid():
    k = np.random.default_rng(0).normal(size=(3, 3, 8, 16)).astype(np.float32)
    q = grid.snap(k, 4)
    for c in range(16):
        col = q[..., c]
        int8 = np.abs(k[..., c]).max() / 127  # the export's scale for this channel
        assert len(np.unique(col)) <= 15
        assert np.allclose(col / int8, np.round(col / int8), atol=1e-3)  # exactly int8 values
        assert np.isclose(np.abs(col).max(), np.abs(k[..., c]).max())
    np.testing.assert_allclose(grid.snap(q, 4), q, atol=1e-6)  # idempotent
    assert np.abs(q - k).max() <= np.abs(k).max(axis=(0, 1, 2)).max() * (1 / 14 + 1 / 254) + 1e-6
    # a transposed convolution's output channels are on axis -2
    assert max(len(np.unique(grid.snap(k, 4, axis=-2)[..., c, :])) for c in range(8)) <= 15
    assert grid.snap(np.zeros((2, 2)), 4).tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_fine_tuning_on_the_grid_keeps_every_kernel_on_it_and_still_learns():
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
    x = keras.layers.Conv2DTranspose(4, 3, strides=1, padding="same")(x)
    out = keras.layers.Conv2D(1, 1)(x)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    rng = np.random.default_rng(1)
    x = rng.random((64, 8, 8, 1)).astype(np.float32)
    before = float(model.evaluate(x, x, verbose=0))
    model.fit(x, x, epochs=20, batch_size=16, verbose=0, callbacks=[grid.OnGrid(4)])
    assert all(grid.distinct_per_channel(layer) <= 15 for layer in grid.gridded(model))
    assert float(model.evaluate(x, x, verbose=0)) < before / 2


@pytest.mark.parametrize("name", ["unet", "unet-wide"])
def test_shipped_unets_are_on_a_4_bit_grid_and_small_on_the_wire(name):
    """The card says so, the kernels are, and the int8 export Brotli-compresses below
    3.2 bits a weight (int8 weights off the grid take about 7)."""
    card = json.loads((WEIGHTS_DIR / f"{name}.json").read_text())
    assert card["training"]["weight_bits"] == 4
    model = dae.load(name).model
    assert all(grid.distinct_per_channel(layer) <= 15 for layer in grid.gridded(model))
    lite = (WEIGHTS_DIR / f"{name}.tflite").read_bytes()
    assert export.current_export(name, WEIGHTS_DIR) is not None
    assert len(brotli.compress(lite, quality=11)) * 8 / model.count_params() < 3.2
