"""Debian's firefox-esr, driven through its built-in WebDriver BiDi over a plain websocket.

Firefox serves WebDriver BiDi itself (``--remote-debugging-port``, the ``/session`` endpoint),
so no geckodriver is needed: Debian packages none, and Selenium's own path to Firefox goes
through geckodriver (Selenium Manager would download it). The client below speaks the few
commands the tests and benchmarks use (the W3C WebDriver BiDi spec's ``session.new``,
``browsingContext.navigate``, ``script.evaluate``, ``input.performActions``, and the
``network.beforeRequestSent`` event to count requests), through ``websocket-client``, the
library Selenium itself uses for its websockets.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import free_port

FIREFOX = os.environ.get("FIREFOX") or shutil.which("firefox-esr") or shutil.which("firefox")
# WebDriver's key codes (W3C WebDriver, "Keyboard actions")
KEYS = {"Home": "\ue011", "ArrowRight": "\ue014", "ArrowLeft": "\ue012"}
# a profile that keeps Firefox off the network it cannot reach here (the remote agent also
# applies its own recommended automation prefs: remote.prefs.recommended)
PREFS = {
    "app.update.disabledForTesting": True,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "toolkit.telemetry.server": "",
    "browser.safebrowsing.update.enabled": False,
    "extensions.update.enabled": False,
}


class BiDiError(RuntimeError):
    pass


class Firefox:
    """One headless firefox-esr with a fresh profile and one BiDi session on its first tab.

    ``requests`` collects the URL of every request the page sends (``network.beforeRequestSent``).
    Use as a context manager; :meth:`close` ends the session and the browser we started."""

    def __init__(self, timeout: float = 60):
        assert FIREFOX, "no firefox-esr (apt-get install firefox-esr)"
        self.profile = tempfile.TemporaryDirectory(prefix="dae-firefox-")
        Path(self.profile.name, "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFS.items()))
        port = free_port()
        self.proc = subprocess.Popen([FIREFOX, "--headless", "--no-remote", "--profile", self.profile.name,
                                      f"--remote-debugging-port={port}", "about:blank"],
                                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self._connect(port, timeout)
        except BaseException:
            self.close()  # never leave a browser behind
            raise

    def _connect(self, port: int, timeout: float) -> None:
        import websocket

        end = time.monotonic() + timeout
        while True:
            try:
                # no Origin header: Firefox refuses a websocket whose Origin is not its own
                self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/session", timeout=timeout,
                                                      suppress_origin=True)
                self.ws.settimeout(None)  # the reader waits for events as long as the session lasts
                break
            except (OSError, websocket.WebSocketException):
                if time.monotonic() > end or self.proc.poll() is not None:
                    raise RuntimeError("firefox-esr's WebDriver BiDi did not answer")
                time.sleep(0.2)
        self._id = 0
        self._replies: dict[int, dict] = {}
        self._cond = threading.Condition()
        self.requests: list[str] = []
        self._reader = threading.Thread(target=self._read, name="bidi-reader", daemon=True)
        self._reader.start()
        caps = self.command("session.new", {"capabilities": {}})["capabilities"]
        self.version = f"{caps.get('browserName')} {caps.get('browserVersion')}"
        self.context = self.command("browsingContext.getTree", {})["contexts"][0]["context"]
        self.command("session.subscribe", {"events": ["network.beforeRequestSent"]})

    def _read(self) -> None:
        while True:
            try:
                msg = json.loads(self.ws.recv())
            except Exception:  # noqa: BLE001  (the socket closed: the session is over)
                with self._cond:
                    self._cond.notify_all()
                return
            if msg.get("method") == "network.beforeRequestSent":
                self.requests.append(msg["params"]["request"]["url"])
            elif "id" in msg:
                with self._cond:
                    self._replies[msg["id"]] = msg
                    self._cond.notify_all()

    def command(self, method: str, params: dict, timeout: float = 120) -> dict:
        """Send one BiDi command and wait for its reply; raise BiDiError with Firefox's message."""
        with self._cond:
            self._id += 1
            n = self._id
        self.ws.send(json.dumps({"id": n, "method": method, "params": params}))
        end = time.monotonic() + timeout
        with self._cond:
            while n not in self._replies:
                left = end - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    raise BiDiError(f"{method}: no reply in {timeout} s")
                self._cond.wait(left)
            reply = self._replies.pop(n)
        if reply.get("type") == "error":
            raise BiDiError(f"{method}: {reply.get('error')}: {reply.get('message')}")
        return reply["result"]

    def get(self, url: str) -> None:
        self.command("browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"})

    def js(self, expression: str, timeout: float = 120):
        """Evaluate a JS expression in the page (promises awaited); return its value as JSON
        (the expression should produce a JSON-able value: it is passed through JSON.stringify)."""
        result = self.command("script.evaluate", {
            "expression": f"(async () => JSON.stringify(await ({expression})))()",
            "target": {"context": self.context}, "awaitPromise": True}, timeout)
        if result.get("type") == "exception":
            raise BiDiError(result["exceptionDetails"].get("text", "script error"))
        value = result["result"].get("value")
        return None if value is None else json.loads(value)

    def wait_for(self, expression: str, timeout: float = 60, every: float = 0.01):
        """Poll until the expression is truthy; return its value."""
        end = time.monotonic() + timeout
        while True:
            value = self.js(expression)
            if value:
                return value
            if time.monotonic() > end:
                raise TimeoutError(f"{expression!r} still false after {timeout} s")
            time.sleep(every)

    def press(self, key: str) -> None:
        """A real key press (keyDown, keyUp) on the focused element."""
        k = KEYS.get(key, key)
        self.command("input.performActions", {"context": self.context, "actions": [
            {"type": "key", "id": "keyboard", "actions": [{"type": "keyDown", "value": k}, {"type": "keyUp", "value": k}]}]})

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                try:
                    self.command("session.end", {}, timeout=5)
                except Exception:  # noqa: BLE001  (Firefox may be gone already)
                    pass
                self.ws.close()
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the browser we started and its children
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            self.profile.cleanup()

    def __enter__(self) -> "Firefox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
