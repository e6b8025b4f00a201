"""`attractor-tui serve`: the app in a browser tab through textual-serve.

The real command runs in a subprocess on a free port (port 0); the test reads
the address it prints, loads the page and drives the websocket the page would
open, until the app (a scripted session) has drawn its panes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from attractor_tui.cli import serve
from attractor_tui.cli.parser import main

SERVING = re.compile(r"serving `(?P<cmd>[^`]*)` on (?P<url>http://\S+)")


async def _read_url(proc: asyncio.subprocess.Process) -> str:
    assert proc.stderr is not None
    lines: list[str] = []
    while True:
        raw = await asyncio.wait_for(proc.stderr.readline(), 30)
        if not raw:
            raise AssertionError("serve exited early:\n" + "".join(lines))
        line = raw.decode()
        lines.append(line)
        found = SERVING.search(line)
        if found:
            assert found["cmd"] == "attractor-tui run --model scripted/goodbye --turns 1"
            return found["url"]


async def test_serve_on_port_0_serves_the_page_and_the_app(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "attractor_tui", "serve", "--port", "0",
        "run", "--model", "scripted/goodbye", "--turns", "1",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        url = await _read_url(proc)
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        port = int(url.rsplit(":", 1)[1])
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/") as response:
                assert response.status == 200
                page = await response.text()
            assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page
            assert "attractor-tui" in page
            received = b""
            async with http.ws_connect(f"ws://127.0.0.1:{port}/ws?width=120&height=40") as ws:
                await ws.send_json(["resize", {"width": 120, "height": 40}])
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 60
                while b"scripted/goodbye" not in received:
                    assert loop.time() < deadline, f"no app output: {received[-400:]!r}"
                    message = await ws.receive(timeout=60)
                    if message.type == aiohttp.WSMsgType.BINARY:
                        received += message.data
                    elif message.type == aiohttp.WSMsgType.TEXT:
                        received += message.data.encode()
                    elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                        raise AssertionError(f"websocket closed: {received[-400:]!r}")
                await ws.send_json(["ping", "hello"])
                while True:  # the server answers pings itself, whatever the app draws
                    message = await ws.receive(timeout=30)
                    if message.type == aiohttp.WSMsgType.TEXT and "pong" in message.data:
                        break
                # the session in the browser tab writes its file in the server's folder
                for _ in range(400):
                    if list((tmp_path / "sessions").glob("*.jsonl")):
                        break
                    with contextlib.suppress(asyncio.TimeoutError):
                        await ws.receive(timeout=0.05)
                assert list((tmp_path / "sessions").glob("*.jsonl"))
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 20)
    assert proc.returncode == 0


def test_binds_loopback_by_default_and_warns_otherwise(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: list[tuple[str, str, int]] = []

    class Stub:
        def serve(self) -> None:
            served.append(("served", "", 0))

    def fake_server(command: str, host: str, port: int, url: str, sock: Any) -> Stub:
        served.append((command, host, sock.getsockname()[1]))
        sock.close()
        return Stub()

    real_bind = serve.bind
    monkeypatch.setattr(serve, "_make_server", fake_server)
    # the wildcard is checked for its warning; the socket itself stays on loopback
    monkeypatch.setattr(serve, "bind", lambda host, port: real_bind("127.0.0.1", port))
    assert main(["serve", "--port", "0"]) == 0
    err = capsys.readouterr().err
    assert "warning" not in err and "on http://127.0.0.1:" in err
    assert served[0][0].endswith("-m attractor_tui") and served[0][1] == "127.0.0.1"
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "sessions"]) == 0
    err = capsys.readouterr().err
    assert "warning: listening on 0.0.0.0:" in err
    assert "anyone who reaches this port drives the app with your API keys" in err
    assert served[2][0].endswith("-m attractor_tui sessions")


def test_refuses_bad_app_args_and_a_taken_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", "run", "--turns", "many"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        "attractor-tui: the APP ARGS are not valid: run --turns many")
    assert main(["serve", "--port", "0", "run", "--headless"]) == 2
    assert "--headless prints to a terminal" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"attractor-tui: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in err
    assert main(["serve", "--port", "70000"]) == 2
    assert "is not a port" in capsys.readouterr().err


def test_serve_is_in_the_help() -> None:
    out = subprocess.run([sys.executable, "-m", "attractor_tui", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "serve" in out and "browser" in out
