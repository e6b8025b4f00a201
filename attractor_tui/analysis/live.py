"""The attractor state of a session *while it runs*: fed one turn at a time.

`classify` labels how a finished conversation ended by looking at its final
window (the last third of the model turns, at least six). `LiveAttractor`
keeps every model turn's signals and judges that window with the same rule, so
after any turn its label is the label `classify` would give the conversation so
far (for the delivered turns); it never re-reads the session, and the work per
turn is one turn's metrics plus a pass over the final window's signals. The
topic is tallied the same way (`topics.TopicTally`).

Interrupted turns are skipped: they were never delivered, so they are not part
of the conversation the models are having. Operator turns update similarity
(the side received them) but are not model behaviour: they neither move the
window nor count towards a streak, as in `classify`.

Used by the TUI's meter (`ui/widgets/meter.py`) and by the engine's
`attractor_stop` rule (`AttractorStop`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from attractor_tui.analysis.classify import (
    MIN_MODEL_TURNS,
    WINDOW,
    Label,
    final_size,
    substantive,
    turn_signals,
)
from attractor_tui.analysis.decide import decide_features  # one end-state rule, live and offline
from attractor_tui.analysis.features import WindowSums
from attractor_tui.analysis.fitted import Confidence
from attractor_tui.analysis.labels import PRIORITY
from attractor_tui.analysis.metrics import MetricsTracker, TurnMetrics
from attractor_tui.analysis.shape import ShapeTracker
from attractor_tui.analysis.topics import TopicTally
from attractor_tui.core.config import SessionConfig
from attractor_tui.core.engine import StopRule
from attractor_tui.core.events import Turn

NOT_ATTRACTORS: frozenset[str] = frozenset({"creative_escape", "other", "too_short"})
"""Labels that are not a state to be stuck in: no notification, no streak."""

SERIES_LENGTH = 40
"""Values kept per side and series, for sparklines."""

SERIES = ("words", "chars", "emoji", "similarity")
"""Per-side series: length in words and visible characters, emoji count, similarity to
the other side's latest message (0 when there is none yet)."""

EXAMPLES = 2
"""Signalling turns quoted in the evidence."""


def is_attractor(label: str) -> bool:
    return label not in NOT_ATTRACTORS


@dataclass(frozen=True, slots=True)
class LiveUpdate:
    """The state after one turn, and what changed with it."""

    turn_index: int
    side: str
    label: Label
    previous: Label
    score: float
    """The fitted model's probability of the label (`decide`)."""
    evidence: tuple[str, ...]
    """A summary line, then the most recent signalling turns (real turn indices)."""
    entered: bool
    """This turn moved the state into `label`, an attractor: worth a notification
    (debounced, see `LiveAttractor`)."""
    streak: int
    """Consecutive model turns `label` has held, this one included; 0 for non-attractors."""
    model_turns: int
    metrics: TurnMetrics | None
    """None for a skipped (interrupted) turn."""
    topic: str = "other"
    """The dominant topic so far (`topics.TOPICS`)."""
    topic_confidence: str = "uncertain"
    """How sure the topic model is of it (`topic_model.CONFIDENCES`)."""
    confidence: Confidence = "strong"
    """How sure the fitted model is; only a `strong` attractor is news and makes a streak."""

    @property
    def attractor(self) -> bool:
        return is_attractor(self.label)

    @property
    def weak(self) -> bool:
        """Not `strong`: shown (with a `?` when uncertain), but no news and no streak."""
        return self.confidence != "strong"


@dataclass(frozen=True, slots=True)
class _Seen:
    index: int
    side: str
    signals: dict[Label, str]


