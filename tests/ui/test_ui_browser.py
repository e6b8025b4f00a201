"""The session browser and its index, on folders of synthetic session files."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from attractor_tui.core.events import SessionEnd, SessionResume
from attractor_tui.sessions.index import INDEX_NAME, SessionIndex, read_summary
from attractor_tui.sessions.store import dump_event, load_session
from attractor_tui.ui.copying import ExportScreen
from attractor_tui.ui.screens.browser import BrowserScreen
from attractor_tui.ui.screens.dialogs import ConfirmScreen
from attractor_tui.ui.screens.replay import AskScreen, ReplayScreen
from attractor_tui.ui.standalone import browser_app
from tests.support.builders import T0, write_session
from tests.support.shared import peer_logs
from tests.support.ui import screen_text
from tests.support.waiting import settle, wait_until


def make_folder(tmp_path: Path, count: int = 4, *, broken: bool = True) -> Path:
    """`count` sessions a day apart (2, 4, 6... turns), plus one broken file."""
    folder = tmp_path / "sessions"
    folder.mkdir()
    for i in range(count):
        write_session(folder / f"2026010{i}-120000-s{i}.jsonl", 2 + 2 * i,
                      start=T0 + timedelta(days=i),
                      models=("scripted/alpha", "scripted/beta") if i % 2 == 0
                      else ("openai/gpt-x", "openai/gpt-x"))
    if broken:
        (folder / "broken.jsonl").write_text('{"type": "session_start", oops\n', encoding="utf-8")
    return folder


def browser(app: Any) -> BrowserScreen:
    screen = app.screen
    assert isinstance(screen, BrowserScreen), screen
    return screen


def names(screen: BrowserScreen) -> list[str]:
    return [s.name for s in screen.shown]


async def opened(pilot: Any, app: Any) -> BrowserScreen:
    screen = browser(app)
    await settle(pilot)
    return screen


async def select(pilot: Any, screen: BrowserScreen, name: str) -> None:
    screen.table.move_cursor(row=names(screen).index(name), animate=False)
    await settle(pilot, 0.02)
    assert screen.current_name == name


# ------------------------------------------------------------------ index


def test_summary_matches_the_full_load(tmp_path: Path) -> None:
    for turns, extras in ((0, False), (5, False), (8, True)):
        path = write_session(tmp_path / f"s{turns}.jsonl", turns, extras=extras)
        summary, log = read_summary(path), load_session(path)
        assert summary.turns == len(log.turns)
        assert summary.end_reason == (log.end.reason if log.end else None)
        assert (summary.model_a, summary.model_b) == (log.config.a.model, log.config.b.model)
        assert not summary.broken


def test_summary_of_resumed_and_unfinished_sessions(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", 4, end="turns")
    with path.open("a") as handle:  # resumed, nothing new yet: no end
        handle.write(dump_event(SessionResume(turns=4)) + "\n")
    assert read_summary(path).end_reason is None
    with path.open("a") as handle:
        handle.write(dump_event(SessionEnd(reason="operator")) + "\n")
    assert read_summary(path).end_reason == "operator"
    assert read_summary(write_session(tmp_path / "u.jsonl", 3, end=None)).end_reason is None


def test_summary_when_the_last_turn_is_longer_than_the_tail(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", 3, end=None)
    lines = path.read_text().splitlines()
    lines[-1] = lines[-1].replace("words ", "words " * 3000)  # ~18 KB last line
    path.write_text("\n".join(lines) + "\n")
    assert read_summary(path).turns == 3


@pytest.mark.parametrize("content, error", [
    (b"", "empty session file"),
    (b"not json at all\n", "not valid JSON"),
    (b'{"type": "turn"}\n', "not a session_start"),
    (b'{"type": "session_start", "schema_version": 99}\n', "unknown schema version 99"),
    (b"\xff\xfe garbage\n", "not UTF-8"),
])
def test_broken_files_are_summarised_with_the_reason(
    tmp_path: Path, content: bytes, error: str
) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    summary = read_summary(path)
    assert summary.broken and error in (summary.error or "")


def test_peer_log_summaries() -> None:
    for path in peer_logs():
        summary, log = read_summary(path), load_session(path)
        assert summary.foreign and summary.turns == len(log.turns), path.name
        assert summary.end_reason == (log.end.reason if log.end else None), path.name


def test_index_is_cached_and_rebuilt_when_a_file_changes(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, 3, broken=False)
    index = SessionIndex(folder)
    assert len(index.refresh()) == 3 and len(index.rebuilt) == 3
    data = json.loads((folder / INDEX_NAME).read_text())
    assert set(data["sessions"]) == {p.name for p in folder.glob("*.jsonl")}

    again = SessionIndex(folder)  # a new browser: everything comes from the index
    again.refresh()
    assert again.rebuilt == []
    changed = folder / "20260101-120000-s1.jsonl"
    write_session(changed, 9)
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    (folder / "20260100-120000-s0.jsonl").unlink()
    again.refresh()
    assert again.rebuilt == [changed.name]
    assert again.get(changed.name).turns == 9  # type: ignore[union-attr]
    assert len(again.summaries) == 2
    assert set(json.loads((folder / INDEX_NAME).read_text())["sessions"]) == \
        {p.name for p in folder.glob("*.jsonl")}


def test_a_corrupt_index_is_ignored(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, 2, broken=False)
    (folder / INDEX_NAME).write_text("{not json")
    index = SessionIndex(folder)
    assert len(index.refresh()) == 2 and len(index.rebuilt) == 2


def test_a_thousand_sessions_index_quickly(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    template = write_session(tmp_path / "t.jsonl", 20).read_bytes()
    for i in range(1000):
        (folder / f"s{i:04d}.jsonl").write_bytes(template)
    started = time.perf_counter()
    SessionIndex(folder).refresh()
    cold = time.perf_counter() - started
    started = time.perf_counter()
    SessionIndex(folder).refresh()
    warm = time.perf_counter() - started
    assert cold < 5 and warm < 2  # generous: ~0.1 s and ~0.03 s on a laptop


# ---------------------------------------------------------------- browser


async def test_lists_sessions_newest_first_with_broken_ones(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    app = browser_app(folder, labels=False)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await opened(pilot, app)
        assert names(screen)[1:] == [f"2026010{i}-120000-s{i}.jsonl" for i in (3, 2, 1, 0)]
        text = screen_text(app)
        assert "✗ broken" in text and "line 1: not valid JSON" in text  # the reason, in the list
        assert "scripted/alpha / scripted/beta" in text and "openai/gpt-x" in text
        assert "2026-01-05" in text  # the date of the session, not of the file
        await select(pilot, screen, "broken.jsonl")
        assert "broken: line 1: not valid JSON" in screen_text(app)
        await pilot.press("enter", "r", "f", "e")  # none of these apply to a broken file
        await settle(pilot)
        assert app.screen is screen
        for key in ("Replay", "Resume", "Fork", "Export", "Delete", "Filter", "Sort"):
            assert key in screen_text(app)  # footer, once a readable file is selected...
        await select(pilot, screen, "20260100-120000-s0.jsonl")
        assert "Replay" in screen_text(app)
    assert (folder / INDEX_NAME).exists()


async def test_a_file_broken_in_the_middle_is_marked_when_opened(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, 1, broken=False)
    path = next(folder.glob("*.jsonl"))
    lines = path.read_text().splitlines()
    lines[1] = "{garbage"
    path.write_text("\n".join(lines) + "\n")  # header and tail read fine
    app = browser_app(folder, labels=False)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await opened(pilot, app)
        assert not screen.shown[0].broken
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.shown[0].broken)
        assert app.screen is screen
        assert f"{path.name}:2" not in (screen.shown[0].error or "")  # no path noise
        assert (screen.shown[0].error or "").startswith("line 2: not valid JSON")
        assert "✗ broken" in screen_text(app)


async def test_filter_and_sort(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    app = browser_app(folder, labels=False)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await opened(pilot, app)
        await pilot.press("slash", *"gpt")
        await settle(pilot)
        assert names(screen) == ["20260103-120000-s3.jsonl", "20260101-120000-s1.jsonl"]
        assert "2 of 5 session file(s)" in screen_text(app)
        await pilot.press("enter")  # back to the list, filter kept
        assert screen.table.has_focus and len(screen.shown) == 2
        await pilot.press("escape")  # clears the filter
        await settle(pilot)
        assert len(screen.shown) == 5
        await pilot.press("slash", *"broken", "enter")
        await settle(pilot)
        assert names(screen) == ["broken.jsonl"]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("s")  # date -> models
        await settle(pilot)
        assert screen.sort_by == "models"
        await pilot.press("s")  # rounds, most first
        await settle(pilot)
        assert screen.sort_by == "rounds"
        assert names(screen)[0] == "20260103-120000-s3.jsonl"
        await pilot.press("S")
        await settle(pilot)
        assert names(screen)[-1] == "20260103-120000-s3.jsonl"
        assert "rounds ↑" in screen_text(app)


async def test_delete_asks_first(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    victim = folder / "20260102-120000-s2.jsonl"
    app = browser_app(folder, labels=False)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await opened(pilot, app)
        await select(pilot, screen, victim.name)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "cannot be undone" in screen_text(app)
        await pilot.press("n")  # cancel
        await settle(pilot)
        assert app.screen is screen and victim.exists() and victim.name in names(screen)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: victim.name not in names(screen))
        assert not victim.exists() and len(screen.shown) == 4
        index = json.loads((folder / INDEX_NAME).read_text())
        assert victim.name not in index["sessions"]
        await select(pilot, screen, "broken.jsonl")  # broken files can be deleted too
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: "broken.jsonl" not in names(screen))
    assert sorted(p.name for p in folder.glob("*.jsonl")) == [
        "20260100-120000-s0.jsonl", "20260101-120000-s1.jsonl", "20260103-120000-s3.jsonl"]


async def test_fork_asks_for_the_turn(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    source = folder / "20260103-120000-s3.jsonl"  # 8 turns
    app = browser_app(folder, labels=False)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await opened(pilot, app)
        await select(pilot, screen, source.name)
        before = set(folder.glob("*.jsonl"))
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, AskScreen) and "0–8" in screen_text(app)
        await pilot.press("ctrl+a", "ctrl+k", *"12", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AskScreen) and "outside 0..8" in screen_text(app)
        await pilot.press("ctrl+a", "ctrl+k", "3", "enter")
        await wait_until(pilot, lambda: len(screen.summaries) == 6)
        forked = sorted(set(folder.glob("*.jsonl")) - before)
        assert len(forked) == 1
        log = load_session(forked[0])
        assert log.start.parent == str(source) and log.start.parent_turn == 3
        assert len(log.turns) == 3
        assert screen.current_name == forked[0].name  # the cursor is on the new file
        await pilot.press("f", "escape")  # cancel leaves everything alone
        await settle(pilot)
        assert len(list(folder.glob("*.jsonl"))) == 6


async def test_export_writes_beside_the_file(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    source = folder / "20260101-120000-s1.jsonl"
    app = browser_app(folder, labels=False)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await opened(pilot, app)
        await select(pilot, screen, source.name)
        for key, suffix in (("h", ".html"), ("m", ".md"), ("j", ".json"), ("t", ".txt")):
            await pilot.press("e")
            await settle(pilot)
            assert isinstance(app.screen, ExportScreen)
            await pilot.press(key)
            target = source.with_suffix(suffix)
            await wait_until(pilot, target.exists)
        assert "<html" in source.with_suffix(".html").read_text().lower()
        assert json.loads(source.with_suffix(".json").read_text())["turns"]
        await wait_until(pilot, lambda: any(
            n.message == f"Wrote {source.with_suffix('.txt')}" for n in app._notifications))  # noqa: SLF001
        await pilot.press("e", "escape")
        await settle(pilot)
        assert app.screen is screen
        assert len(screen.summaries) == 5  # exports are not session files


async def test_enter_replays_and_escape_comes_back(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    app = browser_app(folder, labels=False, replay_speed=0)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await opened(pilot, app)
        await select(pilot, screen, "20260102-120000-s2.jsonl")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        replay = app.screen
        assert isinstance(replay, ReplayScreen)
        await wait_until(pilot, lambda: replay.controller.at_end)
        assert "turn 6/6" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.current_name == "20260102-120000-s2.jsonl"


async def test_resume_returns_the_file_to_the_caller(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    app = browser_app(folder, labels=False)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await opened(pilot, app)
        await select(pilot, screen, "20260101-120000-s1.jsonl")
        await pilot.press("r")
        await settle(pilot)
    assert app.result == ("resume", folder / "20260101-120000-s1.jsonl")


async def test_escape_leaves_without_a_result(tmp_path: Path) -> None:
    app = browser_app(make_folder(tmp_path), labels=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
    assert app.result is None


async def test_labels_fill_in_and_are_cached(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, 2)
    app = browser_app(folder, labels=True)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = browser(app)
        await wait_until(pilot, lambda: all(s.label for s in screen.shown if not s.broken))
        assert "too_short" in screen_text(app)
    cached = json.loads((folder / INDEX_NAME).read_text())["sessions"]
    assert all(entry["label"] for name, entry in cached.items() if name != "broken.jsonl")


async def test_empty_folder(tmp_path: Path) -> None:
    app = browser_app(tmp_path / "nothing-here", labels=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "No session files here yet." in text
        assert "attractor-tui run" in text and "attractor-tui import" in text  # where from
        await pilot.press("enter", "d", "r")
        await asyncio.sleep(0.05)
        assert isinstance(app.screen, BrowserScreen)


def test_run_browser_hands_resume_to_the_caller(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    from attractor_tui.ui import standalone

    target = tmp_path / "x.jsonl"
    monkeypatch.setattr(standalone, "browse", lambda directory: ("resume", target))
    seen: list[Path] = []
    assert standalone.run_browser(tmp_path, on_resume=lambda p: seen.append(p) or 7) == 7
    assert seen == [target]
    monkeypatch.setattr(standalone, "browse", lambda directory: None)
    assert standalone.run_browser(tmp_path, on_resume=lambda p: 1 / 0) == 0


async def test_home_and_end_move_the_selection_and_what_acts_on_it(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, broken=False)
    app = browser_app(folder, labels=False)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await opened(pilot, app)
        first, last = names(screen)[0], names(screen)[-1]
        await select(pilot, screen, names(screen)[2])
        await pilot.press("home")
        assert screen.current_name == first
        assert first in str(screen.query_one("#browser-detail").render())
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and first in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("end")
        assert screen.current_name == last
        assert f"Sessions in {folder.absolute()}/" in screen_text(app)  # the full path
