"""A room arriving at once: N visitors (30) open the link in the same second.

    python benchmarks/arrival.py                          # this tree; writes results/arrival.json
    python benchmarks/arrival.py --compare 33be7e9 0b83790   # and those commits, in the same run

For each tree (this one, and each ``--compare`` commit extracted with ``git archive`` into a
temporary folder, weights included), the app is started as ``python app.py`` on loopback, and:

1. **One real visit is recorded**: Debian's Chromium (Playwright, a fresh profile) opens the
   page and waits until it has switched over to the in-browser path (for a tree where it never
   does, 60 s). Every GET it sent is kept, in order, with the headers it sent
   (``Accept-Encoding`` included); the heartbeat's event stream is left out.
2. **It is replayed N times at once** over HTTP (httpx, HTTP/1.1): each visitor has 6
   connections, as Chromium has per host; the page first, then the rest in the recorded order.
   A visitor is *ready* when it holds every response but the images (gallery thumbnails):
   everything its first in-browser step needs (the front end, the runtime and its wasm, the
   exports). The browser's own work (parsing, compiling) is not in it; the server's is. A GET
   whose kept-alive connection the server closed is retried (as a browser does), and counted.
3. **Meanwhile each visitor's first paint through** ``gradio_client``: ``Client(url)`` (its
   config and API info) and one ``/digit_view`` call with the page's default values, the
   server's strip (what a visitor's page asks of the server before it computes itself).

Printed and saved per tree: the time until the last (Nth) visitor is ready, the median, the
bytes the server sent (bodies as sent, compressed where it compresses, plus headers), the
first-paint calls' median and slowest, errors, and the CPU seconds the server and this script
spent meanwhile. The replay, the clients and the server
share this machine's CPUs; the figures compare trees under the same conditions.
"""
from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS, ROOT, cpu, free_port, save, wait_for  # noqa: E402
from benchmarks.crowd import PAGE_EVENT  # noqa: E402
from benchmarks.visit import SWITCHED  # noqa: E402

CONNECTIONS = 6  # Chromium's connections per host over HTTP/1.1
RETRIES = 2  # per GET, after the connection failed (counted)
SKIP = ("/heartbeat/",)  # an event stream that lasts as long as the page
DROP_HEADERS = {"host", "connection", "content-length", "cookie"}


def record(url: str, timeout_ms: int = 120_000) -> dict:
    """One Chromium visit until the switch-over: its GETs [{url, headers, type}] in order."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = ctx.new_page()
        seen = []
        page.on("request", lambda r: seen.append(r))
        t0 = time.perf_counter()
        page.goto(url)
        try:
            page.wait_for_function(SWITCHED, timeout=timeout_ms)
            switched = True
        except PlaywrightTimeout:
            switched = False
        switch_s = time.perf_counter() - t0
        page.wait_for_timeout(500)
        gets = [{"url": r.url, "type": r.resource_type,
                 "headers": {k: v for k, v in r.all_headers().items() if not k.startswith(":") and k not in DROP_HEADERS}}
                for r in seen if r.method == "GET" and r.url.startswith("http") and not any(s in r.url for s in SKIP)]
        posts = [r.url for r in seen if r.method != "GET"]
        ctx.close()
    return {"gets": gets, "posts": posts, "switched": switched, "switch_s": round(switch_s, 2)}


async def visitor(client, gets: list[dict], t0: float) -> dict:
    """One visitor's replay: the page, then the rest over CONNECTIONS connections."""
    sent = {"body": 0, "headers": 0, "retries": 0}
    errors = []

    async def fetch(g: dict) -> None:
        import httpx

        for attempt in range(RETRIES + 1):
            got = 0
            try:
                async with client.stream("GET", g["url"], headers=g["headers"]) as r:
                    async for chunk in r.aiter_raw():
                        got += len(chunk)
                    sent["headers"] += sum(len(k) + len(v) + 4 for k, v in r.headers.raw) + 17
                    if r.status_code >= 400:
                        errors.append(f"{g['url']}: HTTP {r.status_code}")
                sent["body"] += got
                return
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError) as e:
                # a kept-alive connection the server closed meanwhile: a browser retries a GET
                sent["body"] += got
                sent["retries"] += 1
                if attempt == RETRIES:
                    errors.append(f"{g['url']}: {type(e).__name__}: {e}")
            except Exception as e:  # noqa: BLE001  (counted and reported)
                errors.append(f"{g['url']}: {type(e).__name__}: {e}")
                return

    await fetch(gets[0])
    queue = list(gets[1:])
    needed_left = sum(g["type"] != "image" for g in queue)
    ready = time.perf_counter() - t0 if needed_left == 0 else None
    done_needed = 0

    async def worker() -> None:
        nonlocal ready, done_needed
        while queue:
            g = queue.pop(0)
            await fetch(g)
            if g["type"] != "image":
                done_needed += 1
                if done_needed == needed_left:
                    ready = time.perf_counter() - t0

    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return {"ready_s": ready, "all_s": time.perf_counter() - t0, "bytes": sent["body"] + sent["headers"],
            "body_bytes": sent["body"], "retries": sent["retries"], "errors": errors}


