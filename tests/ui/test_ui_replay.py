"""Replay: the timeline and player (pure, with a fake clock) and the replay screen.

Sessions are synthetic files written with `store.dump_event`, so every kind
of event (interjections, interruptions, tool calls, trims, errors, resumes)
sits at a known place with a known timestamp.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import pytest

from attractor_tui.core.events import (
    ErrorEvent,
    TextDelta,
    ToolCallDelta,
    TurnBegin,
)
from attractor_tui.sessions.store import load_session
from attractor_tui.sessions.timeline import (
    MAX_GAP,
    ReplayController,
    build_timeline,
    pane_window,
    split_text,
)
from attractor_tui.ui.screens.help import HelpScreen
from attractor_tui.ui.screens.replay import AskScreen, ReplayScreen
from attractor_tui.ui.standalone import replay_app
from attractor_tui.ui.widgets.message import MessageView
from attractor_tui.ui.widgets.tool_panel import ToolPanel
from tests.support.builders import FakeClock, write_session
from tests.support.shared import peer_log
from tests.support.ui import screen_text
from tests.support.waiting import settle, wait_until

# ------------------------------------------------------------------ helpers


class Recorder:
    """A `ReplayView` that writes down what it is told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def replay_reset(self, position: int) -> None:
        self.calls.append(("reset", position))

    def replay_live(self, event: Any) -> None:
        self.calls.append(("live", event))

    def replay_show(self, position: int, event: Any) -> None:
        self.calls.append(("show", event))

    def replay_state(self) -> None:
        pass

    def shown(self) -> list[Any]:
        return [e for kind, e in self.calls if kind == "show"]

    def live(self) -> list[Any]:
        return [e for kind, e in self.calls if kind == "live"]


def player(path: Path, speed: float = 1.0, **kw: Any) -> tuple[ReplayController, Recorder,
                                                                  FakeClock]:
    view, clock = Recorder(), FakeClock()
    return ReplayController(load_session(path), view, speed=speed, clock=clock, **kw), view, clock


def replay_screen(app: Any) -> ReplayScreen:
    screen = app.screen
    assert isinstance(screen, ReplayScreen)
    return screen


def mounted_indices(screen: ReplayScreen, side: str) -> list[int]:
    return [w.turn.index for w in screen.pane(side).mounted_messages  # type: ignore[arg-type]
            if isinstance(w, MessageView)]


# ----------------------------------------------------------- the timeline


def test_timeline_keeps_file_order_and_original_gaps(tmp_path: Path) -> None:
    log = load_session(write_session(tmp_path / "s.jsonl", 4, gap=5, generation=2))
    items = build_timeline(log)
    assert [i.event for i in items] == log.events[1:]
    assert [i.gap for i in items[:4]] == [5, 5, 5, 5]
    assert [i.duration for i in items[:4]] == [2, 2, 2, 2]
    assert items[3].elapsed == 28


