"""Long prompts on the start screen (issue 17): refused with both token counts before the
session starts, counted in tokens as they are typed, loaded from a file; and the status
line while a call waits for its per-minute budget."""

from __future__ import annotations

import re
from pathlib import Path

from textual.widgets import Input, Static, TextArea

from attractor_tui.ui.app import AttractorApp
from attractor_tui.ui.screens.replay import AskScreen
from attractor_tui.ui.screens.start import StartScreen
from attractor_tui.ui.widgets.status import StatusInfo, status_text
from tests.support.builders import scripted
from tests.support.ui import config, make_app, screen_text, session
from tests.support.waiting import wait_until

LONG_PROMPT = ("Rule: stay in character and answer briefly, whatever comes.\n" * 1700)[:100_000]
"""A 100 KB system prompt: about 20,000 tokens, five times the embedded model's window."""
SIZE = (120, 44)


def start_form(app: AttractorApp) -> StartScreen:
    assert isinstance(app.screen, StartScreen)
    return app.screen


def tokens_line(form: StartScreen, key: str) -> str:
    return str(form.query_one(f"#tokens-{key}", Static).render())


async def test_a_prompt_too_long_for_its_window_is_refused_with_both_counts(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, None)  # the default sides: the embedded model, 4,096 tokens
    async with app.run_test(size=SIZE) as pilot:
        form = start_form(app)
        form.query_one("#system-a", TextArea).load_text(LONG_PROMPT)
        form.query_one("#start-button").focus()
        await pilot.press("ctrl+s")
        error = form.query_one("#start-error", Static)
        await wait_until(pilot, lambda: error.has_class("visible"), 60, "the refusal")
        shown = str(error.render())
        match = re.search(r"side A's system prompt and seed are ([\d,]+) tokens but "
                          r"embedded/smollm2-135m's window holds ([\d,]+)", shown)
        assert match, shown
        assert int(match[1].replace(",", "")) > 15_000 and match[2] == "4,096"
        assert "shorten the prompt" in shown and "side B" not in shown
        assert "Traceback" not in screen_text(app)
        assert app.screen is form and app.session is None  # still running, nothing started
        assert form.query_one("#system-a", TextArea).has_focus
        assert "too long to start" in tokens_line(form, "a")
        # the operator fixes it and the same form starts
        form.query_one("#system-a", TextArea).load_text("Be brief.")
        form.query_one("#model-a", Input).value = "scripted/goodbye"
        form.query_one("#model-b", Input).value = "scripted/echo"
        form.query_one("#turns", Input).value = "1"
        form.query_one("#start-button").focus()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.session is not None, 30, "the session")
    assert not (tmp_path / "sessions").exists()  # the dry run before it wrote nothing


async def test_the_token_count_follows_the_prompt_and_the_model(tmp_path: Path) -> None:
    app = make_app(tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        form = start_form(app)
        await wait_until(pilot, lambda: "tokens" in tokens_line(form, "b"), 60, "a count")
        assert "tokens · <1% of a 4,096-token window" in tokens_line(form, "b")
        area = form.query_one("#system-b", TextArea)
        area.focus()
        before = tokens_line(form, "b")
        area.insert(" And " * 300)  # typed text is counted once typing pauses
        await wait_until(pilot, lambda: tokens_line(form, "b") != before, 30, "a new count")
        count = int(tokens_line(form, "b").split(" tokens", 1)[0].replace(",", ""))
        assert count > 300
        form.query_one("#model-b", Input).value = "scripted/echo"  # a model of no known window
        await wait_until(pilot, lambda: "window is unknown" in tokens_line(form, "b"), 30,
                         "the count for the new model")
        area.load_text("")
        form.query_one("#model-b", Input).value = "embedded/smollm2-135m"
        await wait_until(pilot, lambda: tokens_line(form, "b") == "", 30, "no count")
        assert "of a 4,096-token window" in tokens_line(form, "a")  # A's was left alone


async def test_ctrl_o_in_a_prompt_field_loads_a_file(tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("You are a lighthouse keeper.\nAnswer in two lines.", encoding="utf-8")
    binary = tmp_path / "image.bin"
    binary.write_bytes(b"PNG\x00\x00 data")
    app = make_app(tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        form = start_form(app)
        area = form.query_one("#system-b", TextArea)
        typed = area.text
        area.focus()
        await pilot.pause()
        assert "Load file" in screen_text(app).splitlines()[-1]  # the footer says the key
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, AskScreen), what="the dialog")
        dialog = app.screen
        for path, why in ((tmp_path / "missing.txt", "missing.txt"), (binary, "binary")):
            dialog.query_one(Input).value = str(path)
            await pilot.press("enter")
            await pilot.pause()
            error = str(dialog.query_one("#ask-error", Static).render())
            assert why in error and "\n" not in error, error
            assert app.screen is dialog  # the path stays there to be corrected
        dialog.query_one(Input).value = str(prompt)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is form, what="the dialog closed")
        assert area.text == prompt.read_text(encoding="utf-8") != typed
        await wait_until(pilot, lambda: tokens_line(form, "b").startswith(("1", "2")), 30,
                         "the count of the loaded prompt")
        # Escape leaves the field as it is
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, AskScreen), what="the dialog")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is form, what="the dialog closed")
        assert area.text == prompt.read_text(encoding="utf-8")


def test_pacing_shows_who_waits_for_which_limit() -> None:
    info = StatusInfo(state="pacing", detail="B waits 40 s to stay under 4,000 tokens/min")
    text = status_text(info).plain
    assert text.startswith(" ◷ pacing: B waits 40 s to stay under 4,000 tokens/min ")


async def test_the_status_line_says_when_a_call_waits_for_its_budget(tmp_path: Path) -> None:
    """The real engine with a one-call-a-minute limit on A: A's second call waits."""
    a = scripted(name="goodbye").model_copy(update={"rpm": 1})
    app = make_app(tmp_path, config(a=a, turns=2))
    async with app.run_test(size=SIZE) as pilot:
        screen = session(app)
        await wait_until(pilot, lambda: screen.engine is not None
                         and screen.engine.state == "pacing", 30, "pacing")
        status = screen.query_one("#status", Static)
        await wait_until(pilot, lambda: "◷ pacing: A waits" in str(status.render()), 5,
                         "the status line")
        assert re.search(r"A waits (5\d|60) s to stay under 1 calls/min", str(status.render()))
