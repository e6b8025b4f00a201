"""The rules that decide what a tool call does (packs are loaded by `experiments.toolpacks`).

Each offered tool has an `effect` (see `config.ToolSpec`). The engine asks `ToolJudge` about each
call; the judge counts attempts per tool across the whole session so
`allow_after` works across turns and after a resume.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from attractor_tui.core.config import ToolSpec
from attractor_tui.core.events import Turn

UNKNOWN_TOOL_RESULT = "There is no tool with that name. Continue the conversation."


Outcome = Literal["denied", "ended", "allowed", "unknown", "ask"]


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    result: str
    ends: bool = False


class ToolJudge:
    """Applies pack effects; remembers attempts per tool name."""

    def __init__(self, prior: Iterable[Turn] = ()) -> None:
        self.attempts: Counter[str] = Counter(
            call.name for turn in prior for call in turn.tool_calls if call.kind == "tool"
        )

    def judge(self, spec: ToolSpec | None, name: str) -> Verdict:
        self.attempts[name] += 1
        if spec is None:
            return Verdict("unknown", UNKNOWN_TOOL_RESULT)
        if spec.effect == "end":
            return Verdict("ended", "The conversation has ended.", ends=True)
        if spec.effect == "allow_after":
            if self.attempts[name] > spec.attempts:
                return Verdict("ended", "The conversation has ended.", ends=True)
            return Verdict("denied", spec.result)
        if spec.effect == "ask":
            return Verdict("ask", spec.result)
        return Verdict("denied", spec.result)
