"""Attractor analysis: pure functions over turns (no network, no Textual).

`metrics` measures single turns (length, emoji, blank replies, similarity,
farewell / identity / loop-talk language); `signals` turns one turn's metrics
into attractor signals (with `repetition` for verbatim loops and `salad` for
word salad); `classify` labels the end state over the final window, with an
onset, `phases` and quotable evidence, and `topics` the dominant topic;
`analyze_log` packages all of it for one conversation, and `live` does the
same turn by turn for the meter and the stop rule.
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
from attractor_tui.analysis.topics import TOPICS, Topic

__all__ = [
    "LABELS",
    "Classification",
    "Label",
    "MetricsTracker",
    "Phase",
    "TOPICS",
    "Topic",
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
