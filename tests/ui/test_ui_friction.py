"""What a new user hit in the live app (issue 14), each a Pilot test on the real engine.

Each test reproduces one defect as the user met it: keys arriving in a burst, an
error followed by an interjection, a dialog left open while the session runs on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from attractor_tui.core.config import SideConfig
from attractor_tui.sessions.store import load_session
from attractor_tui.ui.copying import ExportScreen
from attractor_tui.ui.screens.dialogs import ConfirmScreen, InterjectChoiceScreen
from attractor_tui.ui.screens.help import HelpScreen
from attractor_tui.ui.screens.replay import AskScreen, ReplayScreen
from attractor_tui.ui.screens.session import SessionScreen
from attractor_tui.ui.screens.start import StartScreen, option_label
from attractor_tui.ui.widgets.follow import MARKER_TEXT
from attractor_tui.ui.widgets.footer import KeyFooter
from attractor_tui.ui.widgets.status import StatusLine
from tests.support.builders import scripted
from tests.support.ui import (
    config,
    make_app,
    screen_text,
    session,
    wait_ended,
    wait_generating,
)
from tests.support.waiting import settle, wait_until

# Seconds a slow side holds after its first chunk: the test's keys must reach the app
# while that side is still writing, even on a loaded CI machine (CI once lost that race
# with 0.6 s of streaming).
STALL = 2.0


async def burst(pilot: Pilot[Any], *keys: str) -> None:
    """Send `keys` the way a fast typist's terminal does: all queued before any is handled
    (`pilot.press` waits for the app to go idle after each key)."""
    driver = pilot.app._driver  # noqa: SLF001 - the one way in for raw key events
    assert driver is not None
    for key in keys:
        char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(pilot.app)
        driver.send_message(event)
    await settle(pilot)


# ------------------------------------------------------------ 2: typing order


async def test_quick_ctrl_j_keeps_the_typed_order(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=1), autostart=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("i")
        await burst(pilot, "ctrl+j", *"AAA", "ctrl+j", *"BBB")
        assert session(app).bar.input.text == "\nAAA\nBBB"


async def test_operator_text_keeps_single_line_breaks(tmp_path: Path) -> None:
    slow_a = scripted(["A writes for a little while, so B's slot is still free. " * 4],
                      delay=0.03, stall=STALL)
    app = make_app(tmp_path, config(a=slow_a, turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        await pilot.press("i", "tab")
        session(app).bar.input.insert("first line\nsecond *line*")
        await pilot.press("enter")
        await wait_ended(pilot)
        assert session(app).bar.input.text == ""
        lines = screen_text(app).splitlines()
        assert any("first line" in line and "second" not in line for line in lines)
        assert any("second *line*" in line for line in lines)  # not Markdown either
    turns = load_session(tmp_path / "session.jsonl").turns
    assert turns[-1].author == "operator" and turns[-1].text == "first line\nsecond *line*"


# ------------------------------------------------- 3: interjecting after an error


async def test_interjecting_after_an_error_goes_on(tmp_path: Path) -> None:
    failing = SideConfig(model="scripted/fail", params={"mock_response": "litellm.RateLimitError"})
    app = make_app(tmp_path, config(a=failing, turns=1, num_retries=0))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = session(app)
        await wait_until(pilot, lambda: screen.error_pending)
        await pilot.press("i")
        screen.bar.input.insert("I speak for A instead")
        await pilot.press("enter")
        await wait_ended(pilot)  # B answered without `p`
    log = load_session(tmp_path / "session.jsonl")
    assert [(t.side, t.author) for t in log.turns] == [("A", "operator"), ("B", "model")]
    assert log.end is not None and log.end.reason == "turns"


# ------------------------------------------ 5: the interjection dialog goes stale


async def test_choosing_after_the_side_finished_keeps_the_text(tmp_path: Path) -> None:
    """The dialog stays open while A finishes and the session ends: the text is not lost."""
    slow_a = scripted(["A writes for a little while before it is done. " * 3], delay=0.02,
                      stall=STALL)
    app = make_app(tmp_path, config(a=slow_a, turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        await pilot.press("i")
        session(app).bar.input.insert("my text for A")
        await pilot.press("enter")
        assert isinstance(app.screen, InterjectChoiceScreen)
        await wait_until(pilot, lambda: session(app).end is not None)
        assert "has finished its turn" in screen_text(app)
        await pilot.press("i")
        assert session(app).bar.input.text == "my text for A"
    log = load_session(tmp_path / "session.jsonl")
    assert not any(t.interrupted for t in log.turns)


async def test_interrupt_chosen_after_the_side_finished_queues_instead(tmp_path: Path) -> None:
    slow_a = scripted(["A writes for a little while before it is done. " * 3, "Again."],
                      delay=0.02, stall=STALL)
    slow_b = scripted(["B takes its time as well, word after word after word. " * 4],
                      delay=0.02, stall=STALL)
    app = make_app(tmp_path, config(a=slow_a, b=slow_b, turns=2))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_generating(pilot, "A")
        await pilot.press("i")
        session(app).bar.input.insert("my text for A")
        await pilot.press("enter")
        engine = session(app).engine
        assert engine is not None
        await wait_until(pilot, lambda: engine.generating == "B", settled=False)
        await pilot.press("i")
        said = [n.message for n in app._notifications]  # noqa: SLF001
        assert "A had already finished its turn; nothing was interrupted." in said
        assert not any(m.startswith("Interrupted A") for m in said)
        await wait_ended(pilot)
    log = load_session(tmp_path / "session.jsonl")
    assert [(t.side, t.author, t.interrupted) for t in log.turns] == [
        ("A", "model", False), ("B", "model", False), ("A", "operator", False),
        ("B", "model", False)]


# ------------------------------------------------------- 1: the start screen


async def test_the_start_screens_first_keys_are_keys_not_text(tmp_path: Path) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=(120, 44)) as pilot:
        await pilot.pause()
        form = app.screen
        assert isinstance(form, StartScreen)
        model = form.query_one("#model-a", Input).value
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("q")
        await settle(pilot)
        assert form.query_one("#model-a", Input).value == model
        assert app.return_code == 0  # `q` quit


async def test_an_unknown_model_is_refused_before_starting(tmp_path: Path) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=(120, 44)) as pilot:
        await pilot.pause()
        form = app.screen
        assert isinstance(form, StartScreen)
        form.query_one("#model-a", Input).value = "q?"
        form.query_one("#model-b", Input).value = "scripted/echo"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "litellm knows no provider" in screen_text(app),
                         timeout=60)
        assert app.screen is form and app.session is None
        assert "Model A: litellm knows no provider for 'q?': type provider/model" in \
            " ".join(screen_text(app).split())
        assert app.focused is form.query_one("#model-a", Input)
    assert not (tmp_path / "session.jsonl").exists()


def test_picker_descriptions_are_whole() -> None:
    """The open list wraps them at words; cutting at 60 characters hid them where
    there was room (issue 25, item 10)."""
    text = ('Two instances seeded with "Hello there, how are you doing today my friend", '
            "nothing else")
    assert option_label("seeded", text).plain == f"seeded — {text}"
    assert option_label("short", "all of it").plain == "short — all of it"


async def test_a_long_system_prompt_is_a_growing_multi_line_field(tmp_path: Path) -> None:
    prompt = "You are a careful assistant. " * 12
    app = make_app(tmp_path, config(a=SideConfig(model="scripted/goodbye", system=prompt)),
                   start_screen=True)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        area = app.screen.query_one("#system-a", TextArea)
        assert area.text == prompt and area.size.height >= 4  # wrapped, all readable
        area.load_text("first line\nsecond line")
        assert isinstance(app.screen, StartScreen)
        assert app.screen.build_config().a.system == "first line\nsecond line"


# ------------------------------------------------------------ 6: one numbering


def status_line(app: Any) -> str:
    row = app.screen.query_one(StatusLine).region.y
    return screen_text(app).splitlines()[row]


async def test_the_status_shows_the_limit_before_the_engine_starts(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=3), autostart=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert "round 1 · turn 1/6" in status_line(app)


async def test_status_cards_and_meter_count_turns_alike(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted(["Hello from A, streaming for a while. " * 6],
                                               delay=0.02, stall=STALL), turns=1))
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await wait_generating(pilot, "A")
        assert "round 1 · turn 1/2" in status_line(app)
        await pilot.press("P")  # pause now: #1 is kept, interrupted; A's turn becomes #2
        engine = session(app).engine
        assert engine is not None
        await wait_until(pilot, lambda: engine.state == "paused" and engine.generating is None)
        assert "#1 · interrupted" in screen_text(app)
        assert "round 1 · turn 2/3" in status_line(app)
        await pilot.press("p")
        await wait_ended(pilot)
        assert "─ #2 ─" in screen_text(app)
        assert "round 1 · turn 3/3" in status_line(app)


async def test_the_attractor_notification_counts_from_one(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted(name="goodbye"), b=scripted(name="echo"),
                                    turns=6))
    async with app.run_test(size=(150, 44), notifications=True) as pilot:
        await wait_ended(pilot)
        entered = [n.message for n in app._notifications  # noqa: SLF001
                   if n.title == "Attractor"]
        meter = session(app).meter
        assert meter.since is not None and entered
        assert entered[0].startswith(f"Entered {meter.live.label} at turn {meter.since + 1}:")
        assert f"since turn {meter.since + 1} " in screen_text(app)


# ------------------------------------------- 9, 12: the footer offers what can be done


def footer_keys(app: Any) -> dict[str, bool]:
    """Key shown in the footer -> enabled."""
    bindings, _ = app.screen.query_one(KeyFooter).shown()
    return {app.get_key_display(b): enabled for b, enabled in bindings}


async def test_the_footer_names_every_key_while_running(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(a=scripted(["A streams for a while here. " * 8],
                                               delay=0.02, stall=STALL), turns=1))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_generating(pilot, "A")
        keys = footer_keys(app)
        for key in ("i", "p", "P", "t", "o", "m", "a", "b", "q", "?"):
            assert key in keys, (key, keys)
        assert keys["o"] is False  # dimmed: no tool call waits for an answer
        assert not {"e", "v", "f"} & set(keys)
        footer = screen_text(app).splitlines()[-1]
        assert " P Pause now " in footer and " a Pane A " in footer and " o Tool ask " in footer


async def test_after_the_end_the_footer_offers_what_can_be_done_now(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=1))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_ended(pilot)
        keys = footer_keys(app)
        assert {"e", "v", "r", "f", "q"} <= set(keys)
        assert not {"i", "p", "P", "o"} & set(keys)
        footer = screen_text(app).splitlines()[-1]
        for item in ("e Export", "v Replay", "r Resume", "f Fork", "q Quit"):
            assert item in footer
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportScreen))
        await pilot.press("m")
        await wait_until(pilot, lambda: (tmp_path / "session.md").exists())
        assert "### 1 · " in (tmp_path / "session.md").read_text(encoding="utf-8")
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen))
        await pilot.press("r")  # resume: one more round in the same file
        await wait_until(pilot, lambda: app.session is not None and app.session.resume is not None
                         and app.session.end is not None, timeout=20)
    log = load_session(tmp_path / "session.jsonl")
    assert len(log.turns) == 4 and any(e.type == "session_resume" for e in log.events)


async def test_fork_after_the_end_continues_the_branch(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=2))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_ended(pilot)
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press("ctrl+a", "ctrl+k", "2", "enter")
        await wait_until(pilot, lambda: app.session is not None
                         and app.session.session_path != tmp_path / "session.jsonl"
                         and app.session.end is not None, timeout=20)
        forked = app.session.session_path
    log = load_session(forked)
    assert log.start.parent_turn == 2 and len(log.turns) == 4


async def test_the_quit_question_says_paused_on_an_error(tmp_path: Path) -> None:
    failing = SideConfig(model="scripted/fail", params={"mock_response": "litellm.RateLimitError"})
    app = make_app(tmp_path, config(a=failing, turns=1, num_retries=0))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = session(app)
        await wait_until(pilot, lambda: screen.error_pending)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = screen_text(app)
        assert "paused on an error" in text and "still running" not in text
        await pilot.press("n")


# ------------------------------------------------ 11: new text below, Home at once


async def test_new_text_below_is_marked_and_end_jumps_to_it(tmp_path: Path) -> None:
    replies = [f"Reply {n} from A, a few lines long.\n\nSecond paragraph.\n\nThird." for n in
               range(200)]
    app = make_app(tmp_path, config(a=scripted(replies, delay=0.004), turns=200))
    async with app.run_test(size=(140, 40)) as pilot:
        pane = session(app).pane("A")
        await wait_until(pilot, lambda: pane.max_scroll_y > 20, settled=False)
        pane.focus()
        pane.action_scroll_home()
        assert pane.scroll_y == 0  # at once: no animation frames
        assert not pane.following
        await wait_until(pilot, lambda: pane.marker.display, settled=False)
        await settle(pilot)
        assert MARKER_TEXT in screen_text(app)
        assert pane.scroll_y == 0  # the reader stays where they were
        await pilot.press("end")
        assert pane.scroll_y == pane.max_scroll_y and pane.following
        assert not pane.marker.display
        pane.action_scroll_home()
        await wait_until(pilot, lambda: pane.marker.display, settled=False)
        await settle(pilot)
        await pilot.click(pane.marker)
        assert pane.following and not pane.marker.display
        await session(app).shutdown()


# --------------------------------------------------------------- 10: at 60x24


async def test_at_60x24_the_panes_get_the_room(tmp_path: Path) -> None:
    slow_a = scripted(["A writes slowly, word by word. " * 30], delay=0.05, stall=STALL)
    app = make_app(tmp_path, config(a=slow_a, turns=1))
    async with app.run_test(size=(60, 24)) as pilot:
        screen = session(app)
        await wait_generating(pilot, "A")
        assert screen.meter.region.height == 1  # folded to its head line
        for side in ("A", "B"):
            assert screen.pane(side).region.height >= 9
        await pilot.press("i")
        screen.bar.input.insert("hello")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, InterjectChoiceScreen),
                         settled=False)
        await settle(pilot)
        box = app.screen.query_one(".dialog-box").region
        assert box.x >= 0 and box.right <= 60 and box.bottom <= 24  # the border is whole
        await pilot.press("escape")
        await pilot.press("escape")
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), settled=False)
        await settle(pilot)
        rows = [line for line in screen_text(app).splitlines() if " Command palette " in line]
        assert rows and "(themes, actions)" in rows[0]  # one line, not a word per line
        await screen.shutdown()


# ------------------------------------------------------- 4: the elapsed clock


async def test_the_elapsed_clock_runs_while_paused_on_an_error(tmp_path: Path) -> None:
    import time

    failing = SideConfig(model="scripted/fail", params={"mock_response": "litellm.RateLimitError"})
    app = make_app(tmp_path, config(a=failing, turns=1, num_retries=0), clock=time.monotonic)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = session(app)
        await wait_until(pilot, lambda: screen.error_pending)
        await wait_until(pilot, lambda: " · 0:01 · " in status_line(app)
                         or " · 0:02 · " in status_line(app), timeout=5, settled=False)
