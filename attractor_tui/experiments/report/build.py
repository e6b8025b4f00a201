"""Collecting a folder of conversations into one `Report`.

`build_report(directory)` reads every session file in a folder through the
format registry (ours, peer logs, anything `sessions.formats` reads; a file
may hold several conversations), runs the attractor analysis on each and
aggregates: end-state and topic distributions (counts, shares and 95% Wilson
intervals), keyword topics, emoji per conversation, substantive turns before
degradation, tool-call rates, per-model and per-pair breakdowns and the turn
similarity curves. One unreadable file never stops a report: it is named in
`failed` (and `problems`) with the reason and the rest goes on.

Every string taken from a file (names, models, keywords, messages) goes
through `core.text.safe_text` here, once, so no renderer can pass a terminal
control on.

The topic *label* (`topic`, one of `analysis.topics.TOPICS`) comes from the
classifier's record. Keyword topics need no network and no model: each
conversation's most distinctive
words (tf-idf over the folder, stopwords removed) are grouped greedily by
overlap, so a topic is a short list of words a reader can check.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attractor_tui.core.text import safe_text
from attractor_tui.experiments.stats import wilson
from attractor_tui.sessions import formats
from attractor_tui.sessions.log import failed_runs_note
from attractor_tui.sessions.store import SessionLog

if TYPE_CHECKING:
    from attractor_tui.analysis.metrics import TurnMetrics

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


PHRASE_TOOL = "stop phrase"
"""How a matched stop phrase is listed among the tool calls."""


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
    """Operator turns: a conversation with any is marked as interjected."""
    evidence: list[str] = field(default_factory=list)
    conversation: int = 0
    """0-based position of the conversation within its file."""
    topic: str | None = None
    """The classifier's topic label; None when its record has none."""
    phases: list[dict[str, Any]] = field(default_factory=list)
    operator_at: int | None = None
    """0-based position of the first operator turn (typed or scripted), if any."""
    call_after_operator: int | None = None
    """Turns from the first operator turn to the first tool call after it (1: the very next
    turn); None when no tool was called after it."""
    memory: bool = False
    """A side carried notes from a memory file (`--memory`, issue 27)."""

    @property
    def called_any_tool(self) -> bool:
        """A real tool was called (stop phrases are not tools)."""
        return any(name != PHRASE_TOOL for name in self.tool_calls)
    confidence: str = "strong"
    """The end state's confidence (`strong`, `weak`, `uncertain`; `judge` for a verdict)."""

    @property
    def models(self) -> str:
        return self.model_a if self.model_a == self.model_b else f"{self.model_a} ↔ {self.model_b}"

    @property
    def interjected(self) -> bool:
        return self.interjections > 0


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
    topic_labels: list[dict[str, Any]] = field(default_factory=list)
    """The classifier's topics: label, count, pct and the 95% interval (lo, hi) in %."""
    per_model: list[dict[str, Any]] = field(default_factory=list)
    """Per single model (a conversation counts for each model in it); empty if one model."""
    failed: list[str] = field(default_factory=list)
    """Files that could not be read or analysed, each with the reason (also in `problems`)."""
    interjected: int = 0
    """Conversations with operator turns (still included unless `excluded` says otherwise)."""
    excluded: int = 0
    """Conversations left out by `exclude_interjected`."""
    labels: str = "rules"
    """Where end states come from: the rules, or cached LLM-judge verdicts ("judge")."""
    chain: list[dict[str, Any]] = field(default_factory=list)
    """Sessions with a memory file, by session number (file order, from 1): end state and
    topic, for studies of drift over sessions (`batch --memory-chain`)."""
    failed_runs: list[dict[str, str]] = field(default_factory=list)
    """Runs that failed (`SessionLog.failure`): `file` and `reason`; in no count or share."""
    folders: dict[str, int] = field(default_factory=dict)
    """Conversations per sub-folder (a batch in a folder of batches); empty when none."""

    @property
    def failed_runs_note(self) -> str | None:
        """"3 failed runs (reasons)", or None when there were none."""
        if not self.failed_runs:
            return None
        return failed_runs_note([r["reason"] for r in self.failed_runs])
    uncertain: int = 0
    """Conversations whose end state the fitted model is unsure of (worth a judge)."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for s, raw in zip(self.sessions, data["sessions"], strict=True):
            raw["models"] = s.models
            raw["interjected"] = s.interjected
        return data


class ReportError(Exception):
    """The folder cannot be reported on (missing, or no session files)."""


# ------------------------------------------------------------------ build


def build_report(directory: Path | str, *, exclude_interjected: bool = False,
                 labels: str = "rules") -> Report:
    """Read and analyse every session file in `directory` and its sub-folders.

    Failed runs (`SessionLog.failure`: an error before any model turn) are no
    result: they are listed in `failed_runs`, apart, and in no count or share.

    `labels="judge"`: end state, onset and topic come from cached LLM-judge
    verdicts (`analyze --judge`; no model is called here); conversations
    without one are left out and named in `problems`.

    With `exclude_interjected`, conversations with operator turns are left
    out (and counted in `excluded`): the models' own behaviour only.
    """
    from attractor_tui.analysis import analyze_log, judge_cache
    from attractor_tui.analysis.metrics import turn_metrics, words

    directory = Path(directory)
    if not directory.is_dir():
        raise ReportError(f"{directory} is not a folder")
    sessions: list[SessionSummary] = []
    problems: list[str] = []
    failed: list[str] = []
    texts: list[list[str]] = []
    excluded = 0
    unjudged: list[str] = []
    loaded, broken = _load_folder(directory)
    for reason in broken:
        failed.append(safe_text(reason))
    failed_runs: list[dict[str, str]] = []
    for path, number, count, log in loaded:
        if log.failure is not None:  # an error before any model turn: no result to count
            name = formats.shown_name(path, [directory])
            failed_runs.append({"file": safe_text(f"{name}#{number + 1}" if count > 1 else name),
                                "reason": safe_text(log.failure)})
            continue
        try:
            problems.extend(safe_text(w) for w in log.warnings)
            metrics = turn_metrics(log.turns)
            result = analyze_log(log, conversation=number)
            if labels == "judge":
                judged = judge_cache.relabel(result, path, number)
                if judged is None:
                    unjudged.append(f"{path.name}#{number + 1}" if count > 1 else path.name)
                    continue
                result = judged
            summary = _summary(log, result, metrics, directory)
        except Exception as exc:  # one conversation the analysis chokes on must not stop it
            failed.append(safe_text(f"{path}: conversation {number + 1}: analysis failed: "
                                    f"{type(exc).__name__}: {exc}"))
            continue
        summary.conversation = number
        if count > 1:  # several conversations in one file: tell them apart (1-based)
            summary.file = f"{summary.file}#{number + 1}"
        if exclude_interjected and summary.interjections:
            excluded += 1
            continue
        sessions.append(_cleaned(summary))
        texts.append([w for t in log.turns if t.author == "model" for w in words(t.text)])
    if unjudged and not sessions:
        raise ReportError(safe_text(f"no cached judge result for any conversation in "
                                    f"{directory}: {_JUDGE_HINT.format(directory=directory)}"))
    if unjudged:
        problems.insert(0, _unjudged(unjudged, directory))
    for summary, keywords in zip(sessions, _keywords(texts), strict=True):
        summary.keywords = keywords
    return Report(
        directory=safe_text(str(directory)),
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        sessions=sessions,
        problems=failed + problems,
        batch=_safe(_batch_info(directory)),
        end_states=distribution([s.end_state for s in sessions]),
        topics=_topics(sessions),
        emoji=_emoji(sessions),
        substantive=_substantive(sessions),
        tools=_tools(sessions),
        models=_models(sessions),
        similarity=_similarity(sessions),
        topic_labels=distribution([s.topic for s in sessions if s.topic is not None]),
        per_model=_per_model(sessions),
        failed=failed,
        interjected=sum(1 for s in sessions if s.interjected),
        excluded=excluded,
        labels=labels,
        chain=[{"session": n, "file": s.file, "end_state": s.end_state, "topic": s.topic,
                "end_reason": s.end_reason}
               for n, s in enumerate(sorted((s for s in sessions if s.memory),
                                            key=lambda s: (s.file, s.conversation)), 1)],
        failed_runs=failed_runs,
        folders=dict(Counter(str(Path(s.file).parent) for s in sessions
                             if Path(s.file).parent != Path("."))),
        uncertain=sum(1 for s in sessions if s.confidence == "uncertain"),
    )


_JUDGE_HINT = "run `attractor-tui analyze --judge MODEL {directory}` first"


def _unjudged(names: list[str], directory: Path) -> str:
    """Which conversations a `--labels judge` report leaves out, and how to judge them."""
    shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
    return safe_text(f"{len(names)} conversation(s) have no cached judge result and are left "
                     f"out ({_JUDGE_HINT.format(directory=directory)}): {shown}")


Loaded = tuple[Path, int, int, SessionLog]
"""A file, the conversation's 0-based index in it, how many it holds, the conversation."""


