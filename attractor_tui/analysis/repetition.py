"""Verbatim loops: a side repeating itself (or the other side) turn after turn.

A model turn *repeats* when, against the same side's previous model turn, it is

- nearly the same text (copy-paste, or a template with a word or two swapped;
  a fixed A/B pair is each side repeating itself), or
- that text again with more added (a message that copies the previous one and
  only grows);

or when it copies the other side's latest message. Similarities come from
`metrics.MetricsTracker` (word unigram + bigram Jaccard, so the test is linear
in the text). A loop is `MIN_RUN` such turns in a row: with the turn they
repeat, four or more consecutive model turns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from attractor_tui.analysis.metrics import TurnMetrics

SAME = 0.6
"""Similarity to the side's previous model turn that counts as the same message."""
GROWN = 0.8
"""Share of the previous model turn found again in a longer one: copied, then grown."""
ECHO = 0.8
"""Similarity to the other side's latest message that counts as copying it."""
MIN_RUN = 3
"""Consecutive repeating model turns that make a loop (4+ turns with the first)."""


def repeat_reason(m: TurnMetrics) -> str:
    """Why this turn repeats an earlier one, or '' when it does not."""
    if m.sim_prev is not None and m.sim_prev >= SAME:
        return "same as its side's previous turn" if m.sim_prev >= 0.99 else (
            f"{m.sim_prev:.0%} like its side's previous turn")
    if m.grew and m.cover_prev is not None and m.cover_prev >= GROWN:
        return f"copies its side's previous turn ({m.cover_prev:.0%}) and grows"
    if m.sim_other is not None and m.sim_other >= ECHO:
        return "copies the other side's message" if m.sim_other >= 0.99 else (
            f"{m.sim_other:.0%} like the other side's message")
    return ""


def is_loop(flags: Sequence[bool], threshold: float = 0.5) -> bool:
    """A window (its turns' repeat flags) in a verbatim loop: the conversation ends in
    `MIN_RUN` repeating turns, or they cover `threshold` of it with such a run inside."""
    if not flags:
        return False
    if trailing_run(flags) >= MIN_RUN:
        return True
    return sum(flags) >= threshold * len(flags) and longest_run(flags) >= MIN_RUN


def trailing_run(flags: Sequence[bool]) -> int:
    """How many of the last values are True in a row."""
    n = 0
    for flag in reversed(flags):
        if not flag:
            break
        n += 1
    return n


def longest_run(flags: Iterable[bool]) -> int:
    """The longest run of consecutive True values."""
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best
