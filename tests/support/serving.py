"""A real `attractor-tui serve --port 0` in a subprocess, for tests that speak HTTP to it.

`serving` starts it, reads the address it prints (token included), keeps
draining its stdout and stderr (so every line it logs can be checked for the
token) and stops it with SIGTERM. `app_children` lists the app processes it
started, from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp

SERVING = re.compile(r"serving `(?P<cmd>[^`]*)` on (?P<url>http://\S+)")
APP = ("run", "--model", "scripted/goodbye", "--turns", "1")


@dataclass
class Served:
    proc: asyncio.subprocess.Process
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    url: str = ""

    @property
    def base(self) -> str:
        """`http://127.0.0.1:PORT`, no path, no token."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def port(self) -> int:
        port = urlsplit(self.url).port
        assert port is not None
        return port

    @property
    def token(self) -> str:
        return parse_qs(urlsplit(self.url).query)["token"][0]

    def logged(self) -> str:
        return "".join(self.out + self.err)

    async def wait_for(self, pattern: re.Pattern[str], timeout: float = 60) -> re.Match[str]:
        """The first stderr line matching `pattern`, once serve has printed it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for line in self.err:
                if found := pattern.search(line):
                    return found
            if self.proc.returncode is not None:
                raise AssertionError("serve exited early:\n" + self.logged())
            assert loop.time() < deadline, "serve did not print it:\n" + self.logged()
            await asyncio.sleep(0.05)


async def _drain(stream: asyncio.StreamReader | None, into: list[str]) -> None:
    assert stream is not None
    while raw := await stream.readline():
        into.append(raw.decode("utf-8", "replace"))


@contextlib.asynccontextmanager
async def serving(cwd: Path, *serve_args: str, app: tuple[str, ...] = APP,
                  env: dict[str, str] | None = None) -> AsyncIterator[Served]:
    """`attractor-tui serve --port 0 SERVE_ARGS APP` running in `cwd` until the block ends."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "attractor_tui", "serve", "--port", "0", *serve_args, *app,
        cwd=cwd, env=environment, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    served = Served(proc)
    readers = [asyncio.create_task(_drain(proc.stdout, served.out)),
               asyncio.create_task(_drain(proc.stderr, served.err))]
    try:
        served.url = (await served.wait_for(SERVING))["url"]
        yield served
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)  # apps still starting get 10 s to quit
        await asyncio.wait_for(asyncio.gather(*readers), 10)


def app_children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc): the apps serve has started."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            children.append(int(entry.name))
    return children


def client() -> aiohttp.ClientSession:
    """A client that keeps cookies set by 127.0.0.1 (aiohttp's default jar drops IP hosts')."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def read_until(ws: aiohttp.ClientWebSocketResponse, needle: bytes,
                     timeout: float = 60) -> bytes:
    """What the app draws on the WebSocket, until `needle` appears."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    received = b""
    while needle not in received:
        assert loop.time() < deadline, f"no {needle!r} from the app: {received[-400:]!r}"
        message = await ws.receive(timeout=timeout)
        if message.type == aiohttp.WSMsgType.BINARY:
            received += message.data
        elif message.type == aiohttp.WSMsgType.TEXT:
            received += message.data.encode()
        elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                              aiohttp.WSMsgType.CLOSED):
            raise AssertionError(f"websocket closed: {received[-400:]!r}")
    return received
