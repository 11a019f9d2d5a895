"""Shared fixtures: held-out digits, and the app served on a free loopback port."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402  (needs ROOT on the path)


@pytest.fixture(scope="session")
def digits() -> np.ndarray:
    """200 held-out gallery digits (20 per class), (N, 28, 28, 1)."""
    from dae import data

    return data.heldout_digits(20)


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


# --- a real browser: Debian's chromium through Playwright (no browser download) -----------


def skip_without_chromium() -> None:
    """Skip the calling test module where no chromium can be found, but never in CI, where
    .ci/run installs it (there a missing chromium fails the browser fixture instead)."""
    if not CHROMIUM and not os.environ.get("CI"):
        pytest.skip("no chromium on this machine (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (Playwright's sync API allows one at a time).
    A test that asks for it is skipped where no chromium can be found, failed in CI."""
    from playwright.sync_api import sync_playwright

    skip_without_chromium()
    assert CHROMIUM, "CI must have chromium (.ci/run installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def assets_app():
    """A bare Gradio app that serves what ui.browser_assets registers (launch(app_kwargs=...))
    and puts the manifest on its page (launch(head=...)), as the real app does: (URL, manifest)."""
    import gradio as gr

    from ui import browser_assets

    man = browser_assets.register()
    with gr.Blocks() as demo:
        gr.Markdown("browser parity")
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                head=browser_assets.head_script(man), app_kwargs=browser_assets.app_kwargs())
    yield f"http://127.0.0.1:{port}", man
    demo.close()
