"""Command line: ``python -m dae denoise IN OUT --model NAME``, ``python -m dae models`` and
``python -m dae export`` (rewrite the digit models' ``.tflite`` files from their ``.keras`` weights).
``python -m dae --verbose …`` (or ``DAE_VERBOSE=1``) keeps TensorFlow's start-up messages.

Digit models get MNIST-style preprocessing (grey, white-on-black, 20×20 in 28×28); the
photo model keeps the image's own size and colour.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import quiet

# --verbose must be seen before the imports below bring TensorFlow in (see dae/quiet.py)
_early = argparse.ArgumentParser(add_help=False)
_early.add_argument("--verbose", action="store_true")
if __name__ == "__main__" and _early.parse_known_args()[0].verbose:
    quiet.set_verbose()

from . import corrupt, images, metrics  # noqa: E402
from .export import export_lite  # noqa: E402
from .inference import WEIGHTS_DIR, WeightsUnavailable, load_keras, load  # noqa: E402
from .preprocess import mnist_style  # noqa: E402
from .registry import MODELS, digit_models  # noqa: E402
from .training import read_card, write_card  # noqa: E402


def denoise_file(src: str, dst: str, model: str, sigma: float = 0.0, blur: float = 0.0, seed: int = 0,
                 weights_dir: str | None = None) -> dict:
    """Read, optionally corrupt, denoise and write one image; return PSNR figures."""
    den = load(model, weights_dir)
    img = images.read_image(src)
    if MODELS[model].kind == "digit":
        img = mnist_style(img)
    noisy = corrupt.apply(img, corrupt.gaussian(sigma, blur=blur), seed) if (sigma or blur) else img
    out = den.denoise(noisy, sigma=sigma or None)
    images.save_image(out, dst)
    result = {"shape": list(out.shape)}
    if sigma or blur:
        result.update(psnr_noisy=round(metrics.psnr(img, noisy), 2), psnr_denoised=round(metrics.psnr(img, out), 2))
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dae", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--verbose", action="store_true",
                   help="keep TensorFlow's start-up messages (same as DAE_VERBOSE=1); before the command")
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("denoise", help="denoise an image file")
    d.add_argument("input")
    d.add_argument("output")
    d.add_argument("--model", default="unet", choices=list(MODELS))
    d.add_argument("--sigma", type=float, default=0.0, help="add Gaussian noise of this σ (0-1 scale) first")
    d.add_argument("--blur", type=float, default=0.0, help="blur with this σ (pixels) first")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--weights", help="weights folder (default: weights/)")
    sub.add_parser("models", help="list the registered models")
    e = sub.add_parser("export", help="write <name>.tflite for digit models from their .keras weights")
    e.add_argument("--model", nargs="+", default=digit_models(every=True), choices=digit_models(every=True))
    e.add_argument("--weights", help="weights folder (default: weights/)")
    a = p.parse_args(argv)
    if a.verbose:
        quiet.set_verbose()  # in time only if TensorFlow is not loaded yet (python -m dae: done above)
    if a.cmd == "models":
        for name, s in MODELS.items():
            print(f"{name:12s} {s.kind:6s} {s.description}")
        return 0
    try:
        if a.cmd == "export":
            export(a.model, Path(a.weights or WEIGHTS_DIR))
        else:
            r = denoise_file(a.input, a.output, a.model, a.sigma, a.blur, a.seed, a.weights)
            print(f"wrote {a.output} {r}")
    except (images.ImageError, WeightsUnavailable, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def export(names: list[str], folder: Path) -> None:
    """Rewrite each model's ``.tflite`` from its ``.keras`` and stamp the card's ``inference`` entry."""
    for name in names:
        card = read_card(name, folder) or {}  # the card keeps everything else it records
        card["inference"] = export_lite(name, load_keras(name, folder), folder)
        write_card(name, folder, card)
        print("wrote", folder / card["inference"]["file"], "and its card's inference entry")


if __name__ == "__main__":
    sys.exit(main())
