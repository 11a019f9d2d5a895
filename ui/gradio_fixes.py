"""Gradio 6.31's image cache, made safe for a crowd sending identical requests.

The cause, read in ``gradio/processing_utils.py``: ``save_pil_to_cache`` names each output
image after the hash of its bytes and writes it with ``Path.write_bytes`` straight into that
path, every time. When two requests produce the same image (a room opening the link at
once: same default digit, σ and seed), one request rewrites (truncates, then fills) the file
while the other one's ``FileResponse`` is streaming it, and uvicorn/h11 fail that response
with ``LocalProtocolError: Too little/Too much data for declared Content-Length``. The
closest upstream report is gradio-app/gradio#10591 (the same h11 trace on cached images).
``save_file_to_cache`` in the same module already writes to a temporary name and renames;
the PIL path (and ``save_img_array_to_cache``, which calls it) does not.

The fix keeps Gradio's content-addressed layout and file names and changes only how the
bytes land: an existing file is reused untouched (same name, same bytes), and a new one
is written under a temporary name and moved into place with ``os.replace``, which is atomic
on POSIX, so a reader sees either no file or the whole file.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradio import processing_utils



def save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """Drop-in for ``gradio.processing_utils.save_pil_to_cache`` that writes atomically."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    target = (folder / f"{name}.{format}").resolve()
    if target.exists():
        os.utime(target)  # delete_cache ages files by time: a reused file is fresh again
        return str(target)
    fd, staging = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(staging, target)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return str(target)


def install() -> None:
    """Route every Gradio image output through :func:`save_pil_to_cache`. Idempotent.

    Every caller (``image_utils``, ``Gallery``, ``AnnotatedImage``, and
    ``save_img_array_to_cache``) looks the function up on the module at call time, so
    replacing the module attribute reaches them all.
    """
    processing_utils.save_pil_to_cache = save_pil_to_cache

