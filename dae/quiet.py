"""A quiet start: TensorFlow's C++ start-up banners off, set before TensorFlow is first imported.

A Space's log and a presenter's terminal should show the app's own lines, not TensorFlow's.
``import dae`` calls :func:`configure` first thing, so every entry point (``app.py``,
``python -m dae``, ``train.py``, the benchmarks, the tests) gets the same treatment from
this one place. What each banner needs, found by experiment with TensorFlow 2.21 (oneDNN
forced on with ``TF_ENABLE_ONEDNN_OPTS=1`` to stand in for a CPU where it is on by default):

- ``cpu_feature_guard.cc] This TensorFlow binary is optimized …`` (two lines): TensorFlow's
  own logger; ``TF_CPP_MIN_LOG_LEVEL=1`` or more hides it. Set here with ``setdefault``, so
  a user's own value wins.
- ``port.cc] oneDNN custom operations are on …``, and before it absl's ``WARNING: All log
  messages before absl::InitializeLog() is called are written to STDERR``: written through
  absl directly by a static initialiser while ``libtensorflow_framework.so.2`` (and again
  another TensorFlow library) is loaded, so ``TF_CPP_MIN_LOG_LEVEL`` 0-3 does not touch it
  and no call can come before it. Only ``TF_ENABLE_ONEDNN_OPTS=0`` (which changes numerics
  and speed; not done here) or file descriptor 2 stops it. So the first ``import
  tensorflow`` runs with fd 2 sent to a temporary file, and afterwards every captured line
  is written back except these banners (:data:`BANNERS`): nothing else is lost, only
  delayed until the import ends. On a CPU where oneDNN is off, only the absl warning shows
  (before the feature-guard line), and ``TF_CPP_MIN_LOG_LEVEL`` alone hides both.
- ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.``: TFLite's minimal logger,
  printed once per process at the first ``Interpreter.allocate_tensors()``. Its threshold is
  a compiled-in INFO, it reads no environment variable (``TF_CPP_MIN_LOG_LEVEL`` 3 leaves it),
  and its setter (``tflite::LoggerOptions``) is not exported from the wheel. Only fd 2 hides
  it: wrap the first interpreter's creation in :func:`filtered_stderr`.

``--verbose`` (``python -m dae --verbose …``) or ``DAE_VERBOSE=1`` turns all of this off;
it has to be decided before TensorFlow is imported, which is why ``dae/__init__.py`` imports
TensorFlow lazily.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from typing import Iterator

VERBOSE_ENV = "DAE_VERBOSE"
# Lines that no environment variable hides; dropped from fd 2 while they can be written.
BANNERS = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|.*\] oneDNN custom operations are on\. .*"
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.)\r?$")
_DEFAULTS = {"TF_CPP_MIN_LOG_LEVEL": "2"}  # 2: TensorFlow's INFO and WARNING off, ERROR kept
_set_here: set[str] = set()


def verbose() -> bool:
    """True when ``DAE_VERBOSE`` asks for TensorFlow's own start-up messages."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def configure() -> None:
    """Quiet TensorFlow unless verbose: log-level defaults, and a filtered first import."""
    if verbose():
        return
    for key, value in _DEFAULTS.items():
        if key not in os.environ:
            os.environ[key] = value
            _set_here.add(key)
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport())


def set_verbose() -> bool:
    """Undo :func:`configure` (``--verbose``); False if TensorFlow was already imported quietly."""
    os.environ[VERBOSE_ENV] = "1"
    for key in _set_here:
        os.environ.pop(key, None)
    _set_here.clear()
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietImport)]
    return "tensorflow" not in sys.modules


@contextmanager
def filtered_stderr() -> Iterator[None]:
    """Send fd 2 to a temporary file, then write back every line but :data:`BANNERS`.

    Catches what C++ libraries write, which ``sys.stderr`` never sees. A file, not a pipe,
    so a chatty import cannot fill a buffer and block. Output from other threads in the
    meantime is delayed, not lost.
    """
    if verbose():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = [line for line in tmp.read().splitlines(keepends=True) if not BANNERS.match(line.rstrip(b"\n"))]
            if kept:
                os.write(2, b"".join(kept))


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: runs the first ``import tensorflow`` inside :func:`filtered_stderr`."""

    def find_spec(self, name, path=None, target=None):  # noqa: ANN001 (importlib's protocol)
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once: TensorFlow's own submodules import normally
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _FilteredLoader(spec.loader)
        return spec


class _FilteredLoader(importlib.abc.Loader):
    """The real loader, its module executed with fd 2 filtered; then it steps aside."""

    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec):  # noqa: ANN001
        return self.inner.create_module(spec)

    def exec_module(self, module) -> None:  # noqa: ANN001
        module.__loader__ = module.__spec__.loader = self.inner  # resources etc. see the real one
        with filtered_stderr():
            self.inner.exec_module(module)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)
