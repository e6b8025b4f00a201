"""Pilot tests of the TUI driving the real engine with scripted/mock models.

Every operator action is checked twice: on screen, and in the session file the
run wrote (reloaded with `store.load_session`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Input

from attractor_tui.core.config import SideConfig
from attractor_tui.sessions.store import load_session
from attractor_tui.ui.screens.dialogs import ConfirmScreen, InterjectChoiceScreen
from attractor_tui.ui.screens.help import HelpScreen
from attractor_tui.ui.screens.start import StartScreen
from attractor_tui.ui.widgets.pane import ConversationPane
from attractor_tui.ui.widgets.status import StatusLine
from attractor_tui.ui.widgets.tool_panel import ToolPanel
from tests.support.builders import scripted
from tests.support.ui import (
    LONG,
    config,
    make_app,
    screen_text,
    session,
    visible_segments,
    wait_ended,
    wait_generating,
)
from tests.support.waiting import wait_until

SHORT_A = "Hello from A. This reply streams slowly enough to press keys. " * 4
"""About 60 chunks: streaming for ~2 s at DELAY per chunk."""
DELAY = 0.03
"""Slow enough that the app is mostly idle, so simulated key presses return quickly."""


async def _type(pilot, text: str, *, target_b: bool = False) -> None:
    """Open the bar (and pick B). Text is inserted directly: a simulated key
    press waits for the app to go idle, which takes seconds mid-stream."""
    await pilot.press("i", *(["tab"] if target_b else []))
    session(pilot.app).bar.input.insert(text)


async def test_runs_to_the_end_and_shows_both_sides(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=2))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_ended(pilot)
        text = screen_text(app)
        assert "Hello! How can I help you today?" in text
        assert "echo 0: Hello! How can I help you today?" in text
        assert "ended: turns" in text
        # the pane titles name the models; the cards do not repeat them (issue 25, item 10)
        assert "A · scripted/goodbye" in text and "B · scripted/echo" in text
        assert "─ #1 ─" in text and "─ #2 ─" in text
        assert "scripted/goodbye · #1" not in text and "scripted/echo · #2" not in text
        assert session(app).display_errors == []
    log = load_session(tmp_path / "session.jsonl")
    assert [t.side for t in log.turns] == ["A", "B", "A", "B"]
    assert log.end is not None and log.end.reason == "turns"


async def test_pause_then_resume(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted([SHORT_A, "Quick."], delay=DELAY), turns=2))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        await pilot.press("p")
        screen = session(app)
        engine = screen.engine
        assert engine is not None
        await wait_until(pilot, lambda: engine.state == "paused" and engine.generating is None)
        assert "⏸ paused" in screen_text(app)
        done = engine.completed_turns
        assert done == 1  # A finished its turn; B waits
        await asyncio.sleep(0.3)
        assert engine.completed_turns == done
        await pilot.press("p")
        await wait_ended(pilot)
    log = load_session(tmp_path / "session.jsonl")
    assert [a.action for a in log.operator_actions] == ["pause", "resume"]
    assert len(log.turns) == 4 and not any(t.interrupted for t in log.turns)


async def test_pause_now_interrupts_the_turn(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted([LONG], delay=DELAY), turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        await pilot.press("P")
        engine = session(app).engine
        assert engine is not None
        await wait_until(pilot, lambda: engine.state == "paused" and engine.generating is None)
        assert "interrupted" in screen_text(app)
    log = load_session(tmp_path / "session.jsonl")
    assert log.turns[0].interrupted
    assert log.operator_actions[0].action == "pause" and log.operator_actions[0].detail == "now"


async def test_interject_to_b_while_a_generates(tmp_path: Path) -> None:
    """B is waiting: the text simply becomes B's next turn, no question asked."""
    app = make_app(tmp_path, config(a=scripted([SHORT_A], delay=DELAY), turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        await _type(pilot, "[reverse]Operator[/reverse] speaking for B", target_b=True)
        await pilot.press("enter")
        assert not isinstance(app.screen, InterjectChoiceScreen)
        await wait_ended(pilot)
        assert "operator as B" in screen_text(app)
        assert "[reverse]Operator[/reverse] speaking for B" in screen_text(app)  # literal
    turns = load_session(tmp_path / "session.jsonl").turns
    assert [(t.side, t.author) for t in turns] == [("A", "model"), ("B", "operator")]
    assert turns[1].text == "[reverse]Operator[/reverse] speaking for B"


async def test_interject_to_a_while_b_generates(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(b=scripted([SHORT_A, "Quick."], delay=DELAY), turns=2))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "B")
        await _type(pilot, "Operator as A")
        await pilot.press("ctrl+j")
        session(app).bar.input.insert("second line")
        await pilot.press("enter")
        await wait_ended(pilot)
        assert "operator as A" in screen_text(app)
    turns = load_session(tmp_path / "session.jsonl").turns
    assert [(t.side, t.author) for t in turns] == [
        ("A", "model"), ("B", "model"), ("A", "operator"), ("B", "model"),
    ]
    assert turns[2].text == "Operator as A\nsecond line"


async def test_interject_paused_side_takes_its_turn(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted([SHORT_A], delay=DELAY), turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        await pilot.press("p")
        engine = session(app).engine
        assert engine is not None
        await wait_until(pilot, lambda: engine.state == "paused" and engine.generating is None)
        await pilot.press("i", "tab")
        await pilot.press(*"B while paused")
        await pilot.press("enter")
        await wait_ended(pilot)
    turns = load_session(tmp_path / "session.jsonl").turns
    assert turns[1].author == "operator" and turns[1].side == "B"


async def test_interrupt_now_replaces_the_turn(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted([LONG], delay=DELAY), turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        await _type(pilot, "Stop there")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, InterjectChoiceScreen),
                         settled=False)
        await pilot.press("i")
        await wait_ended(pilot)
        text = screen_text(app)
        assert "interrupted" in text and "operator as A" in text
    log = load_session(tmp_path / "session.jsonl")
    assert [(t.side, t.author, t.interrupted) for t in log.turns] == [
        ("A", "model", True), ("A", "operator", False), ("B", "model", False),
    ]
    assert log.turns[1].text == "Stop there"
    assert any(a.action == "interrupt" and a.detail == "A" for a in log.operator_actions)


async def test_interject_choice_next_turn_lets_the_turn_finish(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted([SHORT_A], delay=DELAY), turns=2))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        await _type(pilot, "Later")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, InterjectChoiceScreen),
                         settled=False)
        await pilot.press("n")
        await wait_ended(pilot)
    turns = load_session(tmp_path / "session.jsonl").turns
    assert [(t.side, t.author, t.interrupted) for t in turns] == [
        ("A", "model", False), ("B", "model", False), ("A", "operator", False),
        ("B", "model", False),
    ]


