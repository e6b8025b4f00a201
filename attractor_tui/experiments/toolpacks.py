"""Tool packs: TOML files of tools in the OpenAI function format, each with an `effect`.

Shipped packs are in `presets/toolpacks/`, the user's own in
`$XDG_CONFIG_HOME/attractor-tui/toolpacks/`; `core.tools.ToolJudge` applies them.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, SchemaError  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field

from attractor_tui.core.config import ToolSpec
from attractor_tui.experiments.presets import PresetError, descriptions, load_model, resolve

JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")


class ToolPack(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    tools: list[ToolSpec] = Field(default_factory=list)


def load_tool_pack(name_or_path: str) -> ToolPack:
    """The pack, checked as the provider would check it, so a mistake is caught here.

    Raises `PresetError` naming the file, the key and the fix for a tool whose
    parameters are not a valid JSON Schema object schema (a misspelt type
    would otherwise fail only at the first model call, with the provider's
    message) and for two tools of the same name (the judge could not tell
    them apart).
    """
    path = resolve("toolpacks", name_or_path)
    pack = load_model(path, ToolPack)
    seen: dict[str, int] = {}
    for number, tool in enumerate(pack.tools):
        if tool.name in seen:
            raise PresetError(
                f"{path}: key 'tools.{number}.name': a second tool named {tool.name!r} "
                f"(tools.{seen[tool.name]} has that name); tool names must be unique in a "
                "pack: rename or remove one"
            )
        seen[tool.name] = number
        problem = schema_problem(tool.parameters)
        if problem is not None:
            raise PresetError(f"{path}: key 'tools.{number}.parameters{problem}")
    return pack


def schema_problem(parameters: dict[str, Any]) -> str | None:
    """What is wrong with a tool's parameter schema ("<.sub.key>' ... fix"), or None.

    Checked against JSON Schema's own metaschema; the top level must be an
    object schema (or empty: no arguments), as the OpenAI function format requires.
    """
    try:
        Draft202012Validator.check_schema(parameters)
    except SchemaError as exc:
        key = "".join(f".{part}" for part in exc.path)
        if exc.path and exc.path[-1] == "type":
            return (f"{key}' has value {exc.instance!r}; use one of the JSON Schema types "
                    f"{', '.join(JSON_TYPES)}")
        return f"{key}' is not valid JSON Schema ({exc.message}); fix it there"
    if parameters and parameters.get("type") != "object":
        return (".type' must be \"object\" (a tool's parameters are an object schema, with "
                "its arguments under 'properties')")
    return None


def list_tool_packs() -> dict[str, str]:
    """Pack name -> description, for pickers and `--help`."""
    return descriptions("toolpacks", load_tool_pack)
