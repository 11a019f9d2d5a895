"""Rooms: an audience following a presenter's state, kept in memory (no Gradio here).

A room holds one JSON object (the presenter's page state, opaque to this module), a version
that grows with each change, and two secrets of different strength:

- the room's **id**, in the audience link: it lets anyone who has it *read* the state;
- the presenter's **key**, in the presenter link only: it is the one way to *change* the
  state or close the room. It is ``secrets.token_urlsafe`` (192 bits), compared with
  ``hmac.compare_digest``, so guessing an audience link, or timing the comparison, gives no
  control.

Every bound is declared here once: how many rooms at once (:data:`MAX_ROOMS`), how long a
room lives without its presenter (:data:`IDLE_S`; the presenter's page pings well within
it), how large a state may be (:data:`MAX_STATE_BYTES`) and how many keys it may have. A
full registry refuses a new room rather than evicting a live one. The registry is
thread-safe; waiting for a change is the web layer's business (``ui/rooms.py``), which
watches :attr:`Room.version`.
"""
from __future__ import annotations

import hmac
import json
import math
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

MAX_ROOMS = 64  # rooms at once; a room costs a few KB, the cap bounds memory and waiters
IDLE_S = 15 * 60  # a room whose presenter has not published or pinged for this long ends
PING_S = 60  # how often a presenter's page pings while nothing changes (well within IDLE_S)
MAX_STATE_BYTES = 16 * 1024  # a drawn digit's 784 pixels as JSON numbers fit with room to spare
MAX_STATE_KEYS = 32
MAX_KEY_CHARS = 32  # the name of one state field
ID_BYTES = 6  # 8 characters: short enough to read out; it grants reading only
KEY_BYTES = 24  # 32 characters, 192 bits: the presenter's control


class RoomError(ValueError):
    """A refused request; ``status`` is the HTTP status the web layer answers with."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


@dataclass
class Room:
    """One room: its id, the presenter's key, the state as canonical JSON text, its version."""

    id: str
    key: str = field(repr=False)
    state: bytes = b"{}"
    version: int = 0
    touched: float = 0.0  # time.monotonic() of the presenter's last publish or ping

    def snapshot(self) -> bytes:
        """What a follower receives: ``{"version": n, "state": {...}}``, as JSON bytes."""
        return b'{"version":%d,"state":%s}' % (self.version, self.state)


def check_state(body: bytes) -> bytes:
    """The state a presenter sent, checked against the declared bounds and re-encoded
    compactly: a JSON object of at most :data:`MAX_STATE_KEYS` short string keys whose
    values are JSON (no NaN or infinity), at most :data:`MAX_STATE_BYTES` as sent."""
    if len(body) > MAX_STATE_BYTES:
        raise RoomError(f"a room's state is at most {MAX_STATE_BYTES} bytes, got {len(body)}", 413)
    try:
        value = json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as e:
        raise RoomError(f"a room's state must be JSON: {e}", 400) from None
    if not isinstance(value, dict):
        raise RoomError(f"a room's state must be a JSON object, got {type(value).__name__}", 400)
    if len(value) > MAX_STATE_KEYS:
        raise RoomError(f"a room's state has at most {MAX_STATE_KEYS} fields, got {len(value)}", 400)
    long = [k for k in value if len(k) > MAX_KEY_CHARS]
    if long:
        raise RoomError(f"a state field's name is at most {MAX_KEY_CHARS} characters, got {long[0][:40]!r}…", 400)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


class Rooms:
    """The registry: create, read, publish, close; idle rooms are dropped as they are met."""

    def __init__(self, max_rooms: int = MAX_ROOMS, idle_s: float = IDLE_S,
                 clock: Callable[[], float] = time.monotonic):
        self.max_rooms = max_rooms
        self.idle_s = idle_s
        self.clock = clock
        self._rooms: dict[str, Room] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._rooms)

    def _expire(self) -> None:
        now = self.clock()
        for rid in [r.id for r in self._rooms.values() if now - r.touched > self.idle_s]:
            del self._rooms[rid]

    def create(self) -> Room:
        """A new room with a fresh id and key; refused (503) when :attr:`max_rooms` are live."""
        with self._lock:
            self._expire()
            if len(self._rooms) >= self.max_rooms:
                raise RoomError(f"all {self.max_rooms} rooms are in use; try again later "
                                f"(an idle room ends after {self.idle_s / 60:g} minutes)", 503)
            rid = secrets.token_urlsafe(ID_BYTES)
            while rid in self._rooms:  # 48 bits: a clash is all but impossible, but cheap to rule out
                rid = secrets.token_urlsafe(ID_BYTES)
            room = Room(rid, secrets.token_urlsafe(KEY_BYTES), touched=self.clock())
            self._rooms[rid] = room
            return room

    def get(self, room_id: str) -> Room:
        """The live room with this id, or 404."""
        with self._lock:
            room = self._rooms.get(room_id)
            if room is None or self.clock() - room.touched > self.idle_s:
                self._rooms.pop(room_id, None)
                raise RoomError("no such room (it ended, or the link is wrong)", 404)
            return room

    def _owned(self, room_id: str, key: str | None) -> Room:
        room = self.get(room_id)
        if not key or not hmac.compare_digest(key.encode(), room.key.encode()):
            raise RoomError("only the presenter's link can drive this room", 403)
        return room

    def publish(self, room_id: str, key: str | None, body: bytes) -> tuple[Room, bool]:
        """Set the room's state (the presenter only); returns the room and whether the state
        changed. A state equal to the current one is a ping: it keeps the room alive without
        a new version, so followers need not be woken."""
        room = self._owned(room_id, key)
        state = check_state(body)
        with self._lock:
            changed = state != room.state
            if changed:
                room.state = state
                room.version += 1
            room.touched = self.clock()
        return room, changed

    def close(self, room_id: str, key: str | None) -> None:
        """End the room now (the presenter only)."""
        self._owned(room_id, key)
        with self._lock:
            self._rooms.pop(room_id, None)

    def alive(self, room: Room) -> bool:
        """Whether ``room`` is still in the registry (a waiting follower checks)."""
        with self._lock:
            return self._rooms.get(room.id) is room and self.clock() - room.touched <= self.idle_s


def wait_seconds(value: str | None, most: float) -> float:
    """A follower's ``wait`` parameter: seconds in [0, most]; absent means ``most``."""
    if value is None:
        return most
    try:
        w = float(value)
    except ValueError:
        raise RoomError(f"wait must be a number of seconds in [0, {most:g}], got {value[:20]!r}", 400) from None
    if not math.isfinite(w) or not 0 <= w <= most:
        raise RoomError(f"wait must be a number of seconds in [0, {most:g}], got {value[:20]!r}", 400)
    return w


def since_version(value: str | None) -> int:
    """A follower's ``since`` parameter: the version it has (absent: none yet, -1)."""
    if value is None:
        return -1
    if not (value.isascii() and value.isdigit()) or len(value) > 15:
        raise RoomError(f"since must be a version number, got {value[:20]!r}", 400)
    return int(value)
