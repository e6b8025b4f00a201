"""`attractor-tui serve`: the app in a browser tab through textual-serve, behind a token.

The real command runs in a subprocess on a free port (port 0); the tests read
the address it prints (token included), load the page and drive the websocket
the page would open, until the app (a scripted session) has drawn its panes;
and show that without the token, or from another page's origin, nothing
answers and no app process starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import grimp
import pytest
from yarl import URL

from attractor_tui.cli import serve
from attractor_tui.cli.parser import main
from attractor_tui.cli.serve_guard import TOKEN_ENV, Access, same_secret
from attractor_tui.cli.serve_server import Limits, SessionSlots
from tests.support.serving import app_children, client, read_until, serving

SESSION_FILES = "sessions/*.jsonl"


async def test_right_token_serves_the_page_and_the_cookie_opens_its_websocket(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path) as served:
        assert served.url.startswith("http://127.0.0.1:") and ":0/" not in served.url
        assert len(served.token) >= 22  # secrets.token_urlsafe(24): 192 bits
        async with client() as http:
            async with http.get(served.url) as response:  # the printed URL, as a browser
                assert response.status == 200
                page = await response.text()
                cookie = response.headers["Set-Cookie"]
            assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"' in page
            assert "attractor-tui" in page
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
            assert f"attractor-tui-token-{served.port}={served.token}" in cookie
            # the page's own assets and WebSocket carry the cookie, not the token
            async with http.get(served.base + "/static/js/textual.js") as response:
                assert response.status == 200
            ws_url = f"ws://127.0.0.1:{served.port}/ws?width=120&height=40"
            async with http.ws_connect(ws_url, origin=served.base) as ws:
                await ws.send_json(["resize", {"width": 120, "height": 40}])
                await read_until(ws, b"scripted/goodbye")
                await ws.send_json(["ping", "hello"])
                while True:  # the server answers pings itself, whatever the app draws
                    message = await ws.receive(timeout=30)
                    if message.type == aiohttp.WSMsgType.TEXT and "pong" in message.data:
                        break
                # the session in the browser tab writes its file in the server's folder
                for _ in range(400):
                    if list(tmp_path.glob(SESSION_FILES)):
                        break
                    with contextlib.suppress(asyncio.TimeoutError):
                        await ws.receive(timeout=0.05)
                assert list(tmp_path.glob(SESSION_FILES))
        token = served.token
    assert served.proc.returncode == 0
    # the token is printed once, and is in no log line and no file the app wrote
    assert served.logged().count(token) == 1, served.logged()
    assert "GET /static/js/textual.js 200" in served.logged()  # requests are still logged
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


async def test_no_token_or_a_wrong_one_is_refused_and_starts_no_app(tmp_path: Path) -> None:
    async with serving(tmp_path) as served:
        wrong = served.token[:-1] + ("x" if served.token[-1] != "x" else "y")
        ws_url = f"ws://127.0.0.1:{served.port}/ws"
        async with client() as http:
            for path in ("/", "/static/js/textual.js", f"/?token={wrong}", "/?token="):
                async with http.get(served.base + path) as response:
                    assert response.status == 403, path
                    assert "needs the token that `attractor-tui serve` printed" in (
                        await response.text())
                    assert "Set-Cookie" not in response.headers
            for url in (ws_url, f"{ws_url}?token={wrong}"):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(url, origin=served.base)
                assert refused.value.status == 403
        async with client() as http:  # a forged cookie is no better
            http.cookie_jar.update_cookies({f"attractor-tui-token-{served.port}": wrong},
                                           response_url=URL(served.base))
            async with http.get(served.base + "/") as response:
                assert response.status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(ws_url, origin=served.base)
            assert refused.value.status == 403
            await asyncio.sleep(1)
            assert app_children(served.proc.pid) == []


async def test_a_tab_that_leaves_mid_download_does_not_stop_serve(tmp_path: Path) -> None:
    """`main` lets SIGPIPE kill the process (for `export | head`); serve must not die of it."""
    async with serving(tmp_path) as served:
        request = (f"GET /static/js/textual.js?token={served.token} HTTP/1.1\r\n"
                   f"Host: 127.0.0.1:{served.port}\r\n\r\n").encode()
        for _ in range(5):
            reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
            writer.write(request)
            assert (await reader.read(100)).startswith(b"HTTP/1.1 200")
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.close()  # a reset, with most of the 500 kB still to send
            await asyncio.sleep(0.2)
        async with client() as http, http.get(served.url) as response:
            assert response.status == 200
        assert served.proc.returncode is None, served.logged()


async def test_a_foreign_origin_is_refused_even_with_the_token(tmp_path: Path) -> None:
    async with serving(tmp_path) as served:
        ws_url = f"ws://127.0.0.1:{served.port}/ws?token={served.token}"
        async with client() as http:
            for origin in ("http://evil.example", f"http://evil.example:{served.port}",
                           f"http://127.0.0.1:{served.port + 1}", "null"):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(ws_url, origin=origin)
                assert refused.value.status == 403, origin
            # a DNS-rebound page names its own host: refused before any token counts
            async with http.get(served.url, headers={"Host": f"evil.example:{served.port}"}
                                ) as response:
                assert response.status == 403
            # through `ssh -L 9000:127.0.0.1:PORT` the page's WebSocket goes to port 9000
            async with http.get(served.url, headers={"Host": "localhost:9000"}) as response:
                assert response.status == 200
                assert 'data-session-websocket-url="ws://localhost:9000/ws"' in (
                    await response.text())
            await asyncio.sleep(1)
            assert app_children(served.proc.pid) == []
            # the same request from the page's origin, or from no browser at all, is let in
            for origin in (f"http://localhost:{served.port}", None):
                async with http.ws_connect(ws_url, origin=origin) as ws:
                    await ws.send_json(["ping", "in"])
                    await read_until(ws, b"pong")
    assert "refused a WebSocket from Origin http://evil.example" in served.logged()


async def _keep_busy(ws: aiohttp.ClientWebSocketResponse, sent: list[float]) -> None:
    """A tab someone is using: a focus message every half second (`sent`: when the last went)."""
    while True:
        await ws.send_json(["focus"])
        sent[:] = [asyncio.get_running_loop().time()]
        await asyncio.sleep(0.5)


async def test_max_sessions_refuses_a_second_tab_in_the_page_and_idle_tabs_end(
    tmp_path: Path,
) -> None:
    # --idle-timeout 0.05: three seconds without a message from the tab
    async with serving(tmp_path, "--max-sessions", "1", "--idle-timeout", "0.05") as served:
        ws_url = f"ws://127.0.0.1:{served.port}/ws?token={served.token}"
        async with client() as http:
            async with http.ws_connect(ws_url) as first:
                sent: list[float] = []
                busy = asyncio.create_task(_keep_busy(first, sent))
                await first.send_json(["resize", {"width": 100, "height": 30}])
                await read_until(first, b"scripted/goodbye")
                assert len(app_children(served.proc.pid)) == 1
                async with http.get(served.url) as response:  # a second tab's page
                    assert response.status == 503
                    text = await response.text()
                assert "1 app is already running in other tabs (serve --max-sessions 1)" in text
                async with http.ws_connect(ws_url) as second:
                    said = await read_until(second, b"--max-sessions")
                    assert b"already running in other tabs" in said
                    closing = await second.receive(timeout=10)
                    assert closing.type == aiohttp.WSMsgType.CLOSE
                    assert closing.data == aiohttp.WSCloseCode.TRY_AGAIN_LATER
                assert len(app_children(served.proc.pid)) == 1
                # the first tab now says nothing: its app is ended after the timeout
                busy.cancel()
                loop = asyncio.get_running_loop()
                silent_since = sent[-1]  # the tab's last message, up to 0.5 s before the cancel
                while (await first.receive(timeout=30)).type not in (
                        aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    assert loop.time() < silent_since + 30
                assert loop.time() - silent_since >= 2.5  # not before the timeout
            for _ in range(200):
                if not app_children(served.proc.pid):
                    break
                await asyncio.sleep(0.1)
            assert app_children(served.proc.pid) == []
            async with http.get(served.url) as response:  # its slot is free again
                assert response.status == 200
    assert "a tab was idle for 0.05 minutes: its app was ended" in served.logged()
    assert "refused a tab: 1 app is already running" in served.logged()


async def test_app_starts_are_at_least_a_second_apart() -> None:
    slots = SessionSlots(limit=3, interval=Limits().start_interval)
    loop = asyncio.get_running_loop()
    started: list[float] = []

    async def launch() -> None:
        started.append(loop.time())

    results = await asyncio.gather(*(slots.start(launch) for _ in range(4)))
    assert results.count(True) == 3 and results.count(False) == 1  # the fourth: full
    assert len(started) == 3 and slots.running == 3
    gaps = [later - earlier for earlier, later in zip(started, started[1:], strict=False)]
    assert all(gap >= 1.0 for gap in gaps), gaps
    slots.end()
    assert await slots.start(launch) and started[-1] - started[-2] >= 1.0


def test_origin_and_host_rules() -> None:
    access = Access(token="t" * 20, bind_host="127.0.0.1", shown_host="127.0.0.1", port=8000)
    here = "127.0.0.1:8000"
    for origin in ("http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000",
                   "HTTP://LOCALHOST:8000", None):
        assert access.origin_ok(origin, here), origin
    for origin in ("http://evil.example", "http://127.0.0.1:8001", "https://127.0.0.1:8000",
                   "null", ""):
        assert not access.origin_ok(origin, here), origin
    # `ssh -L 9000:127.0.0.1:8000`: the page and its WebSocket come to 127.0.0.1:9000
    assert access.origin_ok("http://127.0.0.1:9000", "127.0.0.1:9000")
    assert not access.origin_ok("http://127.0.0.1:3000", "127.0.0.1:9000")
    # DNS rebinding: the Host names the attacker's domain
    assert not access.host_ok("evil.example:8000")
    assert not access.origin_ok("http://evil.example:8000", "evil.example:8000")
    assert access.host_ok("localhost:9000") and access.host_ok("[::1]:8000")
    # --no-token: a browser's Origin is still checked, and no Origin is not enough
    open_access = Access(token=None, bind_host="127.0.0.1", shown_host="127.0.0.1", port=8000)
    assert not open_access.origin_ok(None, here)
    assert open_access.origin_ok("http://127.0.0.1:8000", here)
    # a wildcard bind: the browser reaches it by the machine's real name
    anywhere = Access(token="t" * 20, bind_host="0.0.0.0", shown_host="127.0.0.1", port=8000)
    assert anywhere.host_ok("lab.example:8000")
    assert anywhere.origin_ok("http://lab.example:8000", "lab.example:8000")
    assert not anywhere.origin_ok("http://evil.example", "lab.example:8000")
    assert same_secret("t" * 20, "t" * 20) and not same_secret("t" * 19 + "u", "t" * 20)
    assert not same_secret("é" * 20, "t" * 20)


def test_binds_loopback_by_default_and_warns_otherwise(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: list[tuple[str, str, int]] = []

    class Stub:
        def serve(self) -> None:
            served.append(("served", "", 0))

    def fake_server(command: str, access: Access, limits: Any, sock: Any, base: str) -> Stub:
        served.append((command, access.bind_host, sock.getsockname()[1]))
        sock.close()
        return Stub()

    real_bind = serve.bind
    monkeypatch.setattr(serve, "_make_server", fake_server)
    # the wildcard is checked for its warning; the socket itself stays on loopback
    monkeypatch.setattr(serve, "bind", lambda host, port: real_bind("127.0.0.1", port))
    assert main(["serve", "--port", "0"]) == 0
    err = capsys.readouterr().err
    assert "warning" not in err and "on http://127.0.0.1:" in err and "/?token=" in err
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


def _stub_server(monkeypatch: pytest.MonkeyPatch) -> list[Access]:
    """`serve` up to the server it would run; the Access it would guard with."""
    seen: list[Access] = []

    class Stub:
        def serve(self) -> None:
            pass

    def fake_server(command: str, access: Access, limits: Any, sock: Any, base: str) -> Stub:
        seen.append(access)
        sock.close()
        return Stub()

    monkeypatch.setattr(serve, "_make_server", fake_server)
    return seen


def test_token_from_the_option_or_the_environment_never_reaches_the_apps(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = _stub_server(monkeypatch)
    assert main(["serve", "--port", "0", "--token", "option-token-0123456789"]) == 0
    assert seen[-1].token == "option-token-0123456789"
    assert capsys.readouterr().err.count("/?token=option-token-0123456789 ") == 1
    monkeypatch.setenv(TOKEN_ENV, "environment-token-0123")
    assert main(["serve", "--port", "0"]) == 0
    assert seen[-1].token == "environment-token-0123"
    assert TOKEN_ENV not in serve.os.environ  # the app processes inherit this environment
    assert main(["serve", "--port", "0"]) == 0  # nothing given: a fresh random one
    first = seen[-1].token
    assert main(["serve", "--port", "0"]) == 0
    assert first and seen[-1].token and first != seen[-1].token
    capsys.readouterr()
    for weak in ("short", "has spaces in it, 0123456789", "x" * 15):
        assert main(["serve", "--port", "0", "--token", weak]) == 2
        err = capsys.readouterr().err
        assert "--token must be at least 16 characters" in err and weak not in err
    monkeypatch.setenv(TOKEN_ENV, "tiny")
    assert main(["serve", "--port", "0"]) == 2
    assert f"${TOKEN_ENV} must be at least 16" in capsys.readouterr().err
    assert main(["serve", "--port", "0", "--max-sessions", "0"]) == 2
    assert "--max-sessions 0: at least 1" in capsys.readouterr().err
    assert main(["serve", "--port", "0", "--idle-timeout", "-1"]) == 2
    assert "--idle-timeout -1.0: give minutes" in capsys.readouterr().err


def test_no_token_only_on_loopback_and_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = _stub_server(monkeypatch)
    assert main(["serve", "--port", "0", "--no-token"]) == 0
    assert seen[-1].token is None
    err = capsys.readouterr().err
    assert "warning: --no-token: every program and every user of this machine" in err
    assert "?token=" not in err
    for host in ("0.0.0.0", "192.0.2.1", ""):
        assert main(["serve", "--host", host, "--port", "0", "--no-token"]) == 2
        err = capsys.readouterr().err
        assert "--no-token is allowed only on a loopback host" in err
    with pytest.raises(SystemExit):  # argparse: not both
        main(["serve", "--no-token", "--token", "x" * 20])
    assert len(seen) == 1


def test_cli_parser_and_serve_import_each_other_one_way_only() -> None:
    graph = grimp.build_graph("attractor_tui", cache_dir=None)
    assert graph.find_shortest_chain(importer="attractor_tui.cli.serve",
                                     imported="attractor_tui.cli.parser") is None
    assert graph.find_shortest_chain(importer="attractor_tui.cli.parser",
                                     imported="attractor_tui.cli.serve") is not None
