"""`serve`: the app in a browser tab, through textual-serve.

Each browser tab that opens the page starts its own `attractor-tui [APP ARGS]`
process, with this process's environment: its API keys included. So the page,
its assets and its WebSocket want a token (printed once, in the URL), the
WebSocket must come from the page itself (`serve_guard`), processes are
limited (`serve_server`), and the server binds 127.0.0.1 unless `--host` says
otherwise, and then says plainly that anyone who reaches the port and has
the token drives the app with those keys. Port 0 picks a free port; the
address actually served is printed either way.
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from attractor_tui.cli.common import UserError, warn
from attractor_tui.cli.serve_guard import (
    TOKEN_ENV,
    TOKEN_PARAM,
    TOKEN_RULE,
    WILDCARDS,
    Access,
    is_loopback,
    new_token,
    url_host,
)

if TYPE_CHECKING:
    from attractor_tui.cli.common import Subparsers
    from attractor_tui.cli.serve_server import Limits

LOOPBACK = "127.0.0.1"

AppParser = Callable[[], argparse.ArgumentParser]
"""How APP ARGS are checked: the command line's own parser, handed over by
`parser.build_parser` when it registers `serve` (so this module never imports it)."""


def add_serve(sub: Subparsers, app_parser: AppParser) -> None:
    serve = sub.add_parser(
        "serve", help="run the app in a browser tab (textual-serve)",
        description="Serve the app to a browser: each tab that opens the page runs "
                    "`attractor-tui APP ARGS` (no APP ARGS: the start screen). "
                    "Binds 127.0.0.1 unless --host says otherwise. The printed URL "
                    "carries a token; without it the page, its assets and its "
                    "WebSocket answer 403 and start nothing.",
        epilog="example: attractor-tui serve --port 8000 run --model embedded/smollm2-135m",
    )
    serve.add_argument("--host", default=LOOPBACK, metavar="HOST",
                       help=f"address to listen on (default {LOOPBACK}: this machine only)")
    serve.add_argument("--port", type=int, default=8000, metavar="PORT",
                       help="port to listen on (default 8000; 0 picks a free one)")
    secret = serve.add_mutually_exclusive_group()
    secret.add_argument("--token", metavar="TOKEN",
                        help=f"the token to require (default: ${TOKEN_ENV}, else a random "
                             "one); at least 16 of A-Z a-z 0-9 . _ ~ -. Other users see "
                             f"command lines in `ps`: prefer ${TOKEN_ENV}")
    secret.add_argument("--no-token", action="store_true",
                        help="require no token (loopback hosts only): every program and "
                             "user on this machine can then drive the app")
    serve.add_argument("--max-sessions", type=int, default=4, metavar="N",
                       help="app processes at once, one per tab (default 4)")
    serve.add_argument("--idle-timeout", type=float, default=60.0, metavar="MINUTES",
                       help="end a tab's app after this long with no key, click or resize "
                            "from it (default 60; 0: never); its session file stays")
    serve.add_argument("app_args", nargs=argparse.REMAINDER, metavar="APP ARGS",
                       help="what each browser tab runs, as on the command line")
    serve.set_defaults(handler=serve_command, app_parser=app_parser)


def app_command(app_args: list[str]) -> str:
    """The shell command each browser tab runs: this Python, this package; `exec`, so
    the process serve starts (and may have to end) is the app itself, not a shell."""
    return "exec " + shlex.join([sys.executable, "-m", "attractor_tui", *app_args])


def check_app_args(app_args: list[str], app_parser: AppParser) -> None:
    """Refuse APP ARGS the app would refuse, here rather than in each browser tab."""
    if app_args and app_args[0] == "serve":
        raise UserError("serve runs the app, not another server: drop the second `serve`")
    if "--headless" in app_args:
        raise UserError("--headless prints to a terminal, not a browser: drop it, or run "
                        "`attractor-tui run --headless` directly")
    try:
        app_parser().parse_args(app_args)
    except SystemExit as exc:  # argparse has printed what is wrong
        raise UserError(f"the APP ARGS are not valid: {shlex.join(app_args)}") from exc


def resolve_token(args: argparse.Namespace) -> str | None:
    """--token, else $ATTRACTOR_TUI_SERVE_TOKEN, else a random one; None for --no-token.

    The variable leaves this process's environment here, so the apps started
    per tab (and anything they record) never see it."""
    from_env = os.environ.pop(TOKEN_ENV, None)
    if args.no_token:
        if not is_loopback(args.host):
            raise UserError(f"--no-token is allowed only on a loopback host (127.0.0.1, ::1, "
                            f"localhost), not {args.host or '*'}: anyone who reaches the "
                            "port would drive the app with your API keys")
        return None
    token: str | None = args.token if args.token is not None else from_env
    if token is None:
        return new_token()
    if not TOKEN_RULE.fullmatch(token):
        source = "--token" if args.token is not None else f"${TOKEN_ENV}"
        raise UserError(f"{source} must be at least 16 characters, each a letter, a digit or "
                        "one of . _ ~ - (it goes in a URL as it is): leave it out for a "
                        "random one")
    return token


def check_limits(args: argparse.Namespace) -> Limits:
    from attractor_tui.cli.serve_server import Limits

    if args.max_sessions < 1:
        raise UserError(f"--max-sessions {args.max_sessions}: at least 1 app must be able to run")
    if not args.idle_timeout >= 0:  # also refuses nan
        raise UserError(f"--idle-timeout {args.idle_timeout}: give minutes, or 0 for never")
    return Limits(max_sessions=args.max_sessions, idle_seconds=args.idle_timeout * 60)


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
    token = resolve_token(args)
    limits = check_limits(args)
    check_app_args(app_args, args.app_parser)
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    if not is_loopback(args.host):
        warn(f"attractor-tui: warning: listening on {args.host or '*'}:{port}: anyone who "
             "reaches this port drives the app with your API keys and can read and write "
             "your sessions once they have the token, which plain http sends in the clear. "
             "Serve on 127.0.0.1 (the default) and use `ssh -L` unless you mean that.")
    if token is None:
        warn(f"attractor-tui: warning: --no-token: every program and every user of this "
             f"machine that reaches port {port} drives the app with your API keys.")
    shown = LOOPBACK if args.host in WILDCARDS else args.host
    base = f"http://{url_host(shown)}:{port}"
    url = f"{base}/" if token is None else f"{base}/?{TOKEN_PARAM}={token}"
    # the one line that shows the token: nothing else logs it or stores it
    print(f"attractor-tui: serving `{shlex.join(['attractor-tui', *app_args])}` on {url} "
          "(ctrl+c stops)", file=sys.stderr, flush=True)
    access = Access(token=token, bind_host=args.host, shown_host=shown, port=port)
    server = _make_server(app_command(app_args), access, limits, sock, base)
    server.serve()
    return 130 if getattr(server, "interrupted", False) else 0  # Ctrl-C: 130, as everywhere


def _make_server(command: str, access: Access, limits: Limits, sock: socket.socket,
                 base: str) -> Any:
    """textual-serve's server behind the guard, on our socket (imported only to serve)."""
    from attractor_tui.cli.serve_server import GuardedServer

    return GuardedServer(command, access, limits, sock, base)
