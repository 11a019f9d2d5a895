"""What the page needs to run the digit models in the visitor's browser, and how it is served.

The browser path runs the very ``weights/<name>.tflite`` files the server runs, with LiteRT.js
(vendored in ``ui/vendor/litert/``, two wasm builds, rebuilt by ``scripts/vendor_litert.sh``),
and the maths of ``ui/digits_browser.js``:

- ``register()`` builds the table of served files once, at start-up, and returns the
  :func:`manifest`; ``app_kwargs()`` is what ``launch(app_kwargs=...)`` needs to serve it;
- ``manifest()`` lists the page's entry points (the ES module, the tab's controller), the
  runtime (``litert.js`` and each wasm build's loader and wasm) and, per digit model, the
  export's URL, sha256 and size, or why the model stays on the server (a missing or stale
  export is never served);
- ``head_script()`` puts the manifest on the page (``window.daeBrowser``) through
  ``launch(head=...)``.

How it is served, and why not through Gradio 6.31's own file route (``gradio/routes.py``,
``gradio/brotli_middleware.py``; docs/browser.md has the measurements):

- ``/gradio_api/file=`` (what ``gr.set_static_paths`` serves) sends no ``Cache-Control`` and
  no ``Content-Encoding``, and Gradio's Brotli middleware compresses by file extension only
  (.js, .css, .html, .json, …: never .wasm, .tflite or the page at ``/``). So every file here
  is served by one route of its own, :data:`PREFIX` ``<stem>.<sha256[:16]>.<ext>``, from
  bytes compressed once (brotli, gzip; the wasm's brotli by the vendoring script, the rest
  when :class:`Assets` is built), never per request, with ``Cache-Control: public,
  max-age=31536000, immutable``: the name changes whenever the content does.
- The middleware leaves a response that already has ``Content-Encoding`` alone, and skips
  ``.wasm``/``.tflite`` paths anyway, so nothing is compressed twice.
- Routes added to ``demo.app`` before ``launch()`` are lost: ``launch()`` builds a new
  ``App`` (``App.create_app``). It passes ``launch(app_kwargs=...)`` to ``App.__init__``,
  that is to ``FastAPI(routes=..., middleware=...)``, so the route goes in there, ahead of
  Gradio's own routes.
- Under SSR (``GRADIO_SSR_MODE=true``) a Node proxy sits in front and passes only some
  prefixes to Python (``PYTHON_ROUTE_PREFIXES`` in ``gradio/templates/node/build/
  proxy_routes.js``: ``/gradio_api``, ``/config``, …), hence the route under ``/gradio_api``.
- The page itself (``/``), and under SSR the config and API info the front end fetches, are
  compressed by ``PageCompression`` (Gradio's own Brotli middleware, told that these
  extension-less paths are compressible): they are made per visitor, so per request.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from dae.export import export_status
from dae.inference import WEIGHTS_DIR
from dae.registry import MODELS, digit_models
from dae.training import card_problem

UI_DIR = Path(__file__).resolve().parent
MODULE = UI_DIR / "digits_browser.js"
VENDOR_DIR = UI_DIR / "vendor" / "litert"
CONTROLLER = UI_DIR / "digits.js"
LIB = VENDOR_DIR / "litert.js"
# the two builds scripts/vendor_litert.sh keeps, in the order the page tries them (both
# single-threaded; "relaxed" needs WebAssembly relaxed SIMD, "compat" plain SIMD only)
WASM_BUILDS = {"relaxed": "litert_wasm_internal", "compat": "litert_wasm_compat_internal"}
# under /gradio_api: the one prefix both Gradio's own server and its SSR proxy hand to Python
PREFIX = "/gradio_api/dae/"
CACHE_CONTROL = "public, max-age=31536000, immutable"
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".wasm": "application/wasm",
               ".tflite": "application/octet-stream", ".json": "application/json",
               ".bin": "application/octet-stream"}
HASH_CHARS = 16
BROTLI_QUALITY = 9  # at start-up: 0.5 s for the five exports on a 2-core machine; 11 takes 16 s
GZIP_LEVEL = 6  # for clients without brotli; made in a background thread (3.5 s for the two wasm)


@dataclass(frozen=True)
class Asset:
    """One served file: its content-hashed name, type, and its bytes raw and compressed."""

    name: str
    path: Path
    sha256: str
    media_type: str
    raw: bytes = field(repr=False)
    encoded: dict = field(repr=False)  # {"br": bytes, "gzip": bytes once made}


def _vendored_sha256(folder: Path = VENDOR_DIR) -> dict[str, str]:
    """A vendored folder's VERSIONS' sha256 per file name (ui/vendor/litert/VERSIONS by
    default; scripts/vendor_<lib>.sh writes each)."""
    lines = (folder / "VERSIONS").read_text().splitlines()
    rows = (line.split("  ", 1) for line in lines[lines.index("# sha256") + 1:] if "  " in line)
    return {name: sha for sha, name in rows}


def _brotli(path: Path, raw: bytes, sha: str, vendored: dict[str, str], quality: int = BROTLI_QUALITY) -> bytes:
    """A quality-11 ``<file>.br`` beside the file when it is that file's, else brotli made here
    at ``quality``. Vendored files' ``.br`` come from the vendoring scripts, exports' from
    ``dae.export.export_lite``; VERSIONS vouching for both halves of a vendored pair spares
    decompressing it, anything else is used when it decompresses to exactly ``raw`` (about
    10 ms for the five exports)."""
    import brotli

    pre = path.with_name(path.name + ".br")
    if pre.is_file():
        br = pre.read_bytes()
        vouched = vendored.get(path.name) == sha and vendored.get(pre.name) == hashlib.sha256(br).hexdigest()
        if vouched or _decompresses_to(br, raw):
            return br
    return brotli.compress(raw, mode=brotli.MODE_GENERIC, quality=quality, lgwin=24)


def _decompresses_to(br: bytes, raw: bytes) -> bool:
    import brotli

    try:
        return brotli.decompress(br) == raw
    except brotli.error:
        return False


def _asset(path: Path, vendored: dict[str, str], quality: int = BROTLI_QUALITY) -> Asset:
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    stem, _, ext = path.name.partition(".")
    name = f"{stem}.{sha[:HASH_CHARS]}.{ext}"
    return Asset(name, path, sha, MEDIA_TYPES[path.suffix], raw, {"br": _brotli(path, raw, sha, vendored, quality)})


class Assets:
    """Every file the browser path fetches, read, hashed and compressed once: brotli before
    the constructor returns, gzip (for the rare client without brotli) in a background thread
    (``gzip_ready`` is set when it is done; until then such a client gets the file as it is)."""

    def __init__(self, weights_dir: str | Path | None = None):
        self.weights_dir = Path(weights_dir or WEIGHTS_DIR)
        # a model whose card the server refuses (it lists it as unavailable) is not offered either
        self.status = {name: ((None, problem) if (problem := card_problem(name, self.weights_dir))
                              else export_status(name, self.weights_dir)) for name in digit_models()}
        files = [MODULE, CONTROLLER, LIB]
        for build in WASM_BUILDS.values():
            files += [VENDOR_DIR / f"{build}.js", VENDOR_DIR / f"{build}.wasm"]
        files += [lite for lite, _ in self.status.values() if lite is not None]
        vendored = _vendored_sha256()
        self.by_path = {p: _asset(p, vendored) for p in files}
        self.by_name = {a.name: a for a in self.by_path.values()}
        self.gzip_ready = threading.Event()
        threading.Thread(target=self._gzip_all, name="dae-assets-gzip", daemon=True).start()

    def _gzip_all(self) -> None:
        for a in list(self.by_path.values()):
            a.encoded.setdefault("gzip", gzip.compress(a.raw, GZIP_LEVEL, mtime=0))
        self.gzip_ready.set()

    def add(self, paths: list[Path], vendor_dir: Path | None = None, quality: int = BROTLI_QUALITY) -> None:
        """Serve more files the same way (the Inside tab's map: its controller, halves and
        codes; its in-browser training's library and data), compressed here and now (brotli
        at ``quality``) unless ``vendor_dir``'s VERSIONS vouches for a precompressed
        ``<file>.br`` beside the file."""
        vendored = _vendored_sha256(vendor_dir) if vendor_dir else {}
        for p in map(Path, paths):
            if p not in self.by_path:
                a = _asset(p, vendored, quality)
                a.encoded["gzip"] = gzip.compress(a.raw, GZIP_LEVEL, mtime=0)
                self.by_path[p] = a
                self.by_name[a.name] = a

    def url(self, path: Path, root: str = "") -> str:
        """The URL of a served file; ``root`` is the app's root URL (``""`` at the top of a
        host; Gradio's ``root`` when it is mounted below one)."""
        return f"{root.rstrip('/')}{PREFIX}{self.by_path[Path(path)].name}"

    def model_entries(self, root: str = "") -> dict[str, dict]:
        """Per digit model: ``{"browser": True, "url", "sha256", "bytes", "has_latent"}`` for
        a current export (:func:`dae.export.export_status`), else ``{"browser": False,
        "why", "has_latent"}``, and the page keeps that model on the server and says why."""
        out = {}
        for name, (lite, why) in self.status.items():
            entry: dict = {"has_latent": MODELS[name].has_latent}
            if lite is None:
                entry.update(browser=False, why=why)
            else:
                a = self.by_path[lite]
                entry.update(browser=True, url=self.url(lite, root), sha256=a.sha256, bytes=len(a.raw))
            out[name] = entry
        return out

    def manifest(self, root: str = "") -> dict:
        """Everything the page needs, JSON-ready: ``{"module", "controller", "runtime": {"lib",
        "builds": {"relaxed" | "compat": {"loader", "wasm"}}}, "models": {name: entry}}``."""
        builds = {label: {"loader": self.url(VENDOR_DIR / f"{b}.js", root),
                          "wasm": self.url(VENDOR_DIR / f"{b}.wasm", root)} for label, b in WASM_BUILDS.items()}
        return {"module": self.url(MODULE, root), "controller": self.url(CONTROLLER, root),
                "runtime": {"lib": self.url(LIB, root), "builds": builds},
                "models": self.model_entries(root)}


