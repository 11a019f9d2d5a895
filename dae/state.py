"""The Digits tab's state, defined once: named fields, their ranges, JSON and a link's query.

Why one object: the page, the server's render, a link that opens a prepared view and a room
that follows a presenter all need the same description of "what is on screen". Before, it
was a positional list repeated in Python and JS; now every side reads and writes it by name.

Fields (the ranges are :mod:`dae.params`'): ``tab`` (the page's selected tab), ``digit`` (a
gallery index, or a drawn or uploaded digit's pixels as base64 of 784 little-endian float32,
as ``ui/panels.encode_digit`` writes them), ``noise``, ``level``, ``blur``, ``mean``,
``clip``, ``seed``, ``models`` (the ticked methods, in order) and ``errors`` (error maps).

Two ways in:
- :meth:`Spec.check`: strict, for a request (the page's server render, an API client): a bad
  field is a :class:`~dae.params.ParamError` naming it.
- :meth:`Spec.from_query` / :meth:`Spec.from_json`: lenient, for a link (a bookmark made by an
  older version, a typo): each bad or stale parameter is dropped alone, with a short notice,
  and the rest still applies.

:meth:`Spec.definition` is what the page's ``ui/state.js`` reads (fields, defaults, ranges,
choices), so the browser parses and writes links by the same rules; ``tests/test_state.py``
holds the two to each other.
"""
from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

import numpy as np

from . import corrupt, params

TABS = ("digits", "photos", "inside", "robustness", "models")
# The order of a link's parameters (and of definition()["fields"]).
FIELDS = ("tab", "digit", "noise", "level", "blur", "mean", "clip", "seed", "models", "errors")
# Parameters a link may carry that are not the tab's state: left alone, no notice.
# server: ui/digits.js's "compute on the server"; __theme: Gradio's light/dark; room, key: a room.
OTHER_PARAMS = ("server", "__theme", "room", "key", "view")
NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")  # no hex, no "inf", no ""
ON, OFF = ("on", "true", "1", "yes"), ("off", "false", "0", "no")
PIXELS = 784


def _num(v: float) -> str:
    """A number as a link writes it: the shortest text that reads back to the same float
    (Python's repr and JS's String agree on it for this page's values), "1" for 1.0."""
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def pixels_problem(value: str) -> str:
    """Why ``value`` is not a digit's pixels (base64 of 784 float32 in [0, 1]), or ""."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        return "pixels must be base64"
    if len(raw) != 4 * PIXELS:
        return f"pixels must be {PIXELS} float32 values, got {len(raw)} bytes"
    x = np.frombuffer(raw, "<f4")
    if not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        return "pixels must be numbers from 0 to 1"
    return ""


def decode_pixels(value: str) -> np.ndarray:
    """A checked digit's pixels as a 28×28 float32 array."""
    return np.frombuffer(base64.b64decode(value), "<f4").reshape(28, 28).copy()


