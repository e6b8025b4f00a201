"""The start screen: pick models, prompts, seed, length and theme, then Enter.

Shown when attractor-tui is launched without a session configuration. It
only builds a `SessionConfig`; the app starts the session with it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from ...config import SessionConfig, SideConfig
from ..sanitize import sanitize_line
from .session import display_path


class StartScreen(Screen):
    """A form for a new session; `Start` posts `StartScreen.Start`."""

    BINDINGS = [
        Binding("ctrl+s", "start", "Start"),
        Binding("f1", "app.help", "Help"),
    ]
    AUTO_FOCUS = "#model-a"

    class Start(Message):
        def __init__(self, config: SessionConfig) -> None:
            super().__init__()
            self.config = config

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
            with Horizontal(id="start-row"):
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
                        [(name, name) for name in themes], value=self.app.theme,
                        allow_blank=False, id="theme",
                    )
            yield Static(id="start-error")
            yield Button("Start  ⏎", id="start-button", variant="primary")
            yield Static(
                Content(f"Sessions are saved in {sanitize_line(display_path(self.out_dir))}/"),
                id="start-out-dir",
            )
        yield Footer()

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
        try:
            return self.config.model_copy(
                update={
                    "a": SideConfig.model_validate(
                        {**self.config.a.model_dump(), "model": values["model-a"],
                         "system": values["system-a"]}
                    ),
                    "b": SideConfig.model_validate(
                        {**self.config.b.model_dump(), "model": values["model-b"],
                         "system": values["system-b"]}
                    ),
                    "seed": self.query_one("#seed", Input).value,
                    "turns": turns,
                }
            )
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"]) from exc

    def action_start(self) -> None:
        error = self.query_one("#start-error", Static)
        try:
            config = self.build_config()
        except ValueError as exc:
            error.update(Content(sanitize_line(str(exc))))
            error.add_class("visible")
            return
        error.remove_class("visible")
        self.post_message(self.Start(config))

    @on(Input.Submitted)
    @on(Button.Pressed, "#start-button")
    def _submit(self) -> None:
        self.action_start()

    @on(Select.Changed, "#theme")
    def _theme(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.app.theme:
            self.app.theme = event.value
