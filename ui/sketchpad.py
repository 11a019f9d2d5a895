"""Gradio's sketchpad, handing the drawing over undecoded.

``gr.Sketchpad.preprocess`` (gradio/components/image_editor.py, ``convert_and_format_image``)
decodes the background, every layer and the composite with Pillow at full size before the
event function runs, with no cap of its own beyond Pillow's decompression-bomb guard.
:func:`undecoded` gives a sketchpad a ``preprocess`` that passes the composite's file path
(or, for a drawing that arrived in chunks, its bytes) to the event instead, so a drawing
goes through :func:`dae.images.read_image` like an upload: the byte cap, the header's pixel
count, then reduced decoding.

Why not a subclass: Gradio's ``ComponentMeta`` writes a ``.pyi`` stub beside the module of
every component class it sees defined (``create_or_modify_pyi`` in gradio/component_meta.py),
which would rewrite a tracked file on import.
"""
from __future__ import annotations

import types

import gradio as gr
from gradio.data_classes import FileData


def _preprocess(self: gr.Sketchpad, payload) -> str | bytes | None:
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


def undecoded(sketch: gr.Sketchpad) -> gr.Sketchpad:
    """``sketch``, whose value in an event function is the drawing's path or bytes (or None)."""
    sketch.preprocess = types.MethodType(_preprocess, sketch)
    return sketch
