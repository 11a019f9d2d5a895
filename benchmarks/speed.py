"""Is it fast enough for a live audience? Model compute, end-to-end latency against
Gradio's own floor, start-up and memory. Prints a table, writes benchmarks/results/speed.json.

    python benchmarks/speed.py            # about 6 minutes on 2 cores
    python benchmarks/speed.py --calls 50
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.common import ROOT, echo_server, percentiles, rss_mb, save, start_app  # noqa: E402


def best_of(fn, repeat: int) -> float:
    """Median seconds of ``repeat`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def interleaved(fns: dict, rounds: int, calls: int) -> dict[str, float]:
    """Median ms over ``rounds`` rounds of ``calls`` calls, each function in turn every round.

    This shared CPU's speed drifts by up to 2× within a minute (see ``sgemm_gflops``), so
    the models take turns rather than being timed minutes apart. Only calls of one engine
    take turns: TensorFlow's and TFLite's worker threads both spin-wait after a call, and
    alternating the two engines slowed both (unet-wide in TFLite 34 ms instead of 2.4).
    """
    per: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            per[k].append(best_of(fn, calls) * 1000)
    return {k: round(float(np.median(v)), 2) for k, v in per.items()}


def sgemm_gflops(seconds: float = 3.0) -> dict:
    """NumPy float32 matrix products (512²) for ``seconds``: the machine's state while measured."""
    a = np.random.default_rng(0).random((512, 512), np.float32)
    rates, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        for _ in range(20):
            a @ a
        rates.append(20 * 2 * 512**3 / (time.perf_counter() - t) / 1e9)
    return {"min": round(min(rates)), "median": round(float(np.median(rates))), "max": round(max(rates))}


def model_compute() -> dict:
    """Each model through dae's inference path and through model.predict; digit models also
    through the float32 tf.function of the BatchNorm-folded model that dae ran before TFLite."""
    import tensorflow as tf

    import dae
    from dae.fold import fold_batchnorm
    from dae.registry import MODELS, digit_models

    inputs = {n: np.random.default_rng(0).random((n, 28, 28, 1)).astype(np.float32) for n in (1, 256)}
    rows: dict[str, dict] = {f"{m} ×{n}": {} for m in digit_models() for n in inputs}
    den, graphs = {m: dae.load(m) for m in digit_models()}, {}
    for m, d in den.items():
        net = fold_batchnorm(d.model)
        graphs[m] = tf.function(lambda x, net=net: net(x, training=False),
                                input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
    for column, make in (("dae_ms", lambda m, x: lambda: den[m].denoise(x)),
                         ("tf_function_ms", lambda m, x: lambda: graphs[m](tf.constant(x)).numpy())):
        for n, x in inputs.items():
            fns = {f"{m} ×{n}": make(m, x) for m in digit_models()}
            for key, ms in (interleaved(fns, 15, 40) if n == 1 else interleaved(fns, 3, 3)).items():
                rows[key][column] = ms
    for m in digit_models():
        for n, x in inputs.items():
            rows[f"{m} ×{n}"]["predict_ms"] = round(
                best_of(lambda: den[m].model.predict(x, verbose=0), 10 if n == 1 else 5) * 1000, 2)
    for name, spec in MODELS.items():
        if spec.kind == "photo":
            d = dae.load(name)
            for size in (256, 512, 1024):
                x = np.random.default_rng(0).random((size, size, 3)).astype(np.float32)
                inp = np.concatenate([x, np.full((size, size, 1), 0.1, np.float32)], -1)[None]
                rows[f"photo {size}² colour"] = {
                    "dae_ms": round(best_of(lambda: d.denoise(x, sigma=0.1), 3) * 1000, 1),
                    "predict_ms": round(best_of(lambda: d.model.predict(inp, verbose=0), 3) * 1000, 1)}
    return rows


def end_to_end(url: str, calls: int) -> dict:
    """Our endpoints against echo endpoints with the same inputs and outputs (the floor)."""
    from gradio_client import Client, handle_file
    from PIL import Image

    from dae import data
    from dae.registry import digit_models

    tmp = Path(tempfile.mkdtemp())
    Image.fromarray((data.heldout_digits(1)[4, ..., 0] * 255).astype(np.uint8)).save(tmp / "d.png")
    Image.fromarray((data.sample_photo("astronaut")[:512, :512] * 255).astype(np.uint8)).save(tmp / "p.png")
    n = len(digit_models())
    echo_demo, echo_url = echo_server(n)

    def timed(client, **kw):
        client.predict(**kw)  # warm-up
        out = []
        for _ in range(calls):
            t = time.perf_counter()
            client.predict(**kw)
            out.append(time.perf_counter() - t)
        return percentiles(out)

    app, echo = Client(url, verbose=False), Client(echo_url, verbose=False)
    digit, photo = handle_file(str(tmp / "d.png")), handle_file(str(tmp / "p.png"))
    keys = {"digit": f"/denoise_digit, all {n} digit models", "digit floor": f"echo, same outputs ({n}-image gallery)",
            "photo": "/denoise_photo, 512² colour", "photo floor": "echo, same outputs (512² photo)"}
    res = {
        "echo, one image out (digit file)": timed(echo, image=digit, api_name="/echo"),
        keys["digit floor"]: timed(echo, image=digit, api_name="/echo_digit"),
        keys["digit"]: timed(app, image=digit, api_name="/denoise_digit"),
        "echo, one image out (512² photo)": timed(echo, image=photo, api_name="/echo"),
        keys["photo floor"]: timed(echo, image=photo, api_name="/echo_photo"),
        keys["photo"]: timed(app, image=photo, sigma=25, api_name="/denoise_photo"),
    }
    p50 = lambda k: res[k]["p50_ms"]  # noqa: E731
    res["ratios"] = {
        "digit / same-output echo, p50": round(p50(keys["digit"]) / p50(keys["digit floor"]), 2),
        "photo / same-output echo, p50": round(p50(keys["photo"]) / p50(keys["photo floor"]), 2),
        "digit / one-image echo, p50": round(p50(keys["digit"]) / p50("echo, one image out (digit file)"), 2),
    }
    echo_demo.close()
    return res


def import_seconds() -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tensorflow, gradio"], check=True, cwd=ROOT,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=50)
    a = p.parse_args()
    imports, startups = [], []
    for i in range(3):  # start-up drifts with the machine too: the median of three cold starts
        imports.append(import_seconds())
        proc, url, startup = start_app()
        startups.append(startup)
        if i < 2:
            proc.terminate()
            proc.wait(30)
    result = {"import tensorflow, gradio (s)": round(float(np.median(imports)), 2),
              "python app.py until the page answers (s)": round(float(np.median(startups)), 2),
              "start-up runs (s): imports, app": [[round(v, 2) for v in imports], [round(v, 2) for v in startups]]}
    try:
        result["end_to_end"] = end_to_end(url, a.calls)
        result["app RSS while serving (MB): current, peak"] = [round(v) for v in rss_mb(proc.pid)]
    finally:
        proc.terminate()
        proc.wait(30)
    result["sgemm GFLOP/s before model compute"] = sgemm_gflops()
    result["model_compute"] = model_compute()
    result["sgemm GFLOP/s after model compute"] = sgemm_gflops()
    print_table(result)
    print(f"\nwrote {save('speed', result)}")


def print_table(r: dict) -> None:
    print("| model compute | dae path (ms) | float32 tf.function (ms) | model.predict (ms) |\n|---|---|---|---|")
    for k, v in r["model_compute"].items():
        print(f"| {k} | {v['dae_ms']} | {v.get('tf_function_ms', '')} | {v['predict_ms']} |")
    print("\n| end to end (gradio_client, loopback) | p50 ms | p95 ms |\n|---|---|---|")
    for k, v in r["end_to_end"].items():
        if k != "ratios":
            print(f"| {k} | {v['p50_ms']} | {v['p95_ms']} |")
    print(f"\nratios: {r['end_to_end']['ratios']}")
    for k in ("import tensorflow, gradio (s)", "python app.py until the page answers (s)",
              "app RSS while serving (MB): current, peak", "sgemm GFLOP/s before model compute",
              "sgemm GFLOP/s after model compute"):
        print(f"{k}: {r[k]}")


if __name__ == "__main__":
    main()