async def test_cancelled_choice_keeps_the_text(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted([LONG], delay=DELAY), turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        await _type(pilot, "draft")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, InterjectChoiceScreen),
                         settled=False)
        await pilot.press("escape")
        await wait_until(
            pilot, lambda: not isinstance(app.screen, InterjectChoiceScreen), settled=False
        )
        screen = session(app)
        assert screen.bar.input.text == "draft"
        assert screen.engine is not None and screen.engine.pending("A") == []
        await pilot.press("escape")  # leave the bar: keys are commands again
        assert screen.focused is screen.pane("A")


async def test_quit_while_running_confirms_and_completes_the_file(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted([LONG], delay=DELAY), turns=3))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), settled=False)
        await pilot.press("n")  # changed our mind
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), settled=False)
        assert session(app).running
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), settled=False)
        await pilot.press("y")
        for _ in range(500):
            if app.return_code is not None:
                break
            await asyncio.sleep(0.01)
    assert app.return_code == 0
    log = load_session(tmp_path / "session.jsonl")
    assert log.end is not None and log.end.reason == "operator"
    assert log.turns[0].interrupted
    assert log.operator_actions[-1].action == "stop"


async def test_ctrl_c_twice_quits(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted([LONG], delay=DELAY), turns=3))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), settled=False)
        await pilot.press("ctrl+c")
        for _ in range(500):
            if app.return_code is not None:
                break
            await asyncio.sleep(0.01)
    log = load_session(tmp_path / "session.jsonl")
    assert log.end is not None and log.end.reason == "operator"