def test_backwards_timestamps_count_as_no_wait(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", 3, gap=5)
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("2026-01-02T03:04:15", "2026-01-02T03:00:00")  # turn 1 earlier
    path.write_text("\n".join(lines) + "\n")
    items = build_timeline(load_session(path))
    assert items[1].gap == 0  # nothing negative
    assert items[2].gap == 10  # measured from the latest time seen (turn 0), not doubled


def test_pane_window_keeps_the_newest_entries(tmp_path: Path) -> None:
    items = build_timeline(load_session(write_session(tmp_path / "s.jsonl", 30)))
    window = pane_window(items, 20, "A", limit=4)
    assert [e.index for _, e in window.shown] == [12, 14, 16, 18]
    assert len(window.hidden) == 6
    assert pane_window(items, len(items), "B", 100).shown[-1][1].type == "session_end"


def test_split_text_covers_the_text() -> None:
    assert "".join(split_text("abcdefghij", 3)) == "abcdefghij"
    assert len(split_text("abc", 10)) == 3
    assert split_text("", 4) == []


# --------------------------------------------------------------- the player


async def test_replay_order_matches_the_file(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", 6, generation=1.0, extras=True)
    controller, view, _ = player(path, speed=50)
    controller.start()
    await controller.wait()
    assert view.shown() == load_session(path).events[1:]
    assert controller.at_end and not controller.playing


async def test_pacing_with_a_fake_clock(tmp_path: Path) -> None:
    """Speed 10: a 5 s gap between turns waits 0.5 s of (fake) time."""
    controller, _, clock = player(write_session(tmp_path / "s.jsonl", 4, gap=5), speed=10)
    controller.start()
    await controller.wait()
    assert clock.sleeps == pytest.approx([0.5, 0.5, 0.5, 0.5])
    assert clock.now() == pytest.approx(2.0)


async def test_original_pace_streams_each_turn_over_its_duration(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", 2, gap=3, generation=2)
    controller, view, clock = player(path, speed=1)
    controller.start()
    await controller.wait()
    assert clock.now() == pytest.approx(2 * (3 + 2))
    live = view.live()
    assert isinstance(live[0], TurnBegin) and live[0].index == 0
    text = "".join(e.text for e in live if isinstance(e, TextDelta) and e.index == 0)
    assert text == load_session(path).turns[0].text
    # the stream comes before the finished turn, which replaces it
    first_show = next(i for i, (kind, _) in enumerate(view.calls) if kind == "show")
    assert any(kind == "live" for kind, _ in view.calls[:first_show])


async def test_long_gaps_are_capped_and_reported(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", 6, gap=1, extras=True)  # 20 h before the resume
    controller, _, clock = player(path, speed=1)
    seen: list[Any] = []
    controller.view.replay_state = lambda: seen.append(controller.capped)  # type: ignore[method-assign]
    controller.start()
    await controller.wait()
    assert max(clock.sleeps) == MAX_GAP
    capped = next(c for c in seen if c is not None)
    assert capped.original == pytest.approx(20 * 3600) and capped.waited == MAX_GAP


async def test_speed_zero_shows_everything_at_once(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", 6, generation=3)
    controller, view, clock = player(path, speed=0)
    controller.start()
    assert view.calls == [("reset", len(controller.items))]
    assert controller.at_end and clock.sleeps == []


async def test_step_next_previous_and_go_to(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", 6, extras=True)
    controller, view, clock = player(path, speed=1)
    controller.seek(0)
    controller.next_turn()
    assert controller.shown_turns == 1
    controller.next_turn()  # turn 1, then the error that followed it
    assert controller.shown_turns == 2
    assert isinstance(view.shown()[-1], ErrorEvent)
    controller.previous_turn()
    assert controller.shown_turns == 1 and view.calls[-1] == ("reset", controller.position)
    controller.go_to_turn(5)
    assert controller.shown_turns == 5
    controller.go_to_turn(99)
    assert controller.at_end
    controller.go_to_turn(0)
    assert controller.shown_turns == 0
    assert clock.sleeps == []  # stepping never waits


async def test_pause_mid_stream_then_continue(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", 1, gap=0.1, generation=5)
    controller, view, _ = player(path, speed=1)

    async def pause_soon() -> None:
        while len([e for e in view.live() if isinstance(e, TextDelta)]) < 5:
            await asyncio.sleep(0)
        controller.pause()

    controller.start()
    await asyncio.gather(controller.wait(), pause_soon())
    assert not controller.playing and controller.shown_turns == 0
    controller.play()
    await controller.wait()
    deltas = [e.text for e in view.live() if isinstance(e, TextDelta)]
    assert "".join(deltas) == load_session(path).turns[0].text  # nothing lost or repeated
    assert sum(isinstance(e, TurnBegin) for e in view.live()) == 1


async def test_tool_calls_are_announced_while_streaming(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", 6, generation=1, extras=True)
    controller, view, _ = player(path, speed=100)
    controller.start()
    await controller.wait()
    calls = [e for e in view.live() if isinstance(e, ToolCallDelta)]
    assert [(c.index, c.name) for c in calls] == [(3, "end_conversation")]


async def test_faster_and_slower(tmp_path: Path) -> None:
    controller, _, _ = player(write_session(tmp_path / "s.jsonl", 2), speed=1)
    controller.faster()
    assert controller.speed == 2
    controller.slower()
    controller.slower()
    assert controller.speed == 0.5
    controller.set_speed(100)
    controller.faster()
    assert controller.speed == 0  # instant is beyond the fastest


# --------------------------------------------------------------- the screen


async def test_screen_shows_every_kind_of_event_where_it_happened(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", 8, extras=True)
    app = replay_app(load_session(path), speed=0)
    async with app.run_test(size=(160, 60)) as pilot:
        screen = replay_screen(app)
        await wait_until(pilot, lambda: mounted_indices(screen, "B")[-1:] == [7])
        text = screen_text(app)
        assert "seed → A" in text and "Hello there" in text
        assert "provider said 529: overloaded" in text  # error, in B's pane
        assert "context trimmed: turns before #2 dropped" in text
        assert "end_conversation" in text  # the tool call line in turn 4
        assert "operator as A" in text  # the interjection (turn #5)
        assert "interrupted" in text
        assert "operator stopped the session" in text
        assert "session ended: operator" in text and "session resumed" in text
        assert "session ended: turns" in text
        assert "read-only · turn 8/8" in text
        for key in ("space", "Next", "Prev", "Go to"):
            assert key in text  # the footer lists the keys
        await pilot.press("t")
        await settle(pilot)
        panel = screen.query_one(ToolPanel)
        assert panel.display and panel.call_count == 1
        assert "overloaded" in screen_text(app) and "interrupt" in screen_text(app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "Go to" in screen_text(app) and "earlier turns" in screen_text(app)
        await pilot.press("escape")
        assert app.screen is screen
        assert screen.display_errors == []


async def test_step_keys_on_screen(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", 6)
    app = replay_app(load_session(path), speed=0)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = replay_screen(app)
        c = screen.controller
        await wait_until(pilot, lambda: mounted_indices(screen, "B")[-1:] == [5])
        await pilot.press("N")
        await wait_until(pilot, lambda: c.shown_turns == 5
                         and 5 not in mounted_indices(screen, "B"))
        assert "turn 5/6" in screen_text(app)
        await pilot.press("N", "N")
        await wait_until(pilot, lambda: mounted_indices(screen, "A") == [0, 2])
        await pilot.press("n")
        await wait_until(pilot, lambda: mounted_indices(screen, "B") == [1, 3])
        await pilot.press("g")
        assert isinstance(app.screen, AskScreen)
        await pilot.press("ctrl+a", "ctrl+k", "9", "enter")  # out of range: refused
        assert isinstance(app.screen, AskScreen)
        assert "outside 1..6" in screen_text(app)
        await pilot.press("backspace", "2", "enter")
        await wait_until(pilot, lambda: c.shown_turns == 2)
        assert mounted_indices(screen, "A") == [0] and mounted_indices(screen, "B") == [1]
        await pilot.press("G")
        await wait_until(pilot, lambda: c.at_end)
        await pilot.press("minus", "minus", "minus", "minus")  # instant, ×100, ×50, ×20, ×10
        assert c.speed == 10
        await pilot.press("space")  # at the end: plays again from the start (0.5 s a turn)
        assert c.playing and c.shown_turns < 6
        await pilot.press("space")
        await settle(pilot)
        assert not c.playing and "paused (×10)" in screen_text(app)
        assert screen.display_errors == []


async def test_play_at_speed_on_screen(tmp_path: Path) -> None:
    """A real clock at a high speed: the replay plays to the end by itself."""
    path = write_session(tmp_path / "s.jsonl", 4, gap=2, generation=1)
    app = replay_app(load_session(path), speed=50)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = replay_screen(app)
        await wait_until(pilot, lambda: screen.controller.at_end, timeout=10)
        await wait_until(pilot, lambda: mounted_indices(screen, "B") == [1, 3])
        assert "■ replay: end" in screen_text(app)


async def test_long_session_mounts_a_window_and_pages_back(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", 120, gap=1)
    app = replay_app(load_session(path), speed=0, max_messages=20)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = replay_screen(app)
        c = screen.controller
        await wait_until(pilot, lambda: len(screen.pane("A").mounted_messages) >= 20)
        shown = mounted_indices(screen, "A")
        assert len(screen.pane("A").mounted_messages) == 20 and shown[-1] == 118
        assert screen.pane("A").pruned == 60 + 1 - 20  # A's turns and the end card
        await pilot.press("a", "home")
        await settle(pilot)
        await pilot.press("up")  # at the top with older turns hidden: page back
        await wait_until(pilot, lambda: c.shown_turns < 120)
        assert c.shown_turns == 100 and not c.playing
        await wait_until(pilot, lambda: mounted_indices(screen, "A")[-1:] == [98])
        await pilot.press("G")
        await wait_until(pilot, lambda: mounted_indices(screen, "A")[-1:] == [118])


async def test_replay_never_writes_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    path = write_session(folder / "s.jsonl", 6, gap=1, generation=0.5, extras=True)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    app = replay_app(load_session(path), speed=100, max_gap=0.2)  # the resume gap is 20 h
    async with app.run_test(size=(140, 40)) as pilot:
        screen = replay_screen(app)
        await wait_until(pilot, lambda: screen.controller.at_end)
        await pilot.press("N", "N", "n", "space", "t", "G")
        await settle(pilot)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert list(folder.iterdir()) == [path]  # nothing written beside it either


async def test_replay_of_a_peer_log(tmp_path: Path) -> None:
    path = peer_log("eval_20260217_094120.jsonl")  # 53 turns, 2 operator interjections
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    log = load_session(path)
    assert log.start.source and log.start.source.startswith("peer-log:")
    operator = [t.index for t in log.turns if t.author == "operator"]
    assert operator
    # pacing from the peer timestamps: each turn waits for the time since the last one
    controller, view, clock = player(path, speed=1000)
    controller.start()
    await controller.wait()
    assert view.shown() == log.events[1:]
    assert clock.now() == pytest.approx(
        (log.events[-1].ts - log.start.ts).total_seconds() / 1000, rel=0.01)
    app = replay_app(log, speed=0)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = replay_screen(app)
        last = log.turns[-1]
        await wait_until(pilot, lambda: mounted_indices(screen, last.side)[-1:] == [last.index])
        await pilot.press("g", "ctrl+a", "ctrl+k", *str(operator[0] + 1), "enter")
        await wait_until(pilot, lambda: screen.controller.shown_turns == operator[0] + 1)
        assert f"operator as {log.turns[operator[0]].side}" in screen_text(app)
        assert "(peer log)" in screen_text(app)
        assert screen.display_errors == []
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


async def test_sessions_without_turns(tmp_path: Path) -> None:
    """A session that has only its header (just started, or died at once) still opens."""
    path = write_session(tmp_path / "s.jsonl", 0, end=None)
    for speed in (0, 1):
        app = replay_app(load_session(path), speed=speed)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = replay_screen(app)
            await settle(pilot)
            assert screen.controller.at_end and "turn 0/0" in screen_text(app)
            await pilot.press("n", "N", "g", "space", "G")
            await settle(pilot)
            assert screen.display_errors == []
