"""The start screen: scenario, models, prompts, seed, tools, length, theme; Enter.

Shown when attractor-tui is launched without a session configuration. It
only builds a `SessionConfig`; the app starts the session with it. Picking a
scenario fills the form from that preset (models stay as typed); every field
can still be edited afterwards. A prompt field loads a file (ctrl+o in it) and
shows its length in tokens for its side's model, counted off the UI thread.
Before the app is asked to start, the session is opened once as a dry run, so
whatever would refuse it (a model litellm cannot route, a prompt too long for
its window) is one line here, not a traceback.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import ValidationError
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Select, Static, TextArea
from textual.worker import get_current_worker

from attractor_tui.core.config import (
    KEEP_CREDENTIALS,
    SessionConfig,
    SideConfig,
    ToolSpec,
)
from attractor_tui.core.model_check import config_model_problem
from attractor_tui.core.text import safe_line
from attractor_tui.core.window import count_tokens, model_window, prompt_problem
from attractor_tui.experiments.presets import PresetError
from attractor_tui.sessions.log import SessionFileError, read_prompt
from attractor_tui.ui.screens.replay import AskScreen
from attractor_tui.ui.widgets.footer import KeyFooter
from attractor_tui.ui.widgets.status import display_path

COUNT_DELAY = 0.3
"""Seconds of quiet typing before a prompt is counted again (a count of 100 KB takes a while)."""


def option_label(name: str, description: str) -> Text:
    """A preset in a `Select`: plain `Text`, as a `str` option would be parsed as markup.

    The whole description: the open list wraps it at words, and the closed box
    holds one line (`StartScreen`'s CSS), so it is never cut where there is room."""
    return Text(f"{safe_line(name)} — {safe_line(description)}")


def models_problem(config: SessionConfig) -> tuple[str, str] | None:
    """(field id, message) for the first side whose model cannot be called (the CLI's check)."""
    found = config_model_problem(config)
    if found is None:
        return None
    side, problem = found
    return f"model-{side.lower()}", f"Model {side}: {problem}"


def start_problem(config: SessionConfig, probe: Path) -> tuple[str | None, str] | None:
    """(field id to focus, message) for what would refuse to start `config`, or None.

    Models first, then prompts against their windows, then a dry `open_session`
    (nothing is written until an engine runs) for anything else it refuses.
    Runs in a thread: litellm's import and a long prompt's count take seconds.
    """
    found = models_problem(config)
    if found is not None:
        return found
    problem = prompt_problem(config)
    if problem is not None:
        side = "b" if "side A's" not in problem else "a"
        problem = problem.replace(" (--model-a/--model-b)", "")  # the model fields, here
        return f"system-{side}", problem[0].upper() + problem[1:]
    from attractor_tui.analysis.live import LiveAttractor, stop_rules
    from attractor_tui.sessions.runner import open_session

    try:
        open_session(config, probe, stop_rules=stop_rules, on_error="pause", interactive=True,
                     meter=LiveAttractor).release()  # a probe: its memory files stay free
    except (ValueError, SessionFileError, OSError) as exc:
        return None, f"Cannot start: {exc}"
    return None


def token_line(tokens: int, window: int | None) -> str:
    """`1,234 tokens · 30% of a 4,096-token window` under a prompt field (its model is above)."""
    if window is None:
        return f"{tokens:,} tokens · this model's window is unknown"
    share = 100 * tokens / window
    shown = f"{share:.0f}%" if share >= 1 or tokens == 0 else "<1%"
    over = ": too long to start" if tokens > window else ""
    return f"{tokens:,} tokens · {shown} of a {window:,}-token window{over}"


class PromptArea(TextArea):
    """A system prompt field; ctrl+o in it loads the prompt from a file."""

    BINDINGS = [Binding("ctrl+o", "load_file", "Load file")]

    class LoadFile(Message):
        def __init__(self, area: PromptArea) -> None:
            super().__init__()
            self.area = area

    def action_load_file(self) -> None:
        self.post_message(self.LoadFile(self))


class StartScreen(Screen[None]):
    """A form for a new session; `Start` posts `StartScreen.Start`."""

    BINDINGS = [
        Binding("ctrl+s", "start", "Start"),
        Binding("ctrl+o", "browse", "Sessions"),
        Binding("f1", "app.help", "Help"),
    ]
    AUTO_FOCUS = ""
    """Focus goes to the start button (`on_mount`): not a text field, so `q` and `?`
    work at once and no first key replaces a model."""
    DEFAULT_CSS = """
    StartScreen .prompt-tokens { color: $text-muted; height: auto; }
    StartScreen SelectCurrent Static#label { height: 1; text-wrap: nowrap;
                                             text-overflow: ellipsis; }
    """

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
        self._count_timers: dict[str, Timer] = {}

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
                        yield Input(side_cfg.model, id=f"model-{key}",
                                    placeholder="provider/model", select_on_focus=False)
                        yield Label(Content("System prompt"), classes="field-label")
                        yield PromptArea(side_cfg.system, id=f"system-{key}", soft_wrap=True,
                                         show_line_numbers=False, tab_behavior="focus",
                                         placeholder="(no system prompt; ctrl+o loads a file)",
                                         classes="system-prompt")
                        yield Static(id=f"tokens-{key}", classes="prompt-tokens")
            yield Label(Content("Seed message (A's first user message)"), classes="field-label")
            yield Input(cfg.seed, id="seed", select_on_focus=False)
            with Horizontal(classes="start-row"):
                with Vertical(classes="start-cell"):
                    yield Label(Content("Turns per side"), classes="field-label")
                    yield Input(
                        "" if cfg.turns is None else str(cfg.turns), id="turns",
                        type="integer", placeholder="unlimited (empty: until stopped)",
                        select_on_focus=False,
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
            self.query_one(f"#system-{key}", TextArea).load_text(side_cfg.system)
            self._count_later(key, 0.0)
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
                      "system": self.query_one(f"#system-{key}", TextArea).text.strip()}
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
        self._check_then_start(config)

    @work(exclusive=True, group="start", exit_on_error=False)
    async def _check_then_start(self, config: SessionConfig) -> None:
        """Start only what `start_problem` lets through; any other failure is one line too."""
        try:
            found = await asyncio.to_thread(start_problem, config, self.out_dir / "check.jsonl")
        except Exception as exc:  # noqa: BLE001 - whatever it is, a line, not a traceback
            found = None, f"Cannot start: {type(exc).__name__}: {exc}"
        if found is not None:
            field, message = found
            self._show_error(message)
            if field is not None:
                self.query_one(f"#{field}").focus()
            error = self.query_one("#start-error", Static)  # below a tall prompt: bring it up
            self.call_after_refresh(error.scroll_visible, animate=False)
            return
        self.query_one("#start-error", Static).remove_class("visible")
        self.post_message(self.Start(config))

    # ------------------------------------------------------------ prompt fields

    def on_mount(self) -> None:
        # the button has the keys, but the form opens at its title (focusing the
        # button the usual way scrolled a 12-row terminal down to it)
        self.set_focus(self.query_one("#start-button"), scroll_visible=False)
        for key in "ab":
            self._count_later(key, 0.0)

    @on(TextArea.Changed, ".system-prompt")
    def _prompt_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.id:
            self._count_later(event.text_area.id[-1])

    @on(Input.Changed, "#model-a, #model-b")
    def _model_changed(self, event: Input.Changed) -> None:
        if event.input.id:
            self._count_later(event.input.id[-1])

    def _count_later(self, key: str, delay: float = COUNT_DELAY) -> None:
        """Count side `key`'s prompt once typing pauses (each key restarts the wait)."""
        timer = self._count_timers.pop(key, None)
        if timer is not None:
            timer.stop()
        self._count_timers[key] = self.set_timer(delay, lambda: self._count(key))

    def _count(self, key: str) -> None:
        text = self.query_one(f"#system-{key}", TextArea).text.strip()
        model = self.query_one(f"#model-{key}", Input).value.strip()
        side = self.config.side("A" if key == "a" else "B").model_copy(update={"model": model})
        self.run_worker(lambda: self._count_in_thread(key, text, side), thread=True,
                        exclusive=True, group=f"tokens-{key}", exit_on_error=False)

    def _count_in_thread(self, key: str, text: str, side: SideConfig) -> None:
        if not side.model or not text:
            line = "" if side.model else "(no model: no token count)"
        else:
            try:
                tokens = count_tokens(side.model, [{"role": "system", "content": text}])
                line = token_line(tokens, model_window(side))
            except Exception as exc:  # noqa: BLE001 - a count is a hint, never a crash
                line = f"(cannot count tokens: {exc})"
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_count, key, line)

    def _show_count(self, key: str, line: str) -> None:
        for widget in self.query(f"#tokens-{key}").results(Static):  # none once started
            widget.update(Content(safe_line(line)))

    @on(PromptArea.LoadFile)
    def _load_file(self, event: PromptArea.LoadFile) -> None:
        self._ask_for_file(event.area)

    @work(group="load-prompt")
    async def _ask_for_file(self, area: TextArea) -> None:
        """Ask for a path and put the file's text in `area`; a bad path is one line there."""
        loaded: dict[str, str] = {}

        def check(answer: str) -> str | None:
            if not answer:
                return "Type the path of a text file (Escape cancels)."
            try:
                loaded["text"] = read_prompt(Path(answer).expanduser())
            except SessionFileError as exc:
                return str(exc)
            return None

        side = (area.id or "system-a")[-1].upper()
        answer = await self.app.push_screen_wait(AskScreen(
            f"Load side {side}'s system prompt from a file (it replaces the field's text):",
            check=check, placeholder="path/to/prompt.txt"))
        if answer is None or "text" not in loaded:
            return
        area.load_text(loaded["text"])
        area.focus()
        self._count_later(side.lower(), 0.0)

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
