"""Denoising autoencoders, live: a Gradio app over the `dae` package.

    python app.py                 # http://127.0.0.1:7860, shipped weights, offline
    python app.py --host 0.0.0.0 --port 8080

This file assembles the tabs (one module each in ui/), sets the limits and launches.
Every number on the page comes from `dae`; the UI modules hold layout and wiring only.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

if "--verbose" in sys.argv[1:]:  # decided before dae first imports TensorFlow (see dae/quiet.py)
    os.environ["DAE_VERBOSE"] = "1"

import gradio as gr  # noqa: E402

from ui import api, browser_assets, digits, gradio_fixes, inside, models, panels, photos, robustness  # noqa: E402
from ui import inside_assets, rooms, stage, state_page  # noqa: E402
from ui.inside_map import maps  # noqa: E402
from ui.context import Context  # noqa: E402

# --- limits set on purpose (README lists them) ---------------------------------------
MAX_FILE_SIZE = "20mb"
QUEUE_SIZE = 64
CONCURRENCY = 2  # two cores: more parallel TensorFlow calls only contend
# Gradio keeps about 160 KB per visitor session (its copy of the page config, and the State);
# its default of 10,000 sessions would grow the server by 1.6 GB under steady traffic. The
# least recently used session goes first, so only long-idle visitors lose their picked digit.
SESSION_CAPACITY = 500

UI_DIR = Path(__file__).resolve().parent / "ui"
gradio_fixes.install()  # before any output image is cached, the gallery's thumbnails included
CTX = Context.create(os.environ.get("DAE_WEIGHTS"))
CURVES = robustness.Curves(CTX)


def build() -> gr.Blocks:
    """The whole page: a title line, five tabs, and the hidden API endpoints."""
    with gr.Blocks(title="Denoising autoencoders, live", delete_cache=(600, 1800), fill_width=True) as demo:
        gr.Markdown("## Denoising autoencoders, live <small>pick a held-out MNIST digit, move the noise, "
                    "and watch every denoiser answer side by side</small>", elem_id="title")
        if CTX.lab.unavailable or CTX.lab.notices:
            gr.Markdown("\n\n".join(f"⚠️ {msg}" for msg in [*CTX.lab.unavailable.values(), *CTX.lab.notices.values()]),
                        elem_id="unavailable")
        with gr.Tab("Digits"):
            view = digits.build(CTX)
        with gr.Tab("Photos") as photos_tab:
            photos.build(CTX, photos_tab)
        with gr.Tab("Inside") as inside_tab:
            inside.build(CTX, view, inside_tab)
        with gr.Tab("Robustness") as robust_tab:
            robustness.build(CTX, CURVES, robust_tab, view.noise, view.level)
        with gr.Tab("Models"):
            models.build(CTX)
        with gr.Column(visible=False):
            api.build(CTX)
            inside.api(CTX)
    return demo


def page_head() -> str:
    """The in-browser path's manifest and its controller (ui/digits.js), served by the route
    ``browser_assets.app_kwargs()`` adds (content-hashed, precompressed, cached for a year), the
    Digits tab's state and its link's QR code (ui/state.js, ui/qr.js), the Inside tab's 2-D
    map's (ui/inside_browser.js), the Digits tab's keys and stage mode (ui/stage.js), and the room
    controller (ui/room.js)."""
    manifest = browser_assets.register(CTX.weights_dir)
    inside_manifest = inside_assets.register({n: m.space for n, m in maps(CTX).items()}, CTX.weights_dir)
    return (browser_assets.head_script({**manifest, "errorLut": panels.error_lut()}, name="daeBrowser")
            + state_page.head(digits.spec(CTX))
            + f'<script type="module" src="{manifest["controller"]}"></script>'
            + inside_assets.head_script(inside_manifest) + stage.head_script() + rooms.head_script())


def app_kwargs() -> dict:
    """The extra routes and middleware: the rooms' API ahead of the in-browser path's files."""
    kwargs = browser_assets.app_kwargs()
    return {**kwargs, "routes": rooms.routes() + kwargs["routes"]}


def serve(demo: gr.Blocks, host: str | None, port: int | None, **launch: object) -> gr.Blocks:
    """Queue and launch ``demo`` with every limit this app sets; returns without blocking."""
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
    demo.launch(server_name=host, server_port=port, max_file_size=MAX_FILE_SIZE, show_error=True,
                css_paths=sorted(UI_DIR.glob("*.css")), head=page_head(), state_session_capacity=SESSION_CAPACITY,
                prevent_thread_lock=True, app_kwargs=app_kwargs(), **launch)
    return demo


def main() -> None:
    p = argparse.ArgumentParser(description="Denoising autoencoders demo")
    p.add_argument("--host", default=None, help="default: $GRADIO_SERVER_NAME or 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default: $GRADIO_SERVER_PORT or 7860")
    p.add_argument("--share", action="store_true", help="ask Gradio for a public share link (off by default)")
    p.add_argument("--verbose", action="store_true", help="keep TensorFlow's start-up messages (as DAE_VERBOSE=1)")
    a = p.parse_args()
    CTX.lab.warm()
    demo = serve(build(), a.host, a.port, share=a.share)
    CURVES.start()  # once the page answers: the robustness curves, off the request path
    demo.block_thread()


if __name__ == "__main__":
    main()