@dataclass(frozen=True)
class Spec:
    """The state's definition for one server: which methods it offers and how many gallery
    digits it has (both depend on what loaded), and its defaults."""

    methods: tuple[str, ...]
    default_models: tuple[str, ...]
    gallery_size: int
    default_digit: int = 0

    @property
    def digit_range(self) -> params.Range:
        return params.digit_index(self.gallery_size, self.default_digit)

    def defaults(self) -> dict:
        """The state of a first visit."""
        return {"tab": "digits", "digit": self.default_digit, "noise": "gaussian",
                "level": params.LEVEL.default, "blur": params.BLUR.default, "mean": params.MEAN.default,
                "clip": True, "seed": int(params.SEED.default), "models": list(self.default_models),
                "errors": False}

    def definition(self) -> dict:
        """What the page's JS reads: every field with its kind, default and range or choices."""
        d = self.defaults()
        rng = {"digit": self.digit_range, "level": params.LEVEL, "blur": params.BLUR, "mean": params.MEAN,
               "seed": params.SEED}
        choices = {"tab": list(TABS), "noise": list(corrupt.NOISE_KINDS), "models": list(self.methods)}
        kinds = {"tab": "choice", "noise": "choice", "digit": "digit", "level": "number", "blur": "number",
                 "mean": "number", "seed": "whole", "clip": "flag", "errors": "flag", "models": "names"}
        fields = []
        for name in FIELDS:
            f = {"name": name, "kind": kinds[name], "default": d[name]}
            if name in rng:
                r = rng[name]
                f.update(lo=r.lo, hi=r.hi, step=r.step)
            if name in choices:
                f["choices"] = choices[name]
            fields.append(f)
        return {"fields": fields, "other": list(OTHER_PARAMS), "on": list(ON), "off": list(OFF),
                "pixels": PIXELS}

    # --- strict: a request ------------------------------------------------------------------
    def check(self, state: object) -> dict:
        """A request's state (a dict or its JSON), every field checked; missing fields take
        their defaults. :class:`~dae.params.ParamError` names the first bad one."""
        if isinstance(state, str):
            try:
                state = json.loads(state)
            except ValueError:
                raise params.ParamError("state must be a JSON object of the tab's fields") from None
        if not isinstance(state, dict):
            raise params.ParamError(f"state must be an object with the fields {list(FIELDS)}, got {state!r:.60}")
        unknown = sorted(set(state) - set(FIELDS))
        if unknown:
            raise params.ParamError(f"state has no field {unknown[0]!r}; its fields are {list(FIELDS)}")
        out = self.defaults()
        for name, value in state.items():
            out[name] = self._check(name, value)
        return out

    def _check(self, name: str, value: object) -> object:
        if name == "digit":
            if isinstance(value, str):
                why = pixels_problem(value)
                if why:
                    raise params.ParamError(f"digit: {why}")
                return value
            return self.digit_range.check(value)
        if name in ("tab", "noise"):
            return params.choice(name, value, TABS if name == "tab" else corrupt.NOISE_KINDS)
        if name in ("level", "blur", "mean"):
            return {"level": params.LEVEL, "blur": params.BLUR, "mean": params.MEAN}[name].check(value)
        if name == "seed":
            return params.seed(value)
        if name in ("clip", "errors"):
            return params.flag("error maps" if name == "errors" else name, value)
        return params.subset("models", value, list(self.methods), list(self.default_models))

    def digit_image(self, state: dict, gallery: np.ndarray) -> np.ndarray:
        """The 28×28 digit a checked state names: the gallery's, or its own pixels."""
        d = state["digit"]
        return decode_pixels(d) if isinstance(d, str) else gallery[d]

    # --- lenient: a link --------------------------------------------------------------------
    def from_query(self, query: str) -> tuple[dict, list[str]]:
        """A link's query (with or without "?") → (the state fields it sets, notices). Each
        bad, stale or unknown parameter is dropped with a notice; the first of repeats counts."""
        seen: dict[str, str] = {}
        for key, raw in parse_qsl(query.lstrip("?"), keep_blank_values=True):
            seen.setdefault(key, raw)
        state, notices = {}, []
        for key, raw in seen.items():
            if key in OTHER_PARAMS:
                continue
            if key not in FIELDS:
                notices.append(f"ignored {key}: not a setting of this page")
                continue
            value, why = self._parse(key, raw)
            if why:
                notices.append(f"ignored {key}={raw[:40]}: {why}")
            else:
                state[key] = value
        if "models" in seen and "models" in state:
            state["models"], dropped = state["models"]
            notices += [f"ignored model {m[:40]}: not on this page" for m in dropped]
        return state, notices

    def _parse(self, key: str, raw: str) -> tuple[object, str]:
        """(value, "") or (None, why) for one parameter's text."""
        f = next(f for f in self.definition()["fields"] if f["name"] == key)
        kind = f["kind"]
        if kind == "choice":
            return (raw, "") if raw in f["choices"] else (None, "must be one of " + ", ".join(f["choices"]))
        if kind == "flag":
            low = raw.lower()
            return (True, "") if low in ON else (False, "") if low in OFF else (None, "must be on or off")
        if kind == "names":
            names = [n for n in raw.split(",") if n] if raw else []
            keep, dropped = [], []
            for n in names:
                (keep if n in f["choices"] and n not in keep else dropped).append(n)
            return (keep, dropped), ""
        span = f"must be a {'whole ' if kind != 'number' else ''}number from {_num(f['lo'])} to {_num(f['hi'])}"
        if not NUMBER.match(raw):
            return None, span
        v = float(raw)
        if not math.isfinite(v) or not f["lo"] <= v <= f["hi"] or (kind != "number" and not v.is_integer()):
            return None, span
        return (int(v) if kind != "number" else v), ""

    def to_query(self, state: dict) -> str:
        """A state → the query a link carries (no "?"), every field but pixels, in FIELDS order."""
        parts = []
        for name in FIELDS:
            if name not in state:
                continue
            v = state[name]
            if name == "digit" and isinstance(v, str):
                continue  # a drawn digit's pixels do not travel in a link
            if isinstance(v, bool):
                text = "on" if v else "off"
            elif name == "models":
                text = ",".join(v)
            elif isinstance(v, (int, float)):
                text = _num(v)
            else:
                text = str(v)
            parts.append(f"{name}={quote(text, safe=',-.')}")
        return "&".join(parts)

    # --- JSON ---------------------------------------------------------------------------------
    @staticmethod
    def to_json(state: dict) -> str:
        return json.dumps({k: state[k] for k in FIELDS if k in state}, separators=(",", ":"))

    def from_json(self, text: str) -> tuple[dict, list[str]]:
        """A state's JSON → (its checked fields, notices), each bad field dropped alone."""
        try:
            raw = json.loads(text)
        except ValueError:
            return {}, ["ignored the state: not JSON"]
        if not isinstance(raw, dict):
            return {}, ["ignored the state: not an object"]
        state, notices = {}, []
        for k, v in raw.items():
            if k not in FIELDS:
                notices.append(f"ignored {k}: not a setting of this page")
                continue
            try:
                state[k] = self._check(k, v)
            except params.ParamError as e:
                notices.append(f"ignored {k}: {e}")
        return state, notices
