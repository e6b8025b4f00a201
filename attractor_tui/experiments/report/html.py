"""The report as one self-contained HTML page with inline SVG plots.

No scripts and no external resources; every piece of text (model words
included) is escaped.
"""

from __future__ import annotations

from typing import Any

from attractor_tui.experiments.report.build import Report, smooth
from attractor_tui.experiments.report.charts import (
    OPERATOR_MARK,
    bin_label,
    ci_text,
    esc,
    number,
    scope_notes,
    svg_bars,
    svg_histogram,
    svg_lines,
    svg_stacked,
    turn_text,
)
from attractor_tui.experiments.report.compare import Comparison, LabelTest, p_text

LABEL_COLOURS = {
    "goodbye_loop": "#d9822b", "identity_standoff": "#c23030", "meta_loop": "#8f398f",
    "minimal_exchange": "#5c7080", "emoji_spiral": "#d1b31f", "spiritual_bliss": "#29a634",
    "creative_escape": "#2b95d6", "sycophancy_collapse": "#db2c6f", "too_short": "#a7b6c2",
    "verbatim_loop": "#7157d9", "word_salad": "#96622d", "other": "#738694",
}
TOPIC_COLOURS = {
    "consciousness": "#8f398f", "the_conversation": "#7157d9", "uncertainty": "#5c7080",
    "performativity": "#db2c6f", "identity": "#c23030", "creative_work": "#2b95d6",
    "technical": "#0d8050", "nature": "#29a634", "spirituality": "#d1b31f",
    "society": "#d9822b", "leisure": "#00b3a4", "small_talk": "#a7b6c2", "other": "#738694",
}

_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 90em;
       padding: 0 1em; color: #1c2127; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border-bottom: 1px solid #dce0e5; padding: .25em .6em; text-align: left;
         vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td:first-child { white-space: nowrap; }
