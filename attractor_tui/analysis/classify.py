"""End-state classification: which attractor a conversation fell into, and when.

Deterministic and explainable by construction (issue 12's label set):

1. every model turn gets *signals* from its metrics (a farewell phrase, a copy
   of its previous turn, nothing visible, ...), each with a short reason;
2. the end state is judged on the *final window*: the last third of the model
   turns, at least the last `FINAL_MIN` (`final_size`). The window's signal
   shares and turn shapes become features (`features`), and a model fitted on
   the labelled conversations turns them into a label with a confidence
   (`decide`; `bench/fit_classifier.py` writes the model);
3. fewer than `MIN_MODEL_TURNS` model turns is ``too_short``;
4. the onset and the phases come from sliding windows (`phases`);
5. the topic is the dominant topic of the substantive model turns (`topics`).

Operator interjections are not model behaviour: they are skipped when
windows are formed but keep their place in the turn numbering. Turn indices
are 0-based in the data; evidence, which people read, says "turn N" 1-based.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from attractor_tui.analysis import repetition
from attractor_tui.analysis.decide import Decision, decide_features
from attractor_tui.analysis.features import WindowSums
from attractor_tui.analysis.fitted import Confidence
from attractor_tui.analysis.labels import LABELS, PRIORITY, Label
from attractor_tui.analysis.metrics import (
    TurnMetrics,
    emoji_totals,
    turn_metrics,
)
from attractor_tui.analysis.phases import (
    WINDOW,
    Phase,
    WindowLabel,
    WindowResult,
    close_phases,
    onset_window,
    phases_of,
    provoked,
)
from attractor_tui.analysis.shape import Shape, ShapeTracker
from attractor_tui.analysis.signals import turn_signals
from attractor_tui.analysis.topics import TopicTally
from attractor_tui.core.events import Turn

if TYPE_CHECKING:
    from attractor_tui.sessions.store import SessionLog

MIN_MODEL_TURNS = 4
"""Fewer model turns than this is `too_short` to call."""
FINAL_MIN = 6
"""The final window is the last third of the model turns, but at least this many."""
HALF = 0.5
"""Evidence also names other labels whose signal covers this share of the window."""
RUN_GAP = 3
"""Model turns without the signal that break the closing run in two."""

__all__ = [
    "LABELS", "PRIORITY", "WINDOW", "Classification", "Label", "Phase", "WindowLabel",
    "analyze_log", "classify", "end_state_note", "final_features", "final_size", "label_window",
    "turn_shapes", "turn_signals",
]


def final_size(model_turns: int) -> int:
    """Model turns in the final window: the last third, at least `FINAL_MIN`."""
    return min(model_turns, max(FINAL_MIN, -(-model_turns // 3)))


def label_window(x: dict[str, float]) -> WindowResult:
    """A sliding window's label, its probability and every label's signal share, from
    its features (`features.WindowSums.features`)."""
    d = decide_features(x, explain=False)
    return d.label, d.probability, d.shares


def window_sums(positions: Sequence[int], sigs: Sequence[dict[Label, str]],
                metrics: Sequence[TurnMetrics], shapes: Sequence[Shape]) -> WindowSums:
    """Running sums over the model turns at `positions` (what the live meter keeps)."""
    sums = WindowSums()
    for i in positions:
        sums.add(sigs[i], metrics[i], shapes[i])
    return sums


@dataclass(frozen=True)
class Classification:
    label: Label
    onset_index: int | None
    """0-based position among the turns where the final state set in."""
    substantive_turns: int
    """Model turns with more than a few visible words."""
    evidence: list[str]
    window_labels: list[WindowLabel]
    """Sliding windows every WINDOW/2 model turns, plus the last one."""
    phases: list[Phase]
    scores: dict[str, float]
    """Signal shares in the final window, by label."""
    model_turns: int
    topic: str = "other"
    topic_shares: dict[str, float] = field(default_factory=dict)
    topic_confidence: str = "uncertain"
    signals: dict[str, list[int]] = field(default_factory=dict)
    """Per label, the turns (0-based) of the final window that carry its signal."""
    confidence: Confidence = "strong"
    """How sure the fitted model is (`fitted.Model.confidence`)."""
    probability: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def substantive(m: TurnMetrics, sigs: dict[Label, str]) -> bool:
    """A model turn that says something new: what the topic is judged on."""
    return m.author == "model" and not m.minimal and "verbatim_loop" not in sigs


def classify(turns: Sequence[Turn], metrics: Sequence[TurnMetrics] | None = None
             ) -> Classification:
    """Label how a conversation ended, when that began, and why (see module doc)."""
    metrics = list(metrics) if metrics is not None else turn_metrics(turns)
    shapes = turn_shapes(turns)
    sigs = [turn_signals(t, m, s) for t, m, s in zip(turns, metrics, shapes, strict=True)]
    positions = [i for i, t in enumerate(turns) if t.author == "model"]
    tally = TopicTally()
    for i in positions:
        if substantive(metrics[i], sigs[i]):
            tally.add(turns[i].text)
    n_substantive = sum(1 for i in positions if not metrics[i].minimal)
    n = len(positions)
    if n < MIN_MODEL_TURNS:
        return Classification(
            label="too_short", onset_index=None, substantive_turns=n_substantive,
            evidence=[f"only {n} model turn(s); need {MIN_MODEL_TURNS} to call an end state"],
            window_labels=[], phases=[], scores={}, model_turns=n, topic=tally.topic,
            topic_shares=tally.shares(), topic_confidence=tally.confidence,
        )
    final = positions[-final_size(n):]
    sums = window_sums(positions, sigs, metrics, shapes)
    decision = decide_features(sums.features(n - len(final), n))
    label, shares = decision.label, decision.shares
    size = min(WINDOW, n)
    windows: list[WindowResult] = [label_window(sums.features(k, k + size))
                                   for k in range(n - size + 1)]
    onset = None
    if label != "other":
        k = onset_window(label, windows, provoked(turns, positions, size))
        onset = next((positions[k + j] for j in range(size) if label in sigs[positions[k + j]]),
                     positions[k])
        # the closing run cannot start after the final window's first signalling turn
        onset = min(onset, next((i for i in final if label in sigs[i]), final[0]))
        onset = _run_start(turns, positions, sigs, label, onset)
    shown = sorted({*range(0, len(windows), max(1, size // 2)), len(windows) - 1})
    window_labels = [
        WindowLabel(start=positions[k], end=positions[k + size - 1], label=windows[k][0],
                    score=round(windows[k][1], 3))
        for k in shown
    ]
    phases = close_phases(phases_of([w[0] for w in windows], positions), label,
                          final[0] if onset is None else onset, positions[-1])
    signals = {lab: [i for i in final if lab in sigs[i]] for lab in PRIORITY}
    evidence = _evidence(turns, metrics, sigs, final, decision, onset, phases)
    return Classification(
        label=label, onset_index=onset, substantive_turns=n_substantive, evidence=evidence,
        window_labels=window_labels, phases=phases,
        scores={k: round(v, 3) for k, v in shares.items() if v > 0}, model_turns=n,
        topic=tally.topic, topic_shares=tally.shares(), topic_confidence=tally.confidence,
        signals={k: v for k, v in signals.items() if v}, confidence=decision.confidence,
        probability=round(decision.probability, 3),
    )


def _run_start(turns: Sequence[Turn], positions: list[int], sigs: list[dict[Label, str]],
               label: Label, onset: int) -> int:
    """The onset moved past a lone early signalling turn that `RUN_GAP` or more
    model turns without the signal separate from the rest of the closing run,
    unless an operator turn explains the gap."""
    hits = [k for k, i in enumerate(positions) if i >= onset and label in sigs[i]]
    if not hits:  # the label came from the window as a whole, not from one signal
        return onset
    if len(hits) > 1 and hits[1] - hits[0] > RUN_GAP and not any(
            t.author == "operator" for t in turns[positions[hits[0]]:positions[hits[1]]]):
        return positions[hits[1]]
    return positions[hits[0]]


def _span(final: Sequence[int]) -> str:
    return f"final {len(final)} model turns ({final[0] + 1}-{final[-1] + 1})"


def _evidence(turns: Sequence[Turn], metrics: Sequence[TurnMetrics],
              sigs: list[dict[Label, str]], final: Sequence[int], decision: Decision,
              onset: int | None, phases: list[Phase]) -> list[str]:
    size = len(final)
    label, shares = decision.label, decision.shares
    hits = [i for i in final if label in sigs[i]]
    examples = "; ".join(f"turn {i + 1} {turns[i].side}: {sigs[i][label]}" for i in hits[-3:])
    lines = [f"{_span(final)}: {label} signal in {len(hits)}/{size}"
             + (f" ({examples})" if examples else ""),
             f"{decision.confidence} (p={decision.probability:.0%}), decided by "
             f"{decision.because() or 'the base rate'}"]
    if label == "emoji_spiral":
        lines.append(f"emoji per turn over the final window: "
                     f"{[metrics[i].emoji_count for i in final]}")
    if label == "verbatim_loop":
        run = repetition.longest_run(label in sigs[i] for i in final)
        lines.append(f"longest run of repeating turns: {run}")
    others = [f"{lab} {round(v * size)}/{size}" for lab, v in shares.items()
              if lab != label and v >= HALF]
    if others:
        lines.append("other signals in half the window or more: " + ", ".join(others))
    if onset is not None:
        lines.append(
            f"onset turn {onset + 1} ({turns[onset].side}): "
            f"{sigs[onset].get(label, 'window start')}"
        )
    if len(phases) > 1:
        lines.append("phases: " + ", ".join(
            f"{p.state} {p.start_index + 1}-{p.end_index + 1}" for p in phases))
    operator = [i for i, t in enumerate(turns) if t.author == "operator"]
    if operator:
        shown = ", ".join(str(i + 1) for i in operator[:8]) + (" ..." if len(operator) > 8 else "")
        after = [i for i in operator if onset is not None and i > onset]
        tail = f"; {len(after)} came after the onset and did not end it" if after else ""
        lines.append(f"operator interjections at turn(s) {shown}{tail}")
    return lines


def analyze_log(log: SessionLog, conversation: int = 0) -> dict[str, Any]:
    """One conversation's analysis as plain JSON-ready data (`analyze`, reports, batch).

    `conversation` is the 0-based position of the conversation within its file.
    """
    turns = log.turns
    metrics = turn_metrics(turns)
    result = classify(turns, metrics)
    emoji = emoji_totals(metrics)
    end = log.end
    return {
        "file": str(log.path),
        "conversation": conversation,
        "source": log.start.source,
        "end_state": result.label,
        "end_state_confidence": result.confidence,
        "end_state_probability": result.probability,
        "onset_index": result.onset_index,
        "topic": result.topic,
        "topic_shares": result.topic_shares,
        "topic_confidence": result.topic_confidence,
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
        "signals": result.signals,
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
        state += f" (from turn {result.onset_index + 1})"
    return "End state", f"{state} — attractor-tui's analysis"


def turn_shapes(turns: Sequence[Turn]) -> list[Shape]:
    """Every turn's shape (`shape.Shape`), the vocabulary growing in turn order."""
    tracker = ShapeTracker()
    return [tracker.add(t.text, model=t.author == "model") for t in turns]


def final_features(turns: Sequence[Turn]) -> dict[str, float] | None:
    """The features of the final window (what the model reads), None when too short."""
    metrics = turn_metrics(turns)
    shapes = turn_shapes(turns)
    sigs = [turn_signals(t, m, s) for t, m, s in zip(turns, metrics, shapes, strict=True)]
    positions = [i for i, t in enumerate(turns) if t.author == "model"]
    if len(positions) < MIN_MODEL_TURNS:
        return None
    n = len(positions)
    return window_sums(positions, sigs, metrics, shapes).features(n - final_size(n), n)
