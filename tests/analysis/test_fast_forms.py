"""The faster forms of some scans find exactly what the plain patterns do."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from attractor_tui.analysis import repetition, salad
from attractor_tui.analysis.features import WindowSums
from attractor_tui.analysis.metrics import question_count, text_metrics
from attractor_tui.analysis.shape import EMPTY
from attractor_tui.analysis.signals import fragment_words
from attractor_tui.analysis.topic_model import ModelTally, shipped_model

PLAIN_CAPS = re.compile(r"\b[A-Z]{7,}\b")
TEXTS = st.text(alphabet=st.sampled_from(list("abcAB-_ '.\n") + ["é", "É", "\u00a0", "1", "\x1c"]),
                max_size=80)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_caps_and_compounds_as_the_plain_patterns(text: str) -> None:
    caps = text.replace("A", "ABCDEFG").replace("B", "BB")  # long runs of capitals
    assert salad._CAPS.findall(caps) == PLAIN_CAPS.findall(caps)
    words = text.replace("a", "abc").replace("b", "bcd")  # words of three letters or more
    assert salad.compound_count(words) == len(salad._COMPOUND.findall(words))


def test_the_known_cases() -> None:
    assert salad._CAPS.findall("OMNIVERSE éABCDEFGH ABCDEFG_ x_ABCDEFGH LOUDWORD") == [
        "OMNIVERSE", "LOUDWORD"]
    # "é-abc-def" holds one ("abc-def"); "abc-def_" and "abc-de-fgh" none
    assert salad.compound_count("ziggurat-hive babel-babble é-abc-def abc-def_ x-yz abc-de-fgh") \
        == 3


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("a? \n") + ["？"]), max_size=30))
def test_questions_are_runs_of_question_marks(text: str) -> None:
    assert question_count(text) == len(re.findall(r"[?？]+", text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .!?;:\n\t") + ["…", "—", "\u00a0"]), max_size=40))
def test_fragment_words_as_a_split_at_runs_of_marks(text: str) -> None:
    parts = [len(p.split()) for p in re.split(r"[.!?…—;:\n]+", text) if p.strip()]
    assert fragment_words(text) == (sum(parts) / len(parts) if parts else 0.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=40), st.data())
def test_window_runs_as_the_plain_loops(flags: list[bool], data: st.DataObject) -> None:
    sums = WindowSums()
    metrics = text_metrics("a turn")
    for flag in flags:
        sums.add({"verbatim_loop": "repeats"} if flag else {}, metrics, EMPTY)
    lo = data.draw(st.integers(0, len(flags) - 1))
    hi = data.draw(st.integers(lo + 1, len(flags)))
    window = flags[lo:hi]
    features = sums.features(lo, hi)
    assert features["repeat_trailing"] == repetition.trailing_run(window) / len(window)
    assert features["repeat_longest"] == repetition.longest_run(window) / len(window)


def test_a_turns_stems_add_up_as_one_by_one() -> None:
    model = shipped_model()
    known = sorted(model.log_odds)[:40]
    features = {**dict.fromkeys(known[:20], 1.0), "@technical": 0.5,
                **dict.fromkeys(known[20:], 1.0)}
    tally = ModelTally(model)
    tally.add_features(features)
    expected = [0.0] * len(model.topics)
    for key in known:
        expected = [a + b for a, b in zip(expected, model.log_odds[key], strict=True)]
    assert tally.word_sum == expected
    assert tally.word_count == 40.0
    # summed features of several turns (a count per stem) still add one by one
    mixed = ModelTally(model)
    counts = {known[0]: 1.0, known[1]: 1.0, known[2]: 3.0, known[3]: 1.0}
    mixed.add_features(counts, turns=3)
    step = [0.0] * len(model.topics)
    for key, n in counts.items():
        step = [a + w * n if n != 1.0 else a + w
                for a, w in zip(step, model.log_odds[key], strict=True)]
    assert mixed.word_sum == step
