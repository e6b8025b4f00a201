"""`serve`'s web server: textual-serve's, behind the guard, with limits on processes.

textual-serve starts one app process per WebSocket and never ends it while
the tab stays open. Here a tab gets a process only through `SessionSlots`: at
most `--max-sessions` at once (a tab past that sees why, in the page), and
never more than one start a second, however many requests arrive. A tab that
sends nothing (no key, click, resize or focus) for `--idle-timeout` minutes
has its app quit; the session file stays, so `resume` continues it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.abc import AbstractAccessLogger
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from attractor_tui.cli.serve_guard import Access, guard, refusal
from attractor_tui.core.text import safe_text

QUIT_GRACE = 10.0
"""Seconds an app has to quit when its tab is gone (or serve stops) before it is terminated;
one still starting reads the quit message only once it has started."""
HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:\d+)?|\[[0-9A-Fa-f:.]+\](:\d+)?")


@dataclass(frozen=True)
class Limits:
    max_sessions: int = 4
    idle_seconds: float = 3600.0  # 0: never
    start_interval: float = 1.0


class SessionSlots:
    """At most `limit` app processes at once, started at most one per `interval` seconds."""

    def __init__(self, limit: int, interval: float) -> None:
        self.limit = limit
        self.interval = interval
        self.running = 0
        self._lock = asyncio.Lock()
        self._last_start: float | None = None

    def full(self) -> bool:
        return self.running >= self.limit

    async def start(self, launch: Callable[[], Awaitable[None]]) -> bool:
        """Run `launch` in its turn and count it; False (nothing started) when all are in use."""
        if self.full():
            return False
        async with self._lock:  # one start at a time, `interval` after the last one ended
            loop = asyncio.get_running_loop()
            if self._last_start is not None:
                await asyncio.sleep(max(0.0, self._last_start + self.interval - loop.time()))
            if self.full():
                return False
            self.running += 1
            try:
                await launch()
            except BaseException:
                self.running -= 1
                raise
            finally:
                self._last_start = loop.time()
        return True

    def end(self) -> None:
        self.running -= 1

    def full_message(self) -> str:
        many = "1 app is" if self.limit == 1 else f"{self.limit} apps are"
        return (f"{many} already running in other tabs (serve --max-sessions {self.limit}). "
                "Close one of them and reload this page, or restart serve with a larger "
                "--max-sessions.")


class QuietAccessLog(AbstractAccessLogger):
    """One line per request without its query string: the token never reaches a log."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s", request.method, safe_text(request.path), response.status)


class GuardedServer(Server):
    """textual-serve's `Server` on our socket, behind `guard`, with `SessionSlots`."""

    def __init__(self, command: str, access: Access, limits: Limits, sock: socket.socket,
                 url: str) -> None:
        super().__init__(command, host=access.bind_host, port=access.port,
                         title="attractor-tui", public_url=url)
        self.access = access
        self.limits = limits
        self.sock = sock
        self.interrupted = False
        """Whether Ctrl-C stopped it (`serve` then exits 130)."""
        self.slots = SessionSlots(limits.max_sessions, limits.start_interval)
        self.tabs: set[web.WebSocketResponse] = set()

    def serve(self, debug: bool = False) -> None:
        """`Server.serve`, but on the socket bound before (port 0 works)."""
        import signal

        self.debug = debug
        self.initialize_logging()
        # `main` lets SIGPIPE end `export | head`; here a tab that leaves mid-download
        # would end the server with it
        if hasattr(signal, "SIGPIPE"):
            signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, self.stop_on, signum)
            except NotImplementedError:  # pragma: no cover - Windows
                pass
        web.run_app(self._make_app(), sock=self.sock, handle_signals=False, loop=loop,
                    print=lambda *_: None, access_log_class=QuietAccessLog,
                    shutdown_timeout=QUIT_GRACE + 5)

    def stop_on(self, signum: int) -> None:
        """Stop serving; after Ctrl-C (SIGINT) `serve` exits 130, as every command does."""
        import signal

        self.interrupted = signum == signal.SIGINT
        self.request_exit()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(guard(self.access))
        return app

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every tab's WebSocket, so each app is asked to quit (and ended if it does not)."""
        for websocket in list(self.tabs):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopped")

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if self.slots.full():
            return refusal(503, self.slots.full_message())
        if HOST_HEADER.fullmatch(request.host):  # the WebSocket goes where the page came from
            self.public_url = f"http://{request.host}"
        response: web.StreamResponse = await super().handle_index(request)
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler, with a slot per process and the idle timeout."""
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)

        async def close() -> None:  # the app has quit
            await websocket.close()

        service = AppService(self.command, write_bytes=websocket.send_bytes,
                             write_str=websocket.send_str, close=close,
                             download_manager=self.download_manager, debug=self.debug)
        if not await self.slots.start(lambda: service.start(width, height)):
            message = self.slots.full_message()
            print(f"attractor-tui: refused a tab: {message}", file=sys.stderr, flush=True)
            await websocket.send_bytes(f"\r\n  attractor-tui: {message}\r\n".encode())
            await websocket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"max-sessions")
            return websocket
        heard = [asyncio.get_running_loop().time()]
        idle = asyncio.create_task(self._close_when_idle(websocket, heard))
        self.tabs.add(websocket)
        try:
            await self._relay(websocket, service, heard)
        except (ValueError, LookupError, TypeError) as exc:
            print(f"attractor-tui: a tab sent what the app does not understand "
                  f"({safe_text(type(exc).__name__)}): its app was ended", file=sys.stderr)
        finally:
            self.tabs.discard(websocket)
            idle.cancel()
            try:
                await end_app(service)
            finally:
                self.slots.end()
            await websocket.close()
        return websocket

    async def _relay(self, websocket: web.WebSocketResponse, service: AppService,
                     heard: list[float]) -> None:
        """The tab's messages to the app (as textual-serve's `_process_messages`), noting when."""
        loop = asyncio.get_running_loop()
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            heard[0] = loop.time()
            envelope: Any = json.loads(message.data)
            kind = envelope[0]
            if kind == "stdin":
                await service.send_bytes(str(envelope[1]).encode("utf-8"))
            elif kind == "resize":
                await service.set_terminal_size(int(envelope[1]["width"]),
                                                int(envelope[1]["height"]))
            elif kind == "ping":
                await websocket.send_json(["pong", envelope[1]])
            elif kind == "blur":
                await service.blur()
            elif kind == "focus":
                await service.focus()

    async def _close_when_idle(self, websocket: web.WebSocketResponse,
                               heard: list[float]) -> None:
        """Close the tab's WebSocket (its app then quits) once it was silent long enough."""
        timeout = self.limits.idle_seconds
        if timeout <= 0:
            return
        loop = asyncio.get_running_loop()
        while (left := heard[0] + timeout - loop.time()) > 0:
            await asyncio.sleep(left)
        minutes = f"{timeout / 60:g} minute{'' if timeout == 60 else 's'}"
        print(f"attractor-tui: a tab was idle for {minutes}: its app was ended "
              "(its session file stays; `attractor-tui resume` continues it)",
              file=sys.stderr, flush=True)
        await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"idle")


async def end_app(service: AppService) -> None:
    """Ask the app to quit; after QUIT_GRACE seconds, terminate it (then kill it)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(service.stop(), QUIT_GRACE)
    process = service._process  # textual-serve keeps the process to itself
    if process is None:
        return
    for signal_it in (process.terminate, process.kill):
        try:
            await asyncio.wait_for(process.wait(), 2)
            return
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                signal_it()
    await process.wait()
