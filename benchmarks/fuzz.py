"""Fuzz every named endpoint with Hypothesis, as a hostile or careless API client would.

    python benchmarks/fuzz.py                  # 2,000 examples against `python app.py` on loopback
    python benchmarks/fuzz.py --examples 200   # a shorter run

Each request's parameters are drawn from the declared ranges and well beyond them: wrong
types, NaN and ±inf, negative and huge numbers, empty and long strings, unknown and
duplicated model names, and every awkward file of ``tests/badfiles.py`` (missing, empty,
truncated, a 30000×30000 header, odd modes). Every answer must be a result or an error
with a message. Afterwards the server must answer a normal request, and its log must hold
no exception. Requests go one at a time, so the server's CPU time across one is that
request's cost; prints the worst request of each kind in server CPU seconds (and wall
seconds, which a busy machine inflates), and the server's peak resident memory, against
the bounds README states; writes ``benchmarks/results/fuzz.json``.
``tests/test_fuzz.py`` runs the same strategies with a CI-sized example count.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dae import params  # noqa: E402
from dae.registry import digit_models  # noqa: E402

BOUNDS_S = {"digit": 1.0, "photo": 5.0, "inside": 1.0}  # README's per-request bounds (the live run: its deadline)
KIND = {"/denoise_digit": "digit", "/digit_view": "digit", "/denoise_photo": "photo", "/encode": "inside",
        "/decode_point": "inside", "/interpolate": "inside", "/train_live": "inside"}


# NaN and ±inf as a JSON client can send them: gradio_client (like any client keeping to the
# JSON standard) refuses to encode the floats themselves; dae.params' own tests cover those.
NON_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"]


def junk() -> st.SearchStrategy:
    """Values no parameter should accept: wrong types, non-finite, huge, odd strings."""
    return st.one_of(
        st.none(), st.booleans(), st.sampled_from(NON_FINITE),
        st.integers(-10**30, 10**30), st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=5), st.just("x" * 10_000), st.just(""), st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def number(r: params.Range, valid: bool) -> st.SearchStrategy:
    """In range (the range's ends included: the bounded-work cases); fuzzed, also junk."""
    inside = st.floats(r.lo, r.hi) if not r.whole else st.integers(int(r.lo), int(min(r.hi, 10**6)))
    inside = st.one_of(inside, st.sampled_from([r.lo, r.hi]))
    return inside if valid else st.one_of(inside, junk())


def refused(r: params.Range) -> st.SearchStrategy:
    """Only values the range refuses: below, above, fractional, or junk that is no number."""
    return st.one_of(st.integers(int(r.hi) + 1, 10**30), st.integers(-10**30, int(r.lo) - 1),
                     st.floats(r.lo + 0.1, r.hi - 0.1).filter(lambda v: not v.is_integer()),
                     st.sampled_from(NON_FINITE), st.none(), st.booleans(), st.text(max_size=5).filter(
                         lambda t: not t.strip().lstrip("+-").replace(".", "", 1).isdigit()))


def names(choices: list[str], valid: bool) -> st.SearchStrategy:
    """Lists of model or filter names: valid subsets; fuzzed, also duplicates, unknown names, junk."""
    good = st.lists(st.sampled_from(choices), max_size=len(choices), unique=True)
    if valid:
        return good
    return st.one_of(st.none(), good, st.lists(st.sampled_from(choices + ["nope", "", "unet " * 50]), max_size=12),
                     junk())


def files(folder: Path, valid: bool) -> st.SearchStrategy:
    """Paths of image files that should work; fuzzed, also every awkward one, or no file."""
    from tests.badfiles import catalogue

    paths, good = [], []
    for i, (name, (suffix, data, expect)) in enumerate(sorted(catalogue().items())):
        p = folder / f"f{i}{suffix}"
        p.write_bytes(data)
        paths.append(str(p))
        if expect is None:
            good.append(str(p))
    return st.sampled_from(good) if valid else st.one_of(st.sampled_from(paths), st.none())


def requests(folder: Path) -> st.SearchStrategy:
    """(api_name, kwargs) for one request to any named endpoint: half of them entirely valid
    (they measure the bounds on work), half fuzzed (they test the refusals)."""
    return st.one_of(_requests(folder, True), _requests(folder, False))


def page_state(corruption: dict, methods: list[str], valid: bool) -> st.SearchStrategy:
    """The Digits tab's state (dae/state.py) as the page sends it: named fields, a gallery
    index or pixels for the digit; fuzzed, also junk fields, junk values and no object at all."""
    digit = st.one_of(number(params.digit_index(5000), valid),
                      st.just(base64.b64encode(np.full(784, 0.5, "<f4").tobytes()).decode()))
    if not valid:
        digit = st.one_of(digit, st.just(base64.b64encode(np.full(784, 2.0, "<f4").tobytes()).decode()))
    fields = {**{k: v for k, v in corruption.items() if k != "sigma"}, "level": corruption["sigma"],
              "models": names(methods, valid), "errors": corruption["clip"], "digit": digit}
    state = st.fixed_dictionaries(fields)
    return state if valid else st.one_of(state, st.fixed_dictionaries({**fields, "junk": junk()}), junk())


def _requests(folder: Path, valid: bool) -> st.SearchStrategy:
    from dae.baselines import DIGIT_BASELINES, PHOTO_BASELINES

    digit_methods = digit_models() + list(DIGIT_BASELINES)
    img = files(folder, valid)
    kinds = st.sampled_from(["gaussian", "uniform", "salt-pepper", "none"])
    noise = kinds if valid else st.one_of(kinds, junk())
    clip = st.booleans() if valid else st.one_of(st.booleans(), junk())
    corruption = dict(noise=noise, sigma=number(params.LEVEL, valid), blur=number(params.BLUR, valid),
                      mean=number(params.MEAN, valid), clip=clip, seed=number(params.SEED, valid))
    models = st.sampled_from(["dense", "conv-latent"])
    model = models if valid else st.one_of(models, st.sampled_from(["unet", "photo"]), junk())
    return st.one_of(
        st.tuples(st.just("/denoise_digit"), st.fixed_dictionaries({"image": img, **corruption,
                                                                    "models": names(digit_methods, valid)})),
        st.tuples(st.just("/digit_view"), st.fixed_dictionaries({"state": page_state(corruption, digit_methods, valid)})),
        st.tuples(st.just("/denoise_photo"), st.fixed_dictionaries({
            "image": img, "sigma": number(params.PHOTO_SIGMA, valid), "blur": number(params.PHOTO_BLUR, valid),
            "clip": clip, "seed": number(params.SEED, valid), "baselines": names(list(PHOTO_BASELINES), valid)})),
        st.tuples(st.just("/encode"), st.fixed_dictionaries({"image": img, "model": model, **corruption})),
        st.tuples(st.just("/decode_point"), st.fixed_dictionaries({
            "model": model, "x": number(params.MAP_X, valid), "y": number(params.MAP_Y, valid)})),
        st.tuples(st.just("/interpolate"), st.fixed_dictionaries({
            "image_a": img, "image_b": img, "model": model, "steps": number(params.STEPS, valid)})),
        # only refused runs: a valid one trains for up to its deadline (tests/test_inside.py runs one)
        st.tuples(st.just("/train_live"), st.fixed_dictionaries({"epochs": refused(params.EPOCHS),
                                                                 "seed": number(params.SEED, valid)})),
    )


def send(client, api: str, kwargs: dict) -> tuple[str, str, float]:
    """One request: ("ok" | "error", message, seconds). Anything else (a client-side crash,
    an error without a message) is returned as ("broken", …) for the caller to count."""
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    kw = {k: (handle_file(v) if k.startswith("image") and isinstance(v, str) else v) for k, v in kwargs.items()}
    if api == "/digit_view":  # the page's own event: the page's state, as JSON
        state = json.dumps(kw["state"])
        call = lambda: client.predict(state, api_name=api)  # noqa: E731
    else:
        call = lambda: client.predict(**kw, api_name=api)  # noqa: E731
    t0 = time.perf_counter()
    try:
        call()
        return "ok", "", time.perf_counter() - t0
    except AppError as e:
        msg = str(e)
        return ("error" if msg.strip() else "broken"), msg, time.perf_counter() - t0
    except (TypeError, ValueError) as e:  # the client itself refused the arguments before sending
        return "client", f"{type(e).__name__}: {e}", time.perf_counter() - t0


def run(client, examples: int, folder: Path, on_result=None) -> list[dict]:
    """Draw ``examples`` requests and send each; return one record per request."""
    records: list[dict] = []

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(requests(folder))
    def one(req):
        api, kwargs = req
        outcome, msg, s = send(client, api, kwargs)
        rec = {"api": api, "outcome": outcome, "message": msg[:200], "seconds": round(s, 3)}
        records.append(rec)
        if on_result:
            on_result(rec, kwargs)

    one()
    return records


def worst(records: list[dict]) -> dict:
    """The most expensive request of each kind (server CPU seconds where measured, else wall
    seconds), with its endpoint, outcome and wall time."""
    out = {}
    for kind in ("digit", "photo", "inside"):
        mine = [r for r in records if KIND[r["api"]] == kind]
        if mine:
            cost = lambda r: r.get("server_cpu_s", r["seconds"])  # noqa: E731
            w = max(mine, key=cost)
            out[kind] = {"cpu_s": w.get("server_cpu_s"), "wall_s": w["seconds"], "api": w["api"],
                         "outcome": w["outcome"], "bound_s": BOUNDS_S[kind], "n": len(mine),
                         "wall_s_max": max(r["seconds"] for r in mine)}
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used, every thread counted (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    import os

    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    from gradio_client import Client, handle_file

    from benchmarks.common import cpu, rss_mb, save, start_app

    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--examples", type=int, default=2000)
    args = a.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        proc, url, startup = start_app(log=log)
        try:
            client = Client(url, verbose=False)
            peak = {"mb": 0.0}

            def track(rec, _):
                peak["mb"] = max(peak["mb"], rss_mb(proc.pid)[1])
                rec["server_peak_rss_mb"] = round(peak["mb"], 1)
                cpu_now = cpu_seconds(proc.pid)
                rec["server_cpu_s"] = round(cpu_now - peak.get("cpu", cpu_now), 3)  # requests run one at a time
                peak["cpu"] = cpu_now

            client.predict(api_name="/server_load")
            time.sleep(60)  # the Robustness curves compute in the background for about a minute after start
            peak["cpu"] = cpu_seconds(proc.pid)

            t0 = time.perf_counter()
            records = run(client, args.examples, Path(tmp), track)
            wall = time.perf_counter() - t0
            digit = Path(tmp) / "d.png"
            from PIL import Image
            Image.new("L", (28, 28), 0).save(digit)
            alive = client.predict(image=handle_file(str(digit)), api_name="/denoise_digit")[2]["noisy"] is not None
            load = client.predict(api_name="/server_load")
        finally:
            proc.terminate()
            proc.wait(30)
        text = log.read_text()
    counts = {k: sum(r["outcome"] == k for r in records) for k in ("ok", "error", "broken", "client")}
    result = {
        "cpu": cpu(), "examples": len(records), "wall_s": round(wall, 1), "outcomes": counts,
        "per_endpoint": {api: sum(r["api"] == api for r in records) for api in KIND},
        "worst": worst(records), "over_bound": sum(r.get("server_cpu_s", r["seconds"]) > BOUNDS_S[KIND[r["api"]]]
                                                   for r in records),
        "load_average": [round(x, 2) for x in __import__("os").getloadavg()],
        "server_peak_rss_mb": round(max((r.get("server_peak_rss_mb", 0) for r in records), default=0), 1),
        "server_exceptions": text.count("Traceback (most recent call last)"),
        "alive_after": alive, "server_load": load,
        "errors_sample": sorted({r["message"] for r in records if r["outcome"] == "error"})[:25],
    }
    print(f"{result['examples']} requests in {result['wall_s']} s: {counts}")
    for kind, w in result["worst"].items():
        print(f"  worst {kind} request: {w['cpu_s']} s of server CPU ({w['api']}, {w['outcome']}; "
              f"{w['wall_s']:.2f} s wall), bound {w['bound_s']} s; slowest wall {w['wall_s_max']:.2f} s")
    print(f"  over the bound: {result['over_bound']}; server peak RSS {result['server_peak_rss_mb']} MB; "
          f"server exceptions: {result['server_exceptions']}; alive after: {alive}; peak running at once: "
          f"{load['peak']} of {load['cores']} cores")
    save("fuzz", result)
    return 0 if (not result["server_exceptions"] and alive and not counts["broken"]) else 1


if __name__ == "__main__":
    sys.exit(main())
