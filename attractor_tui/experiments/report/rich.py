"""The report as a Rich renderable: terminal bars, sparklines and tables for the TUI.

Rich is imported when a report is drawn, not when this package is imported
(the CLI's Markdown and HTML reports never need it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attractor_tui.experiments.report.build import Report
from attractor_tui.experiments.report.charts import (
    OPERATOR_MARK,
    bin_label,
    ci_text,
    number,
    sparkline,
    text_bar,
    turn_text,
)
from attractor_tui.experiments.report.compare import Comparison, LabelTest, p_text

if TYPE_CHECKING:
    from rich.console import Group, RenderableType
    from rich.table import Table

RICH_COLOURS = {
    "goodbye_loop": "dark_orange", "identity_standoff": "red", "meta_loop": "magenta",
    "minimal_exchange": "grey50", "emoji_spiral": "yellow", "spiritual_bliss": "green",
    "creative_escape": "cyan", "sycophancy_collapse": "deep_pink3", "too_short": "grey70",
    "verbatim_loop": "medium_purple", "word_salad": "orange4", "other": "grey58",
}


def render_report_rich(report: Report) -> Group:
    """Terminal charts and tables for the TUI; model text is never parsed as markup."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    n = len(report.sessions)
    blocks: list[RenderableType] = [
        Text(f"Attractor report: {report.directory} · {n} conversation(s)", style="bold")]
    notes = []
    if report.labels == "judge":
        notes.append("labels: the LLM judge's cached verdicts")
    if report.excluded:
        notes.append(f"{report.excluded} conversation(s) with operator turns left out")
    elif report.interjected:
        notes.append(f"{report.interjected} conversation(s) with operator turns "
                     f"(marked{OPERATOR_MARK})")
    if report.folders:
        notes.append(f"with {len(report.folders)} sub-folder(s)")
    if report.failed_runs_note:
        notes.append(f"left out: {report.failed_runs_note}")
    if report.uncertain:
        notes.append(f"{report.uncertain} of {n} end state(s) uncertain "
                     f"({report.uncertain / n:.0%}; analyze --judge-only uncertain checks them)")
    if report.failed:
        notes.append(f"{len(report.failed)} file(s) could not be read")
    if notes:
        blocks.append(Text(" · ".join(notes), style="dim"))
    blocks.append(Panel(distribution_grid(report.end_states, RICH_COLOURS), title="end states",
                        title_align="left"))
    if report.topic_labels:
        blocks.append(Panel(distribution_grid(report.topic_labels, {}), title="topics",
                            title_align="left"))

    e = report.emoji
    hist = Table.grid(padding=(0, 1))
    hist.add_column(justify="right")
    hist.add_column()
    hist.add_column(justify="right")
    peak = max((b["count"] for b in e["histogram"]), default=0) or 1
    for b in e["histogram"]:
        hist.add_row(Text(bin_label(b)),
                     Text(text_bar(b["count"] / peak, 30) or "", style="yellow"),
                     Text(str(b["count"])))
    emoji_text = Text(f"mean {e['mean']} · median {e['median']} · max {number(e['max'])} · "
                      f"total {e['total']} · {e['with_emoji']} with any emoji "
                      f"({e['with_emoji_pct']}%) · {e['without_emoji']} without")
    if e["top"]:
        emoji_text.append("\ntop: " + " ".join(f"{em}×{c}" for em, c in e["top"][:8]))
    blocks.append(Panel(Group(emoji_text, hist), title="emoji per conversation",
                        title_align="left"))

    s = report.substantive
    sim = Text(f"substantive turns before degradation: mean {s['mean']} · median {s['median']}"
               f" · {s['degraded']}/{n} settled into an attractor\n")
    sim.append("turn similarity (mean, 0–1): ")
    sim.append(sparkline(report.similarity["mean"], width=60) or "-", style="cyan")
    blocks.append(Panel(sim, title="degradation", title_align="left"))

    if report.topics:
        topics = Table("topic words", "conversations", "share", box=None, pad_edge=False)
        for t in report.topics[:8]:
            topics.add_row(Text(", ".join(t["keywords"])), Text(str(t["sessions"])),
                           Text(f"{t['pct']}%"))
        blocks.append(Panel(topics, title="topic words", title_align="left"))
    if report.tools:
        tools = Table("tool", "calls", "conversations", "per 100 turns", "outcomes", box=None,
                      pad_edge=False)
        for r in report.tools:
            tools.add_row(Text(r["name"]), Text(str(r["calls"])),
                          Text(f"{r['sessions']} ({r['session_pct']}%)"),
                          Text(str(r["per_100_turns"])),
                          Text(", ".join(f"{k} {v}" for k, v in r["outcomes"].items())))
        blocks.append(Panel(tools, title="tool calls", title_align="left"))
    for rows, title in ((report.per_model, "by model"), (report.models, "by model pair")):
        if not rows:
            continue
        models = Table("models", "n", "end states", "emoji", "substantive", box=None,
                       pad_edge=False)
        for r in rows:
            models.add_row(Text(r["models"]), Text(str(r["sessions"])),
                           Text(", ".join(f"{k} {v} ({r['end_state_pct'][k]:g}%)"
                                          for k, v in r["end_states"].items())),
                           Text(str(r["emoji_mean"])), Text(str(r["substantive_mean"])))
        blocks.append(Panel(models, title=title, title_align="left"))
    runs = Table("file", "models", "end state", "topic", "onset turn", "turns", "substantive",
                 "emoji", "tools", box=None, pad_edge=False)
    for c in report.sessions:
        runs.add_row(Text(c.file + (OPERATOR_MARK if c.interjected else "")), Text(c.models),
                     Text(c.end_state + ("?" if c.confidence == "uncertain" else ""),
                                style=RICH_COLOURS.get(c.end_state, "")),
                     Text(c.topic or ""), Text(turn_text(c.onset_index)),
                     Text(str(c.turns)), Text(str(c.substantive_before_onset)),
                     Text(str(c.emoji_total)), Text(str(sum(c.tool_calls.values()))))
    blocks.append(Panel(runs, title="conversations", title_align="left"))
    if report.problems:
        blocks.append(Panel(Text("\n".join(report.problems), style="red"), title="problems",
                            title_align="left"))
    return Group(*blocks)




