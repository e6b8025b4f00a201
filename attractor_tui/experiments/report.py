"""Batch reports: what a folder of conversations fell into, as md, html, json or Rich.

`build_report(directory)` reads every session file in a folder (ours or peer
logs), runs the attractor analysis on each and aggregates: end-state
distribution, dominant topics, emoji per conversation, substantive turns
before degradation, tool-call rates, a per-model breakdown and the turn
similarity curves. Renderers turn the one `Report` into Markdown, a
self-contained HTML page (inline SVG plots, every text html-escaped), JSON, or
a Rich renderable with terminal charts for the TUI.

Topics need no network and no model: each conversation's most distinctive
words (tf-idf over the folder, stopwords removed) are grouped greedily by
overlap, so a topic is a short list of words a reader can check.
"""

from __future__ import annotations

import html
import json
import math
import statistics
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from attractor_tui.sessions.store import SUFFIX, SessionFileError, SessionLog, load_session

ReportFormat = Literal["md", "html", "json", "rich"]

KEYWORDS_PER_SESSION = 8
TOPIC_OVERLAP = 0.3
"""Share of the smaller keyword set two conversations must share to be one topic."""
TOPIC_PROFILE = 12
MAX_CURVE_TURNS = 400
IDF_FLOOR = 0.2
SMOOTH_WINDOW = 4
"""Turns per rolling mean in similarity curves (two exchanges)."""
MIN_CURVE_SHARE = 0.25
"""The mean curve stops where fewer than this share of conversations still have turns."""

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did didn't do
    does doesn't doing don't down during each even ever every few for from further get gets
    getting got had hadn't has hasn't have haven't having he he'd he'll he's her here here's
    hers herself him himself his how how's however i i'd i'll i'm i've if in into is isn't it
    it's its itself just let let's like likely made make makes many may maybe me might more
    most much must mustn't my myself need no nor not now of off often oh ok okay on once one
    only or other ought our ours ourselves out over own perhaps quite rather really right said
    same say says see seem seems shall shan't she she'd she'll she's should shouldn't so some
    something still such sure than that that's the their theirs them themselves then there
    there's these they they'd they'll they're they've thing things think this those though
    through to too truly under until up upon us use used very via want was wasn't way we we'd
    we'll we're we've well were weren't what what's whatever when when's where where's whether
    which while who who's whom why why's will with within without won't would wouldn't yes yet
    you you'd you'll you're you've your yours yourself yourselves
    absolutely actually again already always another anything around back being bit come
    definitely does done else enough especially everything exactly feel going good great
    happy hello help hi indeed keep kind know last less lot love much new nice next part
    please point put real thank thanks there time today true try understand wonderful
    yeah yep"""  # noqa: SIM905 - a word list reads better as text
    .split()
)


@dataclass
class SessionSummary:
    """One conversation, as the report needs it."""

    file: str
    model_a: str
    model_b: str
    scenario: str | None
    end_state: str
    end_reason: str | None
    onset_index: int | None
    turns: int
    model_turns: int
    substantive_turns: int
    substantive_before_onset: int
    """Model turns with real content before the final attractor set in (all, if none did)."""
    emoji_total: int
    emoji: dict[str, int]
    tool_calls: dict[str, int]
    tool_outcomes: dict[str, dict[str, int]]
    keywords: list[str]
    similarity: list[float | None]
    """Per turn: similarity to the other side's previous message."""
    interjections: int = 0
    evidence: list[str] = field(default_factory=list)

    @property
    def models(self) -> str:
        return self.model_a if self.model_a == self.model_b else f"{self.model_a} ↔ {self.model_b}"


@dataclass
class Report:
    """Everything the renderers show; `to_dict()` is the JSON format."""

    directory: str
    generated: str
    sessions: list[SessionSummary]
    problems: list[str]
    batch: dict[str, Any] | None
    end_states: list[dict[str, Any]]
    topics: list[dict[str, Any]]
    emoji: dict[str, Any]
    substantive: dict[str, Any]
    tools: list[dict[str, Any]]
    models: list[dict[str, Any]]
    similarity: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for s, raw in zip(self.sessions, data["sessions"], strict=True):
            raw["models"] = s.models
        return data


