"""Who may use `serve`: the token, its cookie, the Host, the WebSocket's Origin.

A WebSocket is not bound by the browser's same-origin policy, so without these
any page in any tab, or any other user of the machine, could start the app
with this process's API keys. As Jupyter does: a random token in the printed
URL, remembered by an `HttpOnly`, `SameSite=Strict` cookie that the first good
request sets (the page's own WebSocket and assets carry it), and cross-origin
WebSockets refused. Everything refused gets a 403 page and starts no process.
"""

from __future__ import annotations

import hmac
import html
import ipaddress
import re
import secrets
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import urlsplit

from attractor_tui.core.text import safe_text

if TYPE_CHECKING:  # aiohttp is imported when serving, so `--help` stays quick
    from aiohttp import web
    from aiohttp.typedefs import Middleware

    Handler: TypeAlias = Callable[[web.Request], Awaitable[web.StreamResponse]]

TOKEN_ENV = "ATTRACTOR_TUI_SERVE_TOKEN"
TOKEN_PARAM = "token"
TOKEN_RULE = re.compile(r"[A-Za-z0-9._~-]{16,}")
"""A token goes in a URL and a cookie as it is: URL-safe characters, >= 16 of them."""
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")
WS_PATH = "/ws"


def new_token() -> str:
    """192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def same_secret(given: str, token: str) -> bool:
    """Constant-time comparison, so response times say nothing about the token."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))


def host_name(host_header: str) -> str:
    """`127.0.0.1:8000` -> `127.0.0.1`, `[::1]:80` -> `::1`; '' when it does not parse."""
    try:
        return urlsplit(f"//{host_header}").hostname or ""
    except ValueError:
        return ""


def url_host(host: str) -> str:
    """A host as it is written in a URL (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@dataclass(frozen=True)
class Access:
    """What a request must show: the token (None: `--no-token`), and for the WebSocket an Origin."""

    token: str | None
    bind_host: str
    shown_host: str
    port: int

    @property
    def cookie(self) -> str:
        """Cookies are per host, not per port: the port keeps two servers' tokens apart."""
        return f"attractor-tui-token-{self.port}"

    @property
    def wildcard(self) -> bool:
        return self.bind_host in WILDCARDS

    def origins(self) -> frozenset[str]:
        """The printed origin and, where they reach this server, its loopback names."""
        printed = {f"http://{url_host(self.shown_host)}:{self.port}"}
        if self.wildcard or is_loopback(self.bind_host):
            printed |= {f"http://{name}:{self.port}" for name in LOOPBACK_NAMES}
        return frozenset(printed)

    def host_ok(self, host_header: str) -> bool:
        """On a loopback bind the Host must name loopback: a DNS-rebound page does not."""
        return not is_loopback(self.bind_host) or is_loopback(host_name(host_header))

    def origin_ok(self, origin: str | None, host_header: str) -> bool:
        """The page's own origin: as printed, or the Host this request came to
        (an `ssh -L` tunnel on another local port, a wildcard bind's real address)."""
        if origin is None:  # not a browser: the token alone decides
            return self.token is not None
        origin = origin.lower()
        if origin in self.origins():
            return True
        here = f"http://{host_header}".lower()
        return origin == here and (self.wildcard or is_loopback(host_name(host_header)))

    def tokens_in(self, request: web.Request) -> tuple[bool, bool]:
        """(right token in the query, right token in the cookie)."""
        if self.token is None:
            return False, False
        query = request.query.get(TOKEN_PARAM)
        cookie = request.cookies.get(self.cookie)
        return (query is not None and same_secret(query, self.token),
                cookie is not None and same_secret(cookie, self.token))


def refusal(status: int, message: str) -> web.Response:
    """A small page that says why, readable in the browser tab that asked."""
    from aiohttp import web

    text = html.escape(message)
    body = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>attractor-tui</title>"
        "<style>body{background:#0c181f;color:#eee;font:18px/1.5 monospace;margin:4em}"
        "</style></head><body><h1>attractor-tui</h1>"
        f"<p>{text}</p></body></html>"
    )
    return web.Response(status=status, text=body, content_type="text/html")


NO_TOKEN = ("This address needs the token that `attractor-tui serve` printed: open the "
            "whole URL it printed (…/?token=…). The token keeps other pages and other "
            "users of this machine from driving the app with your API keys.")
BAD_HOST = "This server answers only to 127.0.0.1, localhost or [::1]."
BAD_ORIGIN = "Refused: this connection comes from another web page, not from this app's page."


def guard(access: Access) -> Middleware:
    """The middleware in front of every route: page, assets, downloads and the WebSocket."""
    from aiohttp import web

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not access.host_ok(request.host):
            return refusal(403, BAD_HOST)
        by_query, by_cookie = access.tokens_in(request)
        if access.token is not None and not (by_query or by_cookie):
            return refusal(403, NO_TOKEN)
        if request.path == WS_PATH:
            origin = request.headers.get("Origin")
            if not access.origin_ok(origin, request.host):
                print(f"attractor-tui: refused a WebSocket from Origin "
                      f"{safe_text(origin or '(none)')}", file=sys.stderr, flush=True)
                return refusal(403, BAD_ORIGIN)
        response = await handler(request)
        if by_query and not by_cookie and not response.prepared and access.token is not None:
            response.set_cookie(access.cookie, access.token, httponly=True,
                                samesite="Strict", path="/")
        return response

    return check
