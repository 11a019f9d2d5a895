"""One CPU budget for the whole server: clients mixing every endpoint at once.

    python benchmarks/budget.py                 # 16 clients × 6 requests against `python app.py`
    python benchmarks/budget.py --clients 8

Each client sends a mix of /denoise_digit, /digit_view (the page's event), /denoise_photo,
/encode, /decode_point and /interpolate. Gradio gives every event function its own
concurrency group unless told otherwise, so without the app's one CPU group such a mix runs
as many TensorFlow and SciPy calls at once as there are endpoints. The app counts its
CPU-bound calls running at once (``/server_load``); this prints the most there ever were
against the core count, the errors, and the latency, and writes
``benchmarks/results/budget.json``. ``tests/test_crowd.py`` runs a smaller mix.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def files(folder: Path) -> dict[str, str]:
    """A held-out digit and a small photo, as files."""
    from dae import data

    d, p = folder / "d.png", folder / "p.png"
    Image.fromarray((data.heldout_digits(1)[3, ..., 0] * 255).astype(np.uint8)).save(d)
    Image.fromarray((data.sample_photo("astronaut")[:128, :128] * 255).astype(np.uint8)).save(p)
    return {"digit": str(d), "photo": str(p)}


def mix(client, f: dict[str, str], i: int) -> list[tuple[str, float, str]]:
    """One client's six requests, one per endpoint, in an order that depends on ``i``;
    returns (endpoint, seconds, error or '')."""
    from gradio_client import handle_file

    calls = [
        ("/denoise_digit", lambda: client.predict(image=handle_file(f["digit"]), sigma=0.5, seed=i,
                                                  api_name="/denoise_digit")),
        ("/digit_view", lambda: client.predict(json.dumps({"digit": i % 5000, "blur": 1.0, "seed": i, "errors": True,
                                                           "models": ["unet", "NL-means"]}), api_name="/digit_view")),
        ("/denoise_photo", lambda: client.predict(image=handle_file(f["photo"]), sigma=25, seed=i,
                                                  api_name="/denoise_photo")),
        ("/encode", lambda: client.predict(image=handle_file(f["digit"]), model="dense", api_name="/encode")),
        ("/decode_point", lambda: client.predict(model="conv-latent", x=0.5, y=-0.5, api_name="/decode_point")),
        ("/interpolate", lambda: client.predict(image_a=handle_file(f["digit"]), image_b=handle_file(f["digit"]),
                                                model="dense", steps=8, api_name="/interpolate")),
    ]
    out = []
    for k in range(len(calls)):
        name, call = calls[(i + k) % len(calls)]
        t0 = time.perf_counter()
        try:
            call()
            out.append((name, time.perf_counter() - t0, ""))
        except Exception as e:  # every failure is counted, whatever it is
            out.append((name, time.perf_counter() - t0, f"{type(e).__name__}: {e}"))
    return out


def crowd(url: str, clients: int, folder: Path) -> dict:
    """``clients`` at once, each with its own connection, each sending :func:`mix`."""
    from gradio_client import Client

    f = files(folder)
    conns = [Client(url, verbose=False) for _ in range(clients)]
    conns[0].predict(api_name="/server_load")
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = [r for rs in pool.map(lambda i: mix(conns[i], f, i), range(clients)) for r in rs]
    wall = time.perf_counter() - t0
    load = conns[0].predict(api_name="/server_load")
    secs = np.array([s for _, s, _ in results]) * 1000
    return {"clients": clients, "requests": len(results), "wall_s": round(wall, 1),
            "errors": [e for _, _, e in results if e][:10], "error_count": sum(bool(e) for _, _, e in results),
            "p50_ms": round(float(np.percentile(secs, 50)), 1), "p95_ms": round(float(np.percentile(secs, 95)), 1),
            "peak_running": load["peak"], "cores": load["cores"]}


def main() -> int:
    from benchmarks.common import cpu, save, start_app

    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--clients", type=int, default=16)
    args = a.parse_args()
    proc, url, _ = start_app()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            r = crowd(url, args.clients, Path(tmp))
    finally:
        proc.terminate()
        proc.wait(30)
    r["cpu"] = cpu()
    print(f"{r['clients']} clients, {r['requests']} requests mixing 6 endpoints in {r['wall_s']} s: "
          f"{r['error_count']} errors; CPU-bound calls at once: at most {r['peak_running']} "
          f"(cores: {r['cores']}); latency p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms")
    save("budget", r)
    return 0 if r["error_count"] == 0 and r["peak_running"] <= r["cores"] else 1


if __name__ == "__main__":
    sys.exit(main())
