"""The attractor meter widget, mounted in a bare app and read off the screen."""

from __future__ import annotations

import re

from textual.app import App, ComposeResult

from attractor_tui.core.events import Turn
from attractor_tui.experiments.report import sparkline
from attractor_tui.ui.themes import SPEAKER_DEFAULTS
from attractor_tui.ui.widgets.meter import (
    CELLS_PER_TURN,
    AttractorMeter,
    SparkRow,
    label_class,
    latest,
)
from tests.analysis.test_classifier_v2 import build
from tests.support.builders import CHAT, FAREWELLS, turns_of
from tests.support.ui import screen_lines


class MeterApp(App[None]):
    def __init__(self, meter: AttractorMeter | None = None) -> None:
        super().__init__()
        self.meter = meter or AttractorMeter(id="meter")

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(SPEAKER_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield self.meter


def goodbye_turns() -> list[Turn]:
    return turns_of(CHAT + [FAREWELLS[i % 3] for i in range(10)])


async def test_goodbye_loop_shows_label_evidence_and_sparklines() -> None:
    app = MeterApp()
    async with app.run_test(size=(100, 12)) as pilot:
        meter = app.query_one(AttractorMeter)
        updates = [meter.add_turn(t) for t in goodbye_turns()]
        await pilot.pause()
        assert [u.label for u in updates if u.entered] == ["goodbye_loop"]
        lines = screen_lines(app)
        text = "\n".join(lines)
        assert "attractor meter" in lines[0]
        # 1-based, as the cards number turns: index 6 is the 7th turn
        first = next(u for u in updates if u.streak == 1)
        held = updates[-1].streak
        assert f"goodbye_loop topic small_talk held {held} model turn(s) since turn " \
               f"{first.turn_index + 1} " in text
        assert f"turn {first.turn_index + 1} " in " ".join(first.evidence)
        window = updates[-1].evidence[0].split(":")[0]  # "last N model turns (a-b)"
        assert f"{window}: goodbye_loop signal in" in text and "farewell" in text
        assert "length" in text and "emoji" in text and "similarity" in text
        row_a = next(line for line in lines if line.startswith("│ A "))
        row_b = next(line for line in lines if line.startswith("│ B "))
        # seven A turns: seven bars in each of A's three sparklines, each turn as
        # wide as the room allows (up to CELLS_PER_TURN), and right after the bars
        # the latest value (it sat a whole column away from a short sparkline)
        assert sum(ch in "▁▂▃▄▅▆▇█" for ch in row_a) == 3 * 7 * CELLS_PER_TURN
        last_a = updates[-2].metrics
        assert last_a is not None
        assert re.search(rf"[▁▂▃▄▅▆▇█]{{{7 * CELLS_PER_TURN}}} {last_a.words}w", row_a)
        assert any(ch in "▂▃▄▅▆▇█" for ch in row_b)
        label = meter.query_one("#meter-label")
        assert label.has_class("-attractor")
        assert label.styles.color != meter.query_one("#meter-streak").styles.color
        a_row = meter.query(SparkRow)[1]
        assert a_row.styles.color.hex.lower() == SPEAKER_DEFAULTS["speaker-a"]


async def test_load_catches_up_without_news_and_evidence_is_sanitised() -> None:
    app = MeterApp()
    async with app.run_test(size=(120, 12)) as pilot:
        meter = app.query_one(AttractorMeter)
        hostile = [f"\x1b[2J{t}" for t in FAREWELLS]
        last = meter.load(turns_of(CHAT + hostile * 3))
        await pilot.pause()
        assert last is not None and last.label == "goodbye_loop"
        text = "\n".join(screen_lines(app))
        assert "goodbye_loop" in text and "\x1b" not in text
        # an interrupted turn neither moves the meter nor redraws it
        before = meter.live.model_turns
        update = meter.add_turn(Turn(index=99, round=49, side="B", text="Goo",
                                     interrupted=True))
        assert update.metrics is None and meter.live.model_turns == before


async def test_quiet_states_and_narrow_widths() -> None:
    app = MeterApp()
    async with app.run_test(size=(40, 12)) as pilot:
        meter = app.query_one(AttractorMeter)
        assert "too_short" in "\n".join(screen_lines(app))
        for turn in turns_of(build(9)):  # a story that keeps adding new named things
            meter.add_turn(turn)
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "creative_escape" in text
        assert meter.query_one("#meter-label").has_class("-creative")
        lines = screen_lines(app)
        evidence = next(line for line in lines if line.startswith("│ last "))
        assert evidence.rstrip(" │").endswith("…")  # one line, cut with an ellipsis
        row_a = next(line for line in lines if line.startswith("│ A "))
        assert sum(ch in "▁▂▃▄▅▆▇█" for ch in row_a) >= 3 * 3  # bars fit even when narrow


async def test_loaded_before_mounting_shows_once_mounted() -> None:
    meter = AttractorMeter()
    meter.load(goodbye_turns())
    app = MeterApp(meter)
    async with app.run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert f"goodbye_loop topic small_talk held {meter.live.streak} model turn(s)" in text
        assert any(line.startswith(("│ A ▇", "│ A █")) for line in screen_lines(app))


def test_helpers() -> None:
    assert latest("words", []) == "–"
    assert latest("words", [3.0, 12.0]) == "12w"
    assert latest("emoji", [4.0]) == "4"
    assert latest("similarity", [0.256]) == "0.26"
    assert [label_class(x) for x in ("goodbye_loop", "creative_escape", "other")] == [
        "-attractor", "-creative", "-neutral",
    ]
    assert sparkline([0, 5, 10], 0.0, 10.0, 3) == "▁▅█"
