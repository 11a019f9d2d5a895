"""Rooms: keys, expiry, the cap and the bounds (dae.rooms), the HTTP routes (ui.rooms), and
a presenter with two followers in Chromium."""
from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from dae import rooms
from dae.rooms import RoomError, Rooms


class Clock:
    """A hand-moved clock, so expiry is tested without waiting."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def refused(status: int, fn, *args):
    with pytest.raises(RoomError) as e:
        fn(*args)
    assert e.value.status == status, str(e.value)
    return str(e.value)


# --- the registry ---------------------------------------------------------------------------


def test_ids_and_keys_are_fresh_and_unguessable():
    reg = Rooms(max_rooms=50)
    made = [reg.create() for _ in range(50)]
    assert len({r.id for r in made}) == 50 and len({r.key for r in made}) == 50
    assert all(len(r.key) >= 32 and r.key not in r.id and r.id not in r.key for r in made)
    assert made[0].key not in repr(made[0])  # never in a log line


def test_only_the_key_drives_a_room():
    reg = Rooms()
    room, other = reg.create(), reg.create()
    for key in (None, "", room.id, other.key, room.key[:-1], room.key + "x"):
        assert "presenter" in refused(403, reg.publish, room.id, key, b'{"level": 0.7}')
        refused(403, reg.close, room.id, key)
    assert reg.get(room.id).version == 0
    got, changed = reg.publish(room.id, room.key, b'{"level": 0.7}')
    assert changed and got.version == 1 and json.loads(got.snapshot()) == {"version": 1, "state": {"level": 0.7}}
    reg.close(room.id, room.key)
    refused(404, reg.get, room.id)
    refused(404, reg.publish, room.id, room.key, b"{}")


def test_an_unchanged_state_is_a_ping():
    clock = Clock()
    reg = Rooms(idle_s=60, clock=clock)
    room = reg.create()
    reg.publish(room.id, room.key, b'{"level": 0.5, "tab": "digits"}')
    clock.t += 50
    _, changed = reg.publish(room.id, room.key, b'{"level":0.5,  "tab":"digits"}')  # same JSON, spaced
    assert changed is False and reg.get(room.id).version == 1
    clock.t += 50  # 100 s after the first publish, 50 after the ping: alive
    assert reg.get(room.id).version == 1
    clock.t += 11
    refused(404, reg.get, room.id)


def test_idle_rooms_expire():
    clock = Clock()
    reg = Rooms(idle_s=60, clock=clock)
    room = reg.create()
    clock.t += 59
    reg.get(room.id)
    assert reg.alive(room)
    clock.t += 2
    assert not reg.alive(room)
    refused(404, reg.get, room.id)
    assert len(reg) == 0


def test_the_number_of_rooms_is_capped_and_expiry_frees_places():
    clock = Clock()
    reg = Rooms(max_rooms=3, idle_s=60, clock=clock)
    made = [reg.create() for _ in range(3)]
    assert "3 rooms" in refused(503, reg.create)
    reg.close(made[0].id, made[0].key)
    reg.create()
    refused(503, reg.create)
    clock.t += 30
    reg.publish(made[1].id, made[1].key, b"{}")  # keeps this one alive
    clock.t += 31
    reg.create()
    reg.create()
    assert len(reg) == 3 and reg.get(made[1].id)
    refused(503, reg.create)


def test_declared_bounds():
    assert rooms.MAX_ROOMS >= 1 and rooms.PING_S * 5 <= rooms.IDLE_S
    # a drawn digit's 784 pixels as JSON numbers fit the declared state size
    drawn = json.dumps({"digit": [round(0.123456 + i / 1e4, 6) for i in range(784)], "level": 0.5}).encode()
    assert len(drawn) < rooms.MAX_STATE_BYTES
    assert rooms.check_state(drawn)
    too_big = json.dumps({"digit": "x" * rooms.MAX_STATE_BYTES}).encode()
    assert "bytes" in refused(413, rooms.check_state, too_big)
    for body in (b"[1, 2]", b'"level"', b"{", b'{"level": NaN}', b'{"level": Infinity}', b"\xff\xfe",
                 json.dumps({f"k{i}": i for i in range(rooms.MAX_STATE_KEYS + 1)}).encode(),
                 json.dumps({"k" * (rooms.MAX_KEY_CHARS + 1): 1}).encode()):
        refused(400, rooms.check_state, body)
    assert rooms.wait_seconds(None, 25) == 25 and rooms.wait_seconds("0", 25) == 0
    for w in ("-1", "26", "nan", "inf", "x"):
        refused(400, rooms.wait_seconds, w, 25)
    assert rooms.since_version(None) == -1 and rooms.since_version("12") == 12
    for s in ("-1", "1.5", "x", "9" * 16, "١"):
        refused(400, rooms.since_version, s)


# --- the routes, in one event loop (httpx over ASGI: no server, no Gradio) -----------------


@pytest.fixture()
def api(monkeypatch):
    """The room routes in a bare Starlette app, with a fresh registry of two rooms."""
    from starlette.applications import Starlette

    from ui import rooms as web

    monkeypatch.setattr(web, "REGISTRY", Rooms(max_rooms=2))
    monkeypatch.setattr(web, "WAITING", web.Waiting())
    return web, Starlette(routes=web.routes())


def run(app, scenario):
    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            return await scenario(c)
    return asyncio.run(go())


def test_routes_create_follow_publish_refuse(api):
    web, app = api

    async def scenario(c):
        made = (await c.post(web.API)).json()
        url, key = f"{web.API}/{made['id']}", {web.KEY_HEADER: made["key"]}
        assert (await c.get(url)).json() == {"version": 0, "state": {}}
        r = await c.put(url, content=b'{"level": 0.8, "tab": "digits"}', headers=key)
        assert r.status_code == 200 and r.json()["version"] == 1
        got = await c.get(url, params={"since": "0"})
        assert got.json() == {"version": 1, "state": {"level": 0.8, "tab": "digits"}}
        assert got.headers["cache-control"] == "no-store"
        # the audience's link, guessed keys, no key: no control
        for headers in ({}, {web.KEY_HEADER: made["id"]}, {web.KEY_HEADER: made["key"][:-1] + "A"}):
            r = await c.put(url, content=b'{"level": 1.4}', headers=headers)
            assert r.status_code == 403 and "presenter" in r.json()["error"]
            assert (await c.delete(url, headers=headers)).status_code == 403
        assert (await c.get(url)).json()["state"]["level"] == 0.8
        big = b'{"a": "' + b"x" * web.domain.MAX_STATE_BYTES + b'"}'
        assert (await c.put(url, content=big, headers=key)).status_code == 413
        assert (await c.put(url, content=b"[1]", headers=key)).status_code == 400
        assert (await c.get(url, params={"since": "x"})).status_code == 400
        assert (await c.get(url, params={"wait": "1e9"})).status_code == 400
        assert (await c.get(f"{web.API}/nosuchroom")).status_code == 404
        await c.post(web.API)
        full = await c.post(web.API)
        assert full.status_code == 503 and "rooms" in full.json()["error"]
        assert (await c.delete(url, headers=key)).status_code == 200
        assert (await c.get(url)).status_code == 404
    run(app, scenario)


def test_a_long_poll_wakes_on_the_presenters_change_only(api):
    web, app = api

    async def scenario(c):
        made = (await c.post(web.API)).json()
        url, key = f"{web.API}/{made['id']}", {web.KEY_HEADER: made["key"]}
        await c.put(url, content=b'{"level": 0.1}', headers=key)
        t0 = time.perf_counter()
        waiting = [asyncio.create_task(c.get(url, params={"since": "1", "wait": "5"})) for _ in range(3)]
        await asyncio.sleep(0.3)
        assert web.WAITING.waiting(made["id"]) == 3 and not any(t.done() for t in waiting)
        assert (await c.put(url, content=b'{"level": 0.1}', headers=key)).json()["version"] == 1  # a ping
        await asyncio.sleep(0.2)
        assert not any(t.done() for t in waiting)
        r = await c.put(url, content=b'{"level": 0.2}', headers=key)
        assert r.json() == {"version": 2, "waiting": 3}
        answers = await asyncio.gather(*waiting)
        assert time.perf_counter() - t0 < 2
        assert all(a.json() == {"version": 2, "state": {"level": 0.2}} for a in answers)
        assert web.WAITING.count == 0
        t0 = time.perf_counter()  # no change: the poll answers after its wait, same version
        assert (await c.get(url, params={"since": "2", "wait": "0.3"})).json()["version"] == 2
        assert 0.25 < time.perf_counter() - t0 < 2
    run(app, scenario)


def test_too_many_waiters_back_off(api, monkeypatch):
    web, app = api
    monkeypatch.setattr(web, "MAX_WAITERS", 2)

    async def scenario(c):
        made = (await c.post(web.API)).json()
        url = f"{web.API}/{made['id']}"
        held = [asyncio.create_task(c.get(url, params={"since": "0", "wait": "1"})) for _ in range(2)]
        await asyncio.sleep(0.2)
        assert (await c.get(url, params={"since": "0"})).status_code == 429
        await asyncio.gather(*held)
    run(app, scenario)


# --- a presenter and two followers in Chromium ------------------------------------------------

LEVEL = "() => window.daeState.get().level"


def _open(browser, url):
    """A page at 1280×720 with its state applied (test_state_browser's) and its room panel."""
    from tests.test_state_browser import _open as open_with_state

    page = open_with_state(browser, url)
    page.wait_for_function("() => window.daeRoom", timeout=60_000)
    return page


def _step(page, key: str, times: int = 1) -> float:
    """The visitor's own σ step(s) with the keyboard; returns the page's new level."""
    before = page.evaluate(LEVEL)
    page.locator("#sigma input[type=range]").focus()
    for _ in range(times):
        page.keyboard.press(key)
    page.wait_for_function(f"() => window.daeState.get().level !== {before}", timeout=15_000)
    page.wait_for_timeout(300)  # the last of the steps lands
    return page.evaluate(LEVEL)


def _reaches(page, level: float, timeout: float = 15_000) -> None:
    page.wait_for_function(f"() => Math.abs(window.daeState.get().level - {level}) < 1e-9", timeout=timeout)


@pytest.fixture(scope="module")
def room_pages(browser, app_url):
    presenter = _open(browser, app_url)
    presenter.locator("#dae-room-start").click()
    presenter.wait_for_function("() => window.daeRoom.status.role === 'presenter' && window.daeRoom.status.version >= 1",
                                timeout=15_000)
    audience = presenter.locator("#dae-room-audience").input_value()
    followers = [_open(browser, audience) for _ in range(2)]
    for f in followers:
        f.wait_for_function("() => window.daeRoom.status.applied >= 1", timeout=30_000)
    yield presenter, followers, audience
    for p in (presenter, *followers):
        p.close()


def test_the_links_hold_the_key_only_for_the_presenter(room_pages):
    presenter, followers, audience = room_pages
    rid = presenter.evaluate("() => window.daeRoom.status.id")
    drive = presenter.locator("#dae-room-presenter").input_value()
    assert audience.endswith(f"?room={rid}") and "key" not in audience
    assert drive.startswith(audience + "#key=") and len(drive.split("#key=")[1]) >= 32
    assert presenter.evaluate("() => location.hash").startswith("#key=")
    for f in followers:
        assert f.evaluate("() => [window.daeRoom.status.role, window.daeRoom.status.key, location.hash]") == \
            ["follower", "", ""]
        assert f.locator("#dae-room-status").inner_text().startswith("Following the presenter")


def test_a_sigma_change_reaches_both_followers_and_one_stepped_out_waits(room_pages):
    presenter, (f1, f2), _ = room_pages
    level = _step(presenter, "ArrowRight", 3)
    assert level != 0.5
    for f in (f1, f2):
        _reaches(f, level)
        f.wait_for_function(f"() => document.querySelector('#sigma input[type=number]').value === '{level}'", timeout=15_000)
    # f2 explores alone: its own change steps it out, and the page says so
    own = _step(f2, "ArrowLeft", 2)
    f2.locator("#dae-room-rejoin").wait_for(timeout=5_000)
    assert f2.evaluate("() => window.daeRoom.status.following") is False
    assert presenter.evaluate(LEVEL) == level  # a follower's change does not reach the presenter
    level = _step(presenter, "ArrowRight", 2)
    _reaches(f1, level)
    f2.wait_for_timeout(1500)
    assert f2.evaluate(LEVEL) == own
    # one click rejoins: the presenter's latest state, then every change after it
    f2.locator("#dae-room-rejoin").click()
    _reaches(f2, level)
    assert f2.evaluate("() => window.daeRoom.status.following") is True
    level = _step(presenter, "ArrowLeft")
    _reaches(f1, level)
    _reaches(f2, level)
    # the tab follows too
    presenter.get_by_role("tab", name="Robustness").click()
    for f in (f1, f2):
        f.wait_for_function("() => window.daeState.get().tab === 'robustness'", timeout=15_000)
        assert f.evaluate("() => document.querySelector('[role=tab][aria-selected=true]').textContent.trim()") == "Robustness"
    presenter.get_by_role("tab", name="Digits").click()
    f1.wait_for_function("() => window.daeState.get().tab === 'digits'", timeout=15_000)


def test_a_follower_cannot_drive_the_room(room_pages):
    presenter, (f1, f2), _ = room_pages
    before = presenter.evaluate(LEVEL)
    answers = f1.evaluate("""async () => {
        const id = window.daeRoom.status.id, url = `${window.daeRoomConfig.api}/${id}`;
        const h = window.daeRoomConfig.keyHeader, body = JSON.stringify({...window.daeState.get(), level: 1.2});
        const out = [];
        for (const headers of [{}, {[h]: id}, {[h]: 'A'.repeat(32)}, {[h]: ''}]) {
            out.push((await fetch(url, {method: 'PUT', body, headers})).status);
            out.push((await fetch(url, {method: 'DELETE', headers})).status);
        }
        out.push((await fetch(url + '?key=' + id, {method: 'PUT', body})).status);
        return out;
    }""")
    assert answers == [403] * 9
    f2.wait_for_timeout(1000)
    for p in (presenter, f1, f2):
        assert p.evaluate(LEVEL) == before
    # the room still works for its presenter
    level = _step(presenter, "ArrowRight")
    _reaches(f1, level)
    _reaches(f2, level)


def test_the_routes_answer_through_the_ssr_proxy():
    """Under SSR a Node proxy sits in front and passes only some prefixes to Python; the
    rooms' routes live under /gradio_api so that they pass. Skipped without Node 24."""
    import gradio as gr

    from benchmarks.common import free_port
    from tests.test_cache import use_node24
    from ui import rooms as web

    use_node24()
    with gr.Blocks() as demo:
        gr.Markdown("rooms under SSR")
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                ssr_mode=True, app_kwargs={"routes": web.routes()})
    try:
        assert demo.ssr_mode
        base = demo.local_url.rstrip("/") + web.API
        made = httpx.post(base, timeout=30).json()
        url = f"{base}/{made['id']}"
        assert httpx.put(url, content=b'{"level": 0.9}', timeout=30).status_code == 403
        assert httpx.put(url, content=b'{"level": 0.9}', headers={web.KEY_HEADER: made["key"]}, timeout=30).json()["version"] == 1
        assert httpx.get(url, params={"since": "0"}, timeout=30).json() == {"version": 1, "state": {"level": 0.9}}
    finally:
        demo.close()
