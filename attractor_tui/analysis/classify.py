"""End-state classification: which attractor a conversation fell into, and when.

Deterministic and explainable by construction:

1. every model turn gets *signals* from its metrics (a farewell phrase, a
   contested identity claim, nothing visible, ...), each with a short reason;
2. every window of `WINDOW` consecutive model turns gets the label whose
   signal covers the largest share of it (at least `LABEL_THRESHOLD`, ties
   broken by `PRIORITY`), else ``other``;
3. the conversation's label is the label of its *final* window: the state it
   ended in, not the one it passed through;
4. the onset is the first signalling turn of the earliest window with that
   label after which the signal keeps its hold: `HOLD_SHARE` of the later
   windows still show it in at least `PERSIST_THRESHOLD` of their turns.
   Windows right after an operator interjection count neither way, so the
   replies an interjection provokes do not move the onset; a spontaneous
   detour of the models' own does.

Operator interjections are not model behaviour: they are skipped when
windows are formed but keep their place in the turn numbering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from attractor_tui.analysis.metrics import (
    TurnMetrics,
    emoji_totals,
    turn_metrics,
)
from attractor_tui.core.events import Turn
from attractor_tui.core.text import describe_invisible

if TYPE_CHECKING:
    from attractor_tui.sessions.store import SessionLog

Label = Literal[
    "goodbye_loop",
    "identity_standoff",
    "meta_loop",
    "minimal_exchange",
    "emoji_spiral",
    "spiritual_bliss",
    "creative_escape",
    "sycophancy_collapse",
    "too_short",
    "other",
]
LABELS: tuple[str, ...] = get_args(Label)

WINDOW = 8
"""Model turns per window: four exchanges, enough to tell a habit from a moment."""
MIN_MODEL_TURNS = 6
"""Fewer model turns than this is `too_short` to call."""
LABEL_THRESHOLD = 0.5
PERSIST_THRESHOLD = 0.5
HOLD_SHARE = 0.75
PROVOKED_TURNS = 4
"""Turns after an operator interjection whose windows do not count against a hold."""

PRIORITY: tuple[Label, ...] = (
    "identity_standoff",
    "goodbye_loop",
    "emoji_spiral",
    "minimal_exchange",
    "spiritual_bliss",
    "meta_loop",
    "sycophancy_collapse",
    "creative_escape",
)
"""Tie-break order: the more specific pattern wins an equal share."""

_SNIPPET = 40


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= _SNIPPET else flat[: _SNIPPET - 1] + "…")


def _first(values: Sequence[str], n: int = 2) -> str:
    seen: list[str] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return ", ".join(repr(v) for v in seen[:n])


def turn_signals(turn: Turn, m: TurnMetrics) -> dict[Label, str]:
    """The attractor signals one turn shows, each with a human-readable reason."""
    out: dict[Label, str] = {}
    if turn.author != "model":
        return out
    if m.minimal:
        if m.invisible_only:
            out["minimal_exchange"] = f"nothing visible ({describe_invisible(turn.text)})"
        else:
            out["minimal_exchange"] = f"{m.words} word(s) {_snippet(turn.text)}"
    if m.farewell:
        out["goodbye_loop"] = f"farewell {_first(m.farewell)}"
    elif m.stop_intent:
        out["goodbye_loop"] = f"stop intent {_first(m.stop_intent)}"
    elif m.closing:
        out["goodbye_loop"] = f"standby {_first(m.standby)}"
    if m.identity_dispute:
        claims = list(m.identity_self) + list(m.identity_other) + list(m.identity_contest)
        out["identity_standoff"] = f"role claim {_first(claims)}"
    if m.escape_attempt:
        out["meta_loop"] = f"escape keyword {_snippet(turn.text)}"
    elif m.meta_strong or len(set(m.meta)) >= 3:
        out["meta_loop"] = f"loop talk {_first(m.meta, 3)}"
    share = m.emoji_count / max(1, m.emoji_count + m.words)
    if m.emoji_count >= 3 and share >= 0.3:
        out["emoji_spiral"] = f"{m.emoji_count} emoji {''.join(sorted(m.emoji_set))[:12]}"
    if len(set(m.bliss)) >= 3:
        out["spiritual_bliss"] = f"bliss words {_first(m.bliss, 3)}"
    if len(m.praise) >= 2 or (m.praise and (m.sim_other or 0.0) >= 0.3):
        out["sycophancy_collapse"] = f"praise {_first(m.praise)}"
    creative = len(set(m.creative))
    if m.stage_lines >= 2 or creative >= 2 or (m.stage_lines and creative):
        out["creative_escape"] = (
            f"{m.stage_lines} stage direction(s)" if m.stage_lines
            else f"story words {_first(m.creative)}"
        )
    return out


@dataclass(frozen=True)
class WindowLabel:
    """The label of model turns `start`..`end` (turn positions, inclusive)."""

    start: int
    end: int
    label: Label
    score: float
    """Share of the window's model turns that carry the label's signal."""


@dataclass(frozen=True)
class Phase:
    """A stretch of the conversation whose windows share one label."""

    start: int
    end: int
    label: Label


@dataclass(frozen=True)
class Classification:
    label: Label
    onset_index: int | None
    """0-based position among the turns where the final state set in."""
    substantive_turns: int
    """Model turns with more than a few visible words."""
    evidence: list[str]
    window_labels: list[WindowLabel]
    """Windows every WINDOW/2 model turns, plus the final one."""
    phases: list[Phase]
    scores: dict[str, float]
    """Signal shares in the final window, by label."""
    model_turns: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def label_window(sigs: Sequence[dict[Label, str]]) -> tuple[Label, float, dict[str, float]]:
    n = len(sigs)
    shares: dict[str, float] = {label: sum(label in s for s in sigs) / n for label in PRIORITY}
    best = max(PRIORITY, key=lambda lab: (shares[lab], -PRIORITY.index(lab)))
    if shares[best] < LABEL_THRESHOLD:
        return "other", shares[best], shares
    return best, shares[best], shares


def _phases(starts: list[int], labels: list[Label], positions: list[int]) -> list[Phase]:
    """Runs of equal window labels, a phase starting where its first window starts.

    Runs shorter than 3 windows (a blip) are folded into the run before them.
    """
    runs: list[tuple[Label, int]] = []  # (label, first window)
    lengths: list[int] = []
    for k, label in enumerate(labels):
        if runs and runs[-1][0] == label:
            lengths[-1] += 1
            continue
        if len(runs) > 1 and lengths[-1] < 3:
            runs.pop()
            lengths.pop()
            if runs[-1][0] == label:
                lengths[-1] += 1
                continue
        runs.append((label, k))
        lengths.append(1)
    phases: list[Phase] = []
    for i, (label, first) in enumerate(runs):
        start = positions[starts[first]]
        end = positions[starts[runs[i + 1][1]]] - 1 if i + 1 < len(runs) else positions[-1]
        phases.append(Phase(start=start, end=end, label=label))
    return phases


def classify(turns: Sequence[Turn], metrics: Sequence[TurnMetrics] | None = None
             ) -> Classification:
    """Label how a conversation ended, when that began, and why (see module doc)."""
    metrics = list(metrics) if metrics is not None else turn_metrics(turns)
    sigs = [turn_signals(t, m) for t, m in zip(turns, metrics, strict=True)]
    positions = [i for i, t in enumerate(turns) if t.author == "model"]
    substantive = sum(1 for i in positions if not metrics[i].minimal)
    operator = [i for i, t in enumerate(turns) if t.author == "operator"]
    n = len(positions)
    if n < MIN_MODEL_TURNS:
        return Classification(
            label="too_short", onset_index=None, substantive_turns=substantive,
            evidence=[f"only {n} model turn(s); need {MIN_MODEL_TURNS} to call an end state"],
            window_labels=[], phases=[], scores={}, model_turns=n,
        )
    size = min(WINDOW, n)
    starts = list(range(n - size + 1))
    windows = [label_window([sigs[positions[k + j]] for j in range(size)]) for k in starts]
    labels = [w[0] for w in windows]
    final_label, final_score, final_shares = windows[-1]
    provoked = _provoked(turns, positions, size)
    onset_k = (
        _onset_window(final_label, windows, provoked) if final_label != "other" else None
    )
    onset = None
    if onset_k is not None:
        onset = next(
            (positions[onset_k + j] for j in range(size)
             if final_label in sigs[positions[onset_k + j]]),
            positions[onset_k],
        )
    shown = sorted({*range(0, len(starts), max(1, size // 2)), len(starts) - 1})
    window_labels = [
        WindowLabel(start=positions[k], end=positions[k + size - 1], label=labels[k],
                    score=round(windows[k][1], 3))
        for k in shown
    ]
    phases = _phases(starts, labels, positions)
    evidence = _evidence(turns, metrics, sigs, positions, size, final_label, final_shares, onset,
                         phases, operator)
    return Classification(
        label=final_label, onset_index=onset, substantive_turns=substantive, evidence=evidence,
        window_labels=window_labels, phases=phases,
        scores={k: round(v, 3) for k, v in final_shares.items() if v > 0}, model_turns=n,
    )


def _provoked(turns: Sequence[Turn], positions: list[int], size: int) -> list[bool]:
    """Windows that hold an operator interjection or the replies just after one."""
    operator = [i for i, t in enumerate(turns) if t.author == "operator"]
    out = []
    for k in range(len(positions) - size + 1):
        first, last = positions[k], positions[k + size - 1]
        out.append(any(first - PROVOKED_TURNS <= p <= last for p in operator))
    return out


def _onset_window(label: Label, windows: list[tuple[Label, float, dict[str, float]]],
                  provoked: list[bool]) -> int:
    """Earliest window labelled `label` after which the label keeps its hold.

    Windows provoked by an operator interjection count neither way: the
    question is whether the models stay in the state on their own.
    """
    held = [0] * (len(windows) + 1)
    seen = [0] * (len(windows) + 1)
    for k in range(len(windows) - 1, -1, -1):
        counted = not provoked[k]
        seen[k] = seen[k + 1] + counted
        held[k] = held[k + 1] + (counted and windows[k][2][label] >= PERSIST_THRESHOLD)
    for k, window in enumerate(windows):
        if window[0] == label and (not seen[k] or held[k] / seen[k] >= HOLD_SHARE):
            return k
    return len(windows) - 1


def _evidence(turns: Sequence[Turn], metrics: Sequence[TurnMetrics],
              sigs: list[dict[Label, str]], positions: list[int],
              size: int, label: Label, shares: dict[str, float], onset: int | None,
              phases: list[Phase], operator: list[int]) -> list[str]:
    last = positions[-size:]
    lines: list[str] = []
    if label == "other":
        best = max(PRIORITY, key=lambda lab: (shares[lab], -PRIORITY.index(lab)))
        strongest = (
            f"strongest: {best} in {round(shares[best] * size)}/{size}" if shares[best]
            else "none seen at all"
        )
        lines.append(
            f"final {size} model turns ({last[0]}-{last[-1]}): no attractor signal in half of "
            f"them ({strongest})"
        )
    else:
        hits = [i for i in last if label in sigs[i]]
        examples = "; ".join(f"turn {i} {turns[i].side}: {sigs[i][label]}" for i in hits[-3:])
        lines.append(
            f"final {size} model turns ({last[0]}-{last[-1]}): {label} signal in "
            f"{len(hits)}/{size} ({examples})"
        )
        if label == "emoji_spiral":
            counts = [metrics[i].emoji_count for i in last]
            lines.append(f"emoji per turn over the final window: {counts}")
        others = [f"{lab} {round(v * size)}/{size}" for lab, v in shares.items()
                  if lab != label and v >= PERSIST_THRESHOLD]
        if others:
            lines.append("also present in the final window: " + ", ".join(others))
    if onset is not None:
        turn = turns[onset]
        lines.append(
            f"onset turn {onset} ({turn.side}): {sigs[onset].get(label, 'window start')}"
        )
    if len(phases) > 1:
        lines.append("phases: " + ", ".join(f"{p.label} {p.start}-{p.end}" for p in phases))
    if operator:
        shown = ", ".join(str(i) for i in operator[:8]) + (" ..." if len(operator) > 8 else "")
        after = [i for i in operator if onset is not None and i > onset]
        tail = f"; {len(after)} came after the onset and did not end it" if after else ""
        lines.append(f"operator interjections at turn(s) {shown}{tail}")
    return lines


def analyze_log(log: SessionLog) -> dict[str, Any]:
    """One session's analysis as plain JSON-ready data (for `analyze` and batch reports)."""
    turns = log.turns
    metrics = turn_metrics(turns)
    result = classify(turns, metrics)
    emoji = emoji_totals(metrics)
    end = log.end
    return {
        "file": str(log.path),
        "source": log.start.source,
        "end_state": result.label,
        "onset_index": result.onset_index,
        "turns": len(turns),
        "model_turns": result.model_turns,
        "substantive_turns": result.substantive_turns,
        "emoji_total": sum(emoji.values()),
        "emoji_top": [[e, n] for e, n in list(emoji.items())[:8]],
        "invisible_turns": sum(1 for m in metrics if m.invisible_only),
        "interjections": sum(1 for t in turns if t.author == "operator"),
        "tool_calls": sum(len(t.tool_calls) for t in turns),
        "end_reason": end.reason if end is not None else None,
        "evidence": result.evidence,
        "phases": [asdict(p) for p in result.phases],
        "window_labels": [asdict(w) for w in result.window_labels],
        "scores": result.scores,
        "warnings": list(log.warnings),
    }


def end_state_note(turns: Sequence[Turn]) -> tuple[str, str]:
    """The "End state" row exports show (`sessions.export.export_session(notes=...)`)."""
    result = classify(turns)
    state = result.label.replace("_", " ")
    if result.onset_index is not None:
        state += f" (from turn {result.onset_index})"
    return "End state", f"{state} — attractor-tui's analysis"
