"""`batch --vary KEY=V1,V2,...`: the same batch once per value of one setting.

Each value gets its own sub-folder of the batch folder, named after the
value (made safe for a file name), and is an ordinary batch there: the same
run count, the same seeds (a scenario draws run i's seed phrasing from its
name and i, and the name is kept), resumable by running the same command
again. `vary.json` in the parent records the key, the values and their
folders, so `report PARENT --compare` knows the conditions and their order.

Models and the scenario are batch settings already; the others (tool pack,
a side's system prompt, temperature, the seed phrase, the scripted operator
turn: `operator=10:B:@direct.txt,none`, an `@PATH` read from the current
folder, else beside the scenario file or in the folder named after it) are
scenario fields,
so each such condition runs a copy of the scenario with that one field
changed, written as `scenario.toml` into its folder: what ran stays beside
the runs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attractor_tui.core.text import safe_text
from attractor_tui.experiments.presets import PresetError

if TYPE_CHECKING:
    from rich.console import Console

VARY_KEYS = ("tool_pack", "scenario", "model", "model_a", "model_b", "system_a", "system_b",
             "temperature", "seed", "operator")
NO_OPERATOR = "none"
"""`--vary operator=...,none`: the condition without a scripted operator turn."""
MANIFEST = "vary.json"
SCENARIO_FILE = "scenario.toml"
MAX_FOLDER = 48
"""Longest folder name made from a value; longer values keep a hash to stay unique."""
STOP_CODES = frozenset({2, 130, 143})
"""Batch exit codes after which the remaining conditions are not started."""


class VaryError(Exception):
    """A `--vary` setting that cannot run; the message says the fix."""


@dataclass(frozen=True)
class Condition:
    """One value's batch: where it goes and the batch settings that differ."""

    value: str
    folder: Path
    scenario: str
    """A scenario name, or the path of the condition's own scenario copy."""
    model_a: str | None
    model_b: str | None


def parse_vary(text: str) -> tuple[str, list[str]]:
    """`KEY=V1,V2,...` as (key, values); a `-` in the key may be written for `_`."""
    key, sep, rest = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or key not in VARY_KEYS:
        raise VaryError(f"--vary {text!r}: use KEY=V1,V2 with KEY one of {', '.join(VARY_KEYS)}")
    values = [v.strip() for v in rest.split(",")]
    if any(not v for v in values) or len(values) < 2:
        raise VaryError(f"--vary {text!r}: give two or more non-empty values, comma-separated")
    if len(set(values)) < len(values):
        raise VaryError(f"--vary {text!r}: a value is given twice")
    if key == "temperature":
        for v in values:
            try:
                t = float(v)
            except ValueError:
                raise VaryError(f"--vary temperature: {v!r} is not a number") from None
            if not 0 <= t <= 2:
                raise VaryError(f"--vary temperature: {v} is outside 0..2")
    return key, values


def folder_name(value: str) -> str:
    """A file-name-safe folder for `value`: letters, digits, `.`, `_`, `-`; a short hash
    is added when anything had to be changed or cut, so two values never share one."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", value).strip(".-") or "value"
    if safe != value or len(safe) > MAX_FOLDER:
        digest = hashlib.sha1(value.encode("utf-8")).hexdigest()[:6]
        safe = f"{safe[:MAX_FOLDER].rstrip('.-')}-{digest}"
    return safe


def plan(key: str, values: list[str], *, scenario: str, out: Path, model_a: str | None,
         model_b: str | None) -> list[Condition]:
    """The conditions, checked before anything runs (a missing tool pack fails now).

    Writes each condition's scenario copy (for scenario fields) and the parent's
    `vary.json`; refuses a folder made by a `--vary` of another key.
    """
    from attractor_tui.experiments.presets import resolve
    from attractor_tui.experiments.scenarios import load_scenario
    from attractor_tui.experiments.toolpacks import load_tool_pack

    folders = [folder_name(v) for v in values]
    _check_manifest(out, key)
    try:
        base = load_scenario(scenario) if key != "scenario" else None
    except PresetError as exc:
        raise VaryError(str(exc)) from exc
    operators: dict[str, list[dict[str, Any]]] = {}
    for value in values:  # every value checked before anything is written
        try:
            if key == "scenario":
                load_scenario(value)
            elif key == "tool_pack":
                load_tool_pack(value)
            elif key == "operator":
                operators[value] = _operator_turns(value, resolve("scenarios", scenario))
        except PresetError as exc:
            raise VaryError(f"--vary {key}={value}: {exc}") from exc
    conditions: list[Condition] = []
    for value, name in zip(values, folders, strict=True):
        folder = out / name
        cond = Condition(value=value, folder=folder, scenario=scenario, model_a=model_a,
                         model_b=model_b)
        if key == "scenario":
            cond = Condition(value, folder, value, model_a, model_b)
        elif key == "model":
            cond = Condition(value, folder, scenario, value, value)
        elif key == "model_a":
            cond = Condition(value, folder, scenario, value, model_b)
        elif key == "model_b":
            cond = Condition(value, folder, scenario, model_a, value)
        else:
            assert base is not None
            copy = _scenario_copy(base.model_dump(), key, value)
            if key == "operator":
                copy["operator"] = operators[value]
            try:
                _write_scenario(folder / SCENARIO_FILE, copy)
                load_scenario(str(folder / SCENARIO_FILE)).session_config(0)
            except (PresetError, ValueError) as exc:  # ValueError: e.g. a round past the limit
                raise VaryError(f"--vary {key}={value}: {_one_line(exc)}") from exc
            cond = Condition(value, folder, str(folder / SCENARIO_FILE), model_a, model_b)
        conditions.append(cond)
    _write_manifest(out, key, values, folders, scenario)
    return conditions


def _operator_turns(value: str, scenario: Path) -> list[dict[str, Any]]:
    """A `--vary operator` value as the copy's `[[operator]]` list (`none`: empty)."""
    from attractor_tui.experiments.scenarios import parse_operator
    from attractor_tui.sessions.log import SessionFileError, read_prompt

    if value == NO_OPERATOR:
        return []

    def read(name: str) -> str:
        path = Path(name).expanduser()
        if not path.exists() and not path.is_absolute():  # beside the scenario, or in its folder
            for beside in (scenario.parent / path, scenario.parent / scenario.stem / path):
                if beside.exists():
                    path = beside
                    break
        try:
            return read_prompt(path)
        except SessionFileError as exc:
            raise ValueError(str(exc)) from exc

    try:
        turn = parse_operator(value, read)
    except ValueError as exc:
        raise VaryError(f"--vary operator: {_one_line(exc)}") from exc
    return [turn.model_dump()]


