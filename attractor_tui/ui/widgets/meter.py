"""The live attractor meter: state guess, evidence, and per-side sparklines.

A thin view over `analysis.live.LiveAttractor`: the screen feeds it each
finished `Turn` and gets the `LiveUpdate` back, so it can notify when the
conversation enters an attractor. Sparklines are block characters in plain
`Text` (one render per row per turn, sized to the widget's width), not six
`Sparkline` widgets. Evidence quotes model text, so it is sanitised and never
parsed as markup. Side colours come from the theme (`$speaker-a`/`$speaker-b`;
`AttractorApp` supplies defaults for themes that lack them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from attractor_tui.analysis.live import LiveAttractor, LiveUpdate, is_attractor
from attractor_tui.core.events import Turn
from attractor_tui.core.text import safe_line
from attractor_tui.experiments.report import sparkline

COLUMNS: tuple[tuple[str, str], ...] = (
    ("words", "length"), ("emoji", "emoji"), ("similarity", "similarity"),
)
"""(series, heading) shown per side, left to right."""
_SUFFIX = 5
"""Characters kept after each sparkline for the latest value."""


CELLS_PER_TURN = 3
"""Widest bar a turn gets while the sparkline has room to spare."""


def latest(series: str, values: Sequence[float]) -> str:
    """The latest value of a series, as printed after its sparkline."""
    if not values:
        return "–"
    value = values[-1]
    if series == "similarity":
        return f"{value:.2f}"
    return f"{int(value)}w" if series == "words" else str(int(value))


def label_class(label: str) -> str:
    """CSS class of the state label: attractors stand out, the rest stays quiet."""
    if is_attractor(label):
        return "-attractor"
    return "-creative" if label == "creative_escape" else "-neutral"


class SparkRow(Widget):
    """One line of the meter: the column headings (`side=None`) or one side's sparklines."""

    DEFAULT_CSS = "SparkRow { height: 1; }"

    def __init__(self, live: LiveAttractor, side: str | None, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.live = live
        self.side = side

    def column_width(self) -> int:
        return max(_SUFFIX + 2, (self.size.width - 2) // len(COLUMNS))

    def render(self) -> Text:
        width = self.column_width()
        text = Text(no_wrap=True, overflow="crop")
        text.append(f"{self.side or ' '} ", style="bold")
        for series, heading in COLUMNS:
            if self.side is None:
                text.append(heading[: width - 1].ljust(width))
                continue
            values = list(self.live.series[self.side][series])
            spark = width - _SUFFIX - 1
            shown = values[-spark:]
            # a few turns get a few cells each, and the latest value follows the bars
            # (it sat a whole column away from a 4-cell sparkline)
            cells = max(1, min(CELLS_PER_TURN, spark // max(1, len(shown))))
            bars = "".join(ch * cells for ch in sparkline(shown, 0.0, self._top(series), spark))
            text.append(f"{bars} {latest(series, values)}".ljust(width))
        return text

    def _top(self, series: str) -> float:
        """One scale for both sides, so A's and B's bars compare."""
        if series == "similarity":
            return 1.0
        both = [v for side in ("A", "B") for v in self.live.series[side][series]]
        return max(1.0, *both) if both else 1.0


class AttractorMeter(Widget):
    """State guess with evidence and sparklines, updated as turns finish."""

    DEFAULT_CSS = """
    AttractorMeter {
        height: auto;
        border: round $secondary;
        border-title-color: $text-muted;
        padding: 0 1;
    }
    AttractorMeter #meter-head { height: 1; }
    AttractorMeter #meter-label { width: auto; text-style: bold; margin-right: 1; }
    AttractorMeter #meter-label.-attractor { color: $warning; }
    AttractorMeter #meter-label.-creative { color: $success; }
    AttractorMeter #meter-label.-neutral { color: $text-muted; }
    AttractorMeter #meter-topic { width: auto; color: $accent; margin-right: 1; }
    AttractorMeter #meter-streak, AttractorMeter #meter-evidence {
        width: 1fr; height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    AttractorMeter .spark-head { color: $text-muted; }
    AttractorMeter .spark-a { color: $speaker-a; }
    AttractorMeter .spark-b { color: $speaker-b; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.live = LiveAttractor()
        self.last: LiveUpdate | None = None
        self.since: int | None = None
        """Turn index (0-based, as stored) at which the current attractor streak began."""
        self.topic: str | None = None
        """The dominant topic so far, when the classifier gives one."""
        self.border_title = Content(" attractor meter ")
        self._ready = False
        """Children exist (`is_mounted` only turns true after `on_mount` returns)."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="meter-head"):
            yield Static(id="meter-label", classes="-neutral")
            yield Static(id="meter-topic")
            yield Static(id="meter-streak")
        yield Static(id="meter-evidence")
        yield SparkRow(self.live, None, classes="spark-head")
        yield SparkRow(self.live, "A", classes="spark-a")
        yield SparkRow(self.live, "B", classes="spark-b")

    def on_mount(self) -> None:
        self._ready = True
        self._show()

    # ------------------------------------------------------------------ API

    def add_turn(self, turn: Turn) -> LiveUpdate:
        """Take one finished turn; the screen notifies when `update.entered`."""
        update = self.live.add(turn)
        self._note(update)
        if update.metrics is not None:
            self._show()
        return update

    def load(self, turns: Iterable[Turn]) -> LiveUpdate | None:
        """Catch up on a stored session (resume, fork) in one go, without news."""
        for turn in turns:
            self._note(self.live.add(turn))
        self._show()
        return self.last

    # ------------------------------------------------------------- internals

    def _note(self, update: LiveUpdate) -> None:
        self.last = update
        topic = getattr(update, "topic", None)
        if isinstance(topic, str) and topic:
            self.topic = topic
        if update.streak == 1:
            self.since = update.turn_index
        elif not update.streak:
            self.since = None

    def _show(self) -> None:
        if not self._ready:
            return
        live = self.live
        label = self.query_one("#meter-label", Static)
        label.update(Text(live.label + ("?" if live.confidence == "uncertain" else "")))
        label.set_classes(label_class(live.label))
        topic = self.query_one("#meter-topic", Static)
        topic.update(Text(f"topic {safe_line(self.topic)}" if self.topic else ""))
        topic.display = bool(self.topic)
        self.query_one("#meter-streak", Static).update(Text(self._streak_text()))
        evidence = " · ".join(safe_line(line) for line in live.evidence)
        self.query_one("#meter-evidence", Static).update(Text(evidence))
        for row in self.query(SparkRow):
            row.refresh()

    def _streak_text(self) -> str:
        live = self.live
        parts = [f"{live.model_turns} model turns"]
        if live.streak:
            since = f" since turn {self.since + 1}" if self.since is not None else ""
            parts.insert(0, f"held {live.streak} model turn(s){since}")
        if live.label != "too_short":
            parts.append(f"{live.confidence} (p={live.score:.0%})")
        return " · ".join(parts)
