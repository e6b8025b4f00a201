"""The live message (a few live Markdown blocks under a frozen head) and the
one-widget key footer, on the real app with the scripted provider."""

from __future__ import annotations

from pathlib import Path

from attractor_tui.core.text import safe_text
from attractor_tui.ui.widgets.footer import KeyFooter
from attractor_tui.ui.widgets.live import KEEP_BLOCKS, LIVE_BLOCKS, LiveMessage, settled_split
from tests.support.builders import scripted
from tests.support.ui import config, make_app, screen_text, session, wait_ended
from tests.support.waiting import wait_until


def paragraphs(count: int, tag: str = "p") -> str:
    return "\n\n".join(f"{tag}{n} **bold {n}** and `code {n}`." for n in range(count))


def test_short_text_is_not_split() -> None:
    assert settled_split(paragraphs(LIVE_BLOCKS)) is None


def test_split_keeps_the_last_blocks_live() -> None:
    text = paragraphs(LIVE_BLOCKS + 5)
    cut = settled_split(text)
    assert cut is not None
    head, tail = text[:cut], text[cut:]
    assert head.endswith("\n\n")  # cut after a blank line, never inside a block
    assert tail.startswith(f"p{LIVE_BLOCKS + 5 - KEEP_BLOCKS} ")
    assert head + tail == text


def test_a_code_fence_or_list_is_never_cut() -> None:
    fence = "```\n" + "\n\n".join(f"line {n}" for n in range(40)) + "\n```"
    assert settled_split(fence + "\n\n" + paragraphs(3)) is None  # 4 blocks only
    items = "\n\n".join(f"- item {n}" for n in range(40))  # one loose list
    text = paragraphs(LIVE_BLOCKS) + "\n\n" + items
    cut = settled_split(text)
    assert cut is not None and "- item 0" in text[cut:]  # the list stays whole


async def test_a_long_reply_streams_with_few_live_blocks(tmp_path: Path) -> None:
    reply = paragraphs(60)
    a = scripted([reply], chunk_size=12, delay=0.002)
    app = make_app(tmp_path, config(a=a, turns=1))
    async with app.run_test(size=(140, 40)) as pilot:
        pane = session(app).pane("A")

        def live() -> LiveMessage | None:
            return next(iter(pane._live.values()), None)  # noqa: SLF001

        await wait_until(pilot, lambda: (m := live()) is not None and len(m.head.items) >= 2,
                       what="settled blocks", settled=False)
        message = live()
        assert message is not None
        blocks = [child for child in message.tail.children]
        assert len(blocks) <= 2 * LIVE_BLOCKS  # not one widget per block of the reply
        assert safe_text(reply).startswith(message.text)  # nothing lost or reordered
        await wait_ended(pilot)
        finished = [item for item in pane.mounted_messages if hasattr(item, "turn")]
        assert finished[-1].turn.text == reply
        assert "p59 bold 59 and code 59." in screen_text(app)
        assert not pane._live  # noqa: SLF001 - the live message is gone


async def test_footer_follows_focus_and_clicks_press_keys(tmp_path: Path) -> None:
    # long enough to be still running after the settled waits of a loaded machine
    app = make_app(tmp_path, config(a=scripted(["x" * 800], delay=0.05), turns=3))
    async with app.run_test(size=(160, 40)) as pilot:
        footer = app.screen.query_one(KeyFooter)
        text = footer.render().plain
        assert "Interject" in text and " p Pause " in text and "palette" in text
        await pilot.press("i")
        await wait_until(pilot, lambda: "Send" in footer.render().plain)
        assert "Interject" not in footer.render().plain
        await pilot.press("escape")
        await wait_until(pilot, lambda: "Interject" in footer.render().plain)
        x = footer.render().plain.index(" p ") + 1
        await pilot.click(KeyFooter, offset=(x, 0))
        await wait_until(pilot, lambda: session(app).engine is not None
                       and session(app).engine.paused)
        assert len(app.screen.query(KeyFooter)) == 1


async def test_session_letters_are_text_while_typing_in_the_bar(tmp_path: Path) -> None:
    """The session's letter keys are priority bindings (answered before the
    key bubbles through the focused pane), so they must stand aside while the
    operator types."""
    app = make_app(tmp_path, config(turns=1), autostart=False)  # the bar takes text until the end
    async with app.run_test(size=(160, 40)) as pilot:
        screen = session(app)
        await pilot.press("i")
        await wait_until(pilot, lambda: app.focused is screen.bar.input)
        await pilot.press("i", "p", "t", "m", "a", "b", "e", "v", "r", "f", "P", "o")
        assert screen.bar.input.text == "iptmabevrfPo"
        assert not screen.tools.display and screen.meter.display
        assert app.focused is screen.bar.input
        await pilot.press("escape", "t")
        assert screen.tools.display  # outside the bar the letter is a key again