async def test_quit_after_the_end_needs_no_confirmation(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_ended(pilot)
        await pilot.press("q")
        for _ in range(200):
            if app.return_code is not None:
                break
            await asyncio.sleep(0.01)
    assert app.return_code == 0


def error_notices(pane: ConversationPane) -> list[object]:
    return [m for m in pane.mounted_messages if getattr(m, "kind", None) == "error"]


async def test_error_card_notification_and_retry(tmp_path: Path) -> None:
    failing = SideConfig(model="scripted/fail", params={"mock_response": "litellm.RateLimitError"})
    app = make_app(tmp_path, config(a=failing, num_retries=0))
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        screen = session(app)
        await wait_until(pilot, lambda: screen.error_pending, what="error")
        text = screen_text(app)
        assert "rate limited; retries used up" in text
        assert "press r to retry" in text
        assert "paused" in text
        assert any("rate limited" in n.message for n in app._notifications)  # noqa: SLF001
        await pilot.press("r")
        pane = screen.pane("A")
        await wait_until(pilot, lambda: len(error_notices(pane)) == 2, what="2nd error")
    log = load_session(tmp_path / "session.jsonl")
    assert [e.message for e in log.errors] == ["rate limited; retries used up"] * 2
    assert [a.action for a in log.operator_actions][:1] == ["retry"]


async def test_tool_panel_lists_calls(tmp_path: Path) -> None:
    reply = {
        "text": "I will end this now.",
        "tool_calls": [{"name": "end_conversation", "arguments": {"reason": "done", "n": 2}}],
    }
    app = make_app(tmp_path, config(a=scripted([reply]), turns=1))
    async with app.run_test(size=(160, 44)) as pilot:
        await wait_ended(pilot)
        screen = session(app)
        panel = screen.query_one(ToolPanel)
        assert not panel.display
        await pilot.press("t")
        assert panel.display
        await wait_until(pilot, lambda: True)
        text = screen_text(app)
        assert "end_conversation" in text
        assert '"reason": "done"' in text and '"n": 2' in text
        assert "tools 1" in text
        await pilot.press("t")
        assert not panel.display


async def test_model_markup_and_escapes_are_shown_literally(tmp_path: Path) -> None:
    evil = (
        "[bold red]not bold[/] [link=https://evil.example]click[/link] "
        "\x1b[31mred\x1b[0m \x1b]0;pwned\x07 <!-- hidden? --> $accent"
    )
    a = SideConfig(model="scripted/[red]x[/red]", params={"script": [evil]})
    app = make_app(tmp_path, config(a=a, turns=1))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_ended(pilot)
        text = screen_text(app)
        assert "[bold red]not bold[/]" in text
        assert "[link=https://evil.example]click[/link]" in text
        assert "␛[31mred␛[0m" in text
        assert "␛]0;pwned␇" in text
        assert "<!-- hidden? -->" in text
        assert "$accent" in text
        assert "scripted/[red]x[/red]" in text  # the model name in the title too
        segments = "".join(visible_segments(app))
        assert "\x1b" not in segments and "\x07" not in segments


async def test_streaming_text_is_sanitised_too(tmp_path: Path) -> None:
    a = scripted(["\x1b[2J[b]live[/b] " + LONG], delay=DELAY)
    app = make_app(tmp_path, config(a=a, turns=1))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_generating(pilot, "A")
        await wait_until(pilot, lambda: "live" in screen_text(app))
        text = screen_text(app)
        assert "␛[2J[b]live[/b]" in text
        assert "\x1b" not in "".join(visible_segments(app))


async def test_empty_and_invisible_replies_are_marked(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted([""]), b=scripted(["\u200b\u200b"]), turns=1))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_ended(pilot)
        text = screen_text(app)
        assert "∅ empty reply" in text
        assert "∅ invisible reply (2 chars: U+200B zero width space)" in text


