"""Which architecture for the 2-D code: train each candidate briefly, the same way train.py
trains every digit model (dae.training: fresh draws from the training corruption
distribution every batch, Adam with cosine decay, MSE, best epoch by validation loss), and
score how well the 5,000 held-out gallery digits' classes separate in its code
(dae.latent.knn_accuracy, k = 10, 5-fold). The LDA maps of the shipped dense and conv-latent
are scored the same way for comparison.

    python scripts/pick_2d.py --data ../shared/data/mnist/mnist_train_first22699.npz --epochs 15
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402

import dae  # noqa: E402
from dae import data, latent, models  # noqa: E402
from dae.training import _fit, digit_dataset, digit_validation  # noqa: E402

CANDIDATES = {"dense 784-256-64-2": models.dense_2d, "conv 32/64 s2 - 64 - 2": models.conv_2d}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--lr", type=float, default=2e-3)
    a = p.parse_args()
    d = data.load_digits(a.data)
    gx, gy = data.gallery()
    out = {"epochs": a.epochs, "k": latent.KNN_K, "folds": latent.KNN_FOLDS, "candidates": {}, "lda_maps": {}}
    for name in ("dense", "conv-latent"):
        m = latent.LatentMap(name, dae.load(name).model, gx, gy)
        out["lda_maps"][name] = round(latent.knn_accuracy(m.codes, gy, "lda"), 4)
        print(f"{name} LDA map: kNN accuracy {out['lda_maps'][name]:.4f}", flush=True)
    for label, build in CANDIDATES.items():
        keras.utils.set_random_seed(0)
        model = build()
        t0 = time.time()
        steps = len(d.train) // 128
        hist = _fit(model, digit_dataset(d.train, 128, 0), digit_validation(d.val[:2000]), a.epochs, steps, a.lr)
        enc, _ = latent.split(model)
        codes = enc.predict(gx[..., None], batch_size=1000, verbose=0)
        acc = latent.knn_accuracy(codes, gy)
        out["candidates"][label] = {"knn_accuracy": round(acc, 4), "val_loss": min(h["val_loss"] for h in hist),
                                    "parameters": int(model.count_params()), "seconds": round(time.time() - t0, 1)}
        print(label, out["candidates"][label], flush=True)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
