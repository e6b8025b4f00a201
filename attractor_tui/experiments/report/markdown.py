"""The report as Markdown: tables, block-character bars and a similarity sparkline."""

from __future__ import annotations

import re
from typing import Any

from attractor_tui.experiments.report.build import Report
from attractor_tui.experiments.report.charts import bin_label, number, sparkline, text_bar

_TAG = re.compile(r"<(?=[A-Za-z/!?])")
"""A `<` that could open an HTML tag or comment; `<9B>` (a control's stand-in) cannot."""


def _md(text: Any) -> str:
    """A Markdown table cell: no pipes, newlines or HTML from model text."""
    out = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return _TAG.sub("&lt;", out)


def render_markdown(report: Report) -> str:
    """Every section of the report; model text is escaped for table cells."""
    n = len(report.sessions)
    lines = [f"# Attractor report: {_md(report.directory)}", "",
             f"{n} conversation(s), generated {report.generated}.", ""]
    if report.batch and report.batch.get("spec"):
        spec = report.batch["spec"]
        lines += ["Batch: " + ", ".join(f"{_md(k)} `{_md(v)}`" for k, v in spec.items()
                                         if v not in (None, {}, "")), ""]
    lines += ["## End states", "", "| end state | conversations | share | |", "|---|---:|---:|---|"]
    for row in report.end_states:
        lines.append(f"| {_md(row['label'])} | {row['count']} | {row['pct']}% | "
                     f"{text_bar(row['pct'] / 100)} |")
    e = report.emoji
    lines += ["", "## Emoji per conversation", "",
              f"mean {e['mean']}, median {e['median']}, max {number(e['max'])}, "
              f"total {e['total']}; {e['without_emoji']} conversation(s) without emoji.", ""]
    if e["top"]:
        lines.append("Top emoji: " + " ".join(f"{_md(em)}×{c}" for em, c in e["top"]))
        lines.append("")
    peak = max((b["count"] for b in e["histogram"]), default=0) or 1
    lines += ["| emoji | conversations | |", "|---|---:|---|"]
    for b in e["histogram"]:
        lines.append(f"| {bin_label(b)} | {b['count']} | {text_bar(b['count'] / peak)} |")
    s = report.substantive
    lines += ["", "## Substantive turns before degradation", "",
              f"mean {s['mean']}, median {s['median']}, min {number(s['min'])}, "
              f"max {number(s['max'])}; {s['degraded']} of {n} conversation(s) settled into an "
              f"attractor (onset at turn {s['onset_turn']['median']} by median).", ""]
    lines += ["## Dominant topics", ""]
    if report.topics:
        lines += ["| topic words | conversations | share |", "|---|---:|---:|"]
        for t in report.topics[:12]:
            lines.append(f"| {_md(', '.join(t['keywords']))} | {t['sessions']} | {t['pct']}% |")
    else:
        lines.append("No distinctive words found.")
    lines += ["", "## Tool calls", ""]
    if report.tools:
        lines += ["| tool | calls | conversations | per 100 model turns | outcomes |",
                  "|---|---:|---:|---:|---|"]
        for r in report.tools:
            outcomes = ", ".join(f"{k} {v}" for k, v in r["outcomes"].items())
            lines.append(f"| {_md(r['name'])} | {r['calls']} | {r['sessions']} "
                         f"({r['session_pct']}%) | {r['per_100_turns']} | {_md(outcomes)} |")
    else:
        lines.append("No tool calls.")
    if report.models:
        lines += ["", "## By model", "",
                  "| models | conversations | most common end state | emoji (mean) | "
                  "substantive (mean) | tool calls |", "|---|---:|---|---:|---:|---:|"]
        for r in report.models:
            lines.append(f"| {_md(r['models'])} | {r['sessions']} | {_md(r['top_end_state'])} | "
                         f"{r['emoji_mean']} | {r['substantive_mean']} | {r['tool_calls']} |")
    curve = [v for v in report.similarity["mean"] if v is not None]
    if curve:
        lines += ["", "## Turn similarity", "",
                  "Mean similarity of each turn to the other side's previous one, by turn "
                  f"(rolling mean over {report.similarity['window']} turns):", "",
                  f"`{sparkline(report.similarity['mean'])}` (0 to 1)"]
    lines += ["", "## Conversations", "",
              "| file | models | end state | onset | turns | substantive | emoji | tools | "
              "keywords |", "|---|---|---|---:|---:|---:|---:|---:|---|"]
    for c in report.sessions:
        onset = "" if c.onset_index is None else c.onset_index
        lines.append(
            f"| {_md(c.file)} | {_md(c.models)} | {_md(c.end_state)} | {onset} | {c.turns} | "
            f"{c.substantive_before_onset} | {c.emoji_total} | {sum(c.tool_calls.values())} | "
            f"{_md(', '.join(c.keywords[:5]))} |")
    if report.problems:
        lines += ["", "## Problems", ""] + [f"- {_md(p)}" for p in report.problems]
    return "\n".join(lines) + "\n"


