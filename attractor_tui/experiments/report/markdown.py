"""The report as Markdown: tables, block-character bars and a similarity sparkline."""

from __future__ import annotations

import re
from typing import Any

from attractor_tui.experiments.report.build import Report
from attractor_tui.experiments.report.charts import (
    OPERATOR_MARK,
    bin_label,
    ci_text,
    number,
    scope_notes,
    sparkline,
    text_bar,
    turn_text,
)
from attractor_tui.experiments.report.compare import Comparison, LabelTest, p_text

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
    lines += _scope(report)
    if report.batch and report.batch.get("spec"):
        spec = report.batch["spec"]
        lines += ["Batch: " + ", ".join(f"{_md(k)} `{_md(v)}`" for k, v in spec.items()
                                         if v not in (None, {}, "")), ""]
    lines += ["## End states", ""] + distribution_table(report.end_states, "end state")
    if report.chain:
        lines += ["", "## By session number (memory carried across sessions)", "",
                  "| session | file | end state | topic | ended by |", "|---:|---|---|---|---|"]
        lines += [f"| {c['session']} | {_md(c['file'])} | {_md(c['end_state'])} | "
                  f"{_md(c['topic'] or '')} | {_md(c['end_reason'] or '')} |"
                  for c in report.chain]
    lines += ["", "## Topics", ""]
    if report.topic_labels:
        lines += distribution_table(report.topic_labels, "topic")
    else:
        lines.append("The classifier gave no topic labels.")
    e = report.emoji
    lines += ["", "## Emoji per conversation", "",
              f"mean {e['mean']}, median {e['median']}, max {number(e['max'])}, "
              f"total {e['total']}; {e['with_emoji']} of {n} conversation(s) with any emoji "
              f"({e['with_emoji_pct']}%, 95% CI {e['with_emoji_ci'][0]:g}–"
              f"{e['with_emoji_ci'][1]:g}%), {e['without_emoji']} without.", ""]
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
              f"attractor (onset at turn {number(s['onset_turn']['median'])} by median).", ""]
    lines += ["## Topic words", ""]
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
    if report.per_model:
        lines += ["", "## By model", "", "A conversation between two models counts for both.",
                  ""] + group_table(report.per_model, "model")
    if report.models:
        lines += ["", "## By model pair", ""] + group_table(report.models, "models")
    curve = [v for v in report.similarity["mean"] if v is not None]
    if curve:
        lines += ["", "## Turn similarity", "",
                  "Mean similarity of each turn to the other side's previous one, by turn "
                  f"(rolling mean over {report.similarity['window']} turns):", "",
                  f"`{sparkline(report.similarity['mean'])}` (0 to 1)"]
    lines += ["", "## Conversations", ""]
    if report.uncertain:
        lines += [f"{report.uncertain} of {len(report.sessions)} end states are uncertain "
                  f"({report.uncertain / len(report.sessions):.0%}), marked ?.", ""]
    if report.interjected:
        lines += [f"{OPERATOR_MARK.strip()} marks a conversation with operator turns.", ""]
    lines += ["| file | models | end state | topic | onset turn | turns | substantive | emoji | "
              "tools | keywords |", "|---|---|---|---|---:|---:|---:|---:|---:|---|"]
    for c in report.sessions:
        mark = OPERATOR_MARK if c.interjected else ""
        unsure = "?" if c.confidence == "uncertain" else ""
        lines.append(
            f"| {_md(c.file)}{mark} | {_md(c.models)} | {_md(c.end_state)}{unsure} | "
            f"{_md(c.topic or '')} | {turn_text(c.onset_index)} | {c.turns} | "
            f"{c.substantive_before_onset} | {c.emoji_total} | {sum(c.tool_calls.values())} | "
            f"{_md(', '.join(c.keywords[:5]))} |")
    if report.problems:
        lines += ["", "## Problems", ""] + [f"- {_md(p)}" for p in report.problems]
    return "\n".join(lines) + "\n"


def _scope(report: Report) -> list[str]:
    notes = scope_notes(report, flag=lambda name: f"`{name}`")
    return [" ".join(notes), ""] if notes else []


def distribution_table(rows: list[dict[str, Any]], what: str) -> list[str]:
    """Counts, shares and 95% Wilson intervals, one row per label, with a bar."""
    out = [f"| {what} | conversations | share | 95% CI | |", "|---|---:|---:|---:|---|"]
    for row in rows:
        out.append(f"| {_md(row['label'])} | {row['count']} | {row['pct']}% | {ci_text(row)} | "
                   f"{text_bar(row['pct'] / 100)} |")
    return out