class LiveAttractor:
    """Running state guess, evidence and per-side series for one session.

    `entered` is debounced: it is set only for a label that was not held at any
    point during the last `WINDOW` model turns, so a state flickering at the
    threshold (goodbye, minimal, goodbye...) is news once, not every turn.
    `streak` is not debounced: the stop rule wants K consecutive turns.
    """

    def __init__(self, series_length: int = SERIES_LENGTH) -> None:
        self.tracker = MetricsTracker()
        self.shapes = ShapeTracker()
        self.sums = WindowSums()
        self._seen: list[_Seen] = []
        """Every model turn's signals: the final window grows with the conversation."""
        self.topics = TopicTally()
        self.model_turns = 0
        self.label: Label = "too_short"
        self.streak = 0
        self.score = 0.0
        self.confidence: Confidence = "strong"
        self.evidence: tuple[str, ...] = (self._too_short(),)
        self._held: dict[str, int] = {}
        """Model turn count when each label last held."""
        self.series: dict[str, dict[str, deque[float]]] = {
            side: {name: deque(maxlen=series_length) for name in SERIES}
            for side in ("A", "B")
        }
        """Per side, the last `series_length` model turns' values of each of `SERIES`."""

    @property
    def metrics(self) -> list[TurnMetrics]:
        return self.tracker.metrics

    def load(self, turns: Iterable[Turn]) -> LiveUpdate | None:
        """Feed a stored session's turns; returns the last update (None if none)."""
        update = None
        for turn in turns:
            update = self.add(turn)
        return update

    def add(self, turn: Turn) -> LiveUpdate:
        """Take the next turn of the session (in order) and return the new state."""
        previous = self.label
        if turn.interrupted:
            return self._update(turn, previous, entered=False, metrics=None)
        metrics = self.tracker.add(turn)
        shape = self.shapes.add(turn.text, model=turn.author == "model")
        if turn.author != "model":
            return self._update(turn, previous, entered=False, metrics=metrics)
        self.model_turns += 1
        signals = turn_signals(turn, metrics, shape)
        self._seen.append(_Seen(turn.index, turn.side, signals))
        self.sums.add(signals, metrics, shape)
        if substantive(metrics, signals):
            self.topics.add(turn.text)
        self._record_series(turn.side, metrics)
        was_strong = self.confidence == "strong"
        self.label, self.score, self.evidence, self.confidence = self._judge()
        # a label that is not strong is shown, but is no news and counts towards no stop rule
        strong = is_attractor(self.label) and self.confidence == "strong"
        last_held = self._held.get(self.label)
        entered = (strong and (self.label != previous or not was_strong)
                   and (last_held is None or self.model_turns - last_held > WINDOW))
        if strong:
            self._held[self.label] = self.model_turns
            self.streak = self.streak + 1 if self.label == previous and was_strong else 1
        else:
            self.streak = 0
        return self._update(turn, previous, entered=entered, metrics=metrics)

    # ------------------------------------------------------------- internals

    def _record_series(self, side: str, m: TurnMetrics) -> None:
        series = self.series[side]
        series["words"].append(m.words)
        series["chars"].append(m.visible_chars)
        series["emoji"].append(m.emoji_count)
        series["similarity"].append(m.sim_other or 0.0)

    def _too_short(self) -> str:
        return (f"only {self.model_turns} model turn(s); need {MIN_MODEL_TURNS} "
                "to call a state")

    def _judge(self) -> tuple[Label, float, tuple[str, ...], Confidence]:
        if self.model_turns < MIN_MODEL_TURNS:
            return "too_short", 0.0, (self._too_short(),), "strong"
        n = self.model_turns
        size = final_size(n)
        d = decide_features(self.sums.features(n - size, n), explain=False)  # no reasons shown
        first, last = self._seen[n - size].index + 1, self._seen[-1].index + 1
        span = f"last {size} model turns ({first}-{last})"
        # how many turns of the window show the signal: its running sum (a count of 1.0s)
        shown = (round(self.sums.total(f"signal_{d.label}", n - size, n))
                 if d.label in PRIORITY else 0)
        lines = [f"{span}: {d.label} signal in {shown}/{size}, {d.confidence} "
                 f"(p={d.probability:.0%})"]
        examples: list[_Seen] = []
        for i in range(n - 1, n - size - 1, -1):
            seen = self._seen[i]
            if d.label in seen.signals:
                examples.append(seen)
                if len(examples) == EXAMPLES:
                    break
        lines += [f"turn {w.index + 1} {w.side}: {w.signals[d.label]}" for w in examples]
        return d.label, d.probability, tuple(lines), d.confidence

    def _update(self, turn: Turn, previous: Label, *, entered: bool,
                metrics: TurnMetrics | None) -> LiveUpdate:
        return LiveUpdate(
            turn_index=turn.index, side=turn.side, label=self.label, previous=previous,
            score=round(self.score, 3), evidence=self.evidence, entered=entered,
            streak=self.streak, model_turns=self.model_turns, metrics=metrics,
            topic=self.topics.topic, topic_confidence=self.topics.confidence,
            confidence=self.confidence,
        )


class AttractorStop:
    """The engine's `attractor_stop` rule: end after K model turns in one attractor.

    Turns that were already there when the engine started (resume, fork) set
    the state but are not counted: like `--turns` on a resume, K means K more.
    """

    config_key = "attractor_stop"

    def __init__(self, turns_needed: int, prior: Iterable[Turn] = ()) -> None:
        self.turns_needed = turns_needed
        self.live = LiveAttractor(series_length=1)
        self.live.load(prior)
        self._counted = 0
        self.last: LiveUpdate | None = None

    def add(self, turn: Turn) -> None:
        self.last = self.live.add(turn)
        if self.last.metrics is not None and turn.author == "model":
            self._counted += 1

    def reached(self) -> tuple[str, str] | None:
        """`(attractor:<label>, detail)` once the rule holds, else None."""
        last = self.last
        if last is None or not last.attractor:
            return None
        held = min(last.streak, self._counted)
        if held < self.turns_needed:
            return None
        return f"attractor:{last.label}", f"{held} model turns in {last.label}; {last.evidence[0]}"


def stop_rules(config: SessionConfig, prior: Sequence[Turn] = ()) -> list[StopRule]:
    """The analysis-backed stop rules `config` asks for (`StopRuleFactory`)."""
    if config.attractor_stop is None:
        return []
    return [AttractorStop(config.attractor_stop, prior)]
