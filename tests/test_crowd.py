"""A room opening the link at once: identical concurrent requests, no failures, no server errors.

Every first page load sends the same default digit, σ and seed, so every visitor's outputs
are byte-identical; Gradio 6.31's image cache then rewrote one file under another request
that was streaming it (see ui/gradio_fixes.py). `benchmarks/crowd.py` is the full-size run.
"""
from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from gradio import processing_utils
from gradio_client import Client, handle_file
from PIL import Image

from dae import data
from ui import gradio_fixes


class _Errors(logging.Handler):
    """Collects ERROR records from the server's loggers (uvicorn logs broken responses there)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(record.getMessage())


@pytest.fixture
def server_errors():
    handler = _Errors()
    loggers = [logging.getLogger(n) for n in ("uvicorn.error", "uvicorn", "gradio", "")]
    for lg in loggers:
        lg.addHandler(handler)
    yield handler.records
    for lg in loggers:
        lg.removeHandler(handler)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("crowd")
    Image.fromarray((data.heldout_digits(1)[3, ..., 0] * 255).astype(np.uint8)).save(d / "d.png")
    Image.fromarray((data.sample_photo("coffee")[:96, :128] * 255).astype(np.uint8)).save(d / "p.png")
    return {"digit": str(d / "d.png"), "photo": str(d / "p.png")}


def _crowd(url: str, clients: int, requests: int, call) -> list[str]:
    """``clients`` visitors, each its own Client, each sending ``requests`` identical calls."""
    def visitor(_):
        c, errors = Client(url, verbose=False), []
        for _ in range(requests):
            try:
                call(c)
            except Exception as e:  # counted: the assertion shows them
                errors.append(f"{type(e).__name__}: {e}")
        return errors

    with ThreadPoolExecutor(clients) as pool:
        return [e for errs in pool.map(visitor, range(clients)) for e in errs]


def test_identical_digit_requests_at_once(app_url, files, server_errors):
    errors = _crowd(app_url, 16, 4, lambda c: c.predict(image=handle_file(files["digit"]), api_name="/denoise_digit"))
    assert errors == [] and server_errors == []


def test_identical_photo_requests_at_once(app_url, files, server_errors):
    errors = _crowd(app_url, 6, 2, lambda c: c.predict(image=handle_file(files["photo"]), sigma=25,
                                                       api_name="/denoise_photo"))
    assert errors == [] and server_errors == []


def test_identical_page_events_at_once(app_url, server_errors):
    """The Digits tab's own event (what every page's slider sends), undocumented but callable."""
    state = json.dumps({"digit": 3, "level": 0.5, "models": ["unet", "dense"], "errors": True})
    errors = _crowd(app_url, 16, 4, lambda c: c.predict(state, api_name="/digit_view"))
    assert errors == [] and server_errors == []


def test_cache_write_is_atomic_under_a_concurrent_reader(tmp_path):
    """Writers keep saving the same image while a reader reads its cache file: with the fix
    the reader only ever sees the whole file (Gradio's own version truncates and refills it)."""
    gradio_fixes.install()
    assert processing_utils.save_pil_to_cache is gradio_fixes.save_pil_to_cache
    img = Image.fromarray((np.random.default_rng(0).random((256, 256)) * 255).astype(np.uint8))
    path = processing_utils.save_pil_to_cache(img, str(tmp_path), format="png")
    whole = open(path, "rb").read()
    stop, partial = threading.Event(), []

    def write():
        while not stop.is_set():
            processing_utils.save_pil_to_cache(img, str(tmp_path), format="png")

    def read():
        for _ in range(3000):
            with open(path, "rb") as f:
                if f.read() != whole:
                    partial.append(1)

    writers = [threading.Thread(target=write) for _ in range(3)]
    for w in writers:
        w.start()
    read()
    stop.set()
    for w in writers:
        w.join()
    assert not partial, f"{len(partial)} partial reads"


def test_a_mixed_crowd_never_runs_more_than_the_cores(app_url, tmp_path):
    """8 clients mixing six endpoints: every one answers, and the CPU-bound calls running at
    once (ui.context.RUNNING, what /server_load reports) never exceed the core count, while
    more than one did run at once (so the bound was tested, not idle)."""
    from benchmarks.budget import crowd
    from ui.context import CORES, RUNNING

    RUNNING.peak = 0
    r = crowd(app_url, 8, tmp_path)
    assert r["error_count"] == 0, r["errors"]
    assert r["peak_running"] == RUNNING.peak
    assert 2 <= RUNNING.peak <= CORES or CORES == 1
