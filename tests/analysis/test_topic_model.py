"""The fitted topic model (issue 24 item 5): features, fit, confidence, storage, and
the committed model is exactly what `bench/fit_topics.py` produces.

Synthetic examples drive the real fit; the reproducibility check refits on the
hand-labelled conversations and skips without ../shared/fixtures.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from attractor_tui.analysis import analyze_log, classify
from attractor_tui.analysis.labelled import Labelled
from attractor_tui.analysis.live import LiveAttractor
from attractor_tui.analysis.topic_fit import (
    Prediction,
    calibrate,
    fit_labelled,
    lofo,
    lofo_topic,
    predict_labelled,
    recut,
)
from attractor_tui.analysis.topic_model import (
    Example,
    FitSettings,
    ModelTally,
    TopicModel,
    fit_topics,
    shipped_model,
    stem,
    turn_features,
)
from attractor_tui.analysis.topics import TopicTally, dominant_topic
from attractor_tui.core.config import SessionConfig
from attractor_tui.core.events import SessionEnd, SessionStart
from attractor_tui.sessions.store import SessionLog
from tests.analysis.test_analysis import T0, conv
from tests.analysis.test_classifier_v2 import SPEC

ROOT = Path(__file__).resolve().parents[2]
OWN = ROOT / "tests" / "analysis" / "labels" / "fixture_labels.toml"
FIXTURES = ROOT.parent / "shared" / "fixtures"
COMMITTED = ROOT / "attractor_tui" / "analysis" / "data" / "topic_model.json"

COOKING = ["We baked bread with a sourdough recipe, then cooking pasta for dinner.",
           "The recipe says knead the dough, and cooking the sauce slowly matters."]
CODE = ["The python function parses the json schema and the api returns the database rows.",
        "We implement the algorithm, benchmark the code, then validate the parameters."]


def examples() -> list[Example]:
    """Two topics, each spoken by three groups; one group also has a pet word."""
    out = []
    for k, group in enumerate(("g1", "g2", "g3")):
        pet = [" zorblax"] if group == "g1" else [""]
        out.append(Example(tuple(t + pet[0] for t in COOKING), frozenset({"leisure"}),
                           frozenset({group})))
        out.append(Example(tuple(CODE[::1 if k % 2 else -1]), frozenset({"technical"}),
                           frozenset({group})))
    return out


SMALL = FitSettings(min_groups=2, min_examples=2, iterations=200)


def test_features_are_stems_and_lexicon_shares() -> None:
    assert stem("consciousness") == stem("conscious") == "consciou"
    features = turn_features("The recipes! Cooking, cooking; and the CODE.")
    assert features[stem("recipes")] == 1.0 and features[stem("cooking")] == 1.0
    assert "the" not in features and "and" not in features
    assert abs(sum(v for k, v in features.items() if k.startswith("@")) - 1.0) < 1e-9
    assert features["@leisure"] > features["@technical"] > 0


def test_fit_is_deterministic_and_learns_the_topics() -> None:
    model = fit_topics(examples(), SMALL)
    assert model.to_json() == fit_topics(examples(), SMALL).to_json()
    assert model.predict(["Sourdough recipe and cooking tips for the weekend."])[0] == "leisure"
    assert model.predict(["Refactor the python function and its json schema."])[0] \
        == "technical"
    # a stem only one group uses is no feature: a family's pet word decides nothing
    assert "zorblax" not in model.log_odds and stem("recipe") in model.log_odds


def test_too_little_to_go_on_is_other_and_uncertain() -> None:
    model = fit_topics(examples(), SMALL)
    assert model.predict([]) == ("other", "uncertain")
    assert model.predict(["qwerty zxcv", "lorem ipsum"]) == ("other", "uncertain")


def test_confidence_cuts() -> None:
    model = fit_topics(examples(), SMALL)
    model.strong, model.margin = 0.5, 0.1
    assert model.decide([0.7, 0.2, 0.1], known=5) == (model.topics[0], "strong")
    assert model.decide([0.2, 0.45, 0.35], known=5) == (model.topics[1], "weak")
    assert model.decide([0.4, 0.35, 0.25], known=5) == (model.topics[0], "uncertain")
    model.strong = None  # nothing was right often enough held out: never strong
    assert model.decide([0.99, 0.01, 0.0], known=5)[1] == "weak"


def test_calibration_from_held_out_predictions() -> None:
    def made(p: float, lead: float, right: bool) -> Prediction:
        return Prediction("k", "f", "technical", "weak", p, lead, right)
    predictions = ([made(0.97, 0.95, True)] * 19 + [made(0.96, 0.9, False)]
                   + [made(0.6, 0.3, True)] * 6 + [made(0.6, 0.3, False)] * 4
                   + [made(0.3, 0.05, False)] * 3 + [made(0.3, 0.05, True)])
    strong, margin = calibrate(predictions)
    assert strong == 0.65  # from 0.65 up: 19 of 20 right
    assert margin == 0.1  # below a lead of 0.1: 3 wrong, 1 right; below 0.35, 7 and 7
    levels = [p.confidence for p in recut(predictions, strong, margin)]
    assert levels.count("strong") == 20 and levels.count("uncertain") == 4
    assert calibrate([made(0.99, 0.9, False), made(0.99, 0.9, True)])[0] is None


def test_json_round_trip() -> None:
    model = fit_topics(examples(), SMALL)
    model.strong, model.margin, model.meta = None, 0.25, {"lofo_topic": 0.5}
    again = TopicModel.from_json(model.to_json())
    assert again.to_json() == model.to_json()
    assert again.predict(COOKING) == model.predict(COOKING)


def test_the_shipped_model_live_equals_offline() -> None:
    model = shipped_model()
    assert model.topics[-1] == "small_talk" and "other" not in model.topics
    assert 0 < len(model.log_odds) <= 3000
    texts = [*SPEC, *COOKING, "Is this consciousness? Do I have subjective experience?"]
    tally = TopicTally()
    for k, text in enumerate(texts):
        tally.add(text)
        assert (tally.topic, tally.confidence) == model.predict(texts[: k + 1]), k
    assert isinstance(tally, ModelTally) and dominant_topic(texts) == tally.topic
    turns = conv(*texts)
    live = LiveAttractor()
    updates = [live.add(t) for t in turns]
    offline = classify(turns)
    assert (updates[-1].topic, updates[-1].topic_confidence) == (offline.topic,
                                                                 offline.topic_confidence)
    assert offline.topic == "technical" and offline.topic_shares["technical"] > 0.5


def test_analyze_log_reports_the_topic_confidence() -> None:
    start = SessionStart(ts=T0, session_id="s", config=SessionConfig())
    log = SessionLog(path=Path("c.json"), events=[start, *conv(*SPEC), SessionEnd(reason="t")])
    record = analyze_log(log)
    assert record["topic"] == "technical"
    assert record["topic_confidence"] in ("strong", "weak", "uncertain")


def labelled(texts: list[str], topic: str, families: set[str]) -> Labelled:
    start = SessionStart(ts=T0, session_id="s", config=SessionConfig())
    log = SessionLog(path=Path("c.json"), events=[start, *conv(*texts), SessionEnd(reason="t")])
    return Labelled(key=f"{topic}/{sorted(families)}", source="own",
                    families=frozenset(families), log=log, end_state="other",
                    end_state_ok=frozenset({"other"}), topic=topic,
                    topic_ok=frozenset({topic}), onset_index=None)


def test_leave_one_family_out_on_labelled_conversations() -> None:
    rows = [labelled([*COOKING, *COOKING], "leisure", {f}) for f in ("a", "b", "c")]
    rows += [labelled([*CODE, *CODE], "technical", {f}) for f in ("a", "b", "c")]
    rows.append(labelled([*CODE, *CODE], "technical", {"a", "b"}))  # a cross-model pair
    predictions = lofo(rows, SMALL)
    # each row once per family it belongs to: the pair twice, fitted without a, then b
    assert len(predictions) == 8
    assert sorted(p.family for p in predictions if "'a', 'b'" in p.key) == ["a", "b"]
    assert lofo_topic(rows, SMALL) == 1.0
    model = fit_labelled(rows, SMALL)
    assert predict_labelled(model, rows[0]) == "leisure"


@pytest.mark.skipif(not (FIXTURES / "labelled" / "labels.toml").is_file(),
                    reason="../shared/fixtures is absent")
def test_the_committed_model_is_what_the_fit_script_produces(
        capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("fit_topics", ROOT / "bench" / "fit_topics.py")
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    sys.modules["fit_topics"] = script
    spec.loader.exec_module(script)
    status = script.main(["--check"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "committed model is what the fit gives" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("lofo_topic=") and float(last.split("=")[1]) >= 0.65, last
