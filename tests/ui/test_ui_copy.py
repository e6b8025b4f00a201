"""Copy (`y` a turn, `Y` the transcript) and export, live and in replay, keys and palette.

The real app runs scripted sides to the end; what lands in `app.clipboard`
(Textual's copy of what it sent the terminal by OSC 52) is compared with the
session file the engine wrote.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from attractor_tui.sessions.export import export_session
from attractor_tui.sessions.store import load_session
from attractor_tui.ui.copying import ExportScreen, transcript
from attractor_tui.ui.screens.help import HelpScreen
from attractor_tui.ui.standalone import replay_app
from tests.support.builders import scripted, write_session
from tests.support.ui import config, make_app, screen_text, session, wait_ended
from tests.support.waiting import settle, wait_until

SIZE = (150, 44)


def _messages(app: Any) -> list[str]:
    return [n.message for n in app._notifications]  # noqa: SLF001


async def test_y_copies_the_focused_panes_last_turn(tmp_path: Path) -> None:
    cfg = config(a=scripted(["First from A.", "Second from A,\nin two lines."]),
                 b=scripted(["Only B here.", "B again."]), turns=2)
    app = make_app(tmp_path, cfg)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ended(pilot)
        await pilot.press("y")
        assert app.clipboard == "Second from A,\nin two lines."
        assert "Sent turn 3 (A, 28 characters) to the terminal's clipboard." in _messages(app)
        await pilot.press("b", "y")
        assert app.clipboard == "B again."
        assert "Sent turn 4 (B, 8 characters) to the terminal's clipboard." in _messages(app)


@pytest.fixture(autouse=True)
def outside_tmux(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wording without the tmux hint, even when the suite itself runs inside tmux."""
    monkeypatch.delenv("TMUX", raising=False)


def fake_tmux(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    """Run as if inside tmux, with a `tmux` on PATH answering `show-options` with `setting`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tmux = bin_dir / "tmux"
    tmux.write_text(f"#!/bin/sh\necho {setting}\n", encoding="utf-8")
    tmux.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")


@pytest.mark.parametrize("setting", ["external", "off"])
async def test_y_inside_tmux_says_how_to_let_the_copy_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str,
) -> None:
    """tmux's default drops OSC 52: "Copied" would be a claim the app cannot make."""
    fake_tmux(tmp_path, monkeypatch, setting)
    app = make_app(tmp_path, config(a=scripted(["Only A."]), turns=1))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ended(pilot)
        await pilot.press("y")
        said = _messages(app)[-1]
        assert said.startswith("Sent turn 1 (A, 7 characters) to the terminal's clipboard.")
        assert f"set-clipboard is {setting}" in said
        assert "`tmux set -g set-clipboard on`" in said
        assert not any(m.startswith("Copied") for m in _messages(app))


async def test_y_inside_tmux_with_set_clipboard_on_says_no_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_tmux(tmp_path, monkeypatch, "on")
    app = make_app(tmp_path, config(a=scripted(["Only A."]), turns=1))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ended(pilot)
        await pilot.press("Y")
        await wait_until(pilot, lambda: app.clipboard != "", what="transcript copied")
        said = _messages(app)[-1]
        assert said.startswith("Sent the transcript as Markdown (2 turns")
        assert said.endswith("to the terminal's clipboard.")


async def test_y_makes_terminal_escapes_visible(tmp_path: Path) -> None:
    cfg = config(a=scripted(["red \x1b[31malert\x1b[0m and a bell\x07"]), turns=1)
    app = make_app(tmp_path, cfg)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ended(pilot)
        await pilot.press("y")
        assert "\x1b" not in app.clipboard and "\x07" not in app.clipboard
        assert "alert" in app.clipboard


async def test_y_never_copies_a_key_value(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-test-0123456789abcdefghij"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    cfg = config(a=scripted([f"the key is {key}, keep it"]), turns=1)
    app = make_app(tmp_path, cfg)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ended(pilot)
        await pilot.press("y")
        assert app.clipboard == "the key is [redacted], keep it"


async def test_Y_copies_the_markdown_export(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=2))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ended(pilot)
        await pilot.press("Y")
        await wait_until(pilot, lambda: app.clipboard != "", what="transcript copied")
        log = load_session(tmp_path / "session.jsonl")
        assert app.clipboard == transcript(log)
        assert app.clipboard.startswith("# scripted/goodbye and scripted/echo")
        assert any(m.startswith("Sent the transcript as Markdown (4 turns")
                   for m in _messages(app))


async def test_nothing_to_copy_says_so(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=1), autostart=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("y")
        assert app.clipboard == ""
        assert "Nothing to copy yet: A has no finished turn." in _messages(app)


async def test_footer_and_help_show_the_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=1))
    async with app.run_test(size=(200, 44)) as pilot:
        await wait_ended(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "y Copy turn" in footer and "Y Copy all" in footer and "x What's sent" in footer
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        assert "Copy turn" in text and "Copy all" in text and "What's sent" in text
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        where = {where for where, _ in help_screen.sections}
        assert "what each side is sent (x)" in where


async def test_palette_copies_and_exports(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=1))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_ended(pilot)
        titles = [c.title for c in app.get_system_commands(session(app))]
        assert {"Copy turn", "Copy transcript", "Export transcript",
                "What each side is sent"} <= set(titles)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Copy transcript")
        await settle(pilot, 0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.clipboard.startswith("# "), what="palette copy")
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Export transcript")
        await settle(pilot, 0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportScreen))
        await pilot.press("m")
        target = tmp_path / "session.md"
        await wait_until(pilot, target.exists, what="export written")
        log = load_session(tmp_path / "session.jsonl")
        assert target.read_text(encoding="utf-8") == transcript(log)
        assert f"Wrote {target}" in _messages(app)


async def test_replay_copies_the_turn_in_view(tmp_path: Path) -> None:
    path = write_session(tmp_path / "s.jsonl", turns=6)
    log = load_session(path)
    app = replay_app(log, speed=0)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.screen.controller.at_end)  # type: ignore[attr-defined]
        await pilot.press("y")
        last_a = [t for t in log.turns if t.side == "A"][-1]
        assert app.clipboard == last_a.text
        await pilot.press("N", "N")  # two turns back: A's turn before the last is in view
        await settle(pilot)
        await pilot.press("y")
        assert app.clipboard == [t for t in log.turns if t.side == "A"][-2].text
        await pilot.press("Y")
        await wait_until(pilot, lambda: app.clipboard.startswith("# "))
        assert app.clipboard == transcript(log)
        assert "### " in app.clipboard and export_session(log, "md").splitlines()[0] == \
            app.clipboard.splitlines()[0]
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Copy transcript" in titles and "What each side is sent" in titles


async def test_y_Y_x_are_text_while_typing_in_the_bar(tmp_path: Path) -> None:
    app = make_app(tmp_path, config(turns=1), autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = session(app)
        await pilot.press("i")
        await wait_until(pilot, lambda: app.focused is screen.bar.input)
        await pilot.press("y", "Y", "x")
        assert screen.bar.input.text == "yYx"
        assert app.clipboard == "" and app.screen is screen
