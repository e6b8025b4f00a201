"""Provider errors in words a user understands.

litellm raises subclasses of `openai.APIError`, often not the class one would
expect (a missing OpenAI key arrives as an `InternalServerError`), so the
mapping looks at the class, the status and the message together.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from attractor_tui.core import secrets
from attractor_tui.core.model_check import model_problem as model_problem  # the checker's home
from attractor_tui.core.text import mend_surrogates

_KEY_ENV = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "xai": "XAI_API_KEY",
    "cohere": "COHERE_API_KEY",
}


@dataclass(frozen=True)
class Problem:
    """What went wrong, whether trying again can help, and when."""

    kind: str
    message: str
    retryable: bool = False
    retry_in: float | None = None
    final: str | None = None
    """The message once retries are used up (`message` may promise a retry)."""

    @property
    def given_up(self) -> str:
        """What to record when no retry follows: never "retrying in ..."."""
        return self.final or self.message


def provider_of(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else "openai"


def redact(text: str) -> str:
    """Hide anything that looks like a key before it reaches a screen or file."""
    return secrets.redact(text)


def describe(exc: BaseException, model: str = "", attempt: int = 0,
             api_base: str | None = None, attempts: int | None = None) -> Problem:
    """Map an exception from a model call to a plain `Problem`.

    `api_base` (the side's server, if set) names the host in connection
    problems: litellm's exceptions often carry a placeholder request URL.
    `attempt` is 0-based; with `attempts` (how many tries the session allows,
    more than one) a problem worth retrying says which try it was,
    `(attempt 2 of 3)`, so repeated cards are told apart.
    """
    problem = _describe(exc, model, attempt, api_base)
    if problem.retryable and attempts is not None and attempts > 1:
        counted = f" (attempt {attempt + 1} of {max(attempts, attempt + 1)})"
        problem = replace(problem, message=_count(problem.message, counted))
    return replace(problem, message=mend_surrogates(problem.message),
                   final=mend_surrogates(problem.final) if problem.final else None)


def _count(message: str, counted: str) -> str:
    """`message` with the attempt count after its first clause (before `, retrying ...`)."""
    head, sep, tail = message.partition(", retrying")
    return head + counted + sep + tail


def _describe(exc: BaseException, model: str, attempt: int, api_base: str | None) -> Problem:
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    text = str(exc)
    low = text.lower()
    provider = provider_of(model) if model else (getattr(exc, "llm_provider", "") or "the provider")
    asked = retry_after(exc)
    if "missing credentials" in low or "api key" in low and ("missing" in low or "no " in low) or (
        name == "AuthenticationError" and "missing" in low
    ):
        env = _KEY_ENV.get(provider, f"{provider.upper()}_API_KEY")
        if api_base:  # a local server needs no real key, but litellm's openai client asks
            where = _host(api_base, "") or "the API base"
            name = model.split("/", 1)[-1] if model else "NAME"
            return Problem("auth", f"No API key for {provider} at {where}: for a local server "
                                   f"name the model hosted_vllm/{name}, or set {env} to any "
                                   "value")
        return Problem("auth", f"No API key for {provider}: set {env}")
    if name == "AuthenticationError" or status == 401:
        return Problem("auth", f"{provider} rejected the API key (401): check it and try again")
    if name == "PermissionDeniedError" or status == 403:
        return Problem("auth", f"{provider} refused access to {model or 'this model'} (403)")
    if name == "RateLimitError" or status == 429:
        wait = asked if asked is not None else min(60.0, 4.0 * (2**attempt))
        return Problem("rate_limit", f"rate limited, retrying in {wait:g} s", True, wait,
                       final="rate limited; retries used up")
    if name == "ContextWindowExceededError":
        return Problem("context", f"the conversation no longer fits {model}'s context window")
    if name == "NotFoundError" or status == 404:
        return Problem("not_found", f"{provider} does not know the model {model!r} (404)")
    if name == "Timeout" or status == 408:
        return Problem("timeout", f"{provider} did not answer in time", True, _or(asked, 2.0))
    if name == "BadRequestError" or status == 400:  # even when its text says "timeout"
        return Problem("bad_request", f"{provider} rejected the request: {_short(text)}")
    wait = _or(asked, min(30.0, 2.0 * (2**attempt)))
    if any(phrase in low for phrase in _CUT_PHRASES):
        where = _host(api_base, text) or f"{provider}'s server"
        return Problem("connection", f"the connection to {where} closed mid-reply", True, wait)
    if name in ("APIConnectionError",) or "connection error" in low or "connect" in low and (
        "refused" in low or "cannot" in low or "failed" in low
    ):
        host = _host(api_base, text)
        return Problem("connection", f"cannot reach {host}" if host else
                       f"cannot reach {provider}'s server (is it running? check api_base "
                       "and the network)", True, wait)
    if "timed out" in low or "timeout" in low:
        return Problem("timeout", f"{provider} did not answer in time", True, _or(asked, 2.0))
    if "repeating the same chunk" in low:  # litellm's loop guard (100 identical chunks)
        return Problem("server", f"{provider} sent the same piece of text 100 times in a row; "
                                 "litellm cut the reply off as a loop", True, _or(asked, 4.0))
    if name == "MidStreamFallbackError":  # a stream that broke off unreadable (malformed SSE)
        return Problem("server", f"{provider} sent a reply that could not be read (a malformed "
                                 "stream)", True, _or(asked, 4.0))
    if name in ("ServiceUnavailableError", "InternalServerError") or (status or 0) >= 500:
        return Problem("server", f"{provider} had a server error: {_short(text)}", True,
                       _or(asked, 4.0))
    return Problem("error", f"{name}: {_short(text)}")


_CUT_PHRASES = (
    "response payload is not completed",  # aiohttp
    "incomplete chunked read",  # httpx
    "peer closed connection without sending complete message body",  # httpx
    "server disconnected",  # aiohttp
)
"""How the HTTP clients litellm uses say a reply stopped before its end."""
MAX_RETRY_AFTER = 600.0
"""Longest wait a server's `Retry-After` can ask for; longer asks wait this long."""


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait (`Retry-After`: seconds or an HTTP date).

    litellm keeps the response headers in `litellm_response_headers`; its
    `response` is often a placeholder, so every place is tried.
    """
    response = getattr(exc, "response", None)
    for headers in (getattr(exc, "litellm_response_headers", None), getattr(exc, "headers", None),
                    getattr(response, "headers", None)):
        value = _header(headers, "retry-after")
        if value is not None:
            return parse_retry_after(value)
    return None


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    try:
        value = headers.get(name)
        if value is None and isinstance(headers, Mapping):
            value = next((v for k, v in headers.items() if str(k).lower() == name), None)
    except Exception:  # an object that only looks like headers
        return None
    return str(value) if value is not None else None


def parse_retry_after(value: str, now: datetime | None = None) -> float | None:
    """`Retry-After`'s seconds (`"7"`) or HTTP date, as seconds from `now`; None if neither."""
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = math.ceil((when - (now or datetime.now(UTC))).total_seconds())
    if not math.isfinite(seconds):
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


def _host(api_base: str | None, text: str) -> str | None:
    """`host:port` of the server: from `api_base`, else as the client's message names it."""
    if isinstance(api_base, str) and api_base:
        try:
            parts = urlsplit(api_base.strip())
            host, port = parts.hostname, parts.port
        except ValueError:
            host = port = None
        if host:  # never user-info: only the host and port are shown
            host = f"[{host}]" if ":" in host else host
            port = port or {"https": 443, "http": 80}.get(parts.scheme.lower())
            return f"{host}:{port}" if port else host
    match = re.search(r"connect to host ([\w.\-\[\]:]+?:\d+)", text, re.IGNORECASE)
    return match.group(1) if match else None


_CLASS_PREFIX = re.compile(r"^(?:\w+(?:Error|Exception)\s*(?::|-)\s*)+")


def _short(text: str, limit: int = 240) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^litellm\.\w+:\s*", "", text)
    text = _CLASS_PREFIX.sub("", text)  # "InternalServerError: OpenAIException - ": jargon
    text = redact(re.sub(r"\s+", " ", _error_body(text))).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_body(text: str) -> str:
    """The `error.message` of an OpenAI-style JSON error body, else `text` as it is.

    The OpenAI SDK client unwraps it; litellm's own HTTP handler (`hosted_vllm/`,
    the lean path) passes the body on whole.
    """
    if not text.startswith("{"):
        return text
    try:
        body = json.loads(text)
    except ValueError:
        return text
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) and message else text