async def replay(gets: list[dict], n: int, t0: float) -> list[dict]:
    import httpx

    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    clients = [httpx.AsyncClient(limits=limits, timeout=600) for _ in range(n)]
    try:
        return await asyncio.gather(*(visitor(c, gets, t0) for c in clients))
    finally:
        for c in clients:
            await c.aclose()


def page_event(tree: Path) -> tuple:
    """The arguments of ``tree``'s own /digit_view call with the page's defaults, read from its
    ``benchmarks/crowd.py`` (``PAGE_EVENT``) without running it: a tuple of the widgets' values
    in older trees, one JSON state (``json.dumps({...})``) since the tab has one state."""
    for node in ast.parse((tree / "benchmarks" / "crowd.py").read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "PAGE_EVENT" for t in node.targets):
            v = node.value
            if isinstance(v, ast.Call) and getattr(v.func, "attr", "") == "dumps":
                return (json.dumps(ast.literal_eval(v.args[0])),)
            return tuple(ast.literal_eval(v))
    return (PAGE_EVENT,)


def first_paint(url: str, t0: float, event: tuple = (PAGE_EVENT,)) -> dict:
    """One visitor's gradio_client: connect, then the page's /digit_view with its defaults."""
    from gradio_client import Client

    try:
        client = Client(url, verbose=False, httpx_kwargs={"timeout": 600})  # a crowd is slow, not broken
        client.predict(*event, api_name="/digit_view")
        return {"s": time.perf_counter() - t0, "error": None}
    except Exception as e:  # noqa: BLE001  (counted and reported)
        return {"s": time.perf_counter() - t0, "error": f"{type(e).__name__}: {e}"}


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process so far, from /proc (0 where unknown)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError, TypeError):
        return 0.0


