"""What every tab shares: the loaded models and the held-out gallery, built once per process."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dae import MODELS, data, service
from dae.baselines import DIGIT_BASELINES
from dae.inference import WEIGHTS_DIR

# The limit every event of the page gets (the server-wide ones are set in app.py).
TIME_LIMIT_S = 60  # seconds per request; README's limits table
GALLERY_PER_CLASS = 4  # digits per class in the Digits tab's picker: 4 rows of 10 fit a projector


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
