"""Scenarios: named experiment presets (prompts, seeds, tools, stop rules).

A scenario file is TOML. Shipped ones live in `presets/scenarios/`, user ones
in `$XDG_CONFIG_HOME/attractor-tui/scenarios/`. A scenario with several seed
phrasings draws one per run (deterministically from the run index, so a batch
can be re-run and resumed), and the choice is recorded in the session config.

Long prompts live in files beside the scenario: `system_file`, `system_a_file`,
`system_b_file` and `seed_file` name text files relative to the scenario file
(read when it is loaded, so a missing one fails at once, naming both files).

`[[operator]]` entries are scripted operator turns (`core.config.ScriptedTurn`):
`round`, `side`, `text` (or `text_file`, relative to the scenario), and
optionally `when = "attractor"` or `every = N`. `--operator ROUND:SIDE:TEXT`
and `batch --vary operator=...` take the short form `parse_operator` reads.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from attractor_tui.core.config import (
    DEFAULT_SEED,
    DEFAULT_SYSTEM,
    ContextPolicy,
    ScriptedTurn,
    SessionConfig,
    SideConfig,
)
from attractor_tui.experiments.presets import (
    PresetError,
    descriptions,
    load_model,
    read_prompt_file,
    resolve,
)
from attractor_tui.experiments.toolpacks import load_tool_pack


class ScenarioSide(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: str | None = None
    stop_phrases: list[str] | None = None
    tpm: int | None = Field(default=None, ge=1)
    rpm: int | None = Field(default=None, ge=1)


class ScenarioOperator(ScriptedTurn):
    """A scripted operator turn as a scenario writes it: `text` or `text_file`."""

    text: str = ""
    text_file: str | None = None

    def scripted(self) -> ScriptedTurn:
        return ScriptedTurn(**self.model_dump(exclude={"text_file"}))


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    system: str = DEFAULT_SYSTEM
    """System prompt for both sides unless a side overrides it."""
    a: ScenarioSide = Field(default_factory=ScenarioSide)
    b: ScenarioSide = Field(default_factory=ScenarioSide)
    seeds: list[str] = Field(default_factory=lambda: [DEFAULT_SEED], min_length=1)
    tool_pack: str = "none"
    tools_for: Literal["both", "A", "B"] = "both"
    stop_phrases: list[str] = Field(default_factory=list)
    stop_policy: Literal["either", "both"] = "either"
    turns: int | None = Field(default=30, ge=1)
    context: ContextPolicy = "truncate"
    attractor_stop: int | None = Field(default=None, ge=1)
    """End after this many model turns in the same attractor state."""
    temperature: float | None = Field(default=None, ge=0, le=2)
    """Sampling temperature of both sides (None: the side's default)."""
    max_tokens: int | None = Field(default=None, ge=1)
    """Longest reply per turn, both sides (None: the side's default)."""
    tpm: int | None = Field(default=None, ge=1)
    """Tokens a minute per side's model (`core.pacing`); a side's own `tpm` wins."""
    rpm: int | None = Field(default=None, ge=1)
    """Calls a minute per side's model; a side's own `rpm` wins."""
    system_file: str | None = None
    """A text file (relative to the scenario file) holding `system`."""
    system_a_file: str | None = None
    system_b_file: str | None = None
    seed_file: str | None = None
    """A text file holding the one seed (instead of `seeds`)."""
    operator: list[ScenarioOperator] = Field(default_factory=list)
    """Scripted operator turns (`[[operator]]`), in the order they are checked."""
    memory: str | None = None
    """One memory file both sides share (`sessions.memory`), relative to the current folder."""
    memory_a: str | None = None
    """Side A's own memory file (wins over `memory` for A)."""
    memory_b: str | None = None

    @model_validator(mode="after")
    def _operator_within_turns(self) -> Scenario:
        for turn in self.operator:
            if self.turns is not None and turn.round > self.turns:
                raise ValueError(f"operator turn at round {turn.round} is beyond the turn "
                                 f"limit (turns = {self.turns})")
        return self

    def session_config(
        self, run_index: int = 0, overrides: dict[str, Any] | None = None
    ) -> SessionConfig:
        """The config for run `run_index`; `overrides` sets SessionConfig/SideConfig fields.

        Override keys: `model` (both sides), `model_a`, `model_b`, `memory` (both sides),
        `memory_a`, `memory_b`, `turns`, `seed`, and any other SessionConfig field.
        """
        overrides = dict(overrides or {})
        tools = load_tool_pack(self.tool_pack).tools
        choice = random.Random(f"{self.name}:{run_index}").randrange(len(self.seeds))
        model = overrides.pop("model", None)
        models = {"A": overrides.pop("model_a", None) or model,
                  "B": overrides.pop("model_b", None) or model}
        memory = overrides.pop("memory", None) or self.memory
        memories = {"A": overrides.pop("memory_a", None) or self.memory_a or memory,
                    "B": overrides.pop("memory_b", None) or self.memory_b or memory}

        def side(which: Literal["A", "B"], part: ScenarioSide) -> SideConfig:
            fields: dict[str, Any] = {
                "system": part.system if part.system is not None else self.system,
                "stop_phrases": (part.stop_phrases if part.stop_phrases is not None
                                 else self.stop_phrases),
                "tools": tools if self.tools_for in ("both", which) else [],
                "context": self.context,
            }
            if self.temperature is not None:
                fields["temperature"] = self.temperature
            if self.max_tokens is not None:
                fields["max_tokens"] = self.max_tokens
            for unit in ("tpm", "rpm"):
                value = getattr(part, unit)
                value = value if value is not None else getattr(self, unit)
                if value is not None:
                    fields[unit] = value
            if models[which]:
                fields["model"] = models[which]
            if memories[which]:
                fields["memory"] = memories[which]
            return SideConfig(**fields)

        fields: dict[str, Any] = {
            "a": side("A", self.a), "b": side("B", self.b),
            "seed": self.seeds[choice], "turns": self.turns, "stop_policy": self.stop_policy,
            "scenario": self.name, "tool_pack": self.tool_pack,
            "seed_choice": choice if len(self.seeds) > 1 else None,
            "attractor_stop": self.attractor_stop,
            "operator": [turn.scripted() for turn in self.operator],
        }
        fields.update({k: v for k, v in overrides.items() if v is not None})
        return SessionConfig(**fields)


def load_scenario(name_or_path: str) -> Scenario:
    """The scenario, with its tool pack loaded too: a missing or broken pack fails now,
    naming the scenario file, not mid-run."""
    path = resolve("scenarios", name_or_path)
    scenario = with_prompt_files(path, load_model(path, Scenario))
    try:
        load_tool_pack(scenario.tool_pack)
    except PresetError as exc:
        raise PresetError(f"{path}: key 'tool_pack' = {scenario.tool_pack!r} cannot be used: "
                          f"{exc}") from exc
    return scenario


def with_prompt_files(path: Path, scenario: Scenario) -> Scenario:
    """`scenario` with the text of its `*_file` keys read in (relative to `path`)."""
    def read(key: str, taken: str, clash: bool) -> str | None:
        name = getattr(scenario, key)
        if name is None:
            return None
        if clash:
            raise PresetError(f"{path}: both '{key}' and '{taken}' are set: keep one")
        return read_prompt_file(path, key, name)

    update: dict[str, Any] = {}
    system = read("system_file", "system", "system" in scenario.model_fields_set)
    if system is not None:
        update["system"] = system
    for which, part in (("a", scenario.a), ("b", scenario.b)):
        text = read(f"system_{which}_file", f"{which}.system", part.system is not None)
        if text is not None:
            update[which] = part.model_copy(update={"system": text})
    seed = read("seed_file", "seeds", "seeds" in scenario.model_fields_set)
    if seed is not None:
        update["seeds"] = [seed]
    if any(turn.text_file for turn in scenario.operator):
        turns = []
        for n, turn in enumerate(scenario.operator, 1):
            key = f"operator[{n}].text_file"
            if turn.text_file is not None:
                if turn.text:
                    raise PresetError(f"{path}: both '{key}' and 'operator[{n}].text' are set: "
                                      "keep one")
                turn = turn.model_copy(update={"text": read_prompt_file(path, key,
                                                                        turn.text_file),
                                               "text_file": None})
            turns.append(turn)
        update["operator"] = turns
    return scenario.model_copy(update=update) if update else scenario


def parse_operator(spec: str, read: Callable[[str], str]) -> ScriptedTurn:
    """`ROUND:SIDE:TEXT` (round 1-based, side A or B, TEXT or `@PATH`) as a scripted turn.

    `read` turns `@PATH` into its text (the caller knows where paths are relative
    to). `ValueError` says what is wrong, in one line.
    """
    parts = spec.split(":", 2)
    if len(parts) < 3:
        raise ValueError(f"{spec!r}: write ROUND:SIDE:TEXT, e.g. 10:B:@direct.txt")
    round_, side, text = parts
    try:
        number = int(round_)
    except ValueError:
        raise ValueError(f"{spec!r}: the round {round_!r} is not a whole number") from None
    if number < 1:
        raise ValueError(f"{spec!r}: rounds count from 1")
    if side.strip().upper() not in ("A", "B"):
        raise ValueError(f"{spec!r}: unknown side {side!r}; use A or B")
    if text.startswith("@@"):
        text = text[1:]
    elif text.startswith("@"):
        text = read(text[1:])
    if not text.strip():
        raise ValueError(f"{spec!r}: the text is empty")
    return ScriptedTurn(round=number, side=side.strip().upper(), text=text)  # type: ignore[arg-type]


def list_scenarios() -> dict[str, str]:
    """Name -> description; a broken one (its tool pack too) says so instead."""
    return descriptions("scenarios", load_scenario)
