"""Helpers the benchmark scripts share: an app on loopback, an echo floor, timing, memory."""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
# Debian's chromium, driven by Playwright (no browser download); flags as the probe found
# they must be on this closed network (no background connections)
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def cpu() -> dict:
    """The CPU's model name, cores and AVX2 / AVX-512 flags (from lscpu), for every result:
    these machines change CPU between sessions, and the figures with it."""
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout if platform.system() == "Linux" else ""
    name = re.search(r"Model name:\s*(.+)", out)
    flags = set(re.search(r"Flags:\s*(.+)", out).group(1).split()) if "Flags:" in out else set()
    return {"model": name.group(1).strip() if name else platform.processor(), "cores": os.cpu_count(),
            "avx2": "avx2" in flags, "avx512": sorted(f for f in flags if f.startswith("avx512"))}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 180) -> float:
    """Poll until the page answers; return when it did (time.perf_counter)."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter()
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


def start_app(*extra: str, env: dict | None = None, log: Path | None = None,
              timeout: float = 180) -> tuple[subprocess.Popen, str, float]:
    """`python app.py` on a free loopback port; returns the process, its URL, start-up seconds.
    With ``log``, the server's stdout and stderr go to that file (to count its exceptions).
    A server that does not answer within ``timeout`` s is killed (no orphan left running)."""
    port = free_port()
    t0 = time.perf_counter()
    out = log.open("w") if log else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port), *extra],
                            cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        return proc, url, wait_for(url, timeout) - t0
    except TimeoutError:
        proc.kill()
        proc.wait()
        raise


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    kb = lambda k: float(fields[k].split()[0]) / 1024  # noqa: E731
    return kb("VmRSS"), kb("VmHWM")


def percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {"n": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2), "mean_ms": round(float(ms.mean()), 2)}


def save(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    return path


def echo_server(n_models: int, port: int | None = None) -> tuple[object, str]:
    """A trivial Gradio app whose endpoints do no work: Gradio's own floor.

    ``/echo_digit`` and ``/echo_photo`` have exactly the inputs and outputs of
    ``/denoise_digit`` (image, gallery of ``n_models`` images, JSON) and ``/denoise_photo``
    (image, image, JSON), returning the decoded upload in every image slot, so the
    difference in latency is what our code costs. ``/echo`` (file in, one image out) is
    the bare minimum, reported for reference.
    """
    import gradio as gr
    from PIL import Image

    def read(image):
        return np.asarray(Image.open(image))

    def echo_digit(image):
        img = read(image)
        return img, [(img, f"model {i}") for i in range(n_models)], {"noisy": {"psnr": 0.0, "ssim": 0.0}}

    def echo_photo(image):
        img = read(image)
        return img, img, {"noisy": {"psnr": 0.0, "ssim": 0.0}}

    with gr.Blocks() as demo:
        f = gr.File()
        img1, img2, gal, js = gr.Image(format="png"), gr.Image(format="png"), gr.Gallery(format="png"), gr.JSON()
        gr.Button().click(read, f, img1, api_name="echo")
        gr.Button().click(echo_digit, f, [img1, gal, js], api_name="echo_digit")
        gr.Button().click(echo_photo, f, [img1, img2, js], api_name="echo_photo")
    port = port or free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    return demo, f"http://127.0.0.1:{port}/"
