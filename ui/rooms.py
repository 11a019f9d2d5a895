"""Rooms over HTTP: the routes a presenter's page publishes to and followers long-poll.

The mechanism is a long poll on a plain Starlette route, not a Gradio event: a follower asks
``GET <API>/<id>?since=<version>`` and the request waits (at most :data:`LONG_POLL_S`) until
the presenter's next change, so a change reaches every follower one round trip after it is
published, and a quiet room costs one request per follower every :data:`LONG_POLL_S`
seconds. ``benchmarks/room.py`` measures it against a plain poll (``wait=0``); a Gradio event
(``gr.Timer`` or a stream) costs a queue slot and Gradio's per-event work for each follower
and step, where this answers a few hundred bytes from memory (docs/architecture.md, "Rooms").

Routes (under ``/gradio_api``, which Gradio's SSR proxy hands to Python; registered ahead of
``ui.browser_assets``' one):

- ``POST <API>``: a new room → 201 ``{"id", "key", "version", "idle_s", "ping_s"}``;
- ``GET <API>/<id>?since=<n>&wait=<s>``: the state, ``{"version", "state"}``, at once when
  its version is not ``n``, else when it changes or ``wait`` seconds pass;
- ``PUT <API>/<id>`` with the ``X-Room-Key`` header and the state as a JSON body: publish
  (the presenter only) → ``{"version", "waiting"}`` (how many followers were waiting);
  ``DELETE`` with the same header ends the room.

Refusals are JSON ``{"error": ...}`` with the status :class:`dae.rooms.RoomError` names
(400, 403, 404, 413, 503; 429 when :data:`MAX_WAITERS` followers already wait).
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

from dae import rooms as domain
from dae.rooms import RoomError

from . import browser_assets

API = browser_assets.PREFIX + "rooms"  # /gradio_api/dae/rooms
LONG_POLL_S = 25.0  # under the 30-60 s that proxies commonly allow an idle request
MAX_WAITERS = 2000  # long polls held at once, all rooms together; past it a follower backs off
KEY_HEADER = "x-room-key"
SCRIPT = Path(__file__).resolve().parent / "room.js"

REGISTRY = domain.Rooms()


class Waiting:
    """The followers waiting for a room's next version: one asyncio.Event per room, set
    (and dropped) when the presenter publishes. Used on the server's event loop only."""

    def __init__(self) -> None:
        self._events: dict[str, list] = {}  # room id -> [event, waiters]
        self.count = 0

    async def wait(self, room_id: str, seconds: float) -> None:
        entry = self._events.setdefault(room_id, [asyncio.Event(), 0])
        entry[1] += 1
        self.count += 1
        try:
            await asyncio.wait_for(entry[0].wait(), seconds)
        except asyncio.TimeoutError:
            pass
        finally:
            self.count -= 1
            entry[1] -= 1
            if entry[1] == 0 and self._events.get(room_id) is entry:
                del self._events[room_id]

    def waiting(self, room_id: str) -> int:
        """How many followers wait on this room now."""
        entry = self._events.get(room_id)
        return entry[1] if entry else 0

    def wake(self, room_id: str) -> None:
        entry = self._events.pop(room_id, None)
        if entry is not None:
            entry[0].set()


WAITING = Waiting()


def _json(body: bytes | dict, status: int = 200):
    from starlette.responses import Response

    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(data, status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def _refused(e: RoomError):
    return _json({"error": str(e)}, e.status)


async def _body(request) -> bytes:
    """The request's body, read no further than :data:`dae.rooms.MAX_STATE_BYTES` + 1 bytes
    (so an oversize state is refused without being held in memory)."""
    limit = domain.MAX_STATE_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RoomError(f"a room's state is at most {limit} bytes, got {declared}", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RoomError(f"a room's state is at most {limit} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def create(request):
    try:
        room = REGISTRY.create()
    except RoomError as e:
        return _refused(e)
    return _json({"id": room.id, "key": room.key, "version": room.version,
                  "idle_s": REGISTRY.idle_s, "ping_s": domain.PING_S}, 201)


async def follow(request):
    rid = request.path_params["room"]
    try:
        since = domain.since_version(request.query_params.get("since"))
        wait = domain.wait_seconds(request.query_params.get("wait"), LONG_POLL_S)
        room = REGISTRY.get(rid)
        if room.version == since and wait > 0:
            if WAITING.count >= MAX_WAITERS:
                raise RoomError("too many followers waiting; try again in a few seconds", 429)
            await WAITING.wait(rid, wait)
            if not REGISTRY.alive(room):
                raise RoomError("the room has ended", 404)
        return _json(room.snapshot())
    except RoomError as e:
        return _refused(e)


async def publish(request):
    rid = request.path_params["room"]
    try:
        room, changed = REGISTRY.publish(rid, request.headers.get(KEY_HEADER), await _body(request))
    except RoomError as e:
        return _refused(e)
    waiting = WAITING.waiting(rid)
    if changed:
        WAITING.wake(rid)
    return _json({"version": room.version, "waiting": waiting})


async def close(request):
    rid = request.path_params["room"]
    try:
        REGISTRY.close(rid, request.headers.get(KEY_HEADER))
    except RoomError as e:
        return _refused(e)
    WAITING.wake(rid)
    return _json({"closed": rid})


def routes() -> list:
    """The room routes, for ``launch(app_kwargs=...)`` ahead of ``ui.browser_assets``' route."""
    from starlette.routing import Route

    return [Route(API, create, methods=["POST"]),
            Route(API + "/{room}", follow, methods=["GET"]),
            Route(API + "/{room}", publish, methods=["PUT"]),
            Route(API + "/{room}", close, methods=["DELETE"])]


def head_script() -> str:
    """The page's room controller (ui/room.js, served like ui/digits.js) and its settings
    (``window.daeRoomConfig``). Call after ``browser_assets.register()``."""
    assets = browser_assets.served()
    assets.add([SCRIPT])
    config = {"api": API, "keyHeader": KEY_HEADER, "waitS": LONG_POLL_S, "pingS": domain.PING_S}
    return (browser_assets.head_script(config, name="daeRoomConfig")
            + f'<script type="module" src="{assets.url(SCRIPT)}"></script>')
