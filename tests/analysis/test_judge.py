"""The LLM judge offline: rubric, answers, retry, elision, cache, cost, kappa.

Calls go through the real litellm path: `mock_response` for a fixed answer,
the scripted provider for a sequence (its reply depends on how many assistant
messages the history holds, so a retry gets the next item of the script).
`calls` wraps litellm's `completion` to count calls and keep their arguments.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from attractor_tui.analysis import LABELS, TOPICS
from attractor_tui.analysis.classify import analyze_log
from attractor_tui.analysis.judge import (
    JudgeConfig,
    JudgeError,
    JudgeRun,
    estimate,
    judge_records,
    judge_turns,
    response_format,
)
from attractor_tui.analysis.judge_agreement import cohen_kappa, pair_agreement
from attractor_tui.analysis.judge_cache import CACHE_DIR, relabel
from attractor_tui.analysis.judge_rubric import (
    MAX_CHARS,
    MAX_TURN_CHARS,
    SCHEMA,
    SYSTEM_PROMPT,
    InvalidAnswer,
    parse_answer,
    transcript,
)
from attractor_tui.backends.litellm_setup import get_litellm
from attractor_tui.sessions import formats
from tests.support.builders import turns_of, write_session

VALID = json.dumps({"end_state": "goodbye_loop", "onset_index": 3, "topic": "small_talk",
                    "evidence": "turns #3-#9 trade farewells"})
OTHER = json.dumps({"end_state": "creative_escape", "onset_index": None, "topic": "other",
                    "evidence": "a story"})


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every litellm `completion` call's keyword arguments, in order (the call still runs)."""
    litellm = get_litellm()
    real = litellm.completion
    seen: list[dict[str, Any]] = []

    def counting(**kwargs: Any) -> Any:
        seen.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(litellm, "completion", counting)
    return seen


def scripted(*answers: str) -> JudgeConfig:
    return JudgeConfig("scripted/judge", params={"script": list(answers), "cycle": False})


def items_of(folder: Path) -> list[tuple[Path, int, Any, dict[str, Any]]]:
    loaded, failed = formats.load_all([folder])
    assert not failed
    return [(path, n, log, {**analyze_log(log), "conversation": n}) for path, n, log in loaded]


# ------------------------------------------------------------------ kappa


def test_kappa_matches_a_hand_computed_value() -> None:
    # 50 items: both "yes" 20, a yes / b no 5, a no / b yes 10, both "no" 15.
    # p_o = 35/50 = 0.7; p_e = (25*30 + 25*20) / 50^2 = 0.5; kappa = 0.2 / 0.5 = 0.4
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    # three labels, one disagreement: p_o = 5/6, p_e = (2*1 + 2*3 + 2*2) / 36 = 1/3,
    # kappa = (5/6 - 1/3) / (2/3) = 0.75
    a3 = ["x", "x", "y", "y", "z", "z"]
    b3 = ["x", "y", "y", "y", "z", "z"]
    assert cohen_kappa(a3, b3) == pytest.approx(0.75)


def test_kappa_edges() -> None:
    assert cohen_kappa(["a", "b"], ["a", "b"]) == pytest.approx(1.0)
    assert cohen_kappa(["a", "b"], ["b", "a"]) == pytest.approx(-1.0)
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["a", "a"], ["a", "a"]) is None  # chance agreement is certain
    with pytest.raises(ValueError, match="length"):
        cohen_kappa(["a"], ["a", "b"])
    line = pair_agreement(["a", "a", "b"], ["a", "b", "b"]).line()
    assert line.startswith("rules vs judge: 2/3 agree (66.7%), Cohen's kappa 0.40")


# ------------------------------------------------------------------ rubric and answers


def test_rubric_is_the_label_set_and_topics() -> None:
    assert SCHEMA["properties"]["end_state"]["enum"] == list(LABELS)
    assert SCHEMA["properties"]["topic"]["enum"] == list(TOPICS)
    positions = [SYSTEM_PROMPT.index(f"{n}. {label}:") for n, label in enumerate(LABELS, 1)]
    assert positions == sorted(positions)  # in priority order
    assert all(topic in SYSTEM_PROMPT for topic in TOPICS)


