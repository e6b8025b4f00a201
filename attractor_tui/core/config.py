"""Session and side configuration: what a run is, as pydantic models.

These models are stored in the first line of every session file, so they must
never carry secrets: `SideConfig.params` refuses credential-like names, and
any URL in it (`api_base`) is serialised without user-info and credential
query parameters (`core.secrets.strip_url`). In memory the URL stays whole,
so the call still reaches the server the user named; a session file (and
every JSON dump or export) holds only the stripped one.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    field_serializer,
    field_validator,
    model_serializer,
    model_validator,
)

from attractor_tui.core.secrets import strip_url

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


ToolEffect = Literal["deny", "end", "allow_after", "ask"]
ContextPolicy = Literal["truncate", "summarize", "none"]

DEFAULT_TOOL_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reason": {"type": "string", "description": "Why you are calling this tool."}
    },
    "required": ["reason"],
}


class ToolSpec(BaseModel):
    """A tool offered to a model, and what happens when it is called.

    `deny`: refused; `result` goes back as the tool message and the model's
    turn continues. `end`: the conversation ends (reason `tool:<name>`).
    `allow_after`: denied for the first `attempts` calls, then ends.
    `ask`: the operator allows (ends) or denies by hand.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str
    parameters: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_TOOL_PARAMETERS))
    effect: ToolEffect = "deny"
    result: str = "This tool is not available right now. Continue the conversation."
    attempts: int = Field(default=0, ge=0)

    def openai_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name, "description": self.description, "parameters": self.parameters,
            },
        }


class SideConfig(BaseModel):
    """One instance: its model, prompt, sampling parameters and tools."""

    model_config = ConfigDict(extra="forbid")

    model: str = DEFAULT_MODEL
    system: str = DEFAULT_SYSTEM
    temperature: float = 0.7
    max_tokens: int = 256
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra litellm keyword arguments (api_base, top_p, ...). Never keys.",
    )
    tools: list[ToolSpec] = Field(default_factory=list)
    stop_phrases: list[str] = Field(default_factory=list)
    context: ContextPolicy = "truncate"
    context_tokens: int | None = Field(
        default=None, ge=256,
        description="Context window in tokens; None = the model's own (4096 for embedded).",
    )
    tpm: int | None = Field(
        default=None, ge=1,
        description="Tokens a minute this side's model may use (calls wait; None = no limit).",
    )
    rpm: int | None = Field(
        default=None, ge=1, description="Calls a minute this side's model may get (None = any).",
    )
    memory: str | None = Field(
        default=None,
        description="A notes file carried across sessions (issue 27): read at the start, "
                    "updated by this side's model at the end; both sides naming one file "
                    "share it, each in its own section.",
    )
    notes: str | None = None
    """The notes this side started with (from `memory`), at the top of its context; filled
    in when the session opens, so the file records them."""

    def window(self) -> int | None:
        if self.context_tokens is not None:
            return self.context_tokens
        if self.model.startswith("embedded/"):
            return 4096
        return None

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

    @field_serializer("params")
    def _params_without_credentials(self, value: dict[str, Any],
                                    info: SerializationInfo) -> dict[str, Any]:
        context = info.context if isinstance(info.context, dict) else {}
        return value if context.get(KEEP_CREDENTIALS) else public_params(value)

    def public_params(self) -> dict[str, Any]:
        """`params` as they may be stored or shown: URLs without credentials."""
        return public_params(self.params)

    @model_serializer(mode="wrap")
    def _unset_limits_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """No `tpm`/`rpm` keys unless set: files and exports of unpaced sessions stay as
        they were (and readable by versions before pacing)."""
        out: dict[str, Any] = handler(self)
        for key in ("tpm", "rpm", "memory", "notes"):
            if out.get(key, 0) is None:
                del out[key]
        return out


