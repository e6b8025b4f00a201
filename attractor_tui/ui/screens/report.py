"""The report screen: what a folder of conversations fell into, as terminal charts.

It shows the `report.Report` that `attractor-tui report` renders (built by
`report.build_report`, never recomputed here): end-state bars, the emoji
histogram over log-scaled buckets, similarity-over-turns curves, and the
tables (topics, substantive turns, tool calls, per model, per conversation).
Building reads and analyses every file, which takes a while for a big folder,
so it runs in a thread while a loading indicator shows. Every string that came
from a model or a file (names, keywords, emoji, problems) is sanitised and
shown as plain text.

Given `compare` (several folders, or one `batch --vary` folder), it shows the
comparison instead (`report.compare_folders`): per condition a stacked
end-state bar, then per label the counts, intervals and p-values, the onset
and substantive-turn tests and the tool-call rates.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import LoadingIndicator, Static
from textual.worker import get_current_worker

from attractor_tui.core.text import safe_line, safe_text
from attractor_tui.experiments.report import (
    RICH_COLOURS,
    Comparison,
    LabelTest,
    Report,
    ReportError,
    ReportFormat,
    build_report,
    compare_folders,
    render,
    render_compare,
    smooth,
)
from attractor_tui.experiments.report.charts import OPERATOR_MARK, turn_text
from attractor_tui.sessions.formats import session_tree
from attractor_tui.ui.widgets.charts import (
    bar_chart,
    framed_line_chart,
    histogram_chart,
    log_buckets,
    sparkline,
    stacked_bar,
)
from attractor_tui.ui.widgets.footer import KeyFooter

EXPORT_FORMATS: tuple[ReportFormat, ...] = ("md", "html")
MAX_ROWS = 300
"""Conversations listed on screen; the exported report lists them all."""
CURVE_HEIGHT = 10
MAX_WORD = 40
"""Longer words in a text column may be split to fit."""
NARROW = 110
"""Below this many columns the side-by-side panels stack."""
MEAN_STYLE = "bold red"
CURVE_STYLE = "#5b7fb5"
"""A muted blue, so the mean stands out on dark and light themes alike."""


def clean(value: Any) -> str:
    """Text from a model or a file, safe for one terminal line."""
    return safe_line(str(value))


def export_targets(directory: Path) -> dict[ReportFormat, Path]:
    """Where `e` writes: beside the folder, named after it (`runs/` -> `runs-report.md`)."""
    folder = directory.resolve()
    return {fmt: folder.parent / f"{folder.name or 'sessions'}-report.{fmt}"
            for fmt in EXPORT_FORMATS}


def write_exports(report: Report | Comparison, directory: Path) -> list[Path]:
    """Render with experiments.report's writers and write it next to the folder
    (a comparison as `<folder>-compare.md`/`.html`)."""
    written = []
    for fmt, target in export_targets(directory).items():
        if isinstance(report, Comparison):
            target = target.with_name(target.name.replace("-report.", "-compare."))
            text = render_compare(report, fmt)
        else:
            text = render(report, fmt)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


# ------------------------------------------------------------- comparison


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3g}"


def condition_bars(comparison: Comparison, width: int) -> Text:
    """Per condition one 100% stacked bar of its end states, then the colour key."""
    names = [clean(c.name) for c in comparison.conditions]
    name_w = min(30, max(len(n) for n in names))
    text = Text()
    for i, (name, c) in enumerate(zip(names, comparison.conditions, strict=True)):
        if i:
            text.append("\n")
        count = f" n={c.n}"
        parts = [(t.label, c.end_states.get(t.label, 0), RICH_COLOURS.get(t.label, "white"))
                 for t in comparison.tests]  # one label order for every bar
        text.append(name[:name_w].ljust(name_w) + " ")
        text.append_text(stacked_bar(parts, max(4, width - name_w - 1 - len(count))))
        text.append(count, style="dim")
    text.append("\n").append_text(colour_key([t.label for t in comparison.tests], width))
    return text


def colour_key(labels: list[str], width: int) -> Text:
    """"■ label" per label in its colour, wrapped to `width`."""
    key = Text()
    line = 0
    for label in labels:
        item = Text("■ ", style=RICH_COLOURS.get(label, "white")).append(clean(label) + "  ")
        if line and line + item.cell_len > width:
            key.append("\n")
            line = 0
        key.append_text(item)
        line += item.cell_len
    return key


def label_tests_table(comparison: Comparison, tests: list[LabelTest], width: int,
                      what: str) -> RenderableType:
    if not tests:
        return Text("The classifier gave no labels here.", style="dim")
    rows: list[list[Cell]] = []
    for t in tests:
        cells: list[Cell] = [Text(f"{k} ({pct:g}%) ").append(f"{lo:g}–{hi:g}%", style="dim")
                             for k, pct, (lo, hi) in zip(t.counts, t.pct, t.intervals,
                                                         strict=True)]
        rows.append([Text(clean(t.label), style=RICH_COLOURS.get(t.label, "")), *cells,
                     _p(t.p_value),
                     Text(_p(t.p_adjusted), style="bold" if t.p_adjusted < 0.05 else "")])
    names = [clean(c.name) for c in comparison.conditions]
    return table([what, *names, "p", "p (Holm)"], rows, width)


def comparison_notes(comparison: Comparison, width: int) -> Text:
    o = comparison.overall
    note = (f"Cells: count (share) and the 95% Wilson interval. p: {comparison.test_name} of "
            "each label's share across the conditions; p (Holm): corrected across labels "
            f"(bold below 0.05). All end states at once: chi-square {o['statistic']:g}, "
            f"{o['dof']} dof, p {_p(o['p_value'])}.")
    return Text("\n".join(textwrap.wrap(note, max(20, width))), style="dim")


def distributions_table(comparison: Comparison, width: int) -> Table:
    names = [clean(c.name) for c in comparison.conditions]
    rows: list[list[Cell]] = [
        [d.name, *[f"median {s['median']:g} · mean {s['mean']:g} (n={n})"
                   for s, n in zip(d.stats, d.n, strict=True)], d.test, _p(d.p_value)]
        for d in comparison.distributions]
    return table(["measure", *names, "test", "p"], rows, width,
                 text=(0, *range(1, len(names) + 2)))


def compare_tools_table(comparison: Comparison, width: int) -> RenderableType:
    if not comparison.tools:
        return Text("No tool calls in any condition.", style="dim")
    names = [clean(c.name) for c in comparison.conditions]
    rows: list[list[Cell]] = [
        [clean(r["name"]), *[f"{x['calls']} calls · {x['sessions']} conv "
                             f"({x['session_pct']:g}%) · {x['per_100_turns']:g}/100 turns"
                             for x in r["conditions"]]]
        for r in comparison.tools]
    return table(["tool", *names], rows, width, text=tuple(range(len(names) + 1)))


# ---------------------------------------------------------------- sections


def end_state_chart(report: Report, width: int) -> Text:
    """Bars with count, share and the 95% Wilson interval."""
    return distribution_chart(report.end_states, width, RICH_COLOURS)


def distribution_chart(rows: list[dict[str, Any]], width: int, colours: dict[str, str]) -> Text:
    bars = [(r["label"], float(r["count"]),
             f"{r['count']:>3} {r['pct']:5.1f}% [{r['lo']:g}–{r['hi']:g}]",
             colours.get(r["label"], "white")) for r in rows]
    return bar_chart(bars, width)


def topic_chart(report: Report, width: int) -> Text:
    if not report.topic_labels:
        return Text("The classifier gave no topic labels.", style="dim")
    return distribution_chart(report.topic_labels, width, {})


def model_bars(report: Report, width: int) -> Text:
    """Per model (or pair) one 100% stacked end-state bar."""
    groups = report.per_model or report.models
    name_w = min(30, max(len(clean(r["models"])) for r in groups))
    text = Text()
    for i, r in enumerate(groups):
        if i:
            text.append("\n")
        count = f" n={r['sessions']}"
        parts = [(row["label"], r["end_states"].get(row["label"], 0),
                  RICH_COLOURS.get(row["label"], "white")) for row in report.end_states]
        text.append(clean(r["models"])[:name_w].ljust(name_w) + " ")
        text.append_text(stacked_bar(parts, max(4, width - name_w - 1 - len(count))))
        text.append(count, style="dim")
    text.append("\n").append_text(colour_key([r["label"] for r in report.end_states], width))
    return text


def emoji_chart(report: Report, width: int) -> Text:
    e = report.emoji
    text = Text()
    text.append("mean ", style="dim").append(f"{e['mean']}")
    text.append(" · median ", style="dim").append(f"{e['median']}")
    text.append(" · max ", style="dim").append(f"{e['max']:g}")
    text.append(" · total ", style="dim").append(f"{e['total']}")
    text.append(f"\n{e['without_emoji']} of {len(report.sessions)} without emoji", style="dim")
    if e["top"]:
        top = Text().append("top ", style="dim")
        for emoji, count in e["top"]:
            item = Text(" ").append(clean(emoji)).append(f"×{count}", style="dim")
            if top.cell_len + item.cell_len > width:
                break  # as many as fit on the line
            top.append_text(item)
        text.append("\n").append_text(top)
    text.append("\n\n")
    text.append_text(histogram_chart(log_buckets([s.emoji_total for s in report.sessions]),
                                     width))
    return text


def similarity_chart(report: Report, width: int) -> Text:
    """Every conversation's smoothed curve (faint), their mean (bold) on top."""
    sim = report.similarity
    series = [(smooth(s.similarity, sim["window"]), CURVE_STYLE) for s in report.sessions]
    series.append((sim["mean"], MEAN_STYLE))
    if not any(v is not None for values, _ in series for v in values):
        return Text("Not enough turns for a similarity curve.", style="dim")
    text = framed_line_chart(series, width, CURVE_HEIGHT, "turn")
    text.append("\n")
    text.append("━ mean", style=MEAN_STYLE).append("   ")
    text.append("━ each conversation", style=CURVE_STYLE)
    note = (f"Similarity of each turn to the other side's previous one, rolling mean over "
            f"{sim['window']} turns; the mean is drawn while at least {sim['min_sessions']} "
            "conversation(s) are still running.")
    for line in textwrap.wrap(note, max(20, width)):
        text.append("\n" + line, style="dim")
    return text