def group_table(rows: list[dict[str, Any]], what: str) -> list[str]:
    """Groups side by side: one column per end state (count and %), then the means."""
    labels = sorted({k for r in rows for k in r["end_states"]},
                    key=lambda k: (-sum(r["end_states"].get(k, 0) for r in rows), k))
    out = [f"| {what} | n | " + " | ".join(_md(k) for k in labels)
           + " | any emoji | emoji (mean) | substantive (mean) | tool calls |",
           "|---|---:|" + "---:|" * len(labels) + "---:|---:|---:|---:|"]
    for r in rows:
        cells = [f"{r['end_states'][k]} ({r['end_state_pct'][k]:g}%)" if k in r["end_states"]
                 else "" for k in labels]
        mark = f" ({r['interjected']} with operator turns)" if r["interjected"] else ""
        out.append(f"| {_md(r['models'])}{mark} | {r['sessions']} | " + " | ".join(cells)
                   + f" | {r['emoji_share']:g}% | {r['emoji_mean']} | {r['substantive_mean']} | "
                   f"{r['tool_calls']} |")
    return out




def label_test_table(comparison: Comparison, tests: list[LabelTest], what: str) -> list[str]:
    """One row per label: per condition count (share, 95% CI), then p and Holm's p."""
    names = [c.name for c in comparison.conditions]
    out = [f"| {what} | " + " | ".join(_md(n) for n in names) + " | p | p (Holm) |",
           "|---|" + "---:|" * (len(names) + 2)]
    for t in tests:
        cells = [f"{c[0]} ({c[1]:g}%, {c[2]:g}–{c[3]:g}%)" if c else "—" for c in t.cells()]
        star = " *" if t.tested and t.p_adjusted < 0.05 else ""
        ps = f"{p_text(t.p_value)} | {p_text(t.p_adjusted)}{star}" if t.tested else "— | —"
        out.append(f"| {_md(t.label)} | " + " | ".join(cells) + f" | {ps} |")
    return out


def render_compare_markdown(comparison: Comparison) -> str:
    """The comparison: per condition distributions, per label tests, onsets and tools."""
    conds = comparison.conditions
    lines = ["# Attractor comparison: " + " vs ".join(_md(c.name) for c in conds), ""]
    if comparison.vary:
        lines += [f"One batch run once per value of `{_md(comparison.vary.get('key'))}`.", ""]
    lines += ["| condition | folder | conversations | with operator turns | unreadable files |",
              "|---|---|---:|---:|---:|"]
    for c in conds:
        inter = f"{c.interjected}" + (f" (+{c.excluded} left out)" if c.excluded else "")
        lines.append(f"| {_md(c.name)} | {_md(c.directory)} | {c.n} | {inter} | {c.failed} |")
    lines += ["", "## End states", "",
              f"Each cell: count (share, 95% Wilson interval). p: {comparison.test_name} of "
              "that label's share across the conditions; p (Holm): corrected across the "
              "labels; * below 0.05.", ""]
    lines += label_test_table(comparison, comparison.tests, "end state")
    o = comparison.overall
    lines += ["", f"All end states at once: chi-square {o['statistic']:g} with {o['dof']} "
                  f"degree(s) of freedom, p {p_text(o['p_value'])} (approximate for small "
                  "counts).", "", "## Topics", ""]
    if comparison.topic_tests:
        lines += label_test_table(comparison, comparison.topic_tests, "topic")
    else:
        lines.append("The classifier gave no topic labels.")
    lines += ["", "## Onset and substantive turns", "",
              "| measure | " + " | ".join(_md(c.name) for c in conds) + " | test | p |",
              "|---|" + "---:|" * len(conds) + "---|---:|"]
    for d in comparison.distributions:
        cells = [f"median {number(s['median'])}, mean {number(s['mean'])} (n={n})"
                 for s, n in zip(d.stats, d.n, strict=True)]
        lines.append(f"| {d.name} | " + " | ".join(cells) + f" | {d.test} | {p_text(d.p_value)} |")
    lines += ["", "## Tool calls", ""]
    if comparison.tool_rates:
        lines += ["Share of conversations that called any tool; of those with an operator "
                  "turn, the share that called one after it.", ""]
        lines += label_test_table(comparison, comparison.tool_rates, "rate")
        t = comparison.turns_to_call
        if t is not None and any(t.n):
            cells = [f"median {number(s['median'])} (n={n})"
                     for s, n in zip(t.stats, t.n, strict=True)]
            lines += ["", "Turns from the operator turn to the first call after it: "
                      + "; ".join(f"{_md(c.name)} {cell}" for c, cell in zip(conds, cells,
                                                                          strict=True))
                      + f" ({t.test}, p {p_text(t.p_value)})."]
        lines.append("")
    if comparison.tools:
        lines += ["Each cell: calls; conversations that called it (share, 95% CI); calls per "
                  "100 model turns.", "",
                  "| tool | " + " | ".join(_md(c.name) for c in conds) + " |",
                  "|---|" + "---:|" * len(conds)]
        for row in comparison.tools:
            cells = [f"{x['calls']}; {x['sessions']} ({x['session_pct']:g}%, "
                     f"{x['interval'][0]:g}–{x['interval'][1]:g}%); {x['per_100_turns']:g}"
                     for x in row["conditions"]]
            lines.append(f"| {_md(row['name'])} | " + " | ".join(cells) + " |")
    else:
        lines.append("No tool calls in any condition.")
    if comparison.problems:
        lines += ["", "## Problems", ""] + [f"- {_md(p)}" for p in comparison.problems]
    return "\n".join(lines) + "\n"
