"""What the Inside tab costs: start-up, a map click, an interpolation, a live training, and
what a live training does to everyone else's digit requests.

    python benchmarks/inside.py          # about 2 minutes; writes benchmarks/results/inside.json

In-process (no HTTP): the tab's own functions, so the figures are our code's cost. Digit
latency is ``dae.service.Lab.digit`` with all five digit models (what ``/denoise_digit`` and
the Digits tab run), measured idle, during a live training of the default length, and idle
again, in this one run.
"""
from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from benchmarks.common import cpu, percentiles, save  # noqa: E402
from dae import corrupt, latent, live  # noqa: E402
from ui import inside, inside_map  # noqa: E402
from ui.context import Context  # noqa: E402


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def startup(ctx: Context) -> dict:
    """The projection's start-up cost: encode 5,000 digits, fit, draw the background; the
    first time (what start-up pays: tf.function traces) and the median of three more."""
    models = {n: ctx.lab.models[n].model for n in ctx.latent_models}
    first = {}
    for name, m in models.items():
        t = time.perf_counter()
        space = latent.LatentMap(name, m, ctx.digits, ctx.labels)
        t_fit = time.perf_counter() - t
        t = time.perf_counter()
        inside_map.background(space)
        first[name] = {"encode_and_fit_s": round(t_fit, 3), "draw_s": round(time.perf_counter() - t, 3)}
    fresh = iter([Context.create() for _ in range(3)])
    again = timed(lambda: inside_map.maps(next(fresh)), 3)
    return {"first_per_model": first, "first_total_s": round(sum(v["encode_and_fit_s"] + v["draw_s"]
                                                                 for v in first.values()), 3),
            "repeat_total_median_s": round(statistics.median(again), 3)}


def interactions(ctx: Context) -> dict:
    """ms per map click (decode + the HTML), per map update (a new digit or σ), per interpolation."""
    out = {}
    rng = np.random.default_rng(0)
    for name, m in inside_map.maps(ctx).items():
        l, t, r, b = m.box
        clicks = [SimpleNamespace(index=[int(rng.uniform(l, r)), int(rng.uniform(t, b))]) for _ in range(100)]
        it = iter(clicks)
        out[name] = {
            "click": percentiles(timed(lambda: inside.decode_click(ctx, name, next(it)), 100)),
            "map_update": percentiles(timed(lambda: inside.show_map(ctx, name, None, "gaussian", 0.5, 0, 0, True, 0), 30)),
            "interpolation_8_steps_both_rows": percentiles(timed(
                lambda: inside.interpolation_html(ctx, name, int(ctx.gallery_idx[4]), int(ctx.gallery_idx[0])), 30)),
        }
    return out


def digit_latency(ctx: Context, seconds: float) -> list[float]:
    clean = ctx.default_digit()
    c = corrupt.gaussian(0.5)
    out, end, i = [], time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        t = time.perf_counter()
        ctx.lab.digit(clean, c, i, ctx.digit_models)
        out.append(time.perf_counter() - t)
        i += 1
        time.sleep(0.02)  # a visitor's pace, not a flood
    return out


def training_and_latency(ctx: Context) -> dict:
    """A live training of the default length, with digit requests before, during and after."""
    before = digit_latency(ctx, 10)
    done, wall = threading.Event(), {}

    def run():
        t = time.perf_counter()
        reports = live.train(live.DEFAULT_EPOCHS, seed=0)
        wall.update(s=time.perf_counter() - t, last=reports[-1].as_dict(), first=reports[0].as_dict())
        done.set()

    threading.Thread(target=run).start()
    during = []
    while not done.is_set():
        during += digit_latency(ctx, 1)
    after = digit_latency(ctx, 10)
    return {"epochs": live.DEFAULT_EPOCHS, "wall_s": round(wall["s"], 1), "first_epoch": wall["first"],
            "last_epoch": wall["last"],
            "digit_request_all_five_models": {"idle_before": percentiles(before), "during_training": percentiles(during),
                                              "idle_after": percentiles(after)}}


def main() -> None:
    ctx = Context.create()
    ctx.lab.warm()
    result = {"cpu": cpu(), "command": "python benchmarks/inside.py",
              "load_average_1min_at_start": round(os.getloadavg()[0], 2)}
    result["startup"] = startup(ctx)
    print("start-up added by the maps:", result["startup"], flush=True)
    result["interactions"] = interactions(ctx)
    print("interactions:", result["interactions"], flush=True)
    result["live_training"] = training_and_latency(ctx)
    print("live training:", result["live_training"], flush=True)
    result["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)  # a shared machine: say how busy it was
    print("saved", save("inside", result))


if __name__ == "__main__":
    main()
