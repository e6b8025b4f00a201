"""The start screen: scenario, models, prompts, seed, tools, length, theme; Enter.

Shown when attractor-tui is launched without a session configuration. It
only builds a `SessionConfig`; the app starts the session with it. Picking a
scenario fills the form from that preset (models stay as typed); every field
can still be edited afterwards.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Select, Static

from attractor_tui.core.config import KEEP_CREDENTIALS, SessionConfig, SideConfig, ToolSpec
from attractor_tui.core.text import safe_line
from attractor_tui.experiments.presets import PresetError
from attractor_tui.ui.screens.session import display_path
from attractor_tui.ui.widgets.footer import KeyFooter


def option_label(name: str, description: str) -> Text:
    """A preset in a `Select`: plain `Text`, as a `str` option would be parsed as markup."""
    return Text(f"{safe_line(name)} — {safe_line(description)[:60]}")


class StartScreen(Screen[None]):
    """A form for a new session; `Start` posts `StartScreen.Start`."""

    BINDINGS = [
        Binding("ctrl+s", "start", "Start"),
        Binding("ctrl+o", "browse", "Sessions"),
        Binding("f1", "app.help", "Help"),
    ]
    AUTO_FOCUS = "#model-a"

    class Start(Message):
        def __init__(self, config: SessionConfig) -> None:
            super().__init__()
            self.config = config

    class Browse(Message):
        """Open the session browser (the app owns what it leads to)."""

    def __init__(self, config: SessionConfig | None, out_dir: Path) -> None:
        super().__init__(id="start")
        self.config = config or SessionConfig()
        self.out_dir = out_dir

    def compose(self) -> ComposeResult:
        cfg = self.config
        with VerticalScroll(id="start-form"):
            yield Static(Content("attractor-tui"), id="start-title")
            yield Static(
                Content("Two language models talk to each other; you watch, pause and step in."),
                id="start-subtitle",
            )
            with Horizontal(classes="start-row"):
                with Vertical(classes="start-cell"):
                    yield Label(Content("Scenario"), classes="field-label")
                    scenarios = self._scenario_options()
                    known = cfg.scenario in {name for _, name in scenarios}
                    yield Select(scenarios, value=cfg.scenario if known else Select.NULL,
                                 prompt="(none: the fields below)", id="scenario")
                with Vertical(classes="start-cell"):
                    yield Label(Content("Tool pack (offered to the models)"),
                                classes="field-label")
                    packs = self._pack_options()
                    pack = cfg.tool_pack if cfg.tool_pack in {n for _, n in packs} else "none"
                    yield Select(packs, value=pack, allow_blank=False, id="tool-pack")
            with Horizontal(id="start-sides"):
                for side, side_cfg in (("A", cfg.a), ("B", cfg.b)):
                    key = side.lower()
                    with Vertical(classes=f"start-side side-{key}"):
                        yield Label(Content(f"Side {side}"), classes="start-side-title")
                        yield Label(Content("Model"), classes="field-label")
                        yield Input(side_cfg.model, id=f"model-{key}", placeholder="provider/model")
                        yield Label(Content("System prompt"), classes="field-label")
                        yield Input(side_cfg.system, id=f"system-{key}",
                                    placeholder="(no system prompt)")
            yield Label(Content("Seed message (A's first user message)"), classes="field-label")
            yield Input(cfg.seed, id="seed")
            with Horizontal(classes="start-row"):
                with Vertical(classes="start-cell"):
                    yield Label(Content("Turns per side (empty = until stopped)"),
                                classes="field-label")
                    yield Input(
                        "" if cfg.turns is None else str(cfg.turns), id="turns",
                        type="integer", placeholder="unlimited",
                    )
                with Vertical(classes="start-cell"):
                    yield Label(Content("Theme"), classes="field-label")
                    themes = sorted(self.app.available_themes)
                    yield Select(
                        [(Text(safe_line(name)), name) for name in themes], value=self.app.theme,
                        allow_blank=False, id="theme",
                    )
            yield Static(id="start-error")
            yield Button("Start  ⏎", id="start-button", variant="primary")
            yield Static(
                Content(f"Sessions are saved in {safe_line(display_path(self.out_dir))}/"),
                id="start-out-dir",
            )
        yield KeyFooter()

    @staticmethod
    def _scenario_options() -> list[tuple[Text, str]]:
        from attractor_tui.experiments.scenarios import list_scenarios

        return [(option_label(name, text), name) for name, text in sorted(list_scenarios().items())]

    @staticmethod
    def _pack_options() -> list[tuple[Text, str]]:
        from attractor_tui.experiments.toolpacks import list_tool_packs

        packs = sorted(list_tool_packs().items())
        return [(option_label(name, text), name) for name, text in packs]

    def _show_error(self, text: str) -> None:
        error = self.query_one("#start-error", Static)
        error.update(Content(safe_line(text)))
        error.add_class("visible")

    @on(Select.Changed, "#scenario")
    def _scenario(self, event: Select.Changed) -> None:
        """Fill the form from the scenario; the typed models are kept."""
        if not isinstance(event.value, str) or event.value == self.config.scenario:
            return
        from attractor_tui.experiments.scenarios import load_scenario

        models = {k: self.query_one(f"#model-{k}", Input).value.strip() for k in "ab"}
        try:
            config = load_scenario(event.value).session_config(
                0, {"model_a": models["a"] or None, "model_b": models["b"] or None})
        except PresetError as exc:
            self._show_error(str(exc))
            return
        self.config = config
        for key, side_cfg in (("a", config.a), ("b", config.b)):
            self.query_one(f"#system-{key}", Input).value = side_cfg.system
        self.query_one("#seed", Input).value = config.seed
        self.query_one("#turns", Input).value = "" if config.turns is None else str(config.turns)
        self.query_one("#tool-pack", Select).value = config.tool_pack or "none"

    def _tools_for(self, pack: str) -> list[ToolSpec] | None:
        """The pack's tools for both sides when the pick differs from the config's pack."""
        if pack == (self.config.tool_pack or "none"):
            return None
        from attractor_tui.experiments.toolpacks import load_tool_pack

        try:
            tools = load_tool_pack(pack).tools
        except PresetError as exc:
            raise ValueError(str(exc)) from exc
        return list(tools)

    def build_config(self) -> SessionConfig:
        """The form as a `SessionConfig`; raises `ValueError` with a readable message."""
        values = {w.id: w.value.strip() for w in self.query(Input) if w.id}
        for key in ("model-a", "model-b"):
            if not values[key]:
                raise ValueError(f"Model {key[-1].upper()} is empty")
        turns_text = values["turns"]
        turns = None
        if turns_text:
            turns = int(turns_text)
            if turns < 1:
                raise ValueError("Turns must be 1 or more (or empty for no limit)")
        pack = self.query_one("#tool-pack", Select).value
        pack = pack if isinstance(pack, str) else "none"
        tools = self._tools_for(pack)

        def side(key: str, current: SideConfig) -> SideConfig:
            fields = {**current.model_dump(context={KEEP_CREDENTIALS: True}),
                      "model": values[f"model-{key}"],
                      "system": values[f"system-{key}"]}
            if tools is not None:
                fields["tools"] = [t.model_dump() for t in tools]
            return SideConfig.model_validate(fields)

        try:
            return self.config.model_copy(
                update={
                    "a": side("a", self.config.a),
                    "b": side("b", self.config.b),
                    "seed": self.query_one("#seed", Input).value,
                    "turns": turns,
                    "tool_pack": None if pack == "none" else pack,
                }
            )
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"]) from exc

    def action_start(self) -> None:
        try:
            config = self.build_config()
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self.query_one("#start-error", Static).remove_class("visible")
        self.post_message(self.Start(config))

    def action_browse(self) -> None:
        self.post_message(self.Browse())

    @on(Input.Submitted)
    @on(Button.Pressed, "#start-button")
    def _submit(self) -> None:
        self.action_start()

    @on(Select.Changed, "#theme")
    def _theme(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.app.theme:
            self.app.theme = event.value
