"""What every tab shares: the loaded models and the held-out gallery, built once per process."""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import gradio as gr
import numpy as np

from dae import MODELS, data, images, service
from dae.params import ParamError
from dae.baselines import DIGIT_BASELINES
from dae.inference import WEIGHTS_DIR, usable_cores

GALLERY_PER_CLASS = 4  # digits per class in the Digits tab's picker: 4 rows of 10 fit a projector


def visitor_errors(fn: Callable) -> Callable:
    """Turn what a visitor or an API client can get wrong (a parameter out of its range, an
    unreadable image) into a ``gr.Error`` with its message: shown on the page, sent to the
    client, and never logged as a server traceback. Generators (streaming events) too."""
    if _is_generator(fn):
        @functools.wraps(fn)
        def stream(*a, **k):
            try:
                yield from fn(*a, **k)
            except (ParamError, images.ImageError) as e:
                raise gr.Error(str(e), print_exception=False) from None
            except gr.Error as e:
                e.print_exception = False
                raise
        return stream

    @functools.wraps(fn)
    def call(*a, **k):
        try:
            return fn(*a, **k)
        except (ParamError, images.ImageError) as e:
            raise gr.Error(str(e), print_exception=False) from None
        except gr.Error as e:  # ours, raised deeper: a message for the visitor, not a server fault
            e.print_exception = False
            raise
    return call


def unconverted(*components: gr.components.Component) -> None:
    """Let these input components hand the event their raw JSON value, unconverted.

    Why: Gradio's own preprocessing of a number, checkbox group or radio raises TypeError on
    a value of the wrong type (``round("x")`` in ``Number.round_to_precision``, iterating None
    in ``CheckboxGroup.preprocess``), which the queue logs as a server traceback before any
    of our checks run. Every event these feed checks each value against its declared range
    or choices (:mod:`dae.params`), so nothing is lost and the visitor gets a message. An
    instance attribute, not a subclass: Gradio writes a ``.pyi`` file for every component
    class it sees defined (see ui/sketchpad.py)."""
    for c in components:
        c.preprocess = _raw


def _raw(payload):
    return payload


class Gauge:
    """How many CPU-bound event calls run right now, and the most there ever were at once:
    what the one CPU budget (:data:`CPU`) promises to keep at or under the core count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0

    def __enter__(self) -> "Gauge":
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self.running -= 1

    def as_dict(self) -> dict:
        return {"running": self.running, "peak": self.peak, "cores": CORES}


CORES = usable_cores()
RUNNING = Gauge()
# One CPU budget for the whole server: every event that runs models, SciPy or scikit-image
# joins this one concurrency group, so at most CORES of them run at once whatever the mix of
# tabs and endpoints (Gradio gives each event function a group of its own otherwise:
# ``concurrency_id = str(id(fn))`` in gradio/block_function.py).
CPU = {"concurrency_id": "cpu", "concurrency_limit": CORES}
# Events that do no such work (a pick, a new seed) are not held behind it.
LIGHT = {"concurrency_limit": None}


def cpu_bound(fn: Callable) -> Callable:
    """An event function of the :data:`CPU` group: counted by :data:`RUNNING` while it runs, and
    its visitor errors shown as messages (:func:`visitor_errors`)."""
    fn = visitor_errors(fn)
    if _is_generator(fn):
        @functools.wraps(fn)
        def stream(*a, **k):
            with RUNNING:
                yield from fn(*a, **k)
        return stream

    @functools.wraps(fn)
    def call(*a, **k):
        with RUNNING:
            return fn(*a, **k)
    return call


def _is_generator(fn: Callable) -> bool:
    import inspect

    return inspect.isgeneratorfunction(fn)


@dataclass
class Context:
    """The models (``lab``), the 5,000 held-out gallery digits and the picker's slice of them.

    ``gallery_idx`` indexes ``digits``: the first ``GALLERY_PER_CLASS`` digits of each class,
    in class order, so the picker shows 0…9 in columns.
    """

    lab: service.Lab
    weights_dir: Path
    digits: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)
    gallery_idx: np.ndarray = field(repr=False)

    @classmethod
    def create(cls, weights_dir: str | Path | None = None) -> "Context":
        digits, labels = data.gallery()
        idx = np.concatenate([np.flatnonzero(labels == k)[:GALLERY_PER_CLASS] for k in range(10)])
        return cls(service.Lab(weights_dir), Path(weights_dir or WEIGHTS_DIR), digits, labels, idx)

    @property
    def digit_models(self) -> list[str]:
        return self.lab.digit_models

    @property
    def digit_methods(self) -> list[str]:
        """Every digit model that loaded, then the classical baselines."""
        return self.digit_models + list(DIGIT_BASELINES)

    @property
    def latent_models(self) -> list[str]:
        """Digit models with a bottleneck code that loaded: ``dense``, ``conv-latent`` and
        ``dense-2d`` (the one that is not a Digits tab panel)."""
        return [n for n in self.lab.models if MODELS[n].kind == "digit" and MODELS[n].has_latent]

    def default_digit(self) -> np.ndarray:
        """The digit every first page load shows (28×28 float32)."""
        return self.digits[self.gallery_idx[0]]
