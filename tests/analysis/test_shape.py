"""Turn shapes (`analysis.shape`): restating a recent turn, whatever the word order.

A "thinking" model that re-plans the same unsent reply every turn copies no
sentence, so the repeat signal misses it; the restatement measure must see it,
and must not see a build that keeps adding new content.
"""

from __future__ import annotations

from attractor_tui.analysis.classify import final_features
from attractor_tui.analysis.shape import ShapeTracker
from tests.analysis.test_classifier_v2 import SPEC
from tests.support.builders import turns_of

PLANS = [
    "Okay, the reader wants the history of the lighthouse. First explain the keeper's "
    "duties, then the lamp and its lenses, then the storm that wrecked the schooner.",
    "So the reader asks about the lighthouse history. I should start with the lamp and "
    "lenses, then the keeper's duties, and end with the schooner wrecked in the storm.",
    "Alright: lighthouse history for the reader. Begin with the duties of the keeper, the "
    "storm and the wrecked schooner next, then describe the lenses of the lamp.",
    "The reader wants lighthouse history. Plan: the keeper and the duties first, the lamp "
    "with its lenses second, the schooner the storm wrecked last.",
]


def shapes(texts: list[str]) -> list[tuple[float, float]]:
    tracker = ShapeTracker()
    return [(s.restate, s.restate_pairs) for s in (tracker.add(t) for t in texts)]


def test_a_replanned_reply_restates_and_a_build_does_not() -> None:
    replans = shapes(PLANS)
    assert replans[0] == (0.0, 0.0)  # nothing earlier to restate
    assert all(bag >= 0.5 for bag, _ in replans[1:]), replans
    build = shapes(SPEC)
    assert all(bag < 0.3 for bag, _ in build), build
    # reordered words keep the content-word overlap but not the phrasing
    assert all(pairs < bag for bag, pairs in replans[1:]), replans


def test_operator_turns_are_not_restated_against() -> None:
    tracker = ShapeTracker()
    tracker.add(PLANS[0], model=False)
    assert tracker.add(PLANS[1]).restate == 0.0


def test_the_window_features_count_restating_turns() -> None:
    x = final_features(turns_of(PLANS * 3))
    y = final_features(turns_of(SPEC))
    assert x is not None and y is not None
    assert x["restate_0.5"] > 0.8 and y["restate_0.3"] == 0.0
    assert x["stale"] > y["stale"]
