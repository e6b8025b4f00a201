"""`serve`: the app in a browser tab, through textual-serve.

Each browser tab that opens the page starts its own `attractor-tui [APP ARGS]`
process, with this process's environment: its API keys included. So the server
binds 127.0.0.1 unless `--host` says otherwise, and then says plainly that
anyone who reaches the port drives the app with those keys. Port 0 picks a
free port; the address actually served is printed either way.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import socket
import sys
from typing import TYPE_CHECKING, Any

from attractor_tui.cli.common import UserError

if TYPE_CHECKING:
    from aiohttp import web

    from attractor_tui.cli.common import Subparsers

LOOPBACK = "127.0.0.1"
WILDCARDS = ("0.0.0.0", "::", "")


def add_serve(sub: Subparsers) -> None:
    serve = sub.add_parser(
        "serve", help="run the app in a browser tab (textual-serve)",
        description="Serve the app to a browser: each tab that opens the page runs "
                    "`attractor-tui APP ARGS` (no APP ARGS: the start screen). "
                    "Binds 127.0.0.1 unless --host says otherwise.",
        epilog="example: attractor-tui serve --port 8000 run --model embedded/smollm2-135m",
    )
    serve.add_argument("--host", default=LOOPBACK, metavar="HOST",
                       help=f"address to listen on (default {LOOPBACK}: this machine only)")
    serve.add_argument("--port", type=int, default=8000, metavar="PORT",
                       help="port to listen on (default 8000; 0 picks a free one)")
    serve.add_argument("app_args", nargs=argparse.REMAINDER, metavar="APP ARGS",
                       help="what each browser tab runs, as on the command line")
    serve.set_defaults(handler=serve_command)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_command(app_args: list[str]) -> str:
    """The shell command each browser tab runs: this Python, this package."""
    return shlex.join([sys.executable, "-m", "attractor_tui", *app_args])


def check_app_args(app_args: list[str]) -> None:
    """Refuse APP ARGS the app would refuse, here rather than in each browser tab."""
    from attractor_tui.cli.parser import build_parser

    if app_args and app_args[0] == "serve":
        raise UserError("serve runs the app, not another server: drop the second `serve`")
    if "--headless" in app_args:
        raise UserError("--headless prints to a terminal, not a browser: drop it, or run "
                        "`attractor-tui run --headless` directly")
    parser = build_parser()
    try:
        parser.parse_args(app_args)
    except SystemExit as exc:  # argparse has printed what is wrong
        raise UserError(f"the APP ARGS are not valid: {shlex.join(app_args)}") from exc


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one); one clear line if taken."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UserError(f"cannot listen on {host}: {exc.strerror}") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.listen(100)
    sock.set_inheritable(False)
    return sock


def serve_command(args: argparse.Namespace) -> int:
    app_args = list(args.app_args)
    if app_args[:1] == ["--"]:
        app_args = app_args[1:]
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port {args.port} is not a port: use 1-65535, or 0 for a free one")
    check_app_args(app_args)
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    if not is_loopback(args.host):
        print(f"attractor-tui: warning: listening on {args.host or '*'}:{port}: anyone who "
              "reaches this port drives the app with your API keys and can read and write "
              "your sessions. Serve on 127.0.0.1 (the default) unless you mean that.",
              file=sys.stderr)
    shown = LOOPBACK if args.host in WILDCARDS else args.host
    url = f"http://{shown}:{port}" if ":" not in shown else f"http://[{shown}]:{port}"
    print(f"attractor-tui: serving `{shlex.join(['attractor-tui', *app_args])}` on {url} "
          "(ctrl+c stops)", file=sys.stderr, flush=True)
    server = _make_server(app_command(app_args), args.host, port, url, sock)
    server.serve()
    return 0


def _make_server(command: str, host: str, port: int, url: str, sock: socket.socket) -> Any:
    """textual-serve's server, on our socket; the page's websocket follows the request's host."""
    from textual_serve.server import Server

    class SocketServer(Server):
        def serve(self, debug: bool = False) -> None:
            """`Server.serve`, but on the socket bound above (port 0 works)."""
            import asyncio
            import signal

            from aiohttp import web

            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            for signum in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(signum, self.request_exit)
                except NotImplementedError:  # pragma: no cover - Windows
                    pass
            web.run_app(self._make_app(), sock=sock, handle_signals=False, loop=loop,
                        print=lambda *_: None)

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            if host in WILDCARDS:  # a wildcard bind: the browser knows the real address
                self.public_url = f"{request.scheme}://{request.host}"
            response: web.StreamResponse = await super().handle_index(request)
            return response

    return SocketServer(command, host=host, port=port, title="attractor-tui", public_url=url)