async def test_old_messages_are_pruned(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=6), max_messages=3)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_ended(pilot)
        pane = session(app).pane("A")
        shown = [item for item in pane.mounted_messages if hasattr(item, "turn")]
        assert len(shown) <= 3
        assert pane.pruned >= 4
        assert "earlier message(s) are not shown here" in screen_text(app)


async def test_pane_follows_the_bottom_unless_scrolled_up(tmp_path: Path) -> None:
    text = LONG[:300]
    app = make_app(tmp_path, config(a=scripted([text], delay=0.005), b=scripted([text]), turns=4))
    async with app.run_test(size=(140, 30)) as pilot:
        pane = session(app).pane("A")
        await wait_until(pilot, lambda: pane.max_scroll_y > 0, what="overflow", settled=False)
        await wait_until(pilot, lambda: pane.message_count >= 2, what="a turn", settled=False)
        await pilot.pause()
        assert pane.scroll_y == pane.max_scroll_y  # followed the bottom
        pane.focus()
        await pilot.press("home")  # the user scrolls up to read
        await wait_ended(pilot)
        assert pane.scroll_y == 0 < pane.max_scroll_y  # and stays where they are
        await pilot.press("end")
        assert pane.scroll_y == pane.max_scroll_y


async def test_help_lists_every_binding(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=1))
    async with app.run_test(size=(140, 50)) as pilot:
        await wait_ended(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        for words in ("Interject", "Pause after the current turn", "Pause now", "Retry",
                      "Tools", "Send", "New line", "Target A/B", "Leave", "Quit",
                      "Command palette", "Interrupt now", "Next turn", "Export", "Replay",
                      "Resume", "Fork", "Answer a tool call", "Pane A", "Pane B"):
            assert words in text, words
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))


async def test_narrow_terminal_stacks_the_panes(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=1))
    async with app.run_test(size=(90, 40)) as pilot:
        await wait_ended(pilot)
        screen = session(app)
        assert screen.has_class("-narrow")
        a, b = screen.pane("A").region, screen.pane("B").region
        assert b.y > a.y and a.x == b.x


async def test_a_status_line_too_long_for_the_terminal_ends_in_an_ellipsis(
    tmp_path: Path,
) -> None:
    """Shorter words first (item 9 of issue 25); a file name longer than the line
    still ends in … rather than wrapping."""
    path = tmp_path / ("a-session-file-name-far-too-long-for-sixty-columns" * 2 + ".jsonl")
    app = make_app(tmp_path, config(turns=1), session_path=path)
    async with app.run_test(size=(60, 30)) as pilot:
        await wait_ended(pilot)
        row = app.screen.query_one(StatusLine).region.y
        status = screen_text(app).splitlines()[row]
        assert "ended: turns" in status
        assert status.rstrip().endswith("…"), status
        assert len(status.rstrip()) <= 60


async def test_start_screen_builds_the_session(tmp_path: Path) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=(120, 44)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        form = app.screen
        form.query_one("#model-a", Input).value = "scripted/goodbye"
        form.query_one("#model-b", Input).value = "scripted/echo"
        form.query_one("#turns", Input).value = "0"
        form.query_one("#seed", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        assert "Turns must be 1 or more" in screen_text(app)
        form.query_one("#turns", Input).value = "1"
        form.query_one("#seed", Input).value = "Hi from the seed"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.session is not None and app.screen is app.session)
        await wait_ended(pilot)
        assert "Hi from the seed" in screen_text(app)
    log = load_session(tmp_path / "session.jsonl")
    assert log.config.a.model == "scripted/goodbye" and log.config.turns == 1
    assert log.config.seed == "Hi from the seed"
