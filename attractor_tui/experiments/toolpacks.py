"""Tool packs: TOML files of tools in the OpenAI function format, each with an `effect`.

Shipped packs are in `presets/toolpacks/`, the user's own in
`$XDG_CONFIG_HOME/attractor-tui/toolpacks/`; `core.tools.ToolJudge` applies them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from attractor_tui.core.config import ToolSpec
from attractor_tui.experiments.presets import available, load_model, resolve


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
