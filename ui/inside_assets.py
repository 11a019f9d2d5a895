"""What the page needs to draw and decode the Inside tab's 2-D map in the visitor's browser.

For each model whose code is its own map (``dense-2d``: :func:`dae.registry.map_models`):

- its encoder and decoder halves, ``weights/<name>.encoder.tflite`` and ``.decoder.tflite``
  (float32, written by ``train.py`` / ``python -m dae export`` with ``<name>.tflite``), served
  only when :func:`dae.export.halves_status` says they come from the current ``.keras``;
- the 5,000 held-out gallery codes with their classes, as one JSON file written once per
  process from :class:`dae.latent.LatentMap` (the server's own Keras encoder), in a temporary
  folder, never in the repository;
- ``ui/inside_browser.js``, the map's controller (a ``<script type="module">``);
- what training a DAE in the visitor's browser needs (``ui/inside_train_assets.py``: the
  library, the architecture, the live run's data; ``ui/inside_train.js``), as ``"train"``.

Everything goes through Gradio's file route like ``ui/browser_assets.py``'s files, and the
JSON and the .js travel Brotli-compressed (Gradio compresses by extension).
:func:`head_script` puts the manifest on the page as ``window.daeInside``.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from urllib.parse import quote

from dae import latent
from dae.export import halves_status

from . import browser_assets, inside_train_assets
from .browser_assets import UI_DIR

FILE_ROUTE = "/gradio_api/file="  # Gradio's route for the paths gr.set_static_paths registers

CONTROLLER = UI_DIR / "inside_browser.js"
_FOLDER: Path | None = None  # this process's folder of codes files


def url_for(path: Path, root: str = "") -> str:
    """The URL Gradio serves a registered file at. ``root`` is the app's root URL (``""`` at
    the top of a host; Gradio's ``root`` in its page config when mounted below it)."""
    return f"{root.rstrip('/')}{FILE_ROUTE}{quote(Path(path).resolve().as_posix(), safe='/')}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def codes_json(space: latent.LatentMap) -> str:
    """The map's points (rounded to 1e-4, far below a pixel), classes and extent as JSON."""
    pts = space.points.astype(float).round(4)
    return json.dumps({"model": space.name, "x": pts[:, 0].tolist(), "y": pts[:, 1].tolist(),
                       "label": [int(v) for v in space.labels], "extent": space.extent.as_dict()},
                      separators=(",", ":"))


def write_codes(space: latent.LatentMap, folder: Path) -> Path:
    """Write the codes file, named by its content's sha256 (so a browser's cache never serves
    an older model's codes), and return its path."""
    text = codes_json(space)
    path = folder / f"{space.name}.codes.{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    if not path.is_file():
        path.write_text(text)
    return path


def manifest(spaces: dict[str, latent.LatentMap], weights_dir: str | Path, root: str = "",
             folder: Path | None = None, url=url_for) -> dict:
    """``{"controller", "models": {name: entry}}``: per 2-D model either ``{"browser": True,
    "encoder": {url, sha256, bytes}, "decoder": {…}, "codes": url, "extent"}`` or
    ``{"browser": False, "why"}``. Also returns the files to serve under ``"paths"``."""
    global _FOLDER
    if folder is None:
        _FOLDER = _FOLDER or Path(tempfile.mkdtemp(prefix="dae-inside-"))
        folder = _FOLDER
    models, paths = {}, [CONTROLLER]
    for name, space in spaces.items():
        if space.projection != "none":
            continue
        halves, why = halves_status(name, weights_dir)
        if halves is None:
            models[name] = {"browser": False, "why": why}
            continue
        codes = write_codes(space, folder)
        link = url or (lambda p, _root: "")
        models[name] = {"browser": True, "codes": link(codes, root), "extent": space.extent.as_dict(),
                        **{h: {"url": link(p, root), "sha256": _sha256(p), "bytes": p.stat().st_size}
                           for h, p in halves.items()}}
        paths += [codes, *halves.values()]
    return {"controller": (url or (lambda p, _root: ""))(CONTROLLER, root), "models": models,
            "paths": [str(p) for p in paths]}


def register(spaces: dict[str, latent.LatentMap], weights_dir: str | Path) -> dict:
    """Serve the controller, each 2-D model's halves and codes through ui/browser_assets.py's
    route (content-hashed, precompressed, cached for a year), after its ``register``; return
    the manifest."""
    assets = browser_assets.served()
    if assets is None:
        raise RuntimeError("call ui.browser_assets.register() first: the map's files join its table")
    man = manifest(spaces, weights_dir, url=None)
    assets.add([Path(p) for p in man["paths"]])
    return {**manifest(spaces, weights_dir, url=assets.url), "train": inside_train_assets.register(assets)}


def head_script(man: dict) -> str:
    """``window.daeInside`` (the manifest) and the controller's ``<script type="module">``."""
    payload = json.dumps({k: v for k, v in man.items() if k != "paths"}, separators=(",", ":")).replace("<", "\\u003c")
    train = f'<script type="module" src="{man["train"]["controller"]}"></script>' if "train" in man else ""
    return f'<script>window.daeInside = {payload};</script><script type="module" src="{man["controller"]}"></script>{train}'
