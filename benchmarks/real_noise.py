"""Real camera noise: CC15 (Nam et al., CVPR 2016), each shot against its mean-of-500 reference.

    python benchmarks/real_noise.py                 # needs ../shared/data/real-noise/cc15
    python benchmarks/real_noise.py --no-bm3d       # skip CBM3D (about 20 s a crop on 2 cores)
    python benchmarks/real_noise.py --no-bm3d --weights CKPT_DIR   # a checkpoint: printed only

Prints, in one run and per image averaged over the 15 crops (RGB PSNR, dB): the noisy shot;
today's upload path before the blind model (`photo` told nothing: one σ estimated by
scikit-image); the blind `photo-real`; CBM3D told the same estimate; how many crops each
leaves worse than the shot; and seconds per 512² photo for `photo` and `photo-real`. Writes
``benchmarks/results/real_noise.json``. CC15 is for validation only: nothing here trains or
tunes on it.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CC15 = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "real-noise" / "cc15"


def crops() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, noisy shot, mean-of-500 reference), float32 RGB in [0, 1]."""
    out = []
    for f in sorted(CC15.glob("*_real.png")):
        ref = f.with_name(f.name.replace("_real", "_mean"))
        out.append((f.name[:-9], np.asarray(Image.open(f).convert("RGB"), np.float32) / 255,
                    np.asarray(Image.open(ref).convert("RGB"), np.float32) / 255))
    return out


def speeds(fns: dict, x: np.ndarray, repeat: int = 7) -> dict:
    """Median wall and CPU seconds per call, the calls interleaved round by round, so that
    load from other processes falls on every model alike rather than on whichever ran last."""
    for fn in fns.values():
        fn(x)
    wall, cpu = {k: [] for k in fns}, {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn(x)
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
    return {k: {"wall_s": round(float(np.median(wall[k])), 3), "cpu_s": round(float(np.median(cpu[k])), 3)}
            for k in fns}


def main() -> int:
    import dae
    from benchmarks.common import cpu, save
    from dae import baselines, metrics
    from dae.inference import estimate_sigma

    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--no-bm3d", action="store_true")
    a.add_argument("--weights", help="folder with the photo-real.keras to measure (a training "
                   "checkpoint); default: the shipped weights")
    args = a.parse_args()
    if not CC15.is_dir():
        print(f"no CC15 at {CC15}: this benchmark needs ../shared", file=sys.stderr)
        return 2
    photo, real = dae.load("photo"), dae.load("photo-real", args.weights)
    methods = {"noisy shot": lambda x: x, "photo told nothing": lambda x: photo.denoise(x),
               "photo-real": lambda x: real.denoise(x)}
    if not args.no_bm3d:
        methods["CBM3D, σ estimated"] = lambda x: baselines.bm3d(x, estimate_sigma(x))
    per = {m: {} for m in methods}
    for name, shot, ref in crops():
        for m, fn in methods.items():
            per[m][name] = round(metrics.psnr(ref, fn(shot)), 2)
        print(name, {m: per[m][name] for m in methods}, flush=True)
    shot_psnr = per["noisy shot"]
    table = {m: {"psnr": round(float(np.mean(list(v.values()))), 2),
                 "worse_than_shot": sum(v[k] < shot_psnr[k] for k in v)} for m, v in per.items()}
    x = np.random.default_rng(0).random((512, 512, 3)).astype(np.float32)
    speed = speeds({"photo per 512²": lambda im: photo.denoise(im, sigma=0.1),
                    "photo-real per 512²": real.denoise}, x)
    r = {"cpu": cpu(), "crops": len(shot_psnr), "table": table, "per_crop": per, "speed": speed}
    for m, t in table.items():
        print(f"{m:>22}: {t['psnr']:.2f} dB, worse than the shot on {t['worse_than_shot']} of {len(shot_psnr)}")
    print(speed)
    if args.weights:  # a checkpoint's figures are printed, not written over the shipped ones
        print(json.dumps(r["table"]))
    else:
        save("real_noise", r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
