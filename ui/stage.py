"""The Digits tab in front of a room: its keyboard shortcuts and stage mode.

What runs is ``ui/stage.js`` (the keys, stage mode and its layout) and ``ui/stage.css`` (stage
mode's sizes); this module puts their two entry points on the page: :func:`tools`, the "Stage
mode" button and the list of keys beside the tab's controls, and :func:`head_script`, the
script, served like the in-browser path's files (content-hashed, precompressed, cached).
The list of keys is filled in by the script from the table it runs, so the page never names a
key that does nothing.
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from . import browser_assets
from .browser_assets import UI_DIR

SCRIPT = UI_DIR / "stage.js"

TOOLS = ('<div class="stage-tools">'
         '<button type="button" id="stage-toggle" aria-pressed="false" aria-keyshortcuts="S">'
         'Stage mode <kbd>S</kbd></button>'
         '<details id="stage-keys"><summary>Keyboard shortcuts <kbd>?</kbd></summary>'
         '<dl id="stage-keys-list" aria-label="keyboard shortcuts"></dl></details></div>')


def tools() -> gr.HTML:
    """The stage button and the keys' list, for the Digits tab's controls (``ui/stage.js``
    wires them by id; without the script the button does nothing and the list stays empty)."""
    return gr.HTML(TOOLS, elem_id="stage-tools", js_on_load=None, scale=0, min_width=0)


def head_script() -> str:
    """The script's ``<script type="module">`` for ``launch(head=...)``; call after
    :func:`ui.browser_assets.register`, whose route serves it."""
    assets = browser_assets.served()
    if assets is None:
        raise RuntimeError("call ui.browser_assets.register() first: the stage script joins its table")
    assets.add([Path(SCRIPT)])
    return f'<script type="module" src="{assets.url(SCRIPT)}"></script>'
