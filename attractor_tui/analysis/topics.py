"""Topics: the second axis of the analysis (what the models talk about).

Like the system cards' topic tables: the dominant topic of the substantive
part of a conversation, one of `TOPICS` (issue 12's contract), with a
confidence (issue 24). The topic comes from the fitted model shipped in the
package (`topic_model`, fitted by `bench/fit_topics.py` on the hand-labelled
conversations); `other` when the turns give it too little to go on.
"""

from __future__ import annotations

from collections.abc import Iterable

from attractor_tui.analysis.topic_lexicon import LEXICONS, TOPICS, Topic, turn_topics
from attractor_tui.analysis.topic_model import Confidence, ModelTally, shipped_model

__all__ = ["LEXICONS", "TOPICS", "Confidence", "Topic", "TopicTally", "dominant_topic",
           "turn_topics"]


class TopicTally(ModelTally):
    """Running topic over substantive model turns (the same for live and offline):
    the shipped model's tally."""

    def __init__(self) -> None:
        super().__init__(shipped_model())


def dominant_topic(texts: Iterable[str]) -> Topic:
    """The dominant topic of `texts` (the substantive model turns)."""
    return shipped_model().predict(texts)[0]  # type: ignore[return-value]
