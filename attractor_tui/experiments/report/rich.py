"""The report as a Rich renderable: terminal bars, sparklines and tables for the TUI.

Rich is imported when a report is drawn, not when this package is imported
(the CLI's Markdown and HTML reports never need it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from attractor_tui.experiments.report.build import Report
from attractor_tui.experiments.report.charts import bin_label, number, sparkline, text_bar

if TYPE_CHECKING:
    from rich.console import Group, RenderableType

RICH_COLOURS = {
    "goodbye_loop": "dark_orange", "identity_standoff": "red", "meta_loop": "magenta",
    "minimal_exchange": "grey50", "emoji_spiral": "yellow", "spiritual_bliss": "green",
    "creative_escape": "cyan", "sycophancy_collapse": "deep_pink3", "too_short": "grey70",
    "other": "grey58",
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
    states = Table.grid(padding=(0, 1))
    for _ in range(3):
        states.add_column()
    top = max((r["count"] for r in report.end_states), default=0) or 1
    for r in report.end_states:
        colour = RICH_COLOURS.get(r["label"], "white")
        states.add_row(Text(r["label"], style=colour),
                       Text(text_bar(r["count"] / top, 30) or "▏", style=colour),
                       Text(f"{r['count']} ({r['pct']}%)"))
    blocks.append(Panel(states, title="end states", title_align="left"))

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
                      f"total {e['total']} · {e['without_emoji']} without emoji")
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
        blocks.append(Panel(topics, title="dominant topics", title_align="left"))
    if report.tools:
        tools = Table("tool", "calls", "conversations", "per 100 turns", "outcomes", box=None,
                      pad_edge=False)
        for r in report.tools:
            tools.add_row(Text(r["name"]), Text(str(r["calls"])),
                          Text(f"{r['sessions']} ({r['session_pct']}%)"),
                          Text(str(r["per_100_turns"])),
                          Text(", ".join(f"{k} {v}" for k, v in r["outcomes"].items())))
        blocks.append(Panel(tools, title="tool calls", title_align="left"))
    if report.models:
        models = Table("models", "n", "end states", "emoji", "substantive", box=None,
                       pad_edge=False)
        for r in report.models:
            models.add_row(Text(r["models"]), Text(str(r["sessions"])),
                           Text(", ".join(f"{k} {v}" for k, v in r["end_states"].items())),
                           Text(str(r["emoji_mean"])), Text(str(r["substantive_mean"])))
        blocks.append(Panel(models, title="by model", title_align="left"))
    runs = Table("file", "models", "end state", "onset", "turns", "substantive", "emoji",
                 "tools", box=None, pad_edge=False)
    for c in report.sessions:
        runs.add_row(Text(c.file), Text(c.models),
                     Text(c.end_state, style=RICH_COLOURS.get(c.end_state, "")),
                     Text("" if c.onset_index is None else str(c.onset_index)),
                     Text(str(c.turns)), Text(str(c.substantive_before_onset)),
                     Text(str(c.emoji_total)), Text(str(sum(c.tool_calls.values()))))
    blocks.append(Panel(runs, title="conversations", title_align="left"))
    if report.problems:
        blocks.append(Panel(Text("\n".join(report.problems), style="red"), title="problems",
                            title_align="left"))
    return Group(*blocks)