def distribution_grid(rows: list[dict[str, Any]], colours: dict[str, str]) -> Table:
    """Label, bar, count (share) and the 95% interval per row."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 1))
    for _ in range(4):
        grid.add_column()
    top = max((r["count"] for r in rows), default=0) or 1
    for r in rows:
        colour = colours.get(r["label"], "white")
        grid.add_row(Text(r["label"], style=colour),
                     Text(text_bar(r["count"] / top, 30) or "▏", style=colour),
                     Text(f"{r['count']} ({r['pct']}%)"), Text(f"95% CI {ci_text(r)}",
                                                               style="dim"))
    return grid


def label_tests_table(comparison: Comparison, tests: list[LabelTest], colours: dict[str, str]
                      ) -> Table:
    """Per label: count (share) and 95% interval per condition, p and Holm's p."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False)
    table.add_column("label")
    for c in comparison.conditions:
        table.add_column(Text(c.name), justify="right")
    table.add_column("p", justify="right")
    table.add_column("p (Holm)", justify="right")
    for t in tests:
        cells = [Text(f"{c[0]} ({c[1]:g}%) ").append(f"{c[2]:g}–{c[3]:g}%", style="dim")
                 if c else Text("—", style="dim") for c in t.cells()]
        if t.tested:
            ps = [Text(p_text(t.p_value)),
                  Text(p_text(t.p_adjusted), style="bold" if t.p_adjusted < 0.05 else "")]
        else:
            ps = [Text("—", style="dim"), Text("—", style="dim")]
        table.add_row(Text(t.label, style=colours.get(t.label, "")), *cells, *ps)
    return table


def render_compare_rich(comparison: Comparison) -> Group:
    """The comparison as terminal tables; names from files are plain `Text`."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    conds = comparison.conditions
    blocks: list[RenderableType] = [
        Text("Attractor comparison: " + " vs ".join(f"{c.name} (n={c.n})" for c in conds),
             style="bold"),
        Text(f"p: {comparison.test_name} per label; p (Holm): corrected across labels; "
             "cells: count (share) 95% Wilson interval", style="dim"),
        Panel(label_tests_table(comparison, comparison.tests, RICH_COLOURS),
              title="end states", title_align="left"),
    ]
    if comparison.topic_tests:
        blocks.append(Panel(label_tests_table(comparison, comparison.topic_tests, {}),
                            title="topics", title_align="left"))
    dist = Table(box=None, pad_edge=False)
    dist.add_column("measure")
    for c in conds:
        dist.add_column(Text(c.name), justify="right")
    dist.add_column("test")
    dist.add_column("p", justify="right")
    for d in comparison.distributions:
        dist.add_row(d.name, *[Text(f"median {number(s['median'])} (n={n})")
                               for s, n in zip(d.stats, d.n, strict=True)],
                     d.test, p_text(d.p_value))
    blocks.append(Panel(dist, title="onset and substantive turns", title_align="left"))
    if comparison.tool_rates:
        blocks.append(Panel(label_tests_table(comparison, comparison.tool_rates, {}),
                            title="tool-call rates", title_align="left"))
    if comparison.tools:
        tools = Table(box=None, pad_edge=False)
        tools.add_column("tool")
        for c in conds:
            tools.add_column(Text(c.name), justify="right")
        for row in comparison.tools:
            tools.add_row(Text(row["name"]), *[
                Text(f"{x['calls']} calls · {x['sessions']} conv ({x['session_pct']:g}%) · "
                     f"{x['per_100_turns']:g}/100 turns") for x in row["conditions"]])
        blocks.append(Panel(tools, title="tool calls", title_align="left"))
    if comparison.problems:
        blocks.append(Panel(Text("\n".join(comparison.problems), style="red"), title="problems",
                            title_align="left"))
    return Group(*blocks)
