"""Gradio's sketchpad, handing the drawing over undecoded.

``gr.Sketchpad.preprocess`` (gradio/components/image_editor.py, ``convert_and_format_image``)
decodes the background, every layer and the composite with Pillow at full size before the
event function runs, with no cap of its own beyond Pillow's decompression-bomb guard. This
subclass passes the composite's file path (or, for a drawing that arrived in chunks, its
bytes) to the event instead, so a drawing goes through :func:`dae.images.read_image` like
an upload: the byte cap, the header's pixel count, then reduced decoding.
"""
from __future__ import annotations

import gradio as gr
from gradio.data_classes import FileData

from gradio.events import Dependency

class Sketchpad(gr.Sketchpad):
    """A sketchpad whose value, in an event function, is the drawing's path or bytes (or None)."""

    def preprocess(self, payload) -> str | bytes | None:  # type: ignore[override]
        if payload is None:
            return None
        if payload.id is not None:  # sent in chunks: Gradio keeps the pieces in blob_storage
            cached = self.blob_storage.pop(payload.id, None)
            composite = cached.composite if cached else None
        else:
            composite = payload.composite
        if composite is None:
            return None
        return composite.path if isinstance(composite, FileData) else bytes(composite)
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component