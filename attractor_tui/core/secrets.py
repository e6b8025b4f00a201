"""The one redaction of credentials, for every string that is stored or shown.

Keys reach us in shapes no single pattern knows (a provider echoes the
Authorization header, a proxy's key is `vllm-token-...`, a URL carries
`user:pass@` or `?api_key=`), so `redact` combines three rules:

1. the *values* of credential variables actually set in the environment
   (names ending in `_KEY`, `_TOKEN`, `_SECRET`, `_PASSWORD`, `_APIKEY`,
   `_CREDENTIALS`, plus the few litellm reads under other names), wherever
   they appear; values under `MIN_SECRET_LENGTH` characters are left alone so
   that `FOO_KEY=on` cannot blank every "on";
2. well-known key shapes (`sk-`, `gsk_`, `xai-`, `AIza`, `hf_`, JWTs, ...),
   `Bearer`/`Basic` credentials, and the value after `api_key=`, `token:`,
   `password=` and friends;
3. URLs: user-info (`user:pass@`) and credential-like query parameters.

`strip_url` is rule 3 alone, for a URL that must stay usable as a URL (the
`api_base` stored in a session file).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from urllib.parse import quote, urlsplit, urlunsplit

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8

CREDENTIAL_SUFFIXES = ("_KEY", "_TOKEN", "_SECRET", "_PASSWORD", "_APIKEY", "_CREDENTIALS")
LITELLM_CREDENTIAL_VARS = frozenset({
    "AWS_ACCESS_KEY_ID", "AWS_BEARER_TOKEN_BEDROCK", "AZURE_CREDENTIAL", "AZURE_AD_TOKEN",
    "HCP_VAULT_APPROLE_SECRET_ID", "WATSONX_ZENAPIKEY", "DATABRICKS_TOKEN", "HF_TOKEN",
})
"""Credentials litellm reads from the environment whose names the suffixes miss."""

NOT_CREDENTIAL_VARS = frozenset({"GOOGLE_APPLICATION_CREDENTIALS"})
"""Ends like a credential but holds a file path, which is fine to show."""

CREDENTIAL_QUERY = frozenset({
    "api_key", "apikey", "api-key", "key", "token", "access_token", "auth", "auth_token",
    "password", "passwd", "pwd", "secret", "client_secret", "sig", "signature", "code",
    "x-api-key", "refresh_token", "id_token", "session_token", "credential", "credentials",
})
"""Query parameter names (lower case) whose values are dropped from URLs."""


def is_credential_var(name: str) -> bool:
    """True when an environment variable's name says it holds a credential."""
    upper = name.upper()
    if upper in NOT_CREDENTIAL_VARS:
        return False
    return upper in LITELLM_CREDENTIAL_VARS or upper.endswith(CREDENTIAL_SUFFIXES)


def env_secrets(environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """The credential values set in the environment, longest first."""
    env = os.environ if environ is None else environ
    values = {v.strip() for k, v in env.items()
              if is_credential_var(k) and len(v.strip()) >= MIN_SECRET_LENGTH}
    return tuple(sorted(values, key=lambda v: (-len(v), v)))


@lru_cache(maxsize=8)
def _env_pattern(values: tuple[str, ...]) -> re.Pattern[str] | None:
    if not values:
        return None
    forms = {form for v in values for form in (v, quote(v, safe=""))}
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=lambda f: -len(f))))


# Key shapes: each long enough that ordinary prose does not match.
_SHAPES = re.compile(
    r"""
    \bsk-[A-Za-z0-9_\-]{6,}                                  # OpenAI, Anthropic (sk-ant-)
  | \bkey-[A-Za-z0-9]{6,}
  | \b(?:gsk|hf|ghp|gho|ghu|ghs|ghr|github_pat|glpat|r8|fw|rk|pk|xoxb|xoxp|nvapi)
      [_-][A-Za-z0-9_\-]{12,}                                # Groq, Hugging Face, GitHub, ...
  | \b[A-Za-z0-9]+-token-[A-Za-z0-9_\-]{6,}                  # vllm-token-..., proxy keys
  | \bxai-[A-Za-z0-9_\-]{10,}
  | \bpplx-[A-Za-z0-9]{10,}
  | \bAIza[0-9A-Za-z_\-]{20,}                                # Google
  | \bAKIA[0-9A-Z]{16}\b                                     # AWS access key id
  | \beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}   # JWT
    """,
    re.VERBOSE,
)
# `Bearer x`, `Basic x`, `Authorization: x`, `api_key=x`, `"token": "x"`: keep the name.
# After a name, only a value that looks generated (a digit, or 20+ characters) is taken,
# so "'token': expected a string" stays readable.
_SCHEMES = re.compile(r"\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9._~+/=\-]{6,}", re.I)
_ASSIGNED = re.compile(
    r"""
    (\b(?:authorization|proxy-authorization|x-api-key|x-goog-api-key|api[_-]?key|apikey
        |access[_-]?token|auth[_-]?token|refresh[_-]?token|id[_-]?token|session[_-]?token
        |token|client[_-]?secret|secret|password|passwd|pwd)
      ["']?\s*[:=]\s*["']?)
    ((?!\[redacted\]|(?:Bearer|Basic|Token)\b)
     (?:(?=[^\s"'&,;<>{}()\[\]]*\d)[^\s"'&,;<>{}()\[\]]{6,}   # has a digit: a key, not a word
       |[^\s"'&,;<>{}()\[\]]{20,}))                            # or too long to be one
    """,
    re.VERBOSE | re.I,
)
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+")


def redact(text: str) -> str:
    """`text` with every credential we can recognise replaced by `[redacted]`."""
    if not text:
        return text
    text = _URL.sub(lambda m: _strip_match(m.group(0)), text)
    pattern = _env_pattern(env_secrets())
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = _SHAPES.sub(REDACTED, text)
    text = _SCHEMES.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _ASSIGNED.sub(lambda m: m.group(1) + REDACTED, text)


def redact_env(text: str) -> str:
    """Only rule 1 (environment values): exact, so safe on research text and inside JSON."""
    pattern = _env_pattern(env_secrets()) if text else None
    return pattern.sub(REDACTED, text) if pattern is not None else text


def _strip_match(url: str) -> str:
    tail = ""
    while url and url[-1] in ".,;:)]}":  # sentence punctuation after a URL in prose
        url, tail = url[:-1], url[-1] + tail
    return strip_url(url, mark=True) + tail


def strip_url(url: str, *, mark: bool = False) -> str:
    """`url` without user-info and credential-like query parameters.

    `mark`: put `[redacted]` where something was taken (for messages); without
    it the URL is simply shorter (for a stored `api_base`). Text that is not a
    URL comes back unchanged.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        host = netloc.rsplit("@", 1)[1]
        netloc = f"{REDACTED}@{host}" if mark else host
    query = parts.query
    if query:
        kept: list[str] = []
        for pair in query.split("&"):
            name = pair.split("=", 1)[0]
            if name.lower() in CREDENTIAL_QUERY or is_credential_var(name):
                if mark:
                    kept.append(f"{name}={REDACTED}")
            else:
                kept.append(pair)
        query = "&".join(kept)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
