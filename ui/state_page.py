"""The Digits tab's state on the page: its definition for ``ui/state.js``, and the files that
read it (the state itself, and the QR code of a view's link), served like the in-browser path's
files (``ui/browser_assets.py``: content-hashed, precompressed, cached for a year).

On a Hugging Face Space the page runs in an iframe whose own address is not the one to hand a
room: the link ``ui/state.js`` writes (and the QR code shows) starts with the Space's public
address, read from the variables every Space sets (``SPACE_HOST``, else ``SPACE_ID``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from dae.state import Spec

from . import browser_assets

UI_DIR = Path(__file__).resolve().parent
STATE_JS = UI_DIR / "state.js"
QR_JS = UI_DIR / "qr.js"
UQR = UI_DIR / "vendor" / "uqr" / "uqr.js"


def public_url(env: dict | None = None) -> str:
    """The address a link to this app should start with on a Space (``https://<host>/``), or
    "" off one (the page then uses its own address)."""
    env = os.environ if env is None else env
    host = env.get("SPACE_HOST", "").strip()
    if not host and "/" in env.get("SPACE_ID", ""):
        owner, name = env["SPACE_ID"].strip().lower().split("/", 1)
        host = f"{owner}-{name}".replace("_", "-").replace(".", "-") + ".hf.space"
    return f"https://{host.split(',')[0].strip()}/" if host else ""


def definition(spec: Spec, qr_lib: str = "", env: dict | None = None) -> dict:
    """``window.daeStateDef``: the state's fields, defaults and ranges (dae.state), the public
    address, and where the QR encoder is served."""
    return {**spec.definition(), "publicUrl": public_url(env), "qrLib": qr_lib}


def head(spec: Spec) -> str:
    """The definition and both scripts, for ``launch(head=...)``, after
    ``browser_assets.register()`` (their files join its table). ui/state.js is an ``async``
    module: it runs as soon as it arrives, not after Gradio's own bundle, so that a link's
    state is requested from the server while Gradio is still loading; ui/digits.js and
    ui/qr.js reach it only through ``window.daeState`` when they need it."""
    assets = browser_assets.served()
    if assets is None:
        raise RuntimeError("call ui.browser_assets.register() first: the state's files join its table")
    assets.add([STATE_JS, QR_JS, UQR])
    payload = json.dumps(definition(spec, assets.url(UQR)), separators=(",", ":")).replace("<", "\\u003c")
    return (f"<script>window.daeStateDef = {payload};</script>"
            f'<script type="module" async src="{assets.url(STATE_JS)}"></script>'
            f'<script type="module" src="{assets.url(QR_JS)}"></script>')