_served: Assets | None = None
_lock = threading.Lock()


def register(weights_dir: str | Path | None = None) -> dict:
    """Build the served table (once per process and weights folder) and return its
    :func:`Assets.manifest`. Call before ``launch(app_kwargs=app_kwargs())``."""
    global _served
    with _lock:
        if _served is None or _served.weights_dir != Path(weights_dir or WEIGHTS_DIR):
            _served = Assets(weights_dir)
        return _served.manifest()


def served() -> Assets | None:
    """The table :func:`register` built (None before it ran)."""
    return _served


def manifest(weights_dir: str | Path | None = None, root: str = "") -> dict:
    """The manifest of ``weights_dir``'s exports, without serving anything (hashes them)."""
    return Assets(weights_dir).manifest(root)


def _encoding(accept: str) -> str | None:
    """The encoding to send for an ``Accept-Encoding`` header: br, else gzip, else none."""
    offered = {}
    for part in accept.split(","):
        token, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        offered[token.strip().lower()] = q
    for enc in ("br", "gzip"):
        if offered.get(enc, offered.get("*", 0.0)) > 0:
            return enc
    return None


async def _serve(request):
    from starlette.responses import Response

    asset = _served.by_name.get(request.path_params["name"]) if _served else None
    if asset is None:
        return Response("not found", status_code=404, media_type="text/plain")
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": f'"{asset.sha256}"', "Vary": "Accept-Encoding",
               "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match", "").strip() == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    enc = _encoding(request.headers.get("accept-encoding", ""))
    body = asset.encoded.get(enc) if enc else None
    if body is None:  # no encoding accepted, or gzip not made yet
        body = asset.raw
    else:
        headers["Content-Encoding"] = enc
    return Response(body, media_type=asset.media_type, headers=headers)