def test_parse_answer_accepts_a_verdict_and_names_what_is_wrong() -> None:
    verdict = parse_answer("```json\n" + VALID + "\n```", turns=10)
    assert (verdict.end_state, verdict.onset_index, verdict.topic) == ("goodbye_loop", 3,
                                                                        "small_talk")
    bad = {
        "not json": "not JSON",
        json.dumps({**json.loads(VALID), "end_state": "bliss"}): "end_state",
        json.dumps({**json.loads(VALID), "mood": "calm"}): "mood",
        json.dumps({**json.loads(VALID), "onset_index": -1}): "onset_index",
        json.dumps({**json.loads(VALID), "onset_index": 10}): "past the last turn",
        json.dumps({k: v for k, v in json.loads(VALID).items() if k != "topic"}): "topic",
        "[" * 100_000: "not JSON",
    }
    for text, needle in bad.items():
        with pytest.raises(InvalidAnswer, match=needle):
            parse_answer(text, turns=10)


# ------------------------------------------------------------------ calls and retry


def test_a_valid_answer_through_mock_response_asks_for_the_schema(
        calls: list[dict[str, Any]]) -> None:
    turns = turns_of(["Goodbye!", "Bye, take care!"] * 5)
    config = JudgeConfig("openai/gpt-4o-mini", params={"mock_response": VALID})
    verdict = judge_turns(turns, config)
    assert verdict["end_state"] == "goodbye_loop" and verdict["attempts"] == 1
    assert len(calls) == 1
    fmt = calls[0]["response_format"]
    assert fmt["type"] == "json_schema"  # litellm: gpt-4o-mini supports a response schema
    assert fmt["json_schema"]["schema"] == SCHEMA
    assert calls[0]["messages"][0]["content"] == SYSTEM_PROMPT
    assert "#9 B: Bye, take care!" in calls[0]["messages"][1]["content"]


def test_response_format_falls_back_to_json_mode() -> None:
    assert response_format("scripted/judge") == {"type": "json_object"}
    assert response_format("openai/gpt-4o-mini")["type"] == "json_schema"


