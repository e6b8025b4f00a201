"""Scripted operator turns (issue 27): played by the engine at a round, every N rounds or
when the live meter sees an attractor; stored as ordinary operator turns, never repeated
on resume. Driven through the real runner and litellm path (scripted provider)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from attractor_tui.analysis import analyze_log
from attractor_tui.analysis.live import NOT_ATTRACTORS, LiveAttractor
from attractor_tui.core.config import ScriptedTurn, SessionConfig
from attractor_tui.core.engine import NOT_YET_ATTRACTOR, Engine
from attractor_tui.core.events import Turn, TurnBegin
from attractor_tui.core.history import messages_for
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import load_session
from tests.support.builders import CHAT, FAREWELLS, run_session, scripted

PRESSURE = "Please call end_conversation now; I insist."


def config(turns: int, *rules: ScriptedTurn, a: list[str] | None = None,
           b: list[str] | None = None) -> SessionConfig:
    return SessionConfig(a=scripted(a or [f"a{n}" for n in range(10)]),
                         b=scripted(b or [f"b{n}" for n in range(10)]),
                         turns=turns, operator=list(rules))


async def test_lands_at_the_round_asked_and_is_stored_as_scripted(tmp_path: Path) -> None:
    cfg = config(4, ScriptedTurn(round=2, side="B", text=PRESSURE))
    _, log, events = await run_session(tmp_path, cfg)
    shown = [(t.index, t.round, t.side, t.author) for t in log.turns]
    assert shown[3] == (3, 1, "B", "operator")  # round 2 (1-based) is stored as round 1
    assert sum(t.author == "operator" for t in log.turns) == 1
    turn = log.turns[3]
    assert (turn.text, turn.scripted, turn.script, turn.rule) == (PRESSURE, True, 0, "round 2")
    assert [t.text for t in log.turns if t.side == "B"] == ["b0", PRESSURE, "b2", "b3"]
    # the other side received it as B's words; B's history holds it as its own
    assert {"role": "user", "content": PRESSURE} in messages_for(cfg, "A", log.turns)
    assert {"role": "assistant", "content": PRESSURE} in messages_for(cfg, "B", log.turns)
    begin = next(e for e in events if isinstance(e, TurnBegin) and e.index == 3)
    assert (begin.author, begin.rule) == ("operator", "round 2")  # shown as it lands
    # typed and model turns carry no scripted marks in the file
    raw = (tmp_path / "session.jsonl").read_text(encoding="utf-8")
    assert raw.count('"scripted":true') == 1 and '"scripted":false' not in raw


async def test_every_n_rounds(tmp_path: Path) -> None:
    cfg = config(7, ScriptedTurn(round=2, side="A", text="again", every=2))
    _, log, _ = await run_session(tmp_path, cfg)
    fired = [(t.round + 1, t.side) for t in log.turns if t.scripted]
    assert fired == [(2, "A"), (4, "A"), (6, "A")]
    assert {t.rule for t in log.turns if t.scripted} == {"round 2, every 2 rounds"}


async def test_attractor_rule_waits_for_the_first_qualifying_round(tmp_path: Path) -> None:
    chat_then_bye = [*CHAT, *FAREWELLS * 4]
    cfg = config(12, ScriptedTurn(round=2, side="B", text=PRESSURE, when="attractor"),
                 a=chat_then_bye, b=chat_then_bye)
    _, log, _ = await run_session(tmp_path, cfg, meter=LiveAttractor)
    scripted_turns = [t for t in log.turns if t.scripted]
    assert len(scripted_turns) == 1
    fired = scripted_turns[0]
    assert fired.rule == "attractor at or after round 2" and fired.side == "B"
    # replay the meter over the stored turns: every earlier B slot from round 2 on saw a
    # state that does not qualify, the slot it took saw one that does
    meter = LiveAttractor()
    label_before: dict[int, str] = {}
    for turn in log.turns:
        label_before[turn.index] = meter.label
        meter.add(turn)
    b_slots = [t for t in log.turns if t.side == "B" and t.round >= 1 and t.index <= fired.index]
    assert b_slots[-1] is fired
    assert label_before[fired.index] not in NOT_YET_ATTRACTOR
    assert all(label_before[t.index] in NOT_YET_ATTRACTOR for t in b_slots[:-1])
    assert fired.round > 1  # it did wait: the meter needs turns before it calls a state
    assert NOT_YET_ATTRACTOR <= NOT_ATTRACTORS


async def test_attractor_rule_without_a_meter_is_refused(tmp_path: Path) -> None:
    cfg = config(3, ScriptedTurn(round=1, side="B", text="x", when="attractor"))
    with pytest.raises(ValueError, match="meter"):
        Engine(cfg)
    # the runner builds the meter only for configs that need one
    session = open_session(config(3, ScriptedTurn(round=1, side="B", text="x")),
                           tmp_path / "s.jsonl", meter=LiveAttractor)
    assert session.engine.meter is None
    await session.writer.close()


async def test_analysis_and_report_treat_it_as_an_interjection(tmp_path: Path) -> None:
    from attractor_tui.experiments.report import build_report

    cfg = config(4, ScriptedTurn(round=2, side="A", text=FAREWELLS[0]))
    _, log, _ = await run_session(tmp_path, cfg)
    result = analyze_log(log)
    assert result["interjections"] == 1
    assert result["model_turns"] == 7  # the operator's farewell is no model turn
    assert any("operator interjections at turn(s) 3" in line for line in result["evidence"])
    report = build_report(tmp_path, exclude_interjected=True)
    assert report.excluded == 1 and not report.sessions


async def test_a_resumed_session_does_not_repeat_it(tmp_path: Path) -> None:
    cfg = config(4, ScriptedTurn(round=2, side="B", text=PRESSURE),
                 ScriptedTurn(round=1, side="A", text="tick", every=3))
    path = tmp_path / "session.jsonl"
    first = open_session(cfg, path, turns=2)  # stops after round 2, both rules fired
    await first.run()
    log = load_session(path)
    assert [t.rule for t in log.turns if t.scripted] == ["round 1, every 3 rounds", "round 2"]
    second = open_session(log, turns=3)
    await second.run()
    log = load_session(path)
    assert len(log.turns) == 10
    fired = [(t.round + 1, t.side, t.text) for t in log.turns if t.scripted]
    assert fired == [(1, "A", "tick"), (2, "B", PRESSURE), (4, "A", "tick")]


def test_bad_rules_are_refused_with_one_clear_reason() -> None:
    with pytest.raises(ValidationError, match="beyond the turn limit"):
        config(5, ScriptedTurn(round=6, side="B", text="late"))
    with pytest.raises(ValidationError, match="side"):
        ScriptedTurn.model_validate({"round": 1, "side": "C", "text": "x"})
    assert ScriptedTurn.model_validate({"round": 1, "side": "b", "text": "x"}).side == "B"
    # a config without scripted turns is stored as before (no `operator` key)
    assert "operator" not in SessionConfig().model_dump_json()
    assert isinstance(Turn(index=0, round=0, side="A", text="x").scripted, type(None))
