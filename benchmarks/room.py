"""A room of 30 followers: what following the presenter costs the server, and how late it is.

    python benchmarks/room.py                 # 2 minutes a mechanism; writes benchmarks/results/room.json
    python benchmarks/room.py --seconds 20    # a short run (not saved unless --save)

Starts ``python app.py`` on loopback, waits until its start-up work has settled (its CPU
under 10 % of a core for three 5-s windows in a row), then:

1. **idle baseline**: the server's process CPU time (``/proc/<pid>/stat``, every thread)
   over ``--baseline`` seconds with nobody connected, before the rooms and again after them;
2. **long poll** (what the page does): one room, 30 followers each holding
   ``GET /gradio_api/dae/rooms/<id>?since=<version>``, while the presenter publishes a new σ
   once a second (``PUT`` with its key, the page's whole state) for ``--seconds``;
3. **plain poll** (the alternative, for comparison): the same, each follower asking
   ``?wait=0`` every ``--interval`` seconds.

For each: the server's CPU for the room in % of one core (the phase's CPU rate minus the
mean idle rate), the delay from the presenter's change (just before its ``PUT`` is sent)
to each follower's receiving that version (p50, p95, max; a version a follower never saw
counts as missed), and errors (any non-200 answer or failed request). Followers are
simulated at the HTTP level (httpx, one connection each), spread over ``--procs`` processes
beside the presenter's, so they share the machine's 2 cores with the server, as a real
room's phones would not.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import multiprocessing

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import cpu, percentiles, save, start_app  # noqa: E402

API = "gradio_api/dae/rooms"
KEY_HEADER = "x-room-key"
TICK = os.sysconf("SC_CLK_TCK")
# the page's state as ui/room.js publishes it (dae/state.py's fields), σ changing
STATE = {"tab": "digits", "digit": 123, "noise": "gaussian", "level": 0.5, "blur": 0.0, "mean": 0.0,
         "clip": True, "seed": 0, "models": ["dense", "conv-latent", "conv-pool", "unet", "unet-wide"],
         "errors": False}
TARGET_CPU_PCT = 10.0
TARGET_P95_S = 1.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def settle(pid: int, below: float = 0.10, window: float = 5.0, quiet: int = 3, most: float = 300.0) -> float:
    """Wait until the server's CPU rate stays under ``below`` cores for ``quiet`` windows of
    ``window`` s in a row (its start-up work, e.g. the Robustness curves, done); returns the
    seconds waited."""
    t0 = time.perf_counter()
    calm = 0
    while calm < quiet and time.perf_counter() - t0 < most:
        c0 = cpu_seconds(pid)
        time.sleep(window)
        calm = calm + 1 if (cpu_seconds(pid) - c0) / window < below else 0
    return round(time.perf_counter() - t0, 1)


def idle_rate(pid: int, seconds: float) -> float:
    """The server's CPU rate (cores) over ``seconds`` with nobody connected."""
    c0, t0 = cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    return (cpu_seconds(pid) - c0) / (time.perf_counter() - t0)


async def follower(url: str, poll: float | None, deadline: float, ready, got: list, errors: list) -> float:
    """One follower: long-polls (``poll`` None) or polls every ``poll`` s, noting (version,
    time) of every new version it receives (``time.perf_counter``, system-wide here), until
    the room ends (a 404; returns when) or ``deadline``. Counts itself in ``ready`` once it
    holds the room's state."""
    version = -1
    async with httpx.AsyncClient(timeout=60) as c:
        while time.perf_counter() < deadline:
            params = {} if version < 0 else {"since": str(version)}
            if poll is not None:
                params["wait"] = "0"
            try:
                r = await c.get(url, params=params)
                now = time.perf_counter()
                if r.status_code == 404:
                    return now
                if r.status_code != 200:
                    errors.append(f"GET {r.status_code}")
                    await asyncio.sleep(1)
                    continue
                v = r.json()["version"]
                if v != version:
                    if version < 0:
                        with ready.get_lock():
                            ready.value += 1
                    got.append((v, now))
                    version = v
            except httpx.HTTPError as e:
                errors.append(f"GET {type(e).__name__}")
                await asyncio.sleep(1)
            if poll is not None:
                await asyncio.sleep(poll)
    errors.append("still following at the deadline")
    return time.perf_counter()


def follower_group(url: str, count: int, poll: float | None, deadline: float, ready, out) -> None:
    """``count`` followers in one process (the benchmark spreads them over a few, as a room's
    phones are not one event loop); puts (notes, errors, when each saw the room end) on ``out``."""
    got: list = []
    errors: list = []

    async def run() -> list:
        return await asyncio.gather(*(follower(url, poll, deadline, ready, got, errors) for _ in range(count)))

    out.put((got, errors, asyncio.run(run())))


async def presenter(url: str, key: dict, version: int, start: float, seconds: float) -> tuple[dict, list]:
    """From ``start``, a new σ once a second for ``seconds``: {version: send time}, errors."""
    sent: dict[int, float] = {}
    errors: list[str] = []
    async with httpx.AsyncClient(timeout=30) as c:
        for i in range(int(seconds)):
            await asyncio.sleep(max(0.0, start + i - time.perf_counter()))
            state = {**STATE, "level": round(0.05 + (i % 29) * 0.05, 2)}  # a new σ each step
            # the send time is noted before the PUT: followers may hold the new version
            # before the presenter holds the PUT's answer
            version += 1
            sent[version] = time.perf_counter()
            try:
                r = await c.put(url, json=state, headers=key)
                if r.status_code != 200 or r.json()["version"] != version:
                    errors.append(f"PUT {r.status_code} {r.text[:80]}")
            except httpx.HTTPError as e:
                errors.append(f"PUT {type(e).__name__}")
    return sent, errors


