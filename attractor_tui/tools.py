"""Tool packs and the rules that decide what a tool call does.

A pack is a TOML file of tools in the OpenAI function format plus an
`effect` each (see `config.ToolSpec`). The engine asks `ToolJudge` about each
call; the judge counts attempts per tool across the whole session so
`allow_after` works across turns and after a resume.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .config import ToolSpec
from .events import Turn
from .presetfiles import available, load_model, resolve

UNKNOWN_TOOL_RESULT = "There is no tool with that name. Continue the conversation."


class ToolPack(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    tools: list[ToolSpec] = Field(default_factory=list)


def load_tool_pack(name_or_path: str) -> ToolPack:
    return load_model(resolve("toolpacks", name_or_path), ToolPack)


def list_tool_packs() -> dict[str, str]:
    """Pack name -> description, for pickers and `--help`."""
    out = {}
    for name, path in available("toolpacks").items():
        try:
            out[name] = load_model(path, ToolPack).description
        except Exception as exc:  # a broken user file must not hide the others
            out[name] = f"(broken: {exc})"
    return out


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
