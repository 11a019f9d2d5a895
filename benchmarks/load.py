"""Many visitors at once, and a long session: the app must not fall over or leak.

    python benchmarks/load.py                       # 32 clients × 20 requests, mixed digit/photo
    python benchmarks/load.py --soak 600            # 10-minute soak: resident memory growth
    python benchmarks/load.py --clients 4 --requests 3   # the short variant CI runs (tests/test_load.py)

Traffic goes only to the app it starts on 127.0.0.1; every loop is bounded.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import percentiles, rss_mb, save, start_app  # noqa: E402


def inputs() -> dict[str, str]:
    """A digit and a 256² photo, written once."""
    from PIL import Image

    from dae import data

    tmp = Path(tempfile.mkdtemp())
    Image.fromarray((data.heldout_digits(1)[0, ..., 0] * 255).astype(np.uint8)).save(tmp / "d.png")
    Image.fromarray((data.sample_photo("coffee")[:256, :256] * 255).astype(np.uint8)).save(tmp / "p.png")
    return {"digit": str(tmp / "d.png"), "photo": str(tmp / "p.png")}


def one_client(url: str, files: dict, requests: int, seed: int) -> tuple[list[float], list[str]]:
    """A visitor: ``requests`` calls, about one in four a photo."""
    from gradio_client import Client, handle_file

    rng = np.random.default_rng(seed)
    client = Client(url, verbose=False)
    times, errors = [], []
    for i in range(requests):
        t = time.perf_counter()
        try:
            if rng.random() < 0.25:
                client.predict(image=handle_file(files["photo"]), sigma=float(rng.integers(5, 50)), seed=i,
                               api_name="/denoise_photo")
            else:
                client.predict(image=handle_file(files["digit"]), sigma=float(rng.random()), seed=i,
                               api_name="/denoise_digit")
            times.append(time.perf_counter() - t)
        except Exception as e:  # counted, not raised: the point is to see how many
            errors.append(f"{type(e).__name__}: {e}")
    return times, errors


def load(url: str, clients: int, requests: int) -> dict:
    files = inputs()
    t = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda k: one_client(url, files, requests, k), range(clients)))
    times = [x for r in results for x in r[0]]
    errors = [x for r in results for x in r[1]]
    return {"clients": clients, "requests_each": requests, "errors": len(errors), "first_errors": errors[:3],
            "wall_s": round(time.perf_counter() - t, 1), **percentiles(times or [0.0])}


def soak(url: str, pid: int, seconds: float, clients: int = 4) -> dict:
    """Steady traffic for ``seconds``; resident memory sampled every 5 s after a 30 s warm-up."""
    files = inputs()
    stop = time.perf_counter() + seconds
    samples, errors, done = [], [], []

    def visitor(k):
        while time.perf_counter() < stop:
            t, e = one_client(url, files, 5, k * 1000 + len(done))
            done.extend(t)
            errors.extend(e)

    threads = [threading.Thread(target=visitor, args=(k,), daemon=True) for k in range(clients)]
    for th in threads:
        th.start()
    start = time.perf_counter()
    while time.perf_counter() < stop:
        time.sleep(5)
        if time.perf_counter() - start > min(30, seconds / 4):
            samples.append(rss_mb(pid)[0])
    for th in threads:
        th.join(timeout=120)
    samples.append(rss_mb(pid)[0])  # at least one sample, however short the soak
    first, last = samples[0], samples[-1]
    return {"seconds": seconds, "requests": len(done), "errors": len(errors), "first_errors": errors[:3],
            "rss_first_mb": round(first), "rss_last_mb": round(last), "rss_max_mb": round(max(samples)),
            "growth_pct": round(100 * (last - first) / first, 1),
            # one sample a minute, so a reader can tell a plateau from a leak
            "rss_per_minute_mb": [round(v) for v in samples[::12]]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--requests", type=int, default=20)
    p.add_argument("--soak", type=float, default=0, help="also soak for this many seconds")
    a = p.parse_args()
    proc, url, _ = start_app()
    try:
        result = {"load": load(url, a.clients, a.requests)}
        print(result["load"])
        if a.soak:
            result["soak"] = soak(url, proc.pid, a.soak)
            print(result["soak"])
        result["rss_mb_current_peak"] = [round(v) for v in rss_mb(proc.pid)]
        print(f"wrote {save('soak' if a.soak else 'load', result)}")
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