class ReportError(Exception):
    """The folder cannot be reported on (missing, or no session files)."""


# ------------------------------------------------------------------ build


def build_report(directory: Path | str) -> Report:
    """Read and analyse every session file in `directory` (not recursive)."""
    from attractor_tui.analysis import analyze_log
    from attractor_tui.analysis.metrics import turn_metrics, words

    directory = Path(directory)
    if not directory.is_dir():
        raise ReportError(f"{directory} is not a folder")
    sessions: list[SessionSummary] = []
    problems: list[str] = []
    texts: list[list[str]] = []
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        try:
            log = load_session(path)
        except SessionFileError as exc:
            problems.append(str(exc))
            continue
        problems.extend(log.warnings)
        metrics = turn_metrics(log.turns)
        result = analyze_log(log)
        sessions.append(_summary(log, result, metrics, directory))
        texts.append([w for t in log.turns if t.author == "model" for w in words(t.text)])
    for summary, keywords in zip(sessions, _keywords(texts), strict=True):
        summary.keywords = keywords
    return Report(
        directory=str(directory),
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        sessions=sessions,
        problems=problems,
        batch=_batch_info(directory),
        end_states=_end_states(sessions),
        topics=_topics(sessions),
        emoji=_emoji(sessions),
        substantive=_substantive(sessions),
        tools=_tools(sessions),
        models=_models(sessions),
        similarity=_similarity(sessions),
    )


def _summary(log: SessionLog, result: dict[str, Any], metrics: Sequence[Any],
             directory: Path) -> SessionSummary:
    turns = log.turns
    onset = result.get("onset_index")
    cutoff = len(turns) if onset is None else onset
    substantive_before = sum(
        1 for t, m in zip(turns[:cutoff], metrics[:cutoff], strict=True)
        if t.author == "model" and not m.minimal
    )
    emoji: Counter[str] = Counter()
    for m in metrics:
        emoji.update(m.emoji)
    calls: Counter[str] = Counter()
    outcomes: dict[str, Counter[str]] = {}
    for t in turns:
        for call in t.tool_calls:
            name = "stop phrase" if call.kind == "phrase" else call.name
            calls[name] += 1
            outcomes.setdefault(name, Counter())[call.outcome] += 1
    path = Path(result.get("file") or log.path)
    config = log.config
    return SessionSummary(
        file=path.name if path.parent == directory else str(path),
        model_a=config.a.model, model_b=config.b.model, scenario=config.scenario,
        end_state=result["end_state"], end_reason=result.get("end_reason"),
        onset_index=onset, turns=result["turns"],
        model_turns=result.get("model_turns", sum(t.author == "model" for t in turns)),
        substantive_turns=result.get("substantive_turns", 0),
        substantive_before_onset=substantive_before,
        emoji_total=result.get("emoji_total", sum(emoji.values())),
        emoji=dict(emoji.most_common()),
        tool_calls=dict(calls.most_common()),
        tool_outcomes={k: dict(v) for k, v in outcomes.items()},
        keywords=[],
        similarity=[None if m.sim_other is None else round(m.sim_other, 3)
                    for m in metrics[:MAX_CURVE_TURNS]],
        interjections=result.get("interjections", 0),
        evidence=list(result.get("evidence", [])),
    )


def _batch_info(directory: Path) -> dict[str, Any] | None:
    path = directory / "batch.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return {"spec": data.get("spec"), "started": data.get("started"),
            "counts": data.get("counts")}


