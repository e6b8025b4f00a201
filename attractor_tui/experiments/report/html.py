"""The report as one self-contained HTML page with inline SVG plots.

No scripts and no external resources; every piece of text (model words
included) is escaped.
"""

from __future__ import annotations

from typing import Any

from attractor_tui.experiments.report.build import Report, smooth
from attractor_tui.experiments.report.charts import (
    bin_label,
    esc,
    number,
    svg_bars,
    svg_histogram,
    svg_lines,
)

LABEL_COLOURS = {
    "goodbye_loop": "#d9822b", "identity_standoff": "#c23030", "meta_loop": "#8f398f",
    "minimal_exchange": "#5c7080", "emoji_spiral": "#d1b31f", "spiritual_bliss": "#29a634",
    "creative_escape": "#2b95d6", "sycophancy_collapse": "#db2c6f", "too_short": "#a7b6c2",
    "other": "#738694",
}

_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em;
       padding: 0 1em; color: #1c2127; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border-bottom: 1px solid #dce0e5; padding: .25em .6em; text-align: left;
         vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #5f6b7c; } .charts { display: flex; flex-wrap: wrap; gap: 1.5em; }
svg { background: #fff; border: 1px solid #e5e8eb; }
svg text { font: 12px system-ui, sans-serif; fill: #1c2127; }
"""


def render_html(report: Report) -> str:
    """One self-contained page: no scripts, no external resources, inline SVG plots."""
    n = len(report.sessions)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>Attractor report: {esc(report.directory)}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>Attractor report: {esc(report.directory)}</h1>",
             f'<p class="muted">{n} conversation(s), generated {esc(report.generated)}.</p>']
    if report.batch and report.batch.get("spec"):
        spec = report.batch["spec"]
        items = ", ".join(f"{esc(k)} <code>{esc(v)}</code>" for k, v in spec.items()
                          if v not in (None, {}, ""))
        parts.append(f'<p class="muted">Batch: {items}</p>')
    bars = [(r["label"], float(r["count"]), f"{r['count']} ({r['pct']}%)",
             LABEL_COLOURS.get(r["label"], "#738694")) for r in report.end_states]
    hist = report.emoji["histogram"]
    parts += ['<h2>End states</h2><div class="charts">',
              svg_bars(bars, "End states"),
              "</div>", "<h2>Emoji per conversation</h2>", '<div class="charts">',
              svg_histogram([(bin_label(b), b["count"]) for b in hist],
                            "Conversations by emoji count", "emoji per conversation"),
              "</div>"]
    e = report.emoji
    parts.append(f"<p>mean {e['mean']}, median {e['median']}, max {esc(number(e['max']))}, "
                 f"total {e['total']}; {e['without_emoji']} conversation(s) without emoji.</p>")
    if e["top"]:
        parts.append("<p>Top emoji: " + " ".join(f"{esc(em)}&times;{c}" for em, c in e["top"])
                     + "</p>")
    s = report.substantive
    parts.append(
        f"<h2>Substantive turns before degradation</h2><p>mean {s['mean']}, median "
        f"{s['median']}, min {esc(number(s['min']))}, max {esc(number(s['max']))}; "
        f"{s['degraded']} of {n} conversation(s) settled into an attractor (median onset at turn "
        f"{s['onset_turn']['median']}).</p>")
    parts.append("<h2>Turn similarity</h2>")
    sim = report.similarity
    parts.append(svg_lines([smooth(c.similarity, sim["window"]) for c in report.sessions],
                           sim["mean"], "Similarity to the other side's previous turn", "turn",
                           "similarity"))
    parts.append(f'<p class="muted">Word-shingle similarity of each turn to the other side\'s '
                 f'previous message, rolling mean over {sim["window"]} turns; blue: each '
                 f'conversation, red: their mean while at least {sim["min_sessions"]} are still '
                 f"running.</p>")
    parts.append("<h2>Dominant topics</h2>")
    parts.append(_html_table(
        ["topic words", "conversations", "share"],
        [[", ".join(t["keywords"]), t["sessions"], f"{t['pct']}%"] for t in report.topics[:12]],
        numeric={1, 2}) if report.topics else "<p>No distinctive words found.</p>")
    parts.append("<h2>Tool calls</h2>")
    parts.append(_html_table(
        ["tool", "calls", "conversations", "per 100 model turns", "outcomes"],
        [[r["name"], r["calls"], f"{r['sessions']} ({r['session_pct']}%)", r["per_100_turns"],
          ", ".join(f"{k} {v}" for k, v in r["outcomes"].items())] for r in report.tools],
        numeric={1, 2, 3}) if report.tools else "<p>No tool calls.</p>")
    if report.models:
        parts.append("<h2>By model</h2>")
        parts.append(_html_table(
            ["models", "conversations", "end states", "emoji (mean)", "substantive (mean)",
             "tool calls"],
            [[r["models"], r["sessions"],
              ", ".join(f"{k} {v}" for k, v in r["end_states"].items()),
              r["emoji_mean"], r["substantive_mean"], r["tool_calls"]] for r in report.models],
            numeric={1, 3, 4, 5}))
    parts.append("<h2>Conversations</h2>")
    parts.append(_html_table(
        ["file", "models", "end state", "onset", "turns", "substantive", "emoji", "tools",
         "keywords"],
        [[c.file, c.models, c.end_state, "" if c.onset_index is None else c.onset_index, c.turns,
          c.substantive_before_onset, c.emoji_total, sum(c.tool_calls.values()),
          ", ".join(c.keywords[:5])] for c in report.sessions],
        numeric={3, 4, 5, 6, 7}))
    if report.problems:
        parts.append("<h2>Problems</h2><ul>" + "".join(f"<li>{esc(p)}</li>"
                                                       for p in report.problems) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_table(head: list[str], rows: list[list[Any]],
                numeric: frozenset[int] | set[int] = frozenset()) -> str:
    out = ["<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead>"]
    out.append("<tbody>")
    for row in rows:
        cells = "".join(
            f'<td class="n">{esc(v)}</td>' if i in numeric else f"<td>{esc(v)}</td>"
            for i, v in enumerate(row)
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