def _one_line(exc: Exception) -> str:
    """A pydantic error's first problem (its message spans lines), else the message."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        problem = exc.errors()[0]
        return str(problem["msg"]).removeprefix("Value error, ")
    return str(exc)


def _scenario_copy(data: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    for name in ("system_file", "system_a_file", "system_b_file", "seed_file"):
        data.pop(name, None)  # their text is in the copy already (a file key beside it clashes)
    if key == "tool_pack":
        data["tool_pack"] = value
    elif key in ("system_a", "system_b"):
        data[key[-1]] = {**data[key[-1]], "system": value}
    elif key == "temperature":
        data["temperature"] = float(value)
    elif key == "seed":
        data["seeds"] = [value]
    return data


def _write_scenario(path: Path, data: dict[str, Any]) -> None:
    import tomlkit

    def clean(value: Any) -> Any:  # TOML has no null: leave unset fields out
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):  # e.g. [[operator]] tables
            return [clean(v) for v in value]
        return value

    path.parent.mkdir(parents=True, exist_ok=True)
    text = tomlkit.dumps(clean(data))
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _check_manifest(out: Path, key: str) -> None:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and data.get("key") not in (None, key):
        raise VaryError(f"{out} holds a --vary {data.get('key')} batch; use another --out "
                        f"for --vary {key}")


def _write_manifest(out: Path, key: str, values: list[str], folders: list[str],
                    scenario: str) -> None:
    """`vary.json`; values of an earlier run of this folder stay listed, first."""
    old_values: list[str] = []
    old_folders: list[str] = []
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        if isinstance(data, dict):
            old_values = [str(v) for v in data.get("values", [])]
            old_folders = [str(f) for f in data.get("folders", [])]
    except (OSError, ValueError):
        pass
    pairs = dict(zip(old_values, old_folders, strict=False))
    pairs.update(zip(values, folders, strict=True))
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).write_text(json.dumps({
        "version": 1, "key": key, "values": list(pairs), "folders": list(pairs.values()),
        "scenario": scenario,
    }, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def vary_command(text: str, *, scenario: str, out: Path, model_a: str | None,
                 model_b: str | None, run: Callable[[Condition], int],
                 console: Console | None = None) -> int:
    """Run `run(condition)` (one ordinary batch) per value, in order; the worst exit code.

    2 when the setting cannot run; an interrupted or unstartable condition
    stops the rest (rerun the same command to go on).
    """
    from rich.console import Console
    from rich.text import Text

    console = console or Console(stderr=True, highlight=False)
    try:
        key, values = parse_vary(text)
        conditions = plan(key, values, scenario=scenario, out=out, model_a=model_a,
                          model_b=model_b)
    except VaryError as exc:
        console.print(Text(safe_text(f"attractor-tui: {exc}")), soft_wrap=True)
        return 2
    worst = 0
    for number, cond in enumerate(conditions, 1):
        console.print(Text(safe_text(f"condition {number}/{len(conditions)}: {key}={cond.value}"
                                     f" -> {cond.folder}"), style="bold"))
        code = run(cond)
        worst = max(worst, code)
        if code in STOP_CODES:
            if number < len(conditions):
                console.print(Text(safe_text(
                    f"stopped before {len(conditions) - number} more condition(s); run the "
                    "same command again to go on")))
            return code
    console.print(Text(safe_text(f"compare them: attractor-tui report {out} --compare")))
    return worst