def _keywords(texts: list[list[str]]) -> list[list[str]]:
    """Each conversation's most distinctive words: tf-idf.

    Words every conversation uses keep a small weight (`IDF_FLOOR`), so a
    folder of near-identical runs still gets topics instead of nothing; with
    fewer than three conversations there is no contrast and plain frequency rules.
    """
    docs = [Counter(w for w in ws if _is_keyword(w)) for ws in texts]
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(doc.keys())
    n = len(docs)

    def idf(word: str) -> float:
        return math.log((1 + n) / (1 + df[word])) + IDF_FLOOR if n >= 3 else 1.0

    out = []
    for doc in docs:
        scored = sorted(doc.items(), key=lambda kv: (-kv[1] * idf(kv[0]), kv[0]))
        out.append([w for w, c in scored[:KEYWORDS_PER_SESSION] if c >= 2 or len(doc) < 20])
    return out


def _is_keyword(word: str) -> bool:
    return len(word) >= 3 and word not in STOPWORDS and not any(ch.isdigit() for ch in word)


# -------------------------------------------------------------- aggregates


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _end_states(sessions: list[SessionSummary]) -> list[dict[str, Any]]:
    counts = Counter(s.end_state for s in sessions)
    return [{"label": label, "count": n, "pct": _pct(n, len(sessions))}
            for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _topics(sessions: list[SessionSummary]) -> list[dict[str, Any]]:
    """Greedy single-pass grouping by keyword overlap with each topic's profile."""
    clusters: list[dict[str, Any]] = []
    for s in sessions:
        words = set(s.keywords)
        if not words:
            continue
        best, best_score = None, 0.0
        for cluster in clusters:
            profile = {w for w, _ in cluster["weights"].most_common(TOPIC_PROFILE)}
            score = len(words & profile) / min(len(words), len(profile))
            if score > best_score:
                best, best_score = cluster, score
        if best is None or best_score < TOPIC_OVERLAP:
            best = {"weights": Counter(), "files": []}
            clusters.append(best)
        for rank, word in enumerate(s.keywords):
            best["weights"][word] += KEYWORDS_PER_SESSION - rank
        best["files"].append(s.file)
    clusters.sort(key=lambda c: (-len(c["files"]), c["files"][0]))
    return [
        {"keywords": [w for w, _ in c["weights"].most_common(6)], "sessions": len(c["files"]),
         "pct": _pct(len(c["files"]), len(sessions)), "files": c["files"]}
        for c in clusters
    ]


def _stats(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "median": 0.0, "min": 0.0, "max": 0.0}
    return {"mean": round(statistics.fmean(values), 2),
            "median": round(float(statistics.median(values)), 2),
            "min": float(min(values)), "max": float(max(values))}


def histogram(values: Sequence[int], max_bins: int = 10) -> list[dict[str, int]]:
    """Integer bins [lo, hi] covering 0..max(values), at most `max_bins` of them."""
    top = max(values, default=0)
    width = max(1, math.ceil((top + 1) / max_bins))
    bins = [{"lo": lo, "hi": lo + width - 1, "count": 0} for lo in range(0, top + 1, width)]
    for v in values:
        bins[v // width]["count"] += 1
    return bins


def _emoji(sessions: list[SessionSummary]) -> dict[str, Any]:
    totals = [s.emoji_total for s in sessions]
    overall: Counter[str] = Counter()
    for s in sessions:
        overall.update(s.emoji)
    return {
        **_stats(totals), "total": sum(totals),
        "without_emoji": sum(1 for t in totals if t == 0),
        "histogram": histogram(totals),
        "top": [[e, n] for e, n in overall.most_common(12)],
    }


def _substantive(sessions: list[SessionSummary]) -> dict[str, Any]:
    before = [s.substantive_before_onset for s in sessions]
    degraded = [s for s in sessions if s.onset_index is not None]
    return {
        **_stats(before),
        "degraded": len(degraded),
        "onset_turn": _stats([s.onset_index for s in degraded if s.onset_index is not None]),
    }


def _tools(sessions: list[SessionSummary]) -> list[dict[str, Any]]:
    model_turns = sum(s.model_turns for s in sessions)
    names = sorted({name for s in sessions for name in s.tool_calls})
    rows = []
    for name in names:
        calls = sum(s.tool_calls.get(name, 0) for s in sessions)
        used = sum(1 for s in sessions if s.tool_calls.get(name))
        outcomes: Counter[str] = Counter()
        for s in sessions:
            outcomes.update(s.tool_outcomes.get(name, {}))
        rows.append({
            "name": name, "calls": calls, "sessions": used,
            "session_pct": _pct(used, len(sessions)),
            "per_100_turns": round(100.0 * calls / model_turns, 2) if model_turns else 0.0,
            "outcomes": dict(outcomes.most_common()),
        })
    rows.sort(key=lambda r: (-r["calls"], r["name"]))
    return rows


def _models(sessions: list[SessionSummary]) -> list[dict[str, Any]]:
    """Per model pairing; empty when every conversation used the same models."""
    groups: dict[str, list[SessionSummary]] = {}
    for s in sessions:
        groups.setdefault(s.models, []).append(s)
    if len(groups) < 2:
        return []
    rows = []
    for models, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        states = Counter(s.end_state for s in members)
        rows.append({
            "models": models, "sessions": len(members),
            "end_states": dict(sorted(states.items(), key=lambda kv: (-kv[1], kv[0]))),
            "top_end_state": states.most_common(1)[0][0],
            "emoji_mean": round(statistics.fmean(s.emoji_total for s in members), 2),
            "substantive_mean": round(
                statistics.fmean(s.substantive_before_onset for s in members), 2),
            "tool_calls": sum(sum(s.tool_calls.values()) for s in members),
        })
    return rows


def smooth(values: Sequence[float | None], window: int = SMOOTH_WINDOW) -> list[float | None]:
    """Trailing rolling mean that skips gaps: A and B alternate, so raw curves zigzag."""
    out: list[float | None] = []
    for i in range(len(values)):
        part = [v for v in values[max(0, i - window + 1):i + 1] if v is not None]
        out.append(round(statistics.fmean(part), 3) if part else None)
    return out


def _similarity(sessions: list[SessionSummary]) -> dict[str, Any]:
    """Mean smoothed curve, only where enough conversations are still running."""
    curves = [smooth(s.similarity) for s in sessions]
    length = max((len(c) for c in curves), default=0)
    need = 1 if len(sessions) <= 2 else max(2, math.ceil(len(sessions) * MIN_CURVE_SHARE))
    mean: list[float | None] = []
    count: list[int] = []
    for i in range(length):
        values = [c[i] for c in curves if i < len(c) and c[i] is not None]
        mean.append(round(statistics.fmean(values), 3) if len(values) >= need else None)
        count.append(len(values))
    return {"mean": mean, "sessions_per_turn": count, "window": SMOOTH_WINDOW,
            "min_sessions": need}


# ------------------------------------------------------------- rendering

LABEL_COLOURS = {
    "goodbye_loop": "#d9822b", "identity_standoff": "#c23030", "meta_loop": "#8f398f",
    "minimal_exchange": "#5c7080", "emoji_spiral": "#d1b31f", "spiritual_bliss": "#29a634",
    "creative_escape": "#2b95d6", "sycophancy_collapse": "#db2c6f", "too_short": "#a7b6c2",
    "other": "#738694",
}
RICH_COLOURS = {
    "goodbye_loop": "dark_orange", "identity_standoff": "red", "meta_loop": "magenta",
    "minimal_exchange": "grey50", "emoji_spiral": "yellow", "spiritual_bliss": "green",
    "creative_escape": "cyan", "sycophancy_collapse": "deep_pink3", "too_short": "grey70",
    "other": "grey58",
}


def render(report: Report, fmt: ReportFormat) -> str:
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    if fmt == "rich":
        from rich.console import Console

        console = Console(record=True, width=100, file=_Null())
        console.print(render_report_rich(report))
        return console.export_text()
    raise ValueError(f"unknown report format {fmt!r}")


class _Null:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# -------------------------------------------------------------- markdown


def _md(text: Any) -> str:
    """A Markdown table cell: no pipes, newlines or HTML from model text."""
    out = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return out.replace("<", "&lt;").replace(">", "&gt;")


def _bar(fraction: float, width: int = 20) -> str:
    cells = fraction * width
    full = int(cells)
    part = " ▏▎▍▌▋▊▉"[int((cells - full) * 8)] if full < width else ""
    return ("█" * full + part).rstrip()


def render_markdown(report: Report) -> str:
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
                     f"{_bar(row['pct'] / 100)} |")
    e = report.emoji
    lines += ["", "## Emoji per conversation", "",
              f"mean {e['mean']}, median {e['median']}, max {_fmt(e['max'])}, total {e['total']}; "
              f"{e['without_emoji']} conversation(s) without emoji.", ""]
    if e["top"]:
        lines.append("Top emoji: " + " ".join(f"{_md(em)}×{c}" for em, c in e["top"]))
        lines.append("")
    peak = max((b["count"] for b in e["histogram"]), default=0) or 1
    lines += ["| emoji | conversations | |", "|---|---:|---|"]
    for b in e["histogram"]:
        span = str(b["lo"]) if b["lo"] == b["hi"] else f"{b['lo']}–{b['hi']}"
        lines.append(f"| {span} | {b['count']} | {_bar(b['count'] / peak)} |")
    s = report.substantive
    lines += ["", "## Substantive turns before degradation", "",
              f"mean {s['mean']}, median {s['median']}, min {_fmt(s['min'])}, "
              f"max {_fmt(s['max'])}; {s['degraded']} of {n} conversation(s) settled into an "
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


def sparkline(values: Sequence[float | None], lo: float = 0.0, hi: float = 1.0,
              width: int = 80) -> str:
    """Block characters for a series; gaps (None) are spaces. Long series are averaged."""
    if len(values) > width:
        step = len(values) / width
        buckets = [values[int(i * step):int((i + 1) * step)] for i in range(width)]
        values = [statistics.fmean(v for v in b if v is not None)
                  if any(v is not None for v in b) else None for b in buckets]
    blocks = "▁▂▃▄▅▆▇█"
    span = (hi - lo) or 1.0
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        else:
            pos = int((min(hi, max(lo, v)) - lo) / span * (len(blocks) - 1) + 0.5)
            out.append(blocks[pos])
    return "".join(out)


# ------------------------------------------------------------------ html

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


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def render_html(report: Report) -> str:
    """One self-contained page: no scripts, no external resources, inline SVG plots."""
    n = len(report.sessions)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>Attractor report: {_e(report.directory)}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>Attractor report: {_e(report.directory)}</h1>",
             f'<p class="muted">{n} conversation(s), generated {_e(report.generated)}.</p>']
    if report.batch and report.batch.get("spec"):
        spec = report.batch["spec"]
        items = ", ".join(f"{_e(k)} <code>{_e(v)}</code>" for k, v in spec.items()
                          if v not in (None, {}, ""))
        parts.append(f'<p class="muted">Batch: {items}</p>')
    bars = [(r["label"], float(r["count"]), f"{r['count']} ({r['pct']}%)",
             LABEL_COLOURS.get(r["label"], "#738694")) for r in report.end_states]
    hist = report.emoji["histogram"]
    parts += ['<h2>End states</h2><div class="charts">',
              svg_bars(bars, "End states"),
              "</div>", "<h2>Emoji per conversation</h2>", '<div class="charts">',
              svg_histogram([(_span(b), b["count"]) for b in hist], "Conversations by emoji count",
                            "emoji per conversation"),
              "</div>"]
    e = report.emoji
    parts.append(f"<p>mean {e['mean']}, median {e['median']}, max {_e(_fmt(e['max']))}, "
                 f"total {e['total']}; {e['without_emoji']} conversation(s) without emoji.</p>")
    if e["top"]:
        parts.append("<p>Top emoji: " + " ".join(f"{_e(em)}&times;{c}" for em, c in e["top"])
                     + "</p>")
    s = report.substantive
    parts.append(
        f"<h2>Substantive turns before degradation</h2><p>mean {s['mean']}, median "
        f"{s['median']}, min {_e(_fmt(s['min']))}, max {_e(_fmt(s['max']))}; {s['degraded']} of "
        f"{n} conversation(s) settled into an attractor (median onset at turn "
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
        parts.append("<h2>Problems</h2><ul>" + "".join(f"<li>{_e(p)}</li>"
                                                       for p in report.problems) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _span(b: dict[str, int]) -> str:
    return str(b["lo"]) if b["lo"] == b["hi"] else f"{b['lo']}–{b['hi']}"


def _html_table(head: list[str], rows: list[list[Any]],
                numeric: frozenset[int] | set[int] = frozenset()) -> str:
    out = ["<table><thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead>"]
    out.append("<tbody>")
    for row in rows:
        cells = "".join(
            f'<td class="n">{_e(v)}</td>' if i in numeric else f"<td>{_e(v)}</td>"
            for i, v in enumerate(row)
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _svg_open(width: int, height: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}"><title>{_e(title)}</title>')


def svg_bars(items: list[tuple[str, float, str, str]], title: str, width: int = 560) -> str:
    """Horizontal bars: (label, value, value text, colour) per row."""
    row, right = 24, 110
    left = 16 + 7 * max((len(label) for label, _, _, _ in items), default=8)
    height = 30 + row * max(1, len(items))
    top = max((v for _, v, _, _ in items), default=0) or 1.0
    out = [_svg_open(width, height, title),
           f'<text x="8" y="18" font-weight="bold">{_e(title)}</text>']
    span = width - left - right
    for i, (label, value, text, colour) in enumerate(items):
        y = 28 + i * row
        w = max(1.0, span * value / top)
        out.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{_e(label)}</text>')
        out.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" '
                   f'fill="{_e(colour)}"/>')
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + 14}">{_e(text)}</text>')
    out.append("</svg>")
    return "".join(out)


def svg_histogram(bins: list[tuple[str, int]], title: str, xlabel: str,
                  width: int = 560, height: int = 260) -> str:
    """Vertical bars, one per (bin label, count); crowded labels are slanted."""
    slot_guess = (width - 50) / max(1, len(bins))
    slant = max((len(label) for label, _ in bins), default=0) * 7 > slot_guess - 4
    left, top_pad = 40, 44
    bottom = 84 if slant else 42
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    peak = max((c for _, c in bins), default=0) or 1
    out = [_svg_open(width, height, title),
           f'<text x="8" y="18" font-weight="bold">{_e(title)}</text>',
           f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" '
           f'y2="{top_pad + plot_h}" stroke="#8a9ba8"/>']
    slot = plot_w / max(1, len(bins))
    base = top_pad + plot_h
    for i, (label, count) in enumerate(bins):
        h = plot_h * count / peak
        x = left + i * slot
        cx = x + slot / 2
        out.append(f'<rect x="{x + 2:.1f}" y="{base - h:.1f}" '
                   f'width="{max(1.0, slot - 4):.1f}" height="{h:.1f}" fill="#2b95d6"/>')
        if count:
            out.append(f'<text x="{cx:.1f}" y="{base - h - 4:.1f}" '
                       f'text-anchor="middle">{count}</text>')
        if slant:
            out.append(f'<text x="{cx:.1f}" y="{base + 14}" text-anchor="end" '
                       f'transform="rotate(-35 {cx:.1f} {base + 14})">{_e(label)}</text>')
        else:
            out.append(f'<text x="{cx:.1f}" y="{base + 15}" '
                       f'text-anchor="middle">{_e(label)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
               f'{_e(xlabel)}</text></svg>')
    return "".join(out)


def svg_lines(series: list[list[float | None]], mean: list[float | None], title: str,
              xlabel: str, ylabel: str, width: int = 720, height: int = 280) -> str:
    """Every conversation's curve, faint, with the mean on top; y from 0 to 1."""
    left, bottom, top_pad, right = 46, 40, 30, 12
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    length = max([len(s) for s in series] + [len(mean), 2])

    def xy(i: int, v: float) -> str:
        x = left + plot_w * i / (length - 1)
        y = top_pad + plot_h * (1 - min(1.0, max(0.0, v)))
        return f"{x:.1f},{y:.1f}"

    def paths(values: Sequence[float | None]) -> list[str]:
        runs: list[list[str]] = [[]]
        for i, v in enumerate(values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(xy(i, v))
        return [" ".join(r) for r in runs if len(r) > 1]

    out = [_svg_open(width, height, title),
           f'<text x="8" y="18" font-weight="bold">{_e(title)}</text>']
    for tick in (0.0, 0.5, 1.0):
        y = top_pad + plot_h * (1 - tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                   f'stroke="#e5e8eb"/><text x="{left - 6}" y="{y + 4:.1f}" '
                   f'text-anchor="end">{tick:g}</text>')
    opacity = max(0.05, min(0.5, 4 / max(1, len(series))))
    for s in series:
        for points in paths(s):
            out.append(f'<polyline points="{points}" fill="none" stroke="#2b95d6" '
                       f'stroke-opacity="{opacity:.2f}" stroke-width="1"/>')
    for points in paths(mean):
        out.append(f'<polyline points="{points}" fill="none" stroke="#c23030" '
                   f'stroke-width="2.5"/>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle">'
               f'{_e(xlabel)} (red: mean)</text>')
    out.append(f'<text x="12" y="{top_pad + plot_h / 2:.1f}" text-anchor="middle" '
               f'transform="rotate(-90 12 {top_pad + plot_h / 2:.1f})">{_e(ylabel)}</text>')
    out.append(f'<text x="{left}" y="{height - 8}">0</text>'
               f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end">{length - 1}</text>')
    out.append("</svg>")
    return "".join(out)


# ------------------------------------------------------------------ rich


def render_report_rich(report: Report) -> Any:
    """Terminal charts and tables for the TUI; model text is never parsed as markup."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    n = len(report.sessions)
    blocks: list[Any] = [Text(f"Attractor report: {report.directory} · {n} conversation(s)",
                              style="bold")]
    states = Table.grid(padding=(0, 1))
    for _ in range(3):
        states.add_column()
    top = max((r["count"] for r in report.end_states), default=0) or 1
    for r in report.end_states:
        colour = RICH_COLOURS.get(r["label"], "white")
        states.add_row(Text(r["label"], style=colour),
                       Text(_bar(r["count"] / top, 30) or "▏", style=colour),
                       Text(f"{r['count']} ({r['pct']}%)"))
    blocks.append(Panel(states, title="end states", title_align="left"))

    e = report.emoji
    hist = Table.grid(padding=(0, 1))
    hist.add_column(justify="right")
    hist.add_column()
    hist.add_column(justify="right")
    peak = max((b["count"] for b in e["histogram"]), default=0) or 1
    for b in e["histogram"]:
        hist.add_row(Text(_span(b)), Text(_bar(b["count"] / peak, 30) or "", style="yellow"),
                     Text(str(b["count"])))
    emoji_text = Text(f"mean {e['mean']} · median {e['median']} · max {_fmt(e['max'])} · "
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


# ------------------------------------------------------------------- CLI


def report_command(directory: Path, fmt: ReportFormat = "md", output: Path | None = None) -> int:
    """`attractor-tui report DIR`: 0 on success, 1 when there is nothing to report on."""
    try:
        report = build_report(directory)
    except ReportError as exc:
        print(f"attractor-tui: {exc}", file=sys.stderr)
        return 1
    if not report.sessions:
        print(f"attractor-tui: no readable session files in {directory}", file=sys.stderr)
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    for problem in report.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if fmt == "rich" and output is None:
        from rich.console import Console

        Console().print(render_report_rich(report))
        return 0
    text = render(report, fmt)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
