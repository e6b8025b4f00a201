"""Attractor analysis: pure functions over turns (no network, no Textual).

`metrics` measures single turns (length, emoji, blank replies, similarity,
farewell / identity / loop-talk language); `classify` turns those into an
end-state label with an onset and quotable evidence; `analyze_log` packages
both for one session file.
"""

from attractor_tui.analysis.classify import (
    LABELS,
    Classification,
    Label,
    Phase,
    WindowLabel,
    analyze_log,
    classify,
    end_state_note,
    turn_signals,
)
from attractor_tui.analysis.metrics import (
    MetricsTracker,
    TurnMetrics,
    emoji_count,
    emoji_list,
    emoji_totals,
    similarity,
    text_metrics,
    turn_metrics,
)

__all__ = [
    "LABELS",
    "Classification",
    "Label",
    "MetricsTracker",
    "Phase",
    "TurnMetrics",
    "WindowLabel",
    "analyze_log",
    "end_state_note",
    "classify",
    "emoji_count",
    "emoji_list",
    "emoji_totals",
    "similarity",
    "text_metrics",
    "turn_metrics",
    "turn_signals",
]
