"""Flows that cross screens: resume in the app, tool calls left to the operator,
scenario and tool-pack pickers, and the browser reached from the start screen."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Select, TextArea

from attractor_tui.core.config import SessionConfig, SideConfig, ToolSpec
from attractor_tui.core.history import messages_for
from attractor_tui.sessions.store import load_session
from attractor_tui.ui.app import AttractorApp
from attractor_tui.ui.screens.browser import BrowserScreen
from attractor_tui.ui.screens.dialogs import ToolAskScreen
from attractor_tui.ui.screens.start import StartScreen
from tests.support.builders import frozen_clock, scripted
from tests.support.ui import config, make_app, screen_text, session, wait_ended
from tests.support.waiting import wait_until

ASK = ToolSpec(name="leave", description="leave the conversation", effect="ask",
               result="The operator decides.")
ASKING = {"text": "May I go?", "tool_calls": [
    {"id": "call-1", "name": "leave", "arguments": {"why": "we are done"}}]}


def asking_config(turns: int = 3) -> SessionConfig:
    a = scripted([ASKING, "still here"]).model_copy(update={"tools": [ASK]})
    return config(a=a, turns=turns)


async def test_ask_tool_call_allowed_by_the_operator_ends_the_session(tmp_path: Path) -> None:
    app = make_app(tmp_path, asking_config())
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ToolAskScreen), what="ask dialog")
        text = screen_text(app)
        assert "A calls leave. Allow it?" in text and '"why": "we are done"' in text
        await pilot.press("y")
        await wait_ended(pilot)
        assert "tool:leave" in screen_text(app)
    log = load_session(tmp_path / "session.jsonl")
    assert log.turns[0].tool_calls[0].outcome == "allowed"
    assert log.end is not None and log.end.reason == "tool:leave"


async def test_ask_dialog_can_wait_and_come_back_to_deny(tmp_path: Path) -> None:
    app = make_app(tmp_path, asking_config(turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ToolAskScreen), what="ask dialog")
        await pilot.press("escape")
        screen = session(app)
        await wait_until(pilot, lambda: app.screen is screen, what="dialog closed")
        assert screen.engine is not None and screen.engine.pending_asks() == ["call-1"]
        assert "waiting for you: allow or deny leave? (o)" in screen_text(app)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, ToolAskScreen), what="dialog again")
        await pilot.press("n")
        await wait_ended(pilot)
    log = load_session(tmp_path / "session.jsonl")
    call = log.turns[0].tool_calls[0]
    assert call.outcome == "denied" and call.result == "The operator decides."
    # the denied call went back to A as a tool message and A's turn continued
    assert log.turns[0].text.startswith("May I go?")
    assert log.end is not None and log.end.reason == "turns"


async def test_resume_in_the_app_continues_the_same_file(tmp_path: Path) -> None:
    first = make_app(tmp_path, config(turns=1))
    async with first.run_test(size=(140, 40)) as pilot:
        await wait_ended(pilot)
    path = tmp_path / "session.jsonl"
    log = load_session(path)
    assert len(log.turns) == 2
    app = AttractorApp(None, tmp_path, resume=log, resume_turns=1, clock=frozen_clock())
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_ended(pilot)
        text = screen_text(app)
        assert "resumed after 2 turn(s); it had ended: turns" in text
        assert "echo 0: Hello! How can I help you today?" in text  # history shown
        assert "echo 1:" in text  # and new turns
    after = load_session(path)
    assert len(after.turns) == 4 and any(e.type == "session_resume" for e in after.events)
    # B's history after resuming is what an uninterrupted run would have sent
    uninterrupted = make_app(tmp_path / "u", config(turns=2))
    async with uninterrupted.run_test(size=(140, 40)) as pilot:
        await wait_ended(pilot)
    straight = load_session(tmp_path / "u" / "session.jsonl")
    assert [t.text for t in after.turns] == [t.text for t in straight.turns]
    assert messages_for(after.config, "B", after.turns[:3]) == \
        messages_for(straight.config, "B", straight.turns[:3])


async def test_scenario_picker_fills_the_form_and_keeps_models(tmp_path: Path) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        form = app.screen
        assert isinstance(form, StartScreen)
        form.query_one("#model-a", Input).value = "scripted/goodbye"
        form.query_one("#model-b", Input).value = "scripted/echo"
        form.query_one("#scenario", Select).value = "exit-pressure"
        await pilot.pause()
        assert form.query_one("#tool-pack", Select).value == "exit-costs"
        assert "must" in form.query_one("#system-a", TextArea).text.lower()
        cfg = form.build_config()
        assert cfg.scenario == "exit-pressure" and cfg.a.model == "scripted/goodbye"
        assert {t.name for t in cfg.a.tools} == {t.name for t in cfg.b.tools}
        assert len(cfg.a.tools) == 4
        form.query_one("#tool-pack", Select).value = "exit-free"
        cfg = form.build_config()
        assert cfg.tool_pack == "exit-free" and [t.name for t in cfg.a.tools] == [
            "end_conversation"]
        form.query_one("#tool-pack", Select).value = "none"
        assert form.build_config().a.tools == []


async def test_start_screen_opens_the_browser_and_resumes_from_it(tmp_path: Path) -> None:
    out = tmp_path / "sessions"
    first = AttractorApp(config(turns=1), out, session_path=out / "old.jsonl")
    async with first.run_test(size=(140, 40)) as pilot:
        await wait_ended(pilot)
    app = make_app(tmp_path, None)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, BrowserScreen), what="browser")
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 1, what="one row")
        await pilot.press("r")
        await wait_until(pilot, lambda: app.session is not None and app.screen is app.session,
                       what="resumed session")
        await wait_ended(pilot)
        assert session(app).session_path == out / "old.jsonl"
    log = load_session(out / "old.jsonl")
    assert len(log.turns) == 4 and any(e.type == "session_resume" for e in log.events)


def test_a_foreign_log_is_refused_with_advice(tmp_path: Path, capsys) -> None:
    from attractor_tui.sessions.store import SessionLog
    from attractor_tui.ui.app import run_resume

    cfg = SessionConfig(a=SideConfig(model="scripted/x"), b=SideConfig(model="scripted/y"))
    from attractor_tui.core.events import SessionStart

    log = SessionLog(path=tmp_path / "f.jsonl", events=[SessionStart(
        session_id="x", config=cfg, source="peer-log:x.jsonl")])
    assert run_resume(log) == 2
    assert "run `attractor-tui import`" in capsys.readouterr().err


async def test_exit_pressure_tool_call_in_the_panel_and_the_export(tmp_path: Path) -> None:
    """Issue 5's end-to-end check: litellm's own mock path carries a tool call."""
    from litellm import ModelResponse

    from attractor_tui.experiments.scenarios import load_scenario
    from attractor_tui.sessions.export import export_session
    from attractor_tui.ui.widgets.tool_panel import ToolPanel

    response = ModelResponse(choices=[{"message": {
        "role": "assistant", "content": "This is going nowhere.",
        "tool_calls": [{"id": "t1", "type": "function", "function": {
            "name": "exit_burning_money", "arguments": '{"reason": "useless talk"}'}}]}}])
    base = load_scenario("exit-pressure").session_config(0, {"turns": 1})
    cfg = base.model_copy(update={
        "a": base.a.model_copy(update={"model": "openai/gpt-4o-mini",
                                       "params": {"mock_response": response}}),
        "b": scripted(["ok"]).model_copy(update={"tools": base.b.tools}),
    })
    app = make_app(tmp_path, cfg)
    async with app.run_test(size=(160, 44)) as pilot:
        await wait_ended(pilot)
        await pilot.press("t")
        assert app.screen.query_one(ToolPanel).display
        await wait_until(pilot, lambda: True)
        text = screen_text(app)
        assert "exit_burning_money" in text and "[denied]" in text
        assert '"reason": "useless talk"' in text
    log = load_session(tmp_path / "session.jsonl")
    call = log.turns[0].tool_calls[0]
    assert (call.name, call.outcome) == ("exit_burning_money", "denied")
    markdown = export_session(log, "md")
    assert "tool call" in markdown and "exit_burning_money" in markdown and "denied" in markdown


async def test_meter_follows_the_conversation_and_notifies_on_entering(tmp_path: Path) -> None:
    slow = {"delay": 0.01}  # a few ms per chunk: the pause below lands before turn 6
    app = make_app(tmp_path, config(a=scripted(name="goodbye", **slow),
                                    b=scripted(name="echo", **slow), turns=8))
    async with app.run_test(size=(150, 44), notifications=True) as pilot:
        screen = session(app)
        await wait_until(pilot, lambda: screen.engine is not None
                       and screen.engine.completed_turns >= 2, what="2 turns", settled=False)
        assert screen.engine is not None
        await screen.engine.pause()
        await wait_until(pilot, lambda: screen.engine.state == "paused", what="paused")
        assert screen.engine.completed_turns < 6  # too few for any state to be called
        early = screen.meter.live.label
        await screen.engine.resume()
        await wait_ended(pilot)
        text = screen_text(app)
        assert "attractor meter" in text and "goodbye_loop" in text
        assert early != "goodbye_loop"  # it changed as turns finished
        assert any(n.title == "Attractor" and "Entered goodbye_loop" in n.message
                   for n in app._notifications)  # noqa: SLF001
        await pilot.press("m")
        assert not screen.meter.display
        await pilot.press("m")
        assert screen.meter.display
