"""What the page needs to run the digit models in the visitor's browser (issue #21).

The browser path runs the very ``weights/<name>.tflite`` files the server runs, with LiteRT.js
(vendored in ``ui/vendor/litert/``, rebuilt by ``scripts/vendor_litert.sh``), and the maths of
``ui/digits_browser.js``. Everything is served by Gradio's own file route,
``/gradio_api/file=<absolute path>``, for the paths registered with ``gr.set_static_paths``:

- ``register()`` registers them (call it once, before ``launch``);
- ``urls()`` are the page's entry points: the ES module, the tab's controller (a
  ``<script type="module">``) and the runtime's folder;
- ``manifest()`` lists, per digit model, the served file's URL, sha256 and size, or why the
  model stays on the server (a missing or stale export is never registered, never served);
- ``head_script()`` puts it on the page (``window.daeBrowser``) through ``launch(head=...)``.

Transfer (Gradio 6.31): its Brotli middleware (gzip fallback) compresses responses by file
extension only (.js, .json, .html, .css, …; ``gradio/brotli_middleware.py``), so the two .js
files travel compressed while the .wasm and the .tflite files travel as they are.
"""
from __future__ import annotations

import hashlib
import json
import mimetypes
from pathlib import Path
from urllib.parse import quote

from dae.inference import WEIGHTS_DIR, export_status
from dae.registry import MODELS, digit_models
from dae.training import card_problem

UI_DIR = Path(__file__).resolve().parent
MODULE = UI_DIR / "digits_browser.js"
VENDOR_DIR = UI_DIR / "vendor" / "litert"
CONTROLLER = UI_DIR / "digits.js"
# the build scripts/vendor_litert.sh keeps: single-threaded, relaxed SIMD (docs/browser.md says
# why not the "compat" build)
WASM_BUILD = "litert_wasm_internal"
FILE_ROUTE = "/gradio_api/file="


def url_for(path: Path, root: str = "") -> str:
    """The URL Gradio serves a registered file or folder at. ``root`` is the app's root URL
    (``""`` at the top of a host; Gradio's ``root`` in its page config when mounted below it).
    A folder's URL ends in "/", so that relative names resolve inside it."""
    path = Path(path).resolve()
    return f"{root.rstrip('/')}{FILE_ROUTE}{quote(path.as_posix(), safe='/')}" + ("/" if path.is_dir() else "")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_entries(weights_dir: str | Path | None = None, root: str = "") -> dict[str, dict]:
    """Per digit model: ``{"browser": True, "url", "sha256", "bytes", "has_latent"}`` for a
    current export (:func:`dae.inference.export_status`), else ``{"browser": False, "why",
    "has_latent"}``, and the page keeps that model on the server and says why."""
    weights_dir = Path(weights_dir or WEIGHTS_DIR)
    out = {}
    for name in digit_models():
        lite, why = export_status(name, weights_dir)
        if problem := card_problem(name, weights_dir):  # the server lists it as unavailable too
            lite, why = None, problem
        entry: dict = {"has_latent": MODELS[name].has_latent}
        if lite is None:
            entry.update(browser=False, why=why)
        else:
            entry.update(browser=True, url=url_for(lite, root), sha256=_sha256(lite), bytes=lite.stat().st_size)
        out[name] = entry
    return out


def urls(root: str = "") -> dict[str, str]:
    """``module``: ui/digits_browser.js (import it with ``import()``); ``controller``:
    ui/digits.js, the Digits tab's controller (load it with ``<script type="module" src=…>``
    after the manifest's ``<script>``); ``runtime``: the folder holding litert.js and the wasm
    build, for ``loadRuntime(runtime)``."""
    return {"module": url_for(MODULE, root), "controller": url_for(CONTROLLER, root),
            "runtime": url_for(VENDOR_DIR, root)}


def manifest(weights_dir: str | Path | None = None, root: str = "") -> dict:
    """Everything the page needs, JSON-ready: ``{"module", "controller", "runtime", "models":
    {name: entry}}``.

    Computed once when the page is built (it hashes the exports); the browser checks each
    downloaded file against its ``sha256`` before running it.
    """
    return {**urls(root), "models": model_entries(weights_dir, root)}


def static_paths(weights_dir: str | Path | None = None) -> list[Path]:
    """The paths to hand to ``gr.set_static_paths``: the module, the controller, the vendored
    runtime folder, and each current digit export (files, not ``weights/``: nothing else there
    is served)."""
    exports = [export_status(n, Path(weights_dir or WEIGHTS_DIR))[0] for n in digit_models()]
    return [MODULE, CONTROLLER, VENDOR_DIR, *(p for p in exports if p is not None)]


def ensure_wasm_mime() -> None:
    """Make Gradio's file route answer ``application/wasm`` for .wasm files.

    ``WebAssembly.instantiateStreaming`` refuses any other type (the Emscripten loader then
    falls back to downloading first and compiling after, slower, with a console error).
    Gradio takes the type from Python's ``mimetypes`` (``route_utils.file_fetch``), whose table
    ``mimetypes.init()`` rebuilds from the system's files, the Windows registry included, so
    a machine's own table can override the built-in ``.wasm`` entry. ``gradio.routes`` calls
    ``mimetypes.init()`` when it is imported, which discards earlier ``add_type`` calls: so
    import Gradio first, then add the type.
    """
    import gradio.routes  # noqa: F401  (its import-time mimetypes.init() must come first)

    mimetypes.add_type("application/wasm", ".wasm")


def register(weights_dir: str | Path | None = None) -> dict:
    """Serve everything the browser path needs and return the :func:`manifest`.

    Call once before ``launch``. ``gr.set_static_paths`` extends a process-wide list, so a
    second call only repeats paths already there.
    """
    import gradio as gr

    ensure_wasm_mime()
    gr.set_static_paths(static_paths(weights_dir))
    return manifest(weights_dir)


def head_script(manifest: dict, name: str = "daeBrowser") -> str:
    """A ``<script>`` for ``launch(head=...)`` that sets ``window.<name>`` to the manifest, so
    the page's JS finds it before the runtime loads. ``<`` is escaped so that no value can
    close the tag."""
    payload = json.dumps(manifest, separators=(",", ":")).replace("<", "\\u003c")
    return f"<script>window.{name} = {payload};</script>"
