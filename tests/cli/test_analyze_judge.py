"""`analyze --judge` and `report --labels judge` against a judge stub on 127.0.0.1.

The stub (tests/support/stub.py) is a real OpenAI-compatible server:
litellm's openai provider talks HTTP to it, so these tests see exactly the
request a hosted judge would get.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.builders import write_session
from tests.support.formats import cli, conversation, cross_model_file
from tests.support.hostile_server import HostileServer
from tests.support.judge_stub import JudgeStub, running

LOOP = ["Hello here. How can I help you today?"] * 10


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[JudgeStub]:
    with running(monkeypatch) as server:
        yield server


def folder(tmp_path: Path) -> Path:
    """Two files, three conversations: a native session and a conversations.json of two."""
    out = tmp_path / "runs"
    out.mkdir()
    write_session(out / "a.jsonl", 12)
    cross_model_file(out / "c.json", [conversation("hi", *LOOP), conversation("yo", *LOOP[:6])],
                     model="m")
    return out


def judge(stub: JudgeStub, *args: str) -> tuple[int, str, str]:
    return cli(["analyze", *args, "--judge", "openai/stub", "--judge-api-base", stub.api_base])


def test_the_request_carries_response_format_and_a_rerun_costs_nothing(
        tmp_path: Path, stub: JudgeStub) -> None:
    runs = folder(tmp_path)
    code, out, err = judge(stub, str(runs))
    assert code == 0, err
    assert len(stub.requests) == 3
    body = stub.requests[0]
    assert body["response_format"] == {"type": "json_object"}  # no schema support known
    assert body["messages"][0]["role"] == "system" and "verbatim_loop" in body["messages"][0][
        "content"]
    assert "#11 B (scripted/beta): turn 11 by B" in body["messages"][1]["content"]
    estimate = err.splitlines()[0]
    assert estimate.startswith("judge openai/stub: 3 conversation(s) to judge; ~")
    assert "unknown price" in estimate
    assert "rules vs judge: 3/3 agree (100.0%)" in out
    assert "Traceback" not in out + err

    code, out, err = judge(stub, str(runs))
    assert code == 0
    assert len(stub.requests) == 3  # all cached
    assert "all 3 conversation(s) cached, no calls" in err
    assert "0 judged now (0 tokens), 3 cached" in out


def test_json_records_keep_the_rules_label_and_carry_the_judge(
        tmp_path: Path, stub: JudgeStub) -> None:
    runs = folder(tmp_path)
    stub.default = json.dumps({"end_state": "goodbye_loop", "onset_index": 4,
                                     "topic": "small_talk", "evidence": "they wave"})
    code, out, err = judge(stub, str(runs), "--json")
    assert code == 0, err
    records = json.loads(out)
    assert [r["end_state"] for r in records] == ["verbatim_loop"] * 3  # the rules' own
    verdict = records[1]["judge"]
    assert verdict["model"] == f"openai/stub@{stub.api_base}"
    assert (verdict["end_state"], verdict["onset_index"], verdict["agrees"]) == (
        "goodbye_loop", 4, False)
    assert "rules vs judge: 0/3 agree (0.0%)" in err


def test_calls_go_several_at_once_after_the_first(tmp_path: Path, stub: JudgeStub) -> None:
    runs = tmp_path / "many"
    runs.mkdir()
    cross_model_file(runs / "c.json", [conversation(f"hi {k}", *LOOP) for k in range(7)],
                     model="m")
    stub.delay = 1.0  # long enough that the three overlap on a loaded machine
    code, out, err = judge(stub, str(runs), "--json", "--judge-concurrency", "3")
    assert code == 0, err
    assert len(stub.requests) == 7 and stub.most_in_flight == 3
    records = json.loads(out)
    assert all(r["judge"]["end_state"] == "verbatim_loop" for r in records)
    # each verdict is stored under its own conversation: a rerun asks nothing
    assert {r["conversation"] for r in records} == set(range(7))
    code, _, err = judge(stub, str(runs), "--json")
    assert code == 0 and len(stub.requests) == 7, err
    code, _, err = judge(stub, str(runs), "--judge-concurrency", "0")
    assert code == 2 and "--judge-concurrency must be at least 1" in err


def test_an_answer_invalid_twice_is_one_line_and_the_exit_code_says_so(
        tmp_path: Path, stub: JudgeStub) -> None:
    runs = tmp_path / "one"
    runs.mkdir()
    write_session(runs / "a.jsonl", 12)
    stub.replies = ["no JSON here", '{"end_state": "nirvana"}']
    code, out, err = judge(stub, str(runs), "--json")
    assert code == 1
    assert len(stub.requests) == 2  # asked again once, with the reason
    assert "invalid" in stub.requests[1]["messages"][-1]["content"]
    record = json.loads(out)[0]
    assert record["end_state"] == "verbatim_loop"
    assert record["judge"]["error"].startswith("judge openai/stub gave an invalid answer twice")
    assert "1 without a verdict (they keep the rules' label)" in err
    assert "Traceback" not in err


def test_a_provider_error_stops_the_calls_in_one_line(
        tmp_path: Path, hostile: HostileServer) -> None:
    runs = folder(tmp_path)
    code, out, err = cli(["analyze", str(runs), "--judge", "openai/bad-request",
                          "--judge-api-base", hostile.api_base])
    assert code == 1
    assert len(hostile.calls) == 1  # the rest would fail alike: not asked
    assert "rejected the request" in err and "stopped asking" in err
    assert "Traceback" not in out + err


def test_an_unknown_judge_model_is_a_user_error(tmp_path: Path) -> None:
    runs = folder(tmp_path)
    code, _, err = cli(["analyze", str(runs), "--judge", "q?"])
    assert code != 0
    assert "litellm knows no provider for 'q?'" in err and "Traceback" not in err


def test_report_reads_cached_verdicts_only(tmp_path: Path, stub: JudgeStub) -> None:
    runs = folder(tmp_path)
    code, _, err = cli(["report", str(runs), "--labels", "judge"])
    assert code == 1
    assert "no cached judge result for any conversation" in err
    assert "analyze --judge MODEL" in err

    stub.default = json.dumps({"end_state": "goodbye_loop", "onset_index": 4,
                                     "topic": "small_talk", "evidence": "they wave"})
    assert judge(stub, str(runs / "a.jsonl"))[0] == 0  # one file of two judged
    calls = len(stub.requests)
    code, out, err = cli(["report", str(runs), "--labels", "judge", "-f", "json"])
    assert code == 0, err
    assert len(stub.requests) == calls  # report never calls the judge
    report = json.loads(out)
    assert report["labels"] == "judge"
    assert [(s["file"], s["end_state"]) for s in report["sessions"]] == [
        ("a.jsonl", "goodbye_loop")]
    assert "2 conversation(s) have no cached judge result and are left out" in err
    notes = {"md": "LLM judge's cached verdicts", "html": "cached verdicts (--labels judge)",
             "rich": "labels: the LLM judge's"}
    for fmt, note in notes.items():
        code, out, _ = cli(["report", str(runs), "--labels", "judge", "-f", fmt])
        assert code == 0 and note in out, fmt
    code, out, _ = cli(["report", str(runs)])
    assert code == 0 and "goodbye_loop" not in out  # the rules' labels by default
    assert "LLM judge" not in out


def test_judge_only_uncertain_asks_only_about_those_and_reports_the_judges_label(
        tmp_path: Path, stub: JudgeStub) -> None:
    from tests.analysis.test_analysis import SYNTHETIC

    runs = tmp_path / "runs"
    runs.mkdir()
    # a plain loop (a strong label) and talk about the loop itself (meta_loop: a label no
    # labelled conversation ends in, so the fitted model is uncertain of it)
    cross_model_file(runs / "c.json", [conversation("hi", *LOOP),
                                       conversation("hm", *SYNTHETIC["meta_loop"])], model="m")
    stub.default = json.dumps({"end_state": "goodbye_loop", "onset_index": 4,
                               "topic": "the_conversation", "evidence": "they keep leaving"})
    code, out, err = judge(stub, str(runs), "--judge-only", "uncertain", "--json")
    assert code == 0, err
    assert len(stub.requests) == 1  # only the uncertain conversation reached the judge
    asked = stub.requests[0]["messages"][1]["content"]
    assert SYNTHETIC["meta_loop"][-1][:30] in asked and LOOP[0] not in asked
    assert err.splitlines()[0].startswith("judge openai/stub: 1 conversation(s) to judge")
    assert "1 of 2 conversation(s) uncertain; 1 now carry the judge's end state" in err
    plain, unsure = json.loads(out)
    assert (plain["end_state"], plain["end_state_confidence"]) == ("verbatim_loop", "strong")
    assert "judge" not in plain
    assert (unsure["end_state"], unsure["rules_end_state"], unsure["end_state_confidence"]) == (
        "goodbye_loop", "meta_loop", "judge")
    code, table, err = judge(stub, str(runs), "--judge-only", "uncertain")
    assert code == 0 and "goodbye_loop (judge)" in table and len(stub.requests) == 1  # cached


def test_judge_only_needs_a_judge(tmp_path: Path) -> None:
    code, _, err = cli(["analyze", str(folder(tmp_path)), "--judge-only", "uncertain"])
    assert code == 2 and "--judge-only needs --judge MODEL" in err
