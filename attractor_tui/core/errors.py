"""Provider errors in words a user understands.

litellm raises subclasses of `openai.APIError`, often not the class one would
expect (a missing OpenAI key arrives as an `InternalServerError`), so the
mapping looks at the class, the status and the message together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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

_SECRET = re.compile(r"(sk-[A-Za-z0-9_\-]{6,}|key-[A-Za-z0-9]{6,}|Bearer\s+\S+)")


@dataclass(frozen=True)
class Problem:
    """What went wrong, whether trying again can help, and when."""

    kind: str
    message: str
    retryable: bool = False
    retry_in: float | None = None


def provider_of(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else "openai"


def redact(text: str) -> str:
    """Hide anything that looks like a key before it reaches a screen or file."""
    return _SECRET.sub("[redacted]", text)


def describe(exc: BaseException, model: str = "", attempt: int = 0) -> Problem:
    """Map an exception from a model call to a plain `Problem`."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    text = str(exc)
    low = text.lower()
    provider = provider_of(model) if model else (getattr(exc, "llm_provider", "") or "the provider")
    if "missing credentials" in low or "api key" in low and ("missing" in low or "no " in low) or (
        name == "AuthenticationError" and "missing" in low
    ):
        env = _KEY_ENV.get(provider, f"{provider.upper()}_API_KEY")
        return Problem("auth", f"No API key for {provider}: set {env}")
    if name == "AuthenticationError" or status == 401:
        return Problem("auth", f"{provider} rejected the API key (401): check it and try again")
    if name == "PermissionDeniedError" or status == 403:
        return Problem("auth", f"{provider} refused access to {model or 'this model'} (403)")
    if name == "RateLimitError" or status == 429:
        wait = min(60.0, 4.0 * (2**attempt))
        return Problem("rate_limit", f"rate limited, retrying in {wait:g} s", True, wait)
    if name == "ContextWindowExceededError":
        return Problem("context", f"the conversation no longer fits {model}'s context window")
    if name == "NotFoundError" or status == 404:
        return Problem("not_found", f"{provider} does not know the model {model!r} (404)")
    if name in ("APIConnectionError",) or "connection error" in low or "connect" in low and (
        "refused" in low or "cannot" in low or "failed" in low
    ):
        host = _host_hint(exc)
        wait = min(30.0, 2.0 * (2**attempt))
        return Problem("connection", f"cannot reach {host}", True, wait)
    if name == "Timeout" or "timed out" in low or "timeout" in low:
        return Problem("timeout", f"{provider} did not answer in time", True, 2.0)
    if name == "BadRequestError" or status == 400:
        return Problem("bad_request", f"{provider} rejected the request: {_short(text)}")
    if name in ("ServiceUnavailableError", "InternalServerError") or (status or 0) >= 500:
        return Problem("server", f"{provider} had a server error: {_short(text)}", True, 4.0)
    return Problem("error", f"{name}: {_short(text)}")


def _host_hint(exc: BaseException) -> str:
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    host = getattr(url, "host", None)
    return f"host {host}" if host else "the model's host (is the server running? check api_base)"


def _short(text: str, limit: int = 240) -> str:
    text = redact(re.sub(r"\s+", " ", text)).strip()
    text = re.sub(r"^litellm\.\w+:\s*", "", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