Cell = str | Text
STATS = ("mean", "median", "min", "max")


def substantive_table(report: Report, width: int) -> Table:
    s = report.substantive
    rows: list[list[Cell]] = [["substantive turns", *(f"{s[k]:g}" for k in STATS)]]
    if s["degraded"]:
        rows.append(["onset turn", *(f"{s['onset_turn'][k]:g}" for k in STATS)])
    return table(["", *STATS], rows, width)


def degradation(report: Report, width: int) -> Group:
    """Substantive turns before the attractor set in, and when it did."""
    s = report.substantive
    note = (f"Model turns with real content before the conversation settled into its final "
            f"attractor state (the onset); {s['degraded']} of {len(report.sessions)} "
            "conversation(s) settled.")
    return Group(substantive_table(report, width),
                 Text("\n".join(textwrap.wrap(note, max(20, width))), style="dim"))


def topics_table(report: Report, width: int) -> RenderableType:
    if not report.topics:
        return Text("No distinctive words found.", style="dim")
    return table(["topic words", "conversations", "share"],
                 [[clean(", ".join(t["keywords"])), str(t["sessions"]), f"{t['pct']}%"]
                  for t in report.topics[:12]], width)


def tools_table(report: Report, width: int) -> RenderableType:
    if not report.tools:
        return Text("No tool calls.", style="dim")
    rows: list[list[Cell]] = [
        [clean(r["name"]), str(r["calls"]), f"{r['sessions']} ({r['session_pct']}%)",
         str(r["per_100_turns"]), clean(", ".join(f"{k} {v}" for k, v in r["outcomes"].items()))]
        for r in report.tools
    ]
    return table(["tool", "calls", "conversations", "per 100 turns", "outcomes"], rows, width,
                 text=(0, 4))