def _load_folder(directory: Path) -> tuple[list[Loaded], list[str]]:
    """Every conversation of every session file, and "file: reason" for each that failed.

    Sub-folders count too (a folder of batches is one whole), as for `analyze`.
    Goes through the registry's many-file loader (`formats.load_all`), so the
    report names failures exactly as `analyze` does; one file at a time, so
    that even a reader's bug on one strange file only costs that file.
    """
    loaded: list[Loaded] = []
    broken: list[str] = []
    for path in formats.session_tree(directory):
        try:
            found, bad = formats.load_all([path])
        except Exception as exc:  # a reader's bug on a strange file: name it, go on
            broken.append(f"{path}: cannot be read: {type(exc).__name__}: {exc}")
            continue
        broken.extend(reason if str(p) in reason else f"{p}: {reason}" for p, reason in bad)
        loaded.extend((Path(p), k, len(found), log) for p, k, log in found)
    return loaded, broken


def _summary(log: SessionLog, result: dict[str, Any], metrics: Sequence[TurnMetrics],
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
            name = PHRASE_TOOL if call.kind == "phrase" else call.name
            calls[name] += 1
            outcomes.setdefault(name, Counter())[call.outcome] += 1
    operator_at = next((k for k, t in enumerate(turns) if t.author == "operator"), None)
    after = None if operator_at is None else next(
        (k - operator_at for k, t in enumerate(turns)
         if k > operator_at and any(c.kind == "tool" for c in t.tool_calls)), None)
    path = Path(result.get("file") or log.path)
    config = log.config
    return SessionSummary(
        file=formats.shown_name(path, [directory]),
        model_a=config.a.model, model_b=config.b.model, scenario=config.scenario,
        end_state=result["end_state"], end_reason=result.get("end_reason"),
        onset_index=onset, turns=result["turns"],
        model_turns=result.get("model_turns", sum(t.author == "model" for t in turns)),
        substantive_turns=result.get("substantive_turns", substantive_before),
        substantive_before_onset=substantive_before,
        emoji_total=result.get("emoji_total", sum(emoji.values())),
        emoji=dict(emoji.most_common()),
        tool_calls=dict(calls.most_common()),
        tool_outcomes={k: dict(v) for k, v in outcomes.items()},
        keywords=[],
        similarity=[None if m.sim_other is None else round(m.sim_other, 3)
                    for m in metrics[:MAX_CURVE_TURNS]],
        interjections=result.get("interjections",
                                  sum(1 for t in turns if t.author == "operator")),
        evidence=list(result.get("evidence", [])),
        topic=result.get("topic"),
        phases=[p for p in result.get("phases", []) if isinstance(p, dict)],
        operator_at=operator_at, call_after_operator=after,
        memory=bool(config.a.memory or config.b.memory),
        confidence=str(result.get("end_state_confidence", "strong")),
    )


def _safe(value: Any) -> Any:
    """`value` with `safe_text` applied to every string in it, keys included."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {_safe(k): _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    return value


def _cleaned(summary: SessionSummary) -> SessionSummary:
    for f in fields(summary):
        setattr(summary, f.name, _safe(getattr(summary, f.name)))
    return summary


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

    out: list[list[str]] = []
    for doc in docs:
        scored = sorted(doc.items(), key=lambda kv: (-kv[1] * idf(kv[0]), kv[0]))
        out.append([w for w, c in scored[:KEYWORDS_PER_SESSION] if c >= 2 or len(doc) < 20])
    return out


def _is_keyword(word: str) -> bool:
    return len(word) >= 3 and word not in STOPWORDS and not any(ch.isdigit() for ch in word)


# -------------------------------------------------------------- aggregates


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def interval(count: int, n: int) -> tuple[float, float]:
    """The 95% Wilson interval of count/n, in percent, one decimal."""
    lo, hi = wilson(count, n)
    return (round(100 * lo, 1), round(100 * hi, 1))


def distribution(labels: Sequence[str]) -> list[dict[str, Any]]:
    """Label, count, pct and the 95% interval (`lo`, `hi`, in %), most common first."""
    counts = Counter(labels)
    rows: list[dict[str, Any]] = []
    for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        lo, hi = interval(n, len(labels))
        rows.append({"label": label, "count": n, "pct": _pct(n, len(labels)), "lo": lo,
                     "hi": hi})
    return rows


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
    with_emoji = sum(1 for t in totals if t > 0)
    return {
        **_stats(totals), "total": sum(totals),
        "without_emoji": len(totals) - with_emoji,
        "with_emoji": with_emoji, "with_emoji_pct": _pct(with_emoji, len(totals)),
        "with_emoji_ci": list(interval(with_emoji, len(totals))),
        "histogram": histogram(totals),
        "top": [[e, n] for e, n in overall.most_common(12)],
    }


def _substantive(sessions: list[SessionSummary]) -> dict[str, Any]:
    before = [s.substantive_before_onset for s in sessions]
    degraded = [s for s in sessions if s.onset_index is not None]
    return {
        **_stats(before),
        "degraded": len(degraded),
        "degraded_pct": _pct(len(degraded), len(sessions)),
        "onset_turn": _stats([s.onset_index + 1 for s in degraded if s.onset_index is not None]),
        "classifier": _stats([s.substantive_turns for s in sessions]),
    }


def _tools(sessions: list[SessionSummary]) -> list[dict[str, Any]]:
    model_turns = sum(s.model_turns for s in sessions)
    names = sorted({name for s in sessions for name in s.tool_calls})
    rows: list[dict[str, Any]] = []
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
    return _group_rows(groups)


def _per_model(sessions: list[SessionSummary]) -> list[dict[str, Any]]:
    """Per single model: every conversation it took part in (either side); a
    conversation of two models counts for both. Empty when only one model ran."""
    groups: dict[str, list[SessionSummary]] = {}
    for s in sessions:
        for model in dict.fromkeys((s.model_a, s.model_b)):
            groups.setdefault(model, []).append(s)
    if len(groups) < 2:
        return []
    return _group_rows(groups)


def _group_rows(groups: dict[str, list[SessionSummary]]) -> list[dict[str, Any]]:
    """One row per group: end states (counts and %, side by side), emoji, substantive turns."""
    rows: list[dict[str, Any]] = []
    for models, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        states = Counter(s.end_state for s in members)
        rows.append({
            "models": models, "sessions": len(members),
            "end_states": dict(sorted(states.items(), key=lambda kv: (-kv[1], kv[0]))),
            "end_state_pct": {k: _pct(v, len(members)) for k, v in states.items()},
            "interjected": sum(1 for s in members if s.interjected),
            "emoji_share": _pct(sum(1 for s in members if s.emoji_total), len(members)),
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
        values = [v for c in curves if i < len(c) and (v := c[i]) is not None]
        mean.append(round(statistics.fmean(values), 3) if len(values) >= need else None)
        count.append(len(values))
    return {"mean": mean, "sessions_per_turn": count, "window": SMOOTH_WINDOW,
            "min_sessions": need}