class ScriptedTurn(BaseModel):
    """An operator turn the session plays by itself (issue 27): side `side` says `text`.

    `round` is 1-based, as people count rounds. `when = "round"` fires at that
    round's slot of `side`; `when = "attractor"` at the first of that side's
    slots at or after it where the live meter's state is an attractor (not
    `too_short` or `creative_escape`). `every = N` fires again N rounds after
    each firing. The turn is stored as an ordinary operator turn with
    `scripted` and the rule that fired.
    """

    model_config = ConfigDict(extra="forbid")

    round: int = Field(ge=1)
    side: Side
    text: str
    when: Literal["round", "attractor"] = "round"
    every: int | None = Field(default=None, ge=1)

    @field_validator("side", mode="before")
    @classmethod
    def _side_upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    def describe(self) -> str:
        """The rule in words, as stored with the turn it fires (`Turn.rule`)."""
        rule = (f"attractor at or after round {self.round}" if self.when == "attractor"
                else f"round {self.round}")
        return rule + (f", every {self.every} rounds" if self.every else "")


KEEP_CREDENTIALS = "keep_credentials"
"""`model_dump(context={KEEP_CREDENTIALS: True})`: a copy in memory that may still call
the server (never write such a dump anywhere)."""


def public_params(params: dict[str, Any]) -> dict[str, Any]:
    """`params` with every URL-valued entry stripped of user-info and credential queries."""
    return {k: strip_url(v) if isinstance(v, str) and "://" in v else v
            for k, v in params.items()}


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
    stop_policy: Literal["either", "both"] = Field(
        default="either", description="A stop phrase ends the session when one / both said it."
    )
    token_budget: int | None = Field(default=None, ge=1, description="Total tokens, both sides.")
    cost_budget: float | None = Field(default=None, gt=0, description="Total USD (litellm cost).")
    time_limit: float | None = Field(default=None, gt=0, description="Wall-clock seconds.")
    attractor_stop: int | None = Field(
        default=None, ge=1, description="End after K turns in the same attractor."
    )
    scenario: str | None = None
    tool_pack: str | None = None
    seed_choice: int | None = None
    """Which of a scenario's seed phrasings this session drew."""
    operator: list[ScriptedTurn] = Field(default_factory=list)
    """Scripted operator turns (`ScriptedTurn`); left out of the file when empty."""

    @model_validator(mode="after")
    def _scripted_within_limit(self) -> SessionConfig:
        for turn in self.operator:
            if self.turns is not None and turn.round > self.turns:
                raise ValueError(f"operator turn at round {turn.round} is beyond the turn "
                                 f"limit ({self.turns} rounds)")
        return self

    def side(self, side: Side) -> SideConfig:
        return self.a if side == "A" else self.b

    @model_serializer(mode="wrap")
    def _prompt_once(self, handler: SerializerFunctionWrapHandler,
                     info: SerializationInfo) -> dict[str, Any]:
        """B's system prompt, when long and the same as A's, is stored as `system_from: "a"`.

        Both sides usually share one prompt; an 80-page one would otherwise fill
        a session file's first line twice (and pass the browser's 1 MB header
        limit sooner). In-memory dumps (`model_dump()`) stay whole.
        """
        out: dict[str, Any] = handler(self)
        if not out.get("operator", True):  # files without scripted turns stay as they were
            del out["operator"]
        side_b = out.get("b")
        if (info.mode_is_json() and isinstance(side_b, dict) and "system" in side_b
                and len(self.b.system) >= SHARED_PROMPT_CHARS
                and self.b.system == self.a.system):
            side_b = {k: v for k, v in side_b.items() if k != "system"}
            side_b["system_from"] = "a"
            out["b"] = side_b
        return out

    @model_validator(mode="before")
    @classmethod
    def _prompt_from_a(cls, data: Any) -> Any:
        """Read B's `system_from: "a"` back as A's prompt (files written before it hold both)."""
        if not isinstance(data, dict) or not isinstance(data.get("b"), dict):
            return data
        side_b = data["b"]
        if "system_from" not in side_b:
            return data
        side_b = dict(side_b)
        source = side_b.pop("system_from")
        side_a = data.get("a")
        system = (side_a.get("system") if isinstance(side_a, dict)
                  else getattr(side_a, "system", None))
        if source != "a" or not isinstance(system, str):
            raise ValueError('b.system_from may only be "a", with a.system present')
        side_b.setdefault("system", system)
        return {**data, "b": side_b}


SHARED_PROMPT_CHARS = 1024
"""Shorter prompts are stored as they are: a reader sees them in the line itself."""