def models_table(report: Report, width: int) -> Table:
    rows: list[list[Cell]] = []
    for r in report.models:
        states = Text()
        for i, (label, count) in enumerate(r["end_states"].items()):
            states.append(", " if i else "")
            states.append(clean(label), style=RICH_COLOURS.get(label, "")).append(f"×{count}")
        rows.append([clean(r["models"]), str(r["sessions"]), states, str(r["emoji_mean"]),
                     str(r["substantive_mean"]), str(r["tool_calls"])])
    return table(["models", "count", "end states", "emoji (mean)", "substantive (mean)",
                  "tool calls"], rows, width, text=(0, 2), drop=(5, 3))


def sessions_table(report: Report, width: int) -> RenderableType:
    window = report.similarity["window"]
    rows: list[list[Cell]] = [
        [clean(c.file) + (OPERATOR_MARK if c.interjected else ""), clean(c.models),
         Text(clean(c.end_state), style=RICH_COLOURS.get(c.end_state, "")),
         clean(c.topic or ""), turn_text(c.onset_index), str(c.turns),
         str(c.substantive_before_onset), str(c.emoji_total), str(sum(c.tool_calls.values())),
         sparkline(smooth(c.similarity, window), 24, CURVE_STYLE)]
        for c in report.sessions[:MAX_ROWS]
    ]
    listed = table(["file", "models", "end state", "topic", "onset turn", "turns",
                    "substantive", "emoji", "tools", "similarity"], rows, width,
                   text=(0, 1, 2, 3, 9), drop=(9, 1, 3))
    more = len(report.sessions) - MAX_ROWS
    if more > 0:
        return Group(listed, Text(f"… and {more} more: `e` exports the full report",
                                  style="dim"))
    return listed