def arrive(url: str, gets: list[dict], n: int, server_pid: int | None = None,
           event: tuple = (PAGE_EVENT,)) -> dict:
    """N replays and N gradio_client first paints, all started at the same moment."""
    t0 = time.perf_counter()
    cpu0 = cpu_seconds(server_pid), cpu_seconds(os.getpid())
    with ThreadPoolExecutor(n) as pool:
        paints = [pool.submit(first_paint, url, t0, event) for _ in range(n)]
        visits = asyncio.run(replay(gets, n, t0))
        paints = [f.result() for f in paints]
    cpu1 = cpu_seconds(server_pid), cpu_seconds(os.getpid())
    ready = sorted(v["ready_s"] for v in visits if v["ready_s"] is not None)
    paint_s = sorted(p["s"] for p in paints if not p["error"])
    med = lambda xs: round(xs[len(xs) // 2], 2) if xs else None  # noqa: E731
    return {
        "visitors": n, "requests_per_visitor": len(gets),
        "server_cpu_s": round(cpu1[0] - cpu0[0], 1), "replay_and_clients_cpu_s": round(cpu1[1] - cpu0[1], 1),
        "last_ready_s": round(ready[-1], 2) if len(ready) == n else None, "median_ready_s": med(ready),
        "last_all_s": round(max(v["all_s"] for v in visits), 2),
        "server_sent_bytes": sum(v["bytes"] for v in visits),
        "per_visitor_bytes": visits[0]["bytes"],
        "replay_errors": sum(len(v["errors"]) for v in visits), "replay_retries": sum(v["retries"] for v in visits),
        "replay_error_examples": [e for v in visits for e in v["errors"]][:5],
        "first_paint_median_s": med(paint_s), "first_paint_last_s": round(paint_s[-1], 2) if paint_s else None,
        "first_paint_errors": sum(1 for p in paints if p["error"]),
        "first_paint_error_examples": [p["error"] for p in paints if p["error"]][:3],
    }


def serve(tree: Path, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)], cwd=tree,
                            env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    wait_for(url, timeout=600)
    return proc, url


def measure_url(url: str, label: str, n: int, server_pid: int | None = None,
                event: tuple = (PAGE_EVENT,)) -> dict:
    visit = record(url)
    out = {"tree": label, "recorded_switched": visit["switched"], "recorded_switch_s": visit["switch_s"],
           "posts_during_visit": len(visit["posts"])}
    out.update(arrive(url, visit["gets"], n, server_pid, event))
    return out


def measure(tree: Path, label: str, n: int) -> dict:
    proc, url = serve(tree)
    try:
        time.sleep(5)  # the app's start-up work off the CPUs (its curves start once the page answers)
        return measure_url(url, label, n, proc.pid, page_event(tree))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def extract(rev: str, into: Path) -> Path:
    """``git archive`` of a commit into a folder (a tree to run, not a worktree)."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout.strip()
    folder = into / sha
    folder.mkdir()
    archive = subprocess.Popen(["git", "archive", sha], cwd=ROOT, stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(folder)], stdin=archive.stdout, check=True)
    archive.wait()
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--visitors", type=int, default=30)
    ap.add_argument("--compare", nargs="*", default=[], help="commits to measure beside this tree, same run")
    ap.add_argument("--url", help="measure this running app only (nothing started, nothing saved)")
    a = ap.parse_args()
    if a.url:
        print(measure_url(a.url, a.url, a.visitors))
        return
    result = {"cpu": cpu(), "load_average_at_start": os.getloadavg(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="dae-arrival-") as tmp:
        for rev in a.compare:
            result["runs"].append(measure(extract(rev, Path(tmp)), rev, a.visitors))
            print(result["runs"][-1], flush=True)
        result["runs"].append(measure(ROOT, "this tree", a.visitors))
        print(result["runs"][-1], flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
    result["load_average_at_end"] = os.getloadavg()
    path = save("arrival", result)
    print(f"CPU: {result['cpu']['model']} ({result['cpu']['cores']} cores), load average "
          f"{result['load_average_at_start'][0]:.1f} at start, {result['load_average_at_end'][0]:.1f} at end")
    for r in result["runs"]:
        print(f"{r['tree']}: {r['visitors']} visitors at once, the last ready after {r['last_ready_s']} s "
              f"(median {r['median_ready_s']} s); server sent {r['server_sent_bytes']:,} B "
              f"({r['per_visitor_bytes']:,} per visitor, {r['requests_per_visitor']} requests); first paint "
              f"through gradio_client median {r['first_paint_median_s']} s, last {r['first_paint_last_s']} s; "
              f"errors: replay {r['replay_errors']}, first paint {r['first_paint_errors']}; "
              f"recorded visit switched over: {r['recorded_switched']} ({r['recorded_switch_s']} s)")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
