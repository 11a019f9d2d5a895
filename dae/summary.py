"""One row per model for the Models tab's comparison table: size, speed and quality together.

Every figure is read from where it was measured, so nothing is typed in twice:
parameters from each model card (``weights/<name>.json``), milliseconds from
``benchmarks/results/speed.json`` (``python benchmarks/speed.py``), PSNR/SSIM from
``benchmarks/results/digit_quality.json`` and ``photo_quality.json`` (``python -m dae.bench``),
and the source tutorial from the registry.
"""
from __future__ import annotations

import json
from pathlib import Path

from .baselines import DIGIT_BASELINES
from .registry import MODELS
from .training import read_card

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"
COLUMNS = ["model", "parameters", "ms per digit", "PSNR / SSIM at σ 0.5", "from"]
DIGIT_SETTING = "σ 0.5"  # the quality table's column the comparison quotes
PHOTO_SETTING = "colour σ 25"


def _results(name: str, results_dir: Path) -> dict:
    path = results_dir / name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _ms(speed: dict, key: str) -> str:
    ms = speed.get("model_compute", {}).get(key, {}).get("dae_ms")
    return f"{ms:g}" if ms is not None else "not measured"


def _quality(row: dict | None) -> str:
    if not row:
        return "not measured"
    return f"{row['psnr']:.2f} dB / {row['ssim']:.3f}" if "ssim" in row else f"{row['psnr']:.2f} dB"


def model_rows(weights_dir: str | Path, results_dir: str | Path = RESULTS) -> list[dict[str, str]]:
    """The comparison table: every registered model, then the classical digit filters.

    The photo model's cells say what they measure instead (a 512² photo; colour σ 25 against
    BM3D), because it is not a digit model; a missing card or result says "not measured".
    """
    results_dir = Path(results_dir)
    speed, digits = _results("speed.json", results_dir), _results("digit_quality.json", results_dir)
    photos = _results("photo_quality.json", results_dir)
    rows = []
    for name, spec in MODELS.items():
        card = read_card(name, weights_dir) or {}
        params = f"{card['parameters']:,}" if "parameters" in card else "no card"
        if spec.kind == "digit":
            ms, quality = _ms(speed, f"{name} ×1"), _quality(digits.get(name, {}).get(DIGIT_SETTING))
        else:
            ms = f"{_ms(speed, 'photo 512² colour')} per 512² photo"
            ours, bm3d = photos.get(name, {}).get(PHOTO_SETTING), photos.get("BM3D", {}).get(PHOTO_SETTING)
            quality = (f"{PHOTO_SETTING}/255 photos: {ours:.2f} dB (BM3D {bm3d:.2f})"
                       if ours is not None and bm3d is not None else "not measured")
        rows.append({"model": name, "parameters": params, "ms per digit": ms,
                     "PSNR / SSIM at σ 0.5": quality, "from": spec.tutorial})
    for name in DIGIT_BASELINES:
        rows.append({"model": name, "parameters": "none (classical filter)", "ms per digit": "not measured",
                     "PSNR / SSIM at σ 0.5": _quality(digits.get(name, {}).get(DIGIT_SETTING)),
                     "from": "classical baseline, told the true σ"})
    return rows