def table(headers: list[str], rows: list[list[Cell]], width: int,
          text: tuple[int, ...] = (0,), drop: tuple[int, ...] = ()) -> Table:
    """Columns in `text` are left-aligned words, the others right-aligned numbers.

    Every cell becomes `Text` (Rich would parse a `str` cell as markup).
    Column widths are set here, not left to Rich (which cuts off the last
    columns when space runs out): each column gets its longest word or number,
    so a tool name is never split, then what is left goes to the columns that
    want least more first. When even that is wider than `width`, the columns
    in `drop` go (in that order), and as a last resort the words wrap anyhow.
    """
    cells = [[Text(c) if isinstance(c, str) else c for c in row] for row in rows]
    columns = [[row[i] for row in cells] for i in range(len(headers))]
    need = [_column_width(h, columns[i], i in text) for i, h in enumerate(headers)]
    want = [max([len(h), *(c.cell_len for c in columns[i])]) for i, h in enumerate(headers)]
    keep = list(range(len(headers)))

    def spare() -> int:
        return width - sum(need[i] for i in keep) - 2 * (len(keep) - 1)

    for index in drop:
        if spare() >= 0:
            break
        keep.remove(index)
    widths = {i: need[i] for i in keep}
    left = spare()
    if left < 0:  # squeeze the text columns, never below a few cells
        wordy = [i for i in keep if i in text]
        for i in wordy:
            widths[i] = max(4, widths[i] + left * widths[i] // sum(need[j] for j in wordy))
    for i in sorted(keep, key=lambda i: want[i] - need[i]):
        extra = max(0, min(left, want[i] - widths[i]))
        widths[i] += extra
        left -= extra
    out = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True,
                header_style="bold")
    for i in keep:
        out.add_column(headers[i], justify="left" if i in text else "right", overflow="fold",
                       width=widths[i])
    for row in cells:
        out.add_row(*(row[i] for i in keep))
    return out


def _column_width(header: str, column: list[Text], words: bool) -> int:
    """The longest word (text columns) or value (numbers), and the header's longest word."""
    if words:
        widest = min(MAX_WORD, max((len(w) for c in column for w in c.plain.split()), default=0))
    else:
        widest = max((c.cell_len for c in column), default=0)
    return max([widest, *(len(w) for w in header.split())])


# ------------------------------------------------------------------ widgets