def test_invalid_then_valid_is_retried_once_with_the_reason(calls: list[dict[str, Any]]) -> None:
    turns = turns_of(["Goodbye!", "Bye!"] * 5)
    verdict = judge_turns(turns, scripted("I think it is a goodbye loop.", VALID))
    assert verdict["end_state"] == "goodbye_loop" and verdict["attempts"] == 2
    assert len(calls) == 2
    retry = calls[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": "I think it is a goodbye loop."}
    assert "invalid: not JSON" in retry[-1]["content"]


def test_invalid_twice_is_one_clear_error_and_the_rules_label_stays(
        tmp_path: Path, calls: list[dict[str, Any]]) -> None:
    with pytest.raises(JudgeError, match="invalid answer twice .*end_state"):
        judge_turns(turns_of(["hi"] * 6), scripted("{}", '{"end_state": "calm"}'))
    write_session(tmp_path / "a.jsonl", 8)
    items = items_of(tmp_path)
    rules = items[0][3]["end_state"]
    said: list[str] = []
    run = judge_records(items, scripted("nope", "still nope"), said.append)
    record = items[0][3]
    assert record["end_state"] == rules
    assert "invalid answer twice" in record["judge"]["error"]
    assert (run.failed, run.judged, run.status) == (1, 0, 1)
    assert not (tmp_path / CACHE_DIR).exists()  # failures are not cached: a re-run tries again


# ------------------------------------------------------------------ elision


def test_short_transcripts_are_sent_whole() -> None:
    text, elided = transcript(turns_of(["one", "two", "three"]))
    assert not elided
    assert text.splitlines() == ["#0 A: one", "#1 B: two", "#2 A: three"]


def test_long_transcripts_keep_head_and_tail_with_the_middle_marked() -> None:
    turns = turns_of([f"turn {i} " + "x" * 990 for i in range(200)])
    text, elided = transcript(turns)
    assert elided
    assert len(text) <= MAX_CHARS + 200  # the marker line is the only extra
    lines = text.splitlines()
    assert lines[0].startswith("#0 A: turn 0 ") and lines[-1].startswith("#199 B: turn 199 ")
    marker = next(line for line in lines if "elided" in line)
    first, last = (int(x) for x in marker.split("turns #")[1].split(" ")[0].split("-#"))
    kept = [int(line.split(" ")[0][1:]) for line in lines if line.startswith("#")]
    assert kept == [*range(first), *range(last + 1, 200)]  # nothing lost but the middle
    assert 199 - last > first  # the tail (where the end state is) gets more room


def test_one_huge_turn_keeps_its_start_and_end() -> None:
    text, _ = transcript(turns_of(["start " + "y" * 50_000 + " end"]))
    assert text.startswith("#0 A: start ") and text.endswith(" end")
    assert "characters elided" in text and len(text) < MAX_TURN_CHARS + 100


# ------------------------------------------------------------------ cache


def test_second_run_makes_no_call_and_the_cache_is_no_session(
        tmp_path: Path, calls: list[dict[str, Any]]) -> None:
    write_session(tmp_path / "a.jsonl", 10)
    write_session(tmp_path / "b.jsonl", 8, models=("scripted/x", "scripted/y"))
    config = JudgeConfig("openai/gpt-4o-mini", params={"mock_response": VALID})
    said: list[str] = []
    first = judge_records(items_of(tmp_path), config, said.append)
    assert (first.judged, first.cached, len(calls)) == (2, 0, 2)
    assert said[0].startswith("judge openai/gpt-4o-mini: 2 conversation(s) to judge; ~")
    assert "$" in said[0]  # priced from litellm's table
    assert [p.name for p in formats.session_files(tmp_path)] == ["a.jsonl", "b.jsonl"]
    assert len(list((tmp_path / CACHE_DIR).iterdir())) == 2

    items = items_of(tmp_path)
    again = judge_records(items, config, said.append)
    assert (again.judged, again.cached, len(calls)) == (0, 2, 2)
    assert said[-1] == "judge openai/gpt-4o-mini: all 2 conversation(s) cached, no calls"
    assert items[0][3]["judge"]["cached"] is True
    assert items[0][3]["judge"]["end_state"] == "goodbye_loop"

    other_model = JudgeConfig("scripted/judge", params={"script": [OTHER]})
    judge_records(items_of(tmp_path), other_model, said.append)
    assert len(calls) == 4  # another judge is another key
    write_session(tmp_path / "a.jsonl", 12)  # new content: judged again
    judge_records(items_of(tmp_path), config, said.append)
    assert len(calls) == 5


def test_an_unwritable_cache_is_a_warning_and_the_verdict_still_counts(
        tmp_path: Path, calls: list[dict[str, Any]]) -> None:
    write_session(tmp_path / "a.jsonl", 8)
    (tmp_path / CACHE_DIR).write_text("a file where the folder would be")
    said: list[str] = []
    items = items_of(tmp_path)
    run = judge_records(items, JudgeConfig("openai/gpt-4o-mini",
                                           params={"mock_response": VALID}), said.append)
    assert run.judged == 1 and items[0][3]["judge"]["end_state"] == "goodbye_loop"
    assert any(line.startswith("warning: judge results not cached in ") for line in said)


def test_relabel_reads_the_latest_cached_verdict_only(tmp_path: Path) -> None:
    path = write_session(tmp_path / "a.jsonl", 8)
    items = items_of(tmp_path)
    record = items[0][3]
    assert relabel(record, path, 0) is None
    judge_records(items, scripted(OTHER), lambda _: None)
    judged = relabel(record, path, 0)
    assert judged is not None
    assert (judged["end_state"], judged["topic"]) == ("creative_escape", "other")
    assert judged["rules_end_state"] == record["end_state"]
    assert judged["labels"] == "judge:scripted/judge"


def test_agreement_is_over_the_judged_conversations(tmp_path: Path) -> None:
    write_session(tmp_path / "a.jsonl", 8)
    write_session(tmp_path / "b.jsonl", 10)
    items = items_of(tmp_path)
    rules = items[0][3]["end_state"]
    same = json.dumps({"end_state": rules, "onset_index": None, "topic": "other",
                       "evidence": "same"})
    run: JudgeRun = judge_records(items, scripted(same), lambda _: None)
    assert run.agreement is not None and run.agreement.n == 2
    assert run.agreement.agreeing == sum(r["end_state"] == rules for *_, r in items)
    assert "rules vs judge: " in run.summary() and "2 judged now" in run.summary()


# ------------------------------------------------------------------ cost


def test_estimate_prices_known_models_and_says_unknown_for_local_ones() -> None:
    turns = [turns_of(["x" * 4000] * 10)]
    priced = estimate(turns, "openai/gpt-4o-mini")
    assert priced.cost is not None and priced.cost > 0
    assert priced.input_tokens >= 10_000  # 40,000 characters at 4 per token, plus the rubric
    for local in ("scripted/judge", "hosted_vllm/my-model", "ollama/llama3"):
        line = estimate(turns, local).line(local, cached=1)
        assert "unknown price" in line and "1 already cached" in line
