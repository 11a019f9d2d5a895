"""Shared fixtures: held-out digits, and the app served on a free loopback port."""
from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def digits() -> np.ndarray:
    """200 held-out gallery digits (20 per class), (N, 28, 28, 1)."""
    from dae import data

    return data.heldout_digits(20)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url():
    """The real app, launched in-process on loopback, as `python app.py` would."""
    import app

    app.LAB.warm()
    app._compute_curves()
    demo = app.build()
    demo.queue(max_size=app.QUEUE_SIZE, default_concurrency_limit=app.CONCURRENCY)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                max_file_size=app.MAX_FILE_SIZE, css=app.CSS)
    yield f"http://127.0.0.1:{port}/"
    demo.close()