# The page's own responses that Gradio's Brotli middleware skips, because it decides by the
# path's extension and these have none: the page at ``/`` (without SSR its config is inlined:
# 300 KB raw), and under SSR (where Gradio's Node server renders ``/`` itself, uncompressed,
# and the front end then fetches the page's content from Python) ``/config`` (270 KB raw) and
# ``/gradio_api/info`` (40 KB raw).
PAGE_PATHS = frozenset({"", "/", "/config", "/gradio_api/info"})


def page_compression():
    """Gradio's own Brotli middleware (gzip where brotli is not accepted), for
    :data:`PAGE_PATHS` only (GET; the query string is not part of the path). Nothing else is
    touched: the event stream and the uploads stay as Gradio sends them."""
    from gradio.brotli_middleware import BrotliMiddleware

    class PageCompression(BrotliMiddleware):
        def _is_compressible_file_type(self, scope) -> bool:
            return scope.get("method") == "GET" and scope.get("path", "") in PAGE_PATHS

    return PageCompression


def app_kwargs() -> dict:
    """For ``launch(app_kwargs=...)``: the route that serves :func:`register`'s files, and the
    page's compression (see the module's docstring for why here)."""
    from starlette.middleware import Middleware
    from starlette.routing import Route

    return {"routes": [Route(PREFIX + "{name}", _serve, methods=["GET", "HEAD"])],
            "middleware": [Middleware(page_compression(), quality=5)]}


def head_script(manifest: dict, name: str = "daeBrowser") -> str:
    """A ``<script>`` for ``launch(head=...)`` that sets ``window.<name>`` to the manifest, so
    the page's JS finds it before the runtime loads. ``<`` is escaped so that no value can
    close the tag."""
    payload = json.dumps(manifest, separators=(",", ":")).replace("<", "\\u003c")
    return f"<script>window.{name} = {payload};</script>"
