"""The live attractor state: turn-by-turn guess, the engine's stop rule, the CLI flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from attractor_tui.analysis import classify
from attractor_tui.analysis.classify import MIN_MODEL_TURNS, final_size
from attractor_tui.analysis.live import (
    AttractorStop,
    LiveAttractor,
    LiveUpdate,
    is_attractor,
    stop_rules,
)
from attractor_tui.cli.parser import build_parser, config_from_args, main
from attractor_tui.core.config import SessionConfig
from attractor_tui.core.events import Turn
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import load_session
from tests.analysis.test_analysis import SYNTHETIC
from tests.analysis.test_classifier_v2 import build
from tests.support.builders import CHAT, FAREWELLS, STORY, run_session, scripted, turns_of
from tests.support.shared import peer_logs


def feed(texts: list[str]) -> tuple[LiveAttractor, list[LiveUpdate]]:
    live = LiveAttractor()
    return live, [live.add(t) for t in turns_of(texts)]


def goodbye_session(chat: int = 4, loop: int = 12) -> list[str]:
    return CHAT[:chat] + [FAREWELLS[i % 3] for i in range(loop)]


def test_goodbye_loop_is_entered_once_with_evidence_and_a_growing_streak() -> None:
    live, updates = feed(goodbye_session())
    labels = [u.label for u in updates]
    assert labels[: MIN_MODEL_TURNS - 1] == ["too_short"] * (MIN_MODEL_TURNS - 1)
    named = labels.index("goodbye_loop")
    first = next(k for k, u in enumerate(updates) if u.label == "goodbye_loop" and not u.weak)
    assert set(labels[named:]) == {"goodbye_loop"}
    # until the model is sure the label is shown but is no news
    assert named <= first and all(u.weak for u in updates[named:first])
    assert "goodbye_loop signal in" in updates[named].evidence[0]
    assert updates[named].confidence in updates[named].evidence[0]
    assert [u.turn_index for u in updates if u.entered] == [first]
    entered = updates[first]
    assert not entered.weak and entered.attractor
    # the streak counts model turns since the state was entered
    assert [u.streak for u in updates[first:]] == list(range(1, len(updates) - first + 1))
    assert all(u.streak == 0 for u in updates[:first])
    summary, *examples = updates[-1].evidence
    # the final window is the last third of the model turns (at least 6); people read
    # 1-based turn numbers
    last, size = len(updates), final_size(len(updates))
    assert summary.startswith(f"last {size} model turns ({last - size + 1}-{last}): "
                              f"goodbye_loop signal in {size}/{size}, strong (p=")
    assert examples[0].startswith(f"turn {last} B: farewell ")
    assert live.label == "goodbye_loop" and live.streak == updates[-1].streak


def test_live_label_equals_classify_on_every_prefix() -> None:
    texts = CHAT + STORY * 3 + FAREWELLS * 3 + CHAT
    turns = turns_of(texts)
    live = LiveAttractor()
    for k, turn in enumerate(turns):
        assert live.add(turn).label == classify(turns[: k + 1]).label, k


def test_creative_exchange_is_labelled_but_never_an_attractor() -> None:
    live, updates = feed(build(15))
    assert live.label == "creative_escape"
    assert not any(u.entered for u in updates)
    assert all(u.streak == 0 and not u.attractor for u in updates)
    assert "creative_escape signal in" in live.evidence[0]


def test_plain_chat_is_never_news() -> None:
    live, updates = feed(SYNTHETIC["other"])
    assert not is_attractor(live.label) and not any(u.entered for u in updates)
    assert live.confidence in live.evidence[0]
    assert not is_attractor("other") and not is_attractor("too_short")


def test_operator_and_interrupted_turns_do_not_move_the_state() -> None:
    live = LiveAttractor()
    live.load(turns_of(goodbye_session(loop=8)))
    before = (live.label, live.streak, live.model_turns)
    index = live.model_turns
    stopped = live.add(Turn(index=index, round=index // 2, side="A", text="Goodb",
                            interrupted=True))
    assert stopped.metrics is None and (stopped.label, stopped.streak) == before[:2]
    operator = live.add(Turn(index=index + 1, round=index // 2, side="A", author="operator",
                             text="Please don't say goodbye, tell me about tea instead."))
    assert operator.metrics is not None and not operator.entered
    assert (live.label, live.streak, live.model_turns) == before
    after = live.add(Turn(index=index + 2, round=index // 2, side="B", text=FAREWELLS[0]))
    assert after.streak == before[1] + 1
    # the operator turn is what B received: similarity is measured against it
    assert after.metrics is not None and after.metrics.sim_other is not None


def test_flicker_at_the_threshold_is_news_once_but_resets_the_streak() -> None:
    live, updates = feed(goodbye_session(loop=8) + CHAT + FAREWELLS * 2)
    strong = [u.label == "goodbye_loop" and not u.weak for u in updates]
    out = strong.index(False, strong.index(True))
    back = strong.index(True, out)
    assert back - out <= final_size(back)  # it came straight back
    assert [u.label for u in updates if u.entered] == ["goodbye_loop"]
    assert updates[back].streak == 1


def test_coming_back_after_a_full_window_away_is_news_again() -> None:
    _, updates = feed(goodbye_session(loop=8) + build(8) + FAREWELLS * 3)
    assert [u.label for u in updates if u.entered] == ["goodbye_loop", "goodbye_loop"]


def test_series_per_side_for_the_sparklines() -> None:
    live, _ = feed(["one two three four", "five six", "hi 🙂🙂", "five six"])
    assert list(live.series["A"]["words"]) == [4, 1]
    assert list(live.series["A"]["emoji"]) == [0, 2]
    assert list(live.series["B"]["chars"]) == [len("fivesix")] * 2
    assert list(live.series["B"]["similarity"]) == [0.0, 0.0]  # nothing in common with A
    assert live.series["A"]["similarity"][0] == 0.0  # nothing to compare with yet
    keep = LiveAttractor(series_length=3)
    keep.load(turns_of(CHAT * 5))
    assert len(keep.series["A"]["words"]) == 3


def test_stop_rule_counts_only_turns_after_the_prior_ones() -> None:
    prior = turns_of(goodbye_session(loop=12))
    stop = AttractorStop(2, prior)
    assert stop.live.streak > 2 and stop.reached() is None
    more = turns_of(FAREWELLS[:2], start=len(prior))
    stop.add(more[0])
    assert stop.reached() is None
    stop.add(more[1])
    reason, detail = stop.reached() or ("", "")
    assert reason == "attractor:goodbye_loop"
    assert detail.startswith("2 model turns in goodbye_loop; last 6 model turns")


# ------------------------------------------------------------------- engine


def farewell_config(**kw: object) -> SessionConfig:
    return SessionConfig(a=scripted(FAREWELLS), b=scripted(FAREWELLS[::-1]), **kw)


async def test_engine_ends_after_k_turns_in_the_same_attractor(tmp_path: Path) -> None:
    engine, log, _ = await run_session(tmp_path, farewell_config(turns=20, attractor_stop=3))
    assert log.end is not None and log.end.reason == "attractor:goodbye_loop"
    assert log.end.detail.startswith("3 model turns in goodbye_loop; ")
    # the state is called at the 4th model turn; 3 turns in it end the session
    assert len(log.turns) == MIN_MODEL_TURNS + 2
    assert log.config.attractor_stop == 3
    assert classify(log.turns).label == "goodbye_loop"


async def test_engine_without_the_rule_runs_to_its_turn_limit(tmp_path: Path) -> None:
    _, log, _ = await run_session(tmp_path, farewell_config(turns=6))
    assert log.end is not None and log.end.reason == "turns" and len(log.turns) == 12


async def test_creative_run_is_not_stopped(tmp_path: Path) -> None:
    story = build(16)
    config = SessionConfig(a=scripted(story[0::2]), b=scripted(story[1::2]), turns=8,
                           attractor_stop=1)
    _, log, _ = await run_session(tmp_path, config)
    assert log.end is not None and log.end.reason == "turns"


async def test_resume_gives_k_more_turns(tmp_path: Path) -> None:
    _, log, _ = await run_session(tmp_path, farewell_config(turns=20, attractor_stop=2))
    assert log.end is not None and log.end.reason == "attractor:goodbye_loop"
    before = len(log.turns)
    await open_session(log, stop_rules=stop_rules).run()
    resumed = load_session(log.path)
    assert resumed.end is not None and resumed.end.reason == "attractor:goodbye_loop"
    assert len(resumed.turns) == before + 2


# ---------------------------------------------------------------------- cli


def test_cli_flag_reaches_the_config() -> None:
    parser = build_parser()
    args = parser.parse_args(["run", "--attractor-stop", "4", "--model", "scripted/goodbye"])
    assert config_from_args(args).attractor_stop == 4
    assert config_from_args(parser.parse_args(["run"])).attractor_stop is None
    sub = next(a for a in parser._actions if a.dest == "command")
    assert "attractor:<state>" in sub.choices["run"].format_help()  # type: ignore[index]


def test_cli_rejects_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--headless", "--attractor-stop", "0"]) == 2
    assert "attractor_stop" in capsys.readouterr().err


def test_cli_headless_run_stops_in_the_goodbye_loop(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--headless", "--model", "scripted/goodbye", "--turns", "30",
                 "--attractor-stop", "2", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "session ended: attractor:goodbye_loop" in out
    path = Path(out.strip().splitlines()[-1].removeprefix("session: "))
    log = load_session(path)
    assert log.end is not None and log.end.reason == "attractor:goodbye_loop"
    assert len(log.turns) < 60


# ---------------------------------------------------------------- peer logs


def test_peer_logs_live_state_matches_the_offline_label() -> None:
    entered_goodbye = 0
    for path in peer_logs():
        turns = load_session(path).turns
        live = LiveAttractor()
        updates = [live.add(t) for t in turns]
        assert live.label == classify(turns).label, path.name
        for k in range(MIN_MODEL_TURNS, len(turns), 17):  # and along the way
            assert updates[k - 1].label == classify(turns[:k]).label, (path.name, k)
        entered = [u for u in updates if u.entered]
        assert all(u.attractor and u.evidence for u in entered)
        entered_goodbye += any(u.label == "goodbye_loop" for u in entered)
        model = [u for u, t in zip(updates, turns, strict=True)
                 if t.author == "model" and not t.interrupted]
        held = [u.label for u in model[len(model) - live.streak:]]
        assert held == [live.label] * live.streak
    assert entered_goodbye >= 3