def room_phase(base: str, followers: int, seconds: float, poll: float | None, procs: int) -> dict:
    """One room for ``seconds``: followers in ``procs`` processes, the presenter here, its
    first change once every follower holds the room's first state."""
    made = httpx.post(base + API, timeout=30).raise_for_status().json()
    url, key = f"{base}{API}/{made['id']}", {KEY_HEADER: made["key"]}
    version = httpx.put(url, json=STATE, headers=key, timeout=30).json()["version"]
    ctx = multiprocessing.get_context("fork")
    ready, out = ctx.Value("i", 0), ctx.Queue()
    deadline = time.perf_counter() + seconds + 180
    sizes = [followers // procs + (i < followers % procs) for i in range(procs)]
    group = [ctx.Process(target=follower_group, args=(url, n, poll, deadline, ready, out)) for n in sizes if n]
    for g in group:
        g.start()
    t0 = time.perf_counter()
    while ready.value < followers and time.perf_counter() - t0 < 120:
        time.sleep(0.1)
    start = time.perf_counter() + 0.5
    sent, errors = asyncio.run(presenter(url, key, version, start, seconds))
    time.sleep(2.5 if poll is None else poll + 2.5)  # the last change arrives
    elapsed = time.perf_counter() - start
    ended = time.perf_counter()
    httpx.delete(url, headers=key, timeout=30)  # wakes the long polls, which then see 404 and stop
    notes = [out.get(timeout=120) for _ in group]
    for g in group:
        g.join(30)
    delays = [t - sent[v] for got, _, _ in notes for v, t in got if v in sent]
    errors += [e for _, errs, _ in notes for e in errs]
    errors += ["the room ended early for a follower" for _, _, ends in notes for t in ends if t < ended]
    expected = len(sent) * followers
    return {"elapsed_s": elapsed, "ready_after_s": round(start - 0.5 - t0, 1), "changes": len(sent),
            "received": len(delays), "missed": expected - len(delays),
            "errors": len(errors), "error_kinds": sorted(set(errors)),
            "delay": percentiles(delays) if delays else None,
            "delay_max_ms": round(max(delays) * 1000, 2) if delays else None}


def measure(pid: int, base: str, followers: int, seconds: float, poll: float | None, procs: int) -> dict:
    c0 = cpu_seconds(pid)
    result = room_phase(base, followers, seconds, poll, procs)
    result["server_cpu_s"] = round(cpu_seconds(pid) - c0, 2)
    result["rate_cores"] = result["server_cpu_s"] / result["elapsed_s"]
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--followers", type=int, default=30)
    p.add_argument("--seconds", type=float, default=120, help="each mechanism's run (default 2 minutes)")
    p.add_argument("--baseline", type=float, default=30, help="each idle baseline's seconds")
    p.add_argument("--interval", type=float, default=0.5, help="the plain poll's interval")
    p.add_argument("--procs", type=int, default=3, help="processes the followers are spread over")
    p.add_argument("--only", choices=["long", "poll"], help="run one mechanism only")
    p.add_argument("--save", action="store_true", help="write benchmarks/results/room.json (default for a full run)")
    a = p.parse_args()
    if not 1 <= a.followers <= 200 or not 5 <= a.seconds <= 600:
        p.error("--followers in [1, 200], --seconds in [5, 600]")
    load_start = os.getloadavg()
    proc, url, startup = start_app(timeout=420)  # a loaded machine starts slowly
    try:
        settled = settle(proc.pid)
        idle = [idle_rate(proc.pid, a.baseline)]
        runs = {}
        for name, poll in (("long", None), ("poll", a.interval)):
            if a.only in (None, name):
                runs[name] = measure(proc.pid, url, a.followers, a.seconds, poll, a.procs)
        idle.append(idle_rate(proc.pid, a.baseline))
    finally:
        proc.terminate()
        proc.wait(30)
    floor = sum(idle) / len(idle)
    result = {"cpu": cpu(), "load_avg_start": load_start, "load_avg": os.getloadavg(), "followers": a.followers,
              "follower_processes": a.procs, "seconds": a.seconds,
              "startup_s": round(startup, 1), "settled_after_s": settled,
              "idle_pct_of_core": [round(100 * r, 2) for r in idle], "runs": {},
              "command": "python benchmarks/room.py " + " ".join(sys.argv[1:])}
    print(f"CPU {result['cpu']['model']}, {result['cpu']['cores']} cores; load {os.getloadavg()}")
    print(f"server idle: {', '.join(f'{100 * r:.2f}' for r in idle)} % of a core (before, after the rooms)")
    for name, r in runs.items():
        rate = r.pop("rate_cores")
        r["phase_pct_of_core"] = round(100 * rate, 2)  # the whole server during the room, idle included
        r["room_pct_of_core"] = round(100 * (rate - floor), 2)
        r["elapsed_s"] = round(r["elapsed_s"], 1)
        result["runs"][name] = r
        d = r["delay"] or {}
        label = "long poll" if name == "long" else f"plain poll every {a.interval:g} s"
        print(f"{label}: {a.followers} followers, {r['changes']} changes: server CPU for the room "
              f"{r['room_pct_of_core']:.2f} % of one core (target ≤ {TARGET_CPU_PCT:g}; the whole server "
              f"{r['phase_pct_of_core']:.2f} % meanwhile); delay p50 "
              f"{d.get('p50_ms')} ms, p95 {d.get('p95_ms')} ms, max {r['delay_max_ms']} ms (target p95 ≤ "
              f"{TARGET_P95_S * 1000:g}); missed {r['missed']}; errors {r['errors']} {r['error_kinds'] or ''}")
    if a.save or (a.seconds >= 120 and a.followers == 30 and a.only is None):
        print("wrote", save("room", result))
    else:
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
