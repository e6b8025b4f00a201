"""The browser on a file of several conversations (opened, not marked broken) and the
system prompt's preview in its detail lines (issue 17, item 4)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList, Static

from attractor_tui.core.config import SessionConfig
from attractor_tui.sessions.index import read_summary
from attractor_tui.ui.copying import ExportScreen
from attractor_tui.ui.screens.browser import BrowserScreen, ConversationScreen
from attractor_tui.ui.screens.replay import ReplayScreen
from attractor_tui.ui.standalone import browser_app
from tests.support.builders import run_session, scripted
from tests.support.formats import conversation, cross_model_file
from tests.support.ui import screen_text
from tests.support.waiting import wait_until

SIZE = (130, 40)


def two_conversations(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    return cross_model_file(folder / "conversations.json", [
        conversation("Talk about rivers.", "Rivers carve valleys.", "And deltas, slowly."),
        conversation("Talk about stars.", "Stars forge iron.", "Then they collapse.",
                     "Into white dwarfs."),
    ], model="anthropic/claude-x", generated_at="2026-01-02T12:00:00")


def detail(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, BrowserScreen)
    return str(screen.query_one("#browser-detail", Static).render())


async def test_a_file_of_several_conversations_opens_the_one_picked(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    two_conversations(folder)
    app = browser_app(folder, labels=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "holds 2 conversations" in detail(app), 15, "detail")
        browser = app.screen
        assert "broken" not in screen_text(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationScreen), 15, "pick")
        options = app.screen.query_one(OptionList)
        assert options.option_count == 2
        assert "seed: Talk about stars." in str(options.get_option_at_index(1).prompt)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayScreen), 15, "replay")
        replay = app.screen
        assert isinstance(replay, ReplayScreen)
        texts = [turn.text for turn in replay.session_log.turns]
        assert "Stars forge iron." in texts and "Rivers carve valleys." not in texts
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is browser, 15, "back in the browser")
        await pilot.press("enter")  # Escape in the picker opens nothing
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationScreen), 15, "pick")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is browser, 15, "back in the browser")
        assert "broken" not in detail(app)
    assert read_summary(folder / "conversations.json").error is None


async def test_export_of_a_picked_conversation_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    two_conversations(folder)
    app = browser_app(folder, labels=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "holds 2 conversations" in detail(app), 15, "detail")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportScreen), 15, "formats")
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationScreen), 15, "pick")
        await pilot.press("down", "enter")
        target = folder / "conversations.conversation-2.md"
        await wait_until(pilot, target.exists, 15, "the export")
    text = target.read_text(encoding="utf-8")
    assert "Stars forge iron." in text and "Rivers carve valleys." not in text


async def test_the_detail_lines_show_each_sides_prompt_preview(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    long_prompt = "You are the keeper of an 80-page rulebook.\n" + "Rule: be brief.\n" * 5000
    config = SessionConfig(a=scripted(name="goodbye").model_copy(update={"system": long_prompt}),
                           b=scripted(name="echo").model_copy(update={"system": "Be kind."}),
                           turns=1)
    await run_session(folder, config)
    app = browser_app(folder, labels=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "A's prompt:" in detail(app), 15, "detail")
        shown = detail(app)
        assert "A's prompt: You are the keeper of an 80-page rulebook. Rule: be brief." in shown
        assert f"[{len(long_prompt):,} characters, 5,002 lines" in shown
        assert "B's prompt: Be kind." in shown
        assert len(shown.splitlines()) <= 8  # the detail's height: nothing pushed out of sight