class Chart(Static):
    """A panel whose content is drawn for its current width (charts fill the panel)."""

    def __init__(self, draw: Callable[[int], RenderableType], title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.draw = draw
        self.border_title = title
        self._drawn_width = -1

    def on_mount(self) -> None:
        self._redraw(self.content_size.width or 60)

    def on_resize(self, event: events.Resize) -> None:
        self._redraw(self.content_size.width)

    def _redraw(self, width: int) -> None:
        if width > 0 and width != self._drawn_width:
            self._drawn_width = width
            self.update(self.draw(width))


def panel(renderable: RenderableType, title: str, **kwargs: Any) -> Static:
    widget = Static(renderable, **kwargs)
    widget.border_title = title
    return widget


class ReportScreen(Screen[None]):
    """A folder's report: charts and tables in one scrolling page."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "reload", "Reload"),
        Binding("e", "export", "Export md+html"),
    ]
    DEFAULT_CSS = """
    ReportScreen #report-top { height: auto; padding: 0 1; }
    ReportScreen #report-title { width: 1fr; text-style: bold; color: $primary; }
    ReportScreen #report-count { width: auto; color: $text-muted; }
    ReportScreen #report-status { height: auto; padding: 1 2; }
    ReportScreen #report-status.error { color: $text-error; }
    ReportScreen #report-loading { height: 3; }
    ReportScreen #report-body { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    ReportScreen .report-row { height: auto; }
    ReportScreen .report-column { height: auto; width: 1fr; }
    ReportScreen.-narrow .report-row { layout: vertical; }
    ReportScreen .report-panel {
        height: auto; width: 1fr; padding: 0 1;
        border: round $panel-lighten-2; border-title-color: $primary;
        border-title-style: bold;
    }
    ReportScreen Chart { text-wrap: nowrap; text-overflow: clip; }
    ReportScreen .report-panel.problems { border: round $error 60%; color: $text-error; }
    """
    AUTO_FOCUS = "#report-body"

    def __init__(self, source: Path | str | Report, *, compare: Sequence[Path] | None = None,
                 exclude_interjected: bool = False) -> None:
        super().__init__(id="report")
        self.compare_dirs = [Path(p) for p in compare] if compare else None
        self.exclude_interjected = exclude_interjected
        self.comparison: Comparison | None = None
        if isinstance(source, Report):
            self.report: Report | None = source
            self.directory = Path(source.directory)
        else:
            self.report = None
            self.directory = Path(source)
        self.loading_report = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="report-top"):
            title = "Attractor comparison · " + " vs ".join(
                f"{clean(p)}/" for p in self.compare_dirs) if self.compare_dirs else (
                f"Attractor report · {clean(self.directory)}/")
            yield Static(Content(title), id="report-title")
            yield Static(id="report-count")
        yield Static(id="report-status")
        yield LoadingIndicator(id="report-loading")
        yield VerticalScroll(id="report-body")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_class(self.app.size.width < NARROW, "-narrow")
        if self.report is not None:
            self.call_after_refresh(self.show_report, self.report, None)
        else:
            self.action_reload()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")

    # ----------------------------------------------------------------- data

    def action_reload(self) -> None:
        self.loading_report = True
        self.query_one("#report-loading").display = True
        self._status(f"Reading the session files in {clean(self.directory)}/ …")
        self.build()

    @work(thread=True, exclusive=True, group="report")
    def build(self) -> None:
        """Build the report off the UI thread; a newer reload or leaving discards it."""
        worker = get_current_worker()
        count = len(session_tree(self.directory))  # as build_report reads it
        if count and not worker.is_cancelled:
            self.app.call_from_thread(
                self._status, f"Analysing {count} session file(s) in {clean(self.directory)}/ …")
        report: Report | None = None
        error: str | None = None
        try:
            if self.compare_dirs:
                comparison, _ = compare_folders(self.compare_dirs,
                                                exclude_interjected=self.exclude_interjected)
                if not worker.is_cancelled:
                    self.app.call_from_thread(self.show_comparison, comparison)
                return
            report = build_report(self.directory, exclude_interjected=self.exclude_interjected)
        except ReportError as exc:
            error = str(exc)
        except Exception as exc:  # a bug in analysis must not take the app down
            error = f"could not build the report: {type(exc).__name__}: {exc}"
        if not worker.is_cancelled:
            self.app.call_from_thread(self.show_report, report, error)

    def show_report(self, report: Report | None, error: str | None) -> None:
        if not self.is_attached:
            return
        self.loading_report = False
        self.query_one("#report-loading").display = False
        body = self.query_one("#report-body", VerticalScroll)
        body.remove_children()
        self.report = report
        if report is None or not report.sessions:
            self._empty(report, error)
            return
        self._status(None)
        n = len(report.sessions)
        skipped = f" · {len(report.problems)} problem(s)" if report.problems else ""
        if report.failed_runs_note:
            skipped = f" · left out: {clean(report.failed_runs_note)}{skipped}"
        self.query_one("#report-count", Static).update(
            Content(f"{n} conversation(s){skipped}"))
        body.mount_all(self.sections(report))
        body.scroll_home(animate=False)
        self.refresh_bindings()

    def show_comparison(self, comparison: Comparison) -> None:
        if not self.is_attached:
            return
        self.loading_report = False
        self.query_one("#report-loading").display = False
        body = self.query_one("#report-body", VerticalScroll)
        body.remove_children()
        self.comparison = comparison
        self._status(None)
        counts = " · ".join(f"{clean(c.name)} {c.n}" for c in comparison.conditions)
        self.query_one("#report-count", Static).update(Content(counts))
        p = "report-panel"

        def chart(draw: Callable[[Comparison, int], RenderableType], title: str) -> Chart:
            return Chart(lambda width: draw(comparison, width), title, classes=p)

        widgets: list[Any] = [
            chart(condition_bars, "end states by condition"),
            chart(lambda c, w: Group(label_tests_table(c, c.tests, w, "end state"),
                                     comparison_notes(c, w)), "end states: tests"),
            chart(lambda c, w: label_tests_table(c, c.topic_tests, w, "topic"), "topics"),
            chart(distributions_table, "onset and substantive turns"),
            chart(compare_tools_table, "tool calls"),
        ]
        if comparison.problems:
            widgets.append(panel(Text("\n".join(clean(x) for x in comparison.problems)),
                                 "problems (files skipped or partly read)",
                                 classes=f"{p} problems"))
        body.mount_all(widgets)
        body.scroll_home(animate=False)
        self.refresh_bindings()

    def _empty(self, report: Report | None, error: str | None) -> None:
        self.query_one("#report-count", Static).update("")
        self.refresh_bindings()
        lines = [clean(error)] if error else [
            f"No readable session files in {clean(self.directory)}/."]
        if report is not None and report.failed_runs_note:
            lines = [f"No results in {clean(self.directory)}/: "
                     f"{clean(report.failed_runs_note)}."]
        if report is not None and report.problems:
            lines.append("")
            lines += [f"• {clean(p)}" for p in report.problems[:20]]
            if len(report.problems) > 20:
                lines.append(f"… and {len(report.problems) - 20} more")
        lines += ["", "A report needs a folder of .jsonl session files: run some with "
                      "`attractor-tui batch`, or pick a folder in the session browser.",
                  "r reloads · Escape goes back"]
        self._status("\n".join(lines), error=bool(error or (report and report.problems)))

    def _status(self, message: str | None, *, error: bool = False) -> None:
        status = self.query_one("#report-status", Static)
        status.display = message is not None
        status.update(Content(message or ""))
        status.set_class(error, "error")

    def sections(self, report: Report) -> list[Any]:
        """The panels, top to bottom: charts first, then the tables."""
        p = "report-panel"

        def chart(draw: Callable[[Report, int], RenderableType], title: str) -> Chart:
            return Chart(lambda width: draw(report, width), title, classes=p)

        widgets: list[Any] = [
            Horizontal(
                Vertical(chart(end_state_chart, "end states (count, %, 95% CI)"),
                         chart(topic_chart, "topics"),
                         chart(degradation, "degradation"), classes="report-column"),
                chart(emoji_chart, "emoji per conversation"),
                classes="report-row",
            ),
        ]
        if report.per_model or report.models:
            widgets.append(chart(model_bars, "end states by model"
                                 if report.per_model else "end states by model pair"))
        widgets += [
            chart(similarity_chart, "turn similarity"),
            chart(topics_table, "topic words"),
            chart(tools_table, "tool calls"),
        ]
        if report.models:
            widgets.append(chart(models_table, "by model"))
        widgets.append(chart(sessions_table, "conversations"))
        if report.problems:
            widgets.append(panel(Text("\n".join(clean(x) for x in report.problems)),
                                 "problems (files skipped or partly read)",
                                 classes=f"{p} problems"))
        return widgets

    # -------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "export" and self.comparison is None and (
                self.report is None or not self.report.sessions):
            return None  # shown greyed out: nothing to export yet
        return True

    @work(exclusive=True, group="export")
    async def action_export(self) -> None:
        report: Report | Comparison | None = self.comparison or self.report
        if report is None or (isinstance(report, Report) and not report.sessions):
            self.notify("Nothing to export yet.", severity="warning")
            return
        try:
            written = await asyncio.to_thread(write_exports, report, self.directory)
        except OSError as exc:
            self.notify(safe_text(f"cannot write the report: {exc.strerror or exc}"),
                        title="Export failed", severity="error", markup=False)
            return
        self.notify(safe_text("Wrote " + " and ".join(str(p) for p in written)),
                    title="Report exported",
                    markup=False, timeout=8)

    def action_back(self) -> None:
        self.dismiss(None)
