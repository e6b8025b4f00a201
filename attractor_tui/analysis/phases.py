"""The states a conversation went through, and where its final state set in.

Sliding windows of `WINDOW` model turns are each labelled by the classifier's
window rule; runs of equal labels are the *phases*, and the *onset* of the end
state is the first signalling turn of the earliest window with that label
after which the label keeps its hold (`HOLD_SHARE` of the later windows still
show it in at least `PERSIST_THRESHOLD` of their turns). Windows right after an
operator interjection count neither way: the replies an interjection provokes
do not move the onset; a spontaneous detour of the models' own does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from attractor_tui.analysis.labels import Label
from attractor_tui.core.events import Turn

WindowResult = tuple["Label", float, dict[str, float]]
"""A window's label, its score, and every label's share of its turns."""

WINDOW = 8
"""Model turns per sliding window: four exchanges, enough to tell a habit from a moment."""
PERSIST_THRESHOLD = 0.5
HOLD_SHARE = 0.75
PROVOKED_TURNS = 4
"""Turns after an operator interjection whose windows do not count against a hold."""
MIN_PHASE_WINDOWS = 3
"""A run of fewer windows is a blip, folded into the phase before it."""


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
    """A stretch of the conversation in one state: turns `start_index`..`end_index`."""

    state: Label
    start_index: int
    end_index: int

    @property
    def label(self) -> Label:
        return self.state


def phases_of(labels: Sequence[Label], positions: Sequence[int]) -> list[Phase]:
    """Runs of equal window labels; window k starts at model turn k (`positions[k]`)."""
    runs: list[tuple[Label, int]] = []  # (label, first window)
    lengths: list[int] = []
    for k, label in enumerate(labels):
        if runs and runs[-1][0] == label:
            lengths[-1] += 1
            continue
        if len(runs) > 1 and lengths[-1] < MIN_PHASE_WINDOWS:
            runs.pop()
            lengths.pop()
            if runs[-1][0] == label:
                lengths[-1] += 1
                continue
        runs.append((label, k))
        lengths.append(1)
    out: list[Phase] = []
    for i, (label, first) in enumerate(runs):
        start = positions[first]
        end = positions[runs[i + 1][1]] - 1 if i + 1 < len(runs) else positions[-1]
        out.append(Phase(state=label, start_index=start, end_index=end))
    return out


def close_phases(phases: list[Phase], state: Label, start: int, last: int) -> list[Phase]:
    """The phases, the last one being the end state from `start` (its onset, or the
    start of the final window when it has none), so phases and label tell one story."""
    kept = [Phase(p.state, p.start_index, min(p.end_index, start - 1))
            for p in phases if p.start_index < start]
    if len(kept) > 1 and kept[-1].state == state:
        # windows that showed the state before it took hold belong to what came before
        kept = [*kept[:-2], Phase(kept[-2].state, kept[-2].start_index, start - 1)]
    if kept and kept[-1].state == state:
        return [Phase(state, kept[-1].start_index, last)]
    return [*kept, Phase(state=state, start_index=start, end_index=last)]


def provoked(turns: Sequence[Turn], positions: Sequence[int], size: int) -> list[bool]:
    """Windows that hold an operator interjection or the replies just after one."""
    operator = [i for i, t in enumerate(turns) if t.author == "operator"]
    out = []
    for k in range(len(positions) - size + 1):
        first, last = positions[k], positions[k + size - 1]
        out.append(any(first - PROVOKED_TURNS <= p <= last for p in operator))
    return out


def onset_window(label: Label, windows: Sequence[WindowResult],
                 provoked_windows: Sequence[bool]) -> int:
    """Earliest window labelled `label` after which the label keeps its hold."""
    held = [0] * (len(windows) + 1)
    seen = [0] * (len(windows) + 1)
    for k in range(len(windows) - 1, -1, -1):
        counted = not provoked_windows[k]
        seen[k] = seen[k + 1] + counted
        held[k] = held[k + 1] + (counted and windows[k][2].get(label, 0.0) >= PERSIST_THRESHOLD)
    for k, window in enumerate(windows):
        if window[0] == label and (not seen[k] or held[k] / seen[k] >= HOLD_SHARE):
            return k
    return len(windows) - 1
