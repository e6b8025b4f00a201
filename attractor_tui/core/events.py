"""The event types: the one spine that engine, store, UI and analysis share.

Every line of a session file is one of the *persisted* events below, as JSON.
Transient events (a turn starting, text deltas, tool-call deltas) go to live
consumers only: a finished or interrupted `Turn` carries their sum.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from attractor_tui.core.config import SessionConfig, Side

SCHEMA_VERSION = 1

EMPTY_PLACEHOLDER = "[no reply]"
"""Sent to the other side in place of an empty or invisible-only reply.

Providers reject empty user messages with a 400 (a real run died that way), so
the recorded `Turn.text` keeps what the model produced and `Turn.sent_text`
holds this visible stand-in.
"""


def now() -> datetime:
    return datetime.now(UTC)


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    ts: datetime = Field(default_factory=now)


# ----------------------------------------------------------------- persisted


class SessionStart(_Event):
    """First line of every session file."""

    type: Literal["session_start"] = "session_start"
    schema_version: int = SCHEMA_VERSION
    session_id: str
    config: SessionConfig
    parent: str | None = None
    """Session file this one was forked from, if any."""
    parent_turn: int | None = None
    source: str | None = None
    """Where an imported session came from (e.g. `peer-log:<file>`)."""


class ToolCallRecord(BaseModel):
    """A tool call as made by a model within one turn."""

    model_config = ConfigDict(extra="allow")
    id: str = ""
    name: str
    arguments: str = ""
    """Raw JSON arguments as the model streamed them (may be invalid JSON)."""
    outcome: str = "called"
    """`denied`, `ended`, `allowed`, `matched` (stop phrase), `called` (no pack rule)."""
    result: str | None = None
    offset: int = 0
    """Position in the turn's text at which the call was made."""
    kind: Literal["tool", "phrase"] = "tool"


class Usage(BaseModel):
    model_config = ConfigDict(extra="allow")
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Turn(_Event):
    """One finished (or interrupted) turn of one side."""

    type: Literal["turn"] = "turn"
    index: int
    """0-based position among all turns of the session."""
    round: int
    """0-based; A and then B speak once per round."""
    side: Side
    author: Literal["model", "operator"] = "model"
    model: str = ""
    text: str
    """Exactly what was produced (may be empty or invisible-only)."""
    sent_text: str | None = None
    """What the other side received, when it differs from `text`."""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    interrupted: bool = False
    started: datetime | None = None
    usage: Usage | None = None
    cost: float | None = None
    finish_reason: str | None = None
    from_queue: str | None = None
    """For an operator turn: the `ref` of the queued interjection it used (marks it used)."""
    scripted: bool | None = None
    """True for an operator turn the config's `operator` list played (`ScriptedTurn`)."""
    rule: str | None = None
    """A scripted turn: the rule that fired, in words (`ScriptedTurn.describe`)."""
    script: int | None = None
    """A scripted turn: 0-based position of its rule in `config.operator` (never repeated
    on resume: the rule's firings are read back from these)."""

    @property
    def visible_text(self) -> str:
        """The text the other side saw."""
        return self.text if self.sent_text is None else self.sent_text


class OperatorAction(_Event):
    """Pause, resume, stop, ... by the operator (interjections become `Turn`s).

    `queue` is written the moment the operator queues a turn (with its `side`,
    `text` and a `ref`), so the one input that cannot be generated again is on
    disk before it waits for its slot; the operator `Turn` that uses it names
    the same `ref` in `from_queue`, and `drop` (same `ref`) records it taken
    back. A `queue` with neither is still waiting: `resume` restores it.
    """

    type: Literal["operator"] = "operator"
    action: Literal["pause", "resume", "stop", "interrupt", "retry", "queue", "drop"]
    detail: str = ""
    side: Side | None = None
    """`queue`/`drop`: the side whose turn the text is."""
    text: str | None = None
    """`queue`: the operator's text, exactly as typed."""
    ref: str | None = None
    """`queue`/`drop`: which queued interjection this is (unique within the file)."""


