"""Session and side configuration: what a run is, as pydantic models.

These models are stored verbatim in the first line of every session file, so
they must never carry secrets: `SideConfig.params` is scrubbed of anything that
looks like a credential before it is accepted.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_MODEL = "embedded/smollm2-135m"
DEFAULT_SYSTEM = "You are a helpful assistant."
DEFAULT_SEED = "Hello there."

Side = Literal["A", "B"]
SIDES: tuple[Side, Side] = ("A", "B")

_SECRET_KEY = re.compile(r"(api[_-]?key|secret|token|password|authorization|bearer)", re.I)
# max_tokens and friends are not secrets even though they contain "token".
_NOT_SECRET = re.compile(r"^(max_tokens|max_completion_tokens|top_k|top_p|tokens?_limit)$", re.I)


def is_secret_param(name: str) -> bool:
    """True when a litellm parameter name probably holds a credential."""
    return bool(_SECRET_KEY.search(name)) and not _NOT_SECRET.match(name)


def other(side: Side) -> Side:
    """The side that is not `side`."""
    return "B" if side == "A" else "A"


class SideConfig(BaseModel):
    """One instance: its model, prompt and sampling parameters."""

    model_config = ConfigDict(extra="forbid")

    model: str = DEFAULT_MODEL
    system: str = DEFAULT_SYSTEM
    temperature: float = 0.7
    max_tokens: int = 256
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra litellm keyword arguments (api_base, top_p, ...). Never keys.",
    )

    @field_validator("params")
    @classmethod
    def _no_secrets(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = sorted(k for k in value if is_secret_param(k))
        if bad:
            raise ValueError(
                f"refusing to store credential-like parameter(s) {', '.join(bad)} in a "
                "session file; put API keys in environment variables instead"
            )
        return value


class SessionConfig(BaseModel):
    """Everything needed to start (or rebuild) a two-instance conversation."""

    model_config = ConfigDict(extra="forbid")

    a: SideConfig = Field(default_factory=SideConfig)
    b: SideConfig = Field(default_factory=SideConfig)
    seed: str = DEFAULT_SEED
    turns: int | None = Field(
        default=None, ge=1, description="Each side speaks this many times; None = until stopped."
    )
    timeout: float = Field(default=120.0, gt=0, description="Seconds per provider call.")
    num_retries: int = Field(default=2, ge=0, description="Retries on rate limits and outages.")
    title: str = ""

    def side(self, side: Side) -> SideConfig:
        return self.a if side == "A" else self.b
