"""Shared fixtures: held-out digits, and the app served on a free loopback port."""
from __future__ import annotations

import socket
import sys
from pathlib import Path

import numpy as np
import pytest

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
def served_app():
    """The real app, launched in-process on loopback, as `python app.py` would: (Blocks, URL)."""
    import app

    app.CTX.lab.warm()
    app.CURVES.compute()
    port = free_port()
    demo = app.serve(app.build(), "127.0.0.1", port, quiet=True)
    yield demo, f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="session")
def app_url(served_app):
    return served_app[1]
