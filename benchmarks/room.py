"""A room of 30 followers: what following the presenter costs the server, and how late it is.

    python benchmarks/room.py                 # 2 minutes a mechanism; writes benchmarks/results/room.json
    python benchmarks/room.py --seconds 20    # a short run (not saved unless --save)

Starts ``python app.py`` on loopback, waits until its start-up work has settled (its CPU
under 10 % of a core for 5 s), then:

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
simulated at the HTTP level (httpx, one connection each) in this process, so they share
the machine's 2 cores with the server, as a real room's phones would not.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

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


def settle(pid: int, below: float = 0.10, window: float = 5.0, most: float = 240.0) -> float:
    """Wait until the server's CPU rate stays under ``below`` cores for ``window`` s (its
    start-up work, e.g. the Robustness curves, done); returns the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < most:
        c0 = cpu_seconds(pid)
        time.sleep(window)
        if (cpu_seconds(pid) - c0) / window < below:
            break
    return round(time.perf_counter() - t0, 1)


def idle_rate(pid: int, seconds: float) -> float:
    """The server's CPU rate (cores) over ``seconds`` with nobody connected."""
    c0, t0 = cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    return (cpu_seconds(pid) - c0) / (time.perf_counter() - t0)


async def follower(url: str, sent: dict, got: list, errors: list, stop: asyncio.Event, poll: float | None) -> None:
    """One follower: long-polls (``poll`` None) or polls every ``poll`` s; records the delay
    of every version it receives against the presenter's send time."""
    version = -1
    async with httpx.AsyncClient(timeout=60) as c:
        while not stop.is_set():
            params = {} if version < 0 else {"since": str(version)}
            if poll is not None:
                params["wait"] = "0"
            try:
                r = await c.get(url, params=params)
                now = time.perf_counter()
                if r.status_code != 200:
                    errors.append(f"GET {r.status_code}")
                    await asyncio.sleep(1)
                    continue
                v = r.json()["version"]
                if v != version:
                    if v in sent:
                        got.append((v, now - sent[v]))
                    version = v
            except httpx.HTTPError as e:
                errors.append(f"GET {type(e).__name__}")
                await asyncio.sleep(1)
            if poll is not None:
                await asyncio.sleep(poll)


async def room_phase(base: str, followers: int, seconds: float, poll: float | None) -> dict:
    """One room for ``seconds``: the presenter moves σ once a second; returns delays and errors."""
    sent: dict[int, float] = {}
    got: list[tuple[int, float]] = []
    errors: list[str] = []
    async with httpx.AsyncClient(timeout=30) as c:
        made = (await c.post(base + API)).raise_for_status().json()
        url, key = f"{base}{API}/{made['id']}", {KEY_HEADER: made["key"]}
        version = (await c.put(url, json=STATE, headers=key)).json()["version"]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(follower(url, sent, got, errors, stop, poll)) for _ in range(followers)]
        await asyncio.sleep(1.5)  # every follower has the first state and waits
        got.clear()
        t_start = time.perf_counter()
        for i in range(int(seconds)):
            await asyncio.sleep(max(0.0, t_start + i + 1 - time.perf_counter()))
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
        await asyncio.sleep(2.5 if poll is None else poll + 1.5)  # the last change arrives
        elapsed = time.perf_counter() - t_start
        stop.set()
        await c.delete(url, headers=key)  # wakes the long polls, which then see 404 and stop
        await asyncio.wait(tasks, timeout=30)
        for t in tasks:
            t.cancel()
    errors = [e for e in errors if e != "GET 404"]  # the room ended at the end, on purpose
    delays = [d for _, d in got]
    expected = len(sent) * followers
    return {"elapsed_s": elapsed, "changes": len(sent), "received": len(delays), "missed": expected - len(delays),
            "errors": len(errors), "error_kinds": sorted(set(errors)),
            "delay": percentiles(delays) if delays else None,
            "delay_max_ms": round(max(delays) * 1000, 2) if delays else None}


def measure(pid: int, base: str, followers: int, seconds: float, poll: float | None) -> dict:
    c0 = cpu_seconds(pid)
    result = asyncio.run(room_phase(base, followers, seconds, poll))
    result["server_cpu_s"] = round(cpu_seconds(pid) - c0, 2)
    result["rate_cores"] = result["server_cpu_s"] / result["elapsed_s"]
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--followers", type=int, default=30)
    p.add_argument("--seconds", type=float, default=120, help="each mechanism's run (default 2 minutes)")
    p.add_argument("--baseline", type=float, default=30, help="each idle baseline's seconds")
    p.add_argument("--interval", type=float, default=0.5, help="the plain poll's interval")
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
                runs[name] = measure(proc.pid, url, a.followers, a.seconds, poll)
        idle.append(idle_rate(proc.pid, a.baseline))
    finally:
        proc.terminate()
        proc.wait(30)
    floor = sum(idle) / len(idle)
    result = {"cpu": cpu(), "load_avg_start": load_start, "load_avg": os.getloadavg(), "followers": a.followers, "seconds": a.seconds,
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