.muted { color: #5f6b7c; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
td.words { min-width: 22em; }
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
    parts += [f'<p class="muted">{esc(note)}</p>' for note in scope_notes(report)]
    bars = [(r["label"], float(r["count"]), f"{r['count']} ({r['pct']}%)",
             LABEL_COLOURS.get(r["label"], "#738694")) for r in report.end_states]
    hist = report.emoji["histogram"]
    parts += ['<h2>End states</h2><div class="charts">', svg_bars(bars, "End states"),
              distribution_table(report.end_states, "end state"), "</div>"]
    if report.per_model or report.models:
        groups = report.per_model or report.models
        parts.append(svg_stacked(
            [(r["models"], list(r["end_states"].items())) for r in groups], LABEL_COLOURS,
            "End states by model" if report.per_model else "End states by model pair"))
    parts.append("<h2>Topics</h2>")
    if report.topic_labels:
        tbars = [(r["label"], float(r["count"]), f"{r['count']} ({r['pct']}%)",
                  TOPIC_COLOURS.get(r["label"], "#738694")) for r in report.topic_labels]
        parts += ['<div class="charts">', svg_bars(tbars, "Topics"),
                  distribution_table(report.topic_labels, "topic"), "</div>"]
    else:
        parts.append('<p class="muted">The classifier gave no topic labels.</p>')
    e = report.emoji
    parts.append("<h2>Emoji per conversation</h2>")
    if e["with_emoji"]:  # one full-height bar at "0" said nothing the sentence does not
        parts += ['<div class="charts">',
                  svg_histogram([(bin_label(b), b["count"]) for b in hist],
                                "Conversations by emoji count", "emoji per conversation"),
                  "</div>"]
    lo, hi = e["with_emoji_ci"]
    parts.append(f"<p>mean {e['mean']}, median {e['median']}, max {esc(number(e['max']))}, "
                 f"total {e['total']}; {e['with_emoji']} of {n} conversation(s) with any emoji "
                 f"({e['with_emoji_pct']}%, 95% CI {lo:g}&ndash;{hi:g}%), "
                 f"{e['without_emoji']} without.</p>")
    if e["top"]:
        parts.append("<p>Top emoji: " + " ".join(f"{esc(em)}&times;{c}" for em, c in e["top"])
                     + "</p>")
    s = report.substantive
    parts.append(
        f"<h2>Substantive turns before degradation</h2><p>mean {s['mean']}, median "
        f"{s['median']}, min {esc(number(s['min']))}, max {esc(number(s['max']))}; "
        f"{s['degraded']} of {n} conversation(s) settled into an attractor (median onset at turn "
        f"{esc(number(s['onset_turn']['median']))}).</p>")
    parts.append("<h2>Turn similarity</h2>")
    sim = report.similarity
    parts.append(svg_lines([smooth(c.similarity, sim["window"]) for c in report.sessions],
                           sim["mean"], "Similarity to the other side's previous turn", "turn",
                           "similarity"))
    parts.append(f'<p class="muted">Word-shingle similarity of each turn to the other side\'s '
                 f'previous message, rolling mean over {sim["window"]} turns; blue: each '
                 f'conversation, red: their mean while at least {sim["min_sessions"]} are still '
                 f"running.</p>")
    parts.append("<h2>Topic words</h2>")
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
    if report.per_model:
        parts.append("<h2>By model</h2>")
        parts.append('<p class="muted">A conversation between two models counts for both.</p>')
        parts.append(group_table(report.per_model, "model"))
    if report.models:
        parts.append("<h2>By model pair</h2>")
        parts.append(group_table(report.models, "models"))
    parts.append("<h2>Conversations</h2>")
    if report.uncertain:
        parts.append(f'<p class="muted">{report.uncertain} of {len(report.sessions)} end states '
                     "are uncertain, marked ?.</p>")
    if report.interjected:
        parts.append(f'<p class="muted">{esc(OPERATOR_MARK.strip())} marks a conversation '
                     "with operator turns.</p>")
    parts.append(_html_table(
        ["file", "models", "end state", "topic", "onset turn", "turns", "substantive", "emoji",
         "tools", "keywords"],
        [[c.file + (OPERATOR_MARK if c.interjected else ""), c.models,
          c.end_state + ("?" if c.confidence == "uncertain" else ""), c.topic or "",
          turn_text(c.onset_index), c.turns, c.substantive_before_onset, c.emoji_total,
          sum(c.tool_calls.values()), ", ".join(c.keywords[:5])] for c in report.sessions],
        numeric={4, 5, 6, 7, 8}, words={9}))
    if report.problems:
        parts.append("<h2>Problems</h2><ul>" + "".join(f"<li>{esc(p)}</li>"
                                                       for p in report.problems) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def distribution_table(rows: list[dict[str, Any]], what: str) -> str:
    """Counts, shares and 95% Wilson intervals, one row per label."""
    return _html_table([what, "conversations", "share", "95% CI"],
                       [[r["label"], r["count"], f"{r['pct']}%", ci_text(r)] for r in rows],
                       numeric={1, 2, 3})


def group_table(rows: list[dict[str, Any]], what: str) -> str:
    """Groups side by side: one column per end state (count and %), then the means."""
    labels = sorted({k for r in rows for k in r["end_states"]},
                    key=lambda k: (-sum(r["end_states"].get(k, 0) for r in rows), k))
    body = []
    for r in rows:
        cells = [f"{r['end_states'][k]} ({r['end_state_pct'][k]:g}%)" if k in r["end_states"]
                 else "" for k in labels]
        mark = f" ({r['interjected']} with operator turns)" if r["interjected"] else ""
        body.append([r["models"] + mark, r["sessions"], *cells, f"{r['emoji_share']:g}%",
                     r["emoji_mean"], r["substantive_mean"], r["tool_calls"]])
    return _html_table([what, "n", *labels, "any emoji", "emoji (mean)", "substantive (mean)",
                        "tool calls"], body, numeric=set(range(1, len(labels) + 6)))


def _html_table(head: list[str], rows: list[list[Any]],
                numeric: frozenset[int] | set[int] = frozenset(),
                words: frozenset[int] | set[int] = frozenset()) -> str:
    """`numeric` columns align right; `words` columns (keywords) get room to stay on
    a line or two instead of a word per line."""
    out = ["<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead>"]
    out.append("<tbody>")
    classes = {**{i: ' class="words"' for i in words}, **{i: ' class="n"' for i in numeric}}
    for row in rows:
        cells = "".join(f"<td{classes.get(i, '')}>{esc(v)}</td>" for i, v in enumerate(row))
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)




def _p(p: float) -> str:
    return esc(p_text(p))


def _label_tests_html(comparison: Comparison, tests: list[LabelTest], what: str) -> str:
    names = [c.name for c in comparison.conditions]
    head = "".join(f"<th>{esc(h)}</th>" for h in [what, *names, "p", "p (Holm)"])
    out = [f"<table><thead><tr>{head}</tr></thead><tbody>"]
    for t in tests:
        cells = "".join(
            f'<td class="n">{c[0]} ({c[1]:g}%)<br><span class="muted">{c[2]:g}&ndash;{c[3]:g}%'
            "</span></td>" if c else '<td class="n">&mdash;</td>' for c in t.cells())
        strong = ' class="n sig"' if t.tested and t.p_adjusted < 0.05 else ' class="n"'
        p, adjusted = (_p(t.p_value), _p(t.p_adjusted)) if t.tested else ("&mdash;", "&mdash;")
        out.append(f"<tr><td>{esc(t.label)}</td>{cells}<td class=\"n\">{p}</td>"
                   f"<td{strong}>{adjusted}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render_compare_html(comparison: Comparison) -> str:
    """The comparison as one self-contained page: side-by-side stacked bars and tables."""
    conds = comparison.conditions
    title = "Attractor comparison: " + " vs ".join(c.name for c in conds)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{esc(title)}</title>", f"<style>{_CSS}td.sig {{ font-weight: bold; }}"
             "</style></head><body>", f"<h1>{esc(title)}</h1>"]
    if comparison.vary:
        parts.append(f'<p class="muted">One batch run once per value of '
                     f'<code>{esc(comparison.vary.get("key"))}</code>.</p>')
    parts.append(_html_table(
        ["condition", "folder", "conversations", "with operator turns", "unreadable files"],
        [[c.name, c.directory, c.n,
          f"{c.interjected}" + (f" (+{c.excluded} left out)" if c.excluded else ""), c.failed]
         for c in conds], numeric={2, 3, 4}))
    parts += ["<h2>End states</h2>", '<div class="charts">',
              svg_stacked([(c.name, list(c.end_states.items())) for c in conds], LABEL_COLOURS,
                          "End states by condition"), "</div>",
              f'<p class="muted">Each cell: count (share) and the 95% Wilson interval. p: '
              f"{esc(comparison.test_name)} of the label's share across the conditions; "
              "p (Holm): corrected across the labels; bold below 0.05.</p>",
              _label_tests_html(comparison, comparison.tests, "end state")]
    o = comparison.overall
    parts.append(f"<p>All end states at once: chi-square {o['statistic']:g} with {o['dof']} "
                 f"degree(s) of freedom, p {_p(o['p_value'])} (approximate for small "
                 "counts).</p>")
    parts.append("<h2>Topics</h2>")
    if comparison.topic_tests:
        parts += ['<div class="charts">',
                  svg_stacked([(c.name, list(c.topics.items())) for c in conds], TOPIC_COLOURS,
                              "Topics by condition"), "</div>",
                  _label_tests_html(comparison, comparison.topic_tests, "topic")]
    else:
        parts.append('<p class="muted">The classifier gave no topic labels.</p>')
    parts.append("<h2>Onset and substantive turns</h2>")
    parts.append(_html_table(
        ["measure", *[c.name for c in conds], "test", "p"],
        [[d.name, *[f"median {number(s['median'])}, mean {number(s['mean'])} (n={n})"
                    for s, n in zip(d.stats, d.n, strict=True)], d.test,
          "<0.001" if d.p_value < 0.001 else f"{d.p_value:.3g}"]
         for d in comparison.distributions],
        numeric=set(range(1, len(conds) + 1)) | {len(conds) + 2}))
    parts.append("<h2>Tool calls</h2>")
    if comparison.tool_rates:
        parts.append('<p class="muted">Share of conversations that called any tool; of those '
                     "with an operator turn, the share that called one after it.</p>")
        parts.append(_label_tests_html(comparison, comparison.tool_rates, "rate"))
    if comparison.tools:
        parts.append('<p class="muted">Each cell: calls; conversations that called it (share, '
                     "95% CI); calls per 100 model turns.</p>")
        parts.append(_html_table(
            ["tool", *[c.name for c in conds]],
            [[row["name"], *[f"{x['calls']}; {x['sessions']} ({x['session_pct']:g}%, "
                             f"{x['interval'][0]:g}–{x['interval'][1]:g}%); "
                             f"{x['per_100_turns']:g}" for x in row["conditions"]]]
             for row in comparison.tools], numeric=set(range(1, len(conds) + 1))))
    else:
        parts.append("<p>No tool calls in any condition.</p>")
    if comparison.problems:
        parts.append("<h2>Problems</h2><ul>" + "".join(f"<li>{esc(p)}</li>"
                                                       for p in comparison.problems) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