class ErrorEvent(_Event):
    """A provider or engine error, in words a user understands."""

    type: Literal["error"] = "error"
    side: Side | None = None
    message: str
    kind: str = "error"
    retryable: bool = False
    retry_in: float | None = None
    """Seconds until an automatic retry, when one is scheduled."""


class ContextTrim(_Event):
    """A side's history outgrew its window: older turns dropped or summarised.

    Turns with index < `keep_from` are left out of `side`'s history from now
    on; `summary`, if any, is added to that side's system prompt.
    """

    type: Literal["context"] = "context"
    side: Side
    action: Literal["truncate", "summarize"]
    keep_from: int
    summary: str | None = None
    dropped: int = 0


class MemoryUpdate(_Event):
    """A side's notes were rewritten in its memory file (issue 27).

    Written before the file is replaced, so the version it had (`previous`) is
    never lost; `trigger` is `end` (the session ended) or `summarize` (a trim).
    """

    type: Literal["memory"] = "memory"
    side: Side
    path: str
    previous: str
    notes: str
    trigger: Literal["end", "summarize"] = "end"


class SessionResume(_Event):
    """Marks where a resumed session continues in the same file."""

    type: Literal["session_resume"] = "session_resume"
    turns: int | None = None


class SessionEnd(_Event):
    type: Literal["session_end"] = "session_end"
    reason: str
    """`turns`, `operator`, `error`, `tool:<name>`, `phrase`, ..."""
    detail: str = ""


PersistedEvent = Annotated[
    SessionStart | Turn | OperatorAction | ErrorEvent | ContextTrim | SessionResume | SessionEnd
    | MemoryUpdate,
    Field(discriminator="type"),
]
PERSISTED_ADAPTER: TypeAdapter[Any] = TypeAdapter(PersistedEvent)

# ----------------------------------------------------------------- transient


class TurnBegin(_Event):
    type: Literal["turn_begin"] = "turn_begin"
    index: int
    round: int
    side: Side
    model: str
    author: Literal["model", "operator"] = "model"
    rule: str | None = None
    """A scripted operator turn: the rule that fired (shown as it lands)."""


class TextDelta(_Event):
    type: Literal["text_delta"] = "text_delta"
    index: int
    side: Side
    text: str


class ToolCallDelta(_Event):
    type: Literal["tool_call_delta"] = "tool_call_delta"
    index: int
    side: Side
    call_index: int
    name: str = ""
    arguments: str = ""
    """The arguments assembled so far."""


class ToolDecision(_Event):
    """A tool call's outcome is known (or, with `pending`, awaits the operator)."""

    type: Literal["tool_decision"] = "tool_decision"
    index: int
    side: Side
    call: ToolCallRecord
    pending: bool = False


class StateChange(_Event):
    """The engine's state as the UI should show it."""

    type: Literal["state"] = "state"
    state: Literal["running", "paused", "pausing", "waiting", "pacing", "remembering", "ended"]
    """`pacing`: a call waits for its side's per-minute budget (`detail` says how long);
    `remembering`: the turns are over and a side's model is rewriting its memory notes."""
    detail: str = ""


Event = (
    SessionStart
    | Turn
    | OperatorAction
    | ErrorEvent
    | ContextTrim
    | SessionResume
    | SessionEnd
    | MemoryUpdate
    | TurnBegin
    | TextDelta
    | ToolCallDelta
    | ToolDecision
    | StateChange
)
PERSISTED_TYPES = (
    SessionStart, Turn, OperatorAction, ErrorEvent, ContextTrim, SessionResume, SessionEnd,
    MemoryUpdate,
)


def is_persisted(event: Event) -> bool:
    return isinstance(event, PERSISTED_TYPES)


def new_session_id() -> str:
    """A fresh random session id (hex)."""
    return uuid.uuid4().hex
