"""Headless Chromium driven over the DevTools protocol (a websocket), for the GraphiQL test.

No driver in between: the test sends DevTools commands (navigate, evaluate, mouse and key
input) and reads the events it asked for (every network request the page makes).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.processes import terminate

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1400,900",
]
DEVTOOLS_URL = re.compile(r"DevTools listening on (ws://\S+)")


def find_chromium() -> str | None:
    """LLMREF_TEST_CHROMIUM, else the first Chromium on PATH."""
    configured = os.environ.get("LLMREF_TEST_CHROMIUM")
    if configured:
        return configured
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


class Page:
    """One page target: send commands, collect the events of the domains enabled."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.requests: list[str] = []
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.connection:
            message = json.loads(raw)
            if "id" in message and message["id"] in self._waiting:
                self._waiting.pop(message["id"]).set_result(message)
            elif message.get("method") == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        command_id = next(self._ids)
        answer = asyncio.get_running_loop().create_future()
        self._waiting[command_id] = answer
        await self.connection.send(
            json.dumps({"id": command_id, "method": method, "params": params})
        )
        message = await asyncio.wait_for(answer, timeout=30)
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        return message["result"]  # type: ignore[no-any-return]

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Until ``expression`` is truthy in the page: its value."""
        deadline = time.monotonic() + timeout
        while not (value := await self.evaluate(expression)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"never true in the page: {expression}")
            await asyncio.sleep(0.2)
        return value

    async def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element."""
        box = await self.wait_for(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; const r = e.getBoundingClientRect();"
            " return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box["x"],
                y=box["y"],
                button="left",
                clickCount=1,
            )

    async def key(self, key: str, code: str, key_code: int, modifiers: int = 0) -> None:
        for kind in ("keyDown", "keyUp"):
            await self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=code,
                windowsVirtualKeyCode=key_code,
                modifiers=modifiers,
            )

    async def type_text(self, text: str) -> None:
        await self.send("Input.insertText", text=text)

    async def close(self) -> None:
        await self.connection.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


@asynccontextmanager
async def chromium_page(binary: str, profile: Path) -> AsyncIterator[Page]:
    """A headless Chromium with a new empty profile, and its first page with the network
    domain enabled (``page.requests`` lists every URL the page asks for)."""
    process = subprocess.Popen(  # noqa: ASYNC220 - starts at once; its output is read off the loop
        [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        browser_url = None
        deadline = time.monotonic() + 30
        while browser_url is None and time.monotonic() < deadline:
            line = await asyncio.to_thread(process.stderr.readline)
            if not line and process.poll() is not None:
                break
            if match := DEVTOOLS_URL.search(line):
                browser_url = match.group(1)
        if browser_url is None:
            raise RuntimeError(f"Chromium did not start (exit {process.poll()})")
        port = browser_url.split(":")[2].split("/")[0]
        # One local call before the page exists; nothing else runs on this loop yet.
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()  # noqa: ASYNC210
        page_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        page = Page(await connect(page_url, max_size=None))
        try:
            await page.send("Network.enable")
            await page.send("Page.enable")
            yield page
        finally:
            await page.close()
    finally:
        terminate(process)
