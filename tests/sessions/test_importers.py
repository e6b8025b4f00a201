"""Peer-log import: every real transcript converts losslessly; quirks are survived.

The real transcripts live beside the repository (../shared/fixtures/peer-logs)
and are never copied in; those tests skip cleanly without them. Everything
else builds small synthetic logs in tmp_path.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attractor_tui.analysis import analyze_log
from attractor_tui.core.events import EMPTY_PLACEHOLDER, SessionEnd, SessionStart, Turn
from attractor_tui.sessions.export import FORMATS, export_session
from attractor_tui.sessions.formats import ImportReport, import_files
from attractor_tui.sessions.formats.peer_logs import import_foreign
from attractor_tui.sessions.store import SessionFileError, dump_event, load_session
from tests.support.shared import PEER_LOG_FILES as PEER_FILES
from tests.support.shared import PEER_LOGS as PEER_DIR
from tests.support.shared import needs_peer_logs as needs_peer

peer_files = pytest.mark.parametrize(
    "path", PEER_FILES or [Path("absent.jsonl")], ids=lambda p: p.name
)

# Only these three invisible characters occur in the real transcripts.
BLANKS = set("\u200b\u200e\u3164 \t\r\n")


def source_records(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]], bool]:
    """Config, turn lines, and whether non-JSON text follows: read independently."""
    config: dict[str, Any] = {}
    turns: list[dict[str, Any]] = []
    tail = False
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            tail = True
            break
        if data["type"] == "config":
            config = data
        else:
            turns.append(data)
    return config, turns, tail


# ------------------------------------------------------------------ real logs


@needs_peer
@peer_files
def test_peer_log_imports_losslessly(path: Path) -> None:
    config, lines, tail = source_records(path)
    log = load_session(path)
    start = log.start
    assert isinstance(start, SessionStart)
    assert start.source == f"peer-log:{path.name}"
    assert start.ts == datetime.fromisoformat(config["timestamp"])
    assert log.config.a.model == config["model_a"]
    assert log.config.b.model == config["model_b"]
    assert log.config.a.system == config["system_a"]
    assert log.config.b.system == config["system_b"]
    assert log.config.seed == config["seed"]
    assert getattr(start, "tools", None) == config.get("tools")

    exported = json.loads(export_session(log, "json"))
    assert len(exported["turns"]) == len(lines) == len(log.turns)
    for n, (line, turn, out) in enumerate(zip(lines, log.turns, exported["turns"], strict=True)):
        assert out["index"] == turn.index == n
        assert out["text"] == line["response"]
        assert out["side"] == {"Model A": "A", "Model B": "B"}[line["label"]]
        assert out["author"] == ("operator" if line["interjected"] else "model")
        assert out["round"] == line["turn"]
        assert out["model"] == line["model"]
        assert datetime.fromisoformat(out["timestamp"]) == datetime.fromisoformat(
            line["timestamp"]
        )
        assert len(out["tool_calls"]) == len(line["tool_attempts"])
        blank = all(ch in BLANKS for ch in line["response"])
        assert (turn.sent_text == EMPTY_PLACEHOLDER) is blank
        assert turn.visible_text.strip(), "the other side must never be sent nothing"
    end = log.end
    assert isinstance(end, SessionEnd)
    if tail:
        assert end.reason == "error"
        assert any("traceback" in w for w in log.warnings)
    else:
        assert end.reason == "imported"
    if not lines:
        assert any("no turn lines" in w for w in log.warnings)


@needs_peer
def test_traceback_tail_is_an_error_end() -> None:
    path = PEER_DIR / "run_20260217_080155.jsonl"
    if not path.exists():
        pytest.skip("transcript not present")
    log = load_session(path)
    assert log.end is not None and log.end.reason == "error"
    assert "InternalServerError" in log.end.detail
    assert log.warnings and ":271:" in log.warnings[0]


@needs_peer
def test_import_files_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "sessions"
    reports = import_files(PEER_FILES, out)
    assert [r.source for r in reports] == PEER_FILES
    for report in reports:
        assert report.ok, report.error
        assert report.target is not None and report.target.parent == out
        original = load_session(report.source)
        assert report.turns == len(original.turns)
        assert report.warnings == original.warnings
        reloaded = load_session(report.target)
        assert reloaded.warnings == []
        assert reloaded.events == original.events
    # Re-importing is idempotent: same names, no duplicates.
    again = import_files([PEER_DIR], out)
    assert [r.target for r in again] == [r.target for r in reports]
    assert len(list(out.glob("*.jsonl"))) == len(PEER_FILES)


# ------------------------------------------------------------------ synthetic


def config_line(**extra: Any) -> str:
    data = {
        "type": "config", "timestamp": "2026-02-17T09:38:23.098899+00:00", "seed": "Hello there",
        "model_a": "anthropic/a", "model_b": "anthropic/b", "system_a": "You are A.",
        "system_b": "You are B.",
    }
    data.update(extra)
    return json.dumps(data, ensure_ascii=False)


def turn_line(n: int, response: str, **extra: Any) -> str:
    data = {
        "type": "turn", "timestamp": f"2026-02-17T09:39:{n:02d}.000001+00:00", "turn": n // 2,
        "label": "Model A" if n % 2 == 0 else "Model B", "model": "anthropic/x",
        "response": response, "tool_attempts": [], "interjected": False,
    }
    data.update(extra)
    return json.dumps(data, ensure_ascii=False)


def write(tmp_path: Path, *lines: str, name: str = "run_x.jsonl", end: str = "\n") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + end, encoding="utf-8")
    return path


def test_no_turn_lines(tmp_path: Path) -> None:
    log = load_session(write(tmp_path, config_line(tools=["emergency_shutdown"])))
    assert log.turns == []
    assert isinstance(log.events[-1], SessionEnd) and log.events[-1].reason == "imported"
    assert getattr(log.start, "tools", None) == ["emergency_shutdown"]
    assert any("no turn lines" in w for w in log.warnings)


def test_fields_map_onto_turns(tmp_path: Path) -> None:
    attempts = [{"tool": "kill_puppies_to_exit_loop", "reason": "never"}]
    path = write(
        tmp_path, config_line(tools=[], harness="v2"),
        turn_line(0, "Hello!"),
        turn_line(1, "you can break this, yk", interjected=True, mood="impatient"),
        turn_line(2, "Calling a tool.", tool_attempts=attempts),
    )
    log = load_session(path)
    a, op, tool = log.turns
    assert (a.index, a.round, a.side, a.author, a.text, a.sent_text) == (
        0, 0, "A", "model", "Hello!", None
    )
    assert (op.side, op.author, op.round) == ("B", "operator", 0)
    assert getattr(op, "peer_extra", None) == {"mood": "impatient"}
    assert getattr(log.start, "peer_extra", None) == {"harness": "v2"}
    assert getattr(log.start, "tools", None) == []
    assert tool.round == 1 and tool.side == "A"
    [call] = tool.tool_calls
    assert (call.name, call.outcome) == ("kill_puppies_to_exit_loop", "attempted")
    assert json.loads(call.arguments) == {"reason": "never"}
    assert tool.ts == datetime.fromisoformat("2026-02-17T09:39:02.000001+00:00")


@pytest.mark.parametrize(
    "response", ["", "\u200b", "\u200e", "\u3164", " \n\t", "\u2060\ufeff", "\u200b\u200e\u3164"]
)
def test_blank_replies_keep_text_and_get_a_placeholder(tmp_path: Path, response: str) -> None:
    log = load_session(write(tmp_path, config_line(), turn_line(0, response)))
    [turn] = log.turns
    assert turn.text == response
    assert turn.sent_text == EMPTY_PLACEHOLDER


@pytest.mark.parametrize("response", [".", "🙂", "…", "ok"])
def test_short_visible_replies_are_sent_as_is(tmp_path: Path, response: str) -> None:
    [turn] = load_session(write(tmp_path, config_line(), turn_line(0, response))).turns
    assert turn.sent_text is None and turn.visible_text == response


def test_console_output_and_traceback_after_last_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, config_line(), turn_line(0, "Hi"), turn_line(1, "Hello"),
        "I will now print something enormous AAAAAAAATraceback (most recent call last):",
        '  File "main.py", line 3, in <module>',
        "    run()",
        "litellm.exceptions.InternalServerError: The model is repeating the same chunk",
    )
    log = load_session(path)
    assert [t.text for t in log.turns] == ["Hi", "Hello"]
    end = log.events[-1]
    assert isinstance(end, SessionEnd) and end.reason == "error"
    assert end.detail.startswith("litellm.exceptions.InternalServerError")
    assert end.ts == log.turns[-1].ts
    [warning] = log.warnings
    assert f"{path}:4:" in warning and "traceback" in warning


def test_console_output_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, config_line(), turn_line(0, "Hi"), "Model B is thinking...", "bye")
    log = load_session(path)
    assert len(log.turns) == 1
    assert log.events[-1].reason == "imported"
    assert log.warnings == [f"{path}:3: ignored 2 line(s) of console output after the last "
                            "JSON record"]


def test_torn_last_line(tmp_path: Path) -> None:
    torn = turn_line(1, "this reply was cut")[:40]
    log = load_session(write(tmp_path, config_line(), turn_line(0, "Hi"), torn, end=""))
    assert len(log.turns) == 1
    assert "incomplete JSON record" in log.warnings[0]


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "crlf.jsonl"
    path.write_bytes((config_line() + "\r\n" + turn_line(0, "Hi") + "\r\n").encode())
    log = load_session(path)
    assert [t.text for t in log.turns] == ["Hi"] and log.warnings == []


@pytest.mark.parametrize(
    ("lines", "bad_line", "words"),
    [
        ([config_line(), turn_line(0, "a"), "garbage", turn_line(1, "b")], 3, "damaged"),
        ([config_line(), turn_line(0, "a"), turn_line(1, "b", label="Model C")], 3, "label"),
        ([config_line(), turn_line(0, "a", turn="x")], 2, "turn"),
        ([config_line(), turn_line(0, "a", timestamp="yesterday")], 2, "timestamp"),
        ([config_line(), config_line()], 2, "second config"),
        ([config_line(), json.dumps({"type": "telemetry"})], 2, "unknown"),
        ([config_line(model_a=None)], 1, "model_a"),
        ([config_line(), turn_line(0, 7)], 2, "response"),
    ],
)
def test_damage_raises_with_line_number(
    tmp_path: Path, lines: list[str], bad_line: int, words: str
) -> None:
    with pytest.raises(SessionFileError) as info:
        load_session(write(tmp_path, *lines))
    assert info.value.line == bad_line
    assert words in str(info.value)


def test_import_foreign_rejects_non_peer_text(tmp_path: Path) -> None:
    with pytest.raises(SessionFileError, match="not a peer-log config"):
        import_foreign(tmp_path / "x.jsonl", "hello\n")
    with pytest.raises(SessionFileError, match="empty log"):
        import_foreign(tmp_path / "x.jsonl", "\n\n")


def test_import_files_reports_per_file(tmp_path: Path) -> None:
    good = write(tmp_path, config_line(), turn_line(0, "Hi"), turn_line(1, "\u200e"),
                 name="good.jsonl")
    bad = write(tmp_path, config_line(), "junk", turn_line(0, "Hi"), name="bad.jsonl")
    missing = tmp_path / "missing.jsonl"
    out = tmp_path / "out"
    reports = import_files([good, bad, missing], out)
    assert [type(r) for r in reports] == [ImportReport] * 3
    ok, broken, absent = reports
    assert ok.ok and ok.turns == 2 and ok.target is not None and ok.target.exists()
    assert ok.target.name.startswith("20260217-093823-")
    assert not broken.ok and "bad.jsonl:2" in (broken.error or "")
    assert broken.target is None
    assert not absent.ok and "cannot read" in (absent.error or "")
    reloaded = load_session(ok.target)
    assert reloaded.events == load_session(good).events
    assert reloaded.turns[1].sent_text == EMPTY_PLACEHOLDER
    # Our own files are not imported again.
    [native] = import_files([ok.target], tmp_path / "again")
    assert not native.ok and "already an attractor-tui session" in (native.error or "")


def test_written_lines_are_dump_event(tmp_path: Path) -> None:
    good = write(tmp_path, config_line(), turn_line(0, "Hi <b>&</b> [bold]x[/]"))
    [report] = import_files([good], tmp_path / "out")
    assert report.target is not None
    lines = report.target.read_text(encoding="utf-8").splitlines()
    assert lines == [dump_event(e) for e in load_session(good).events]


# ----------------------------------------------------------------- hypothesis

BASE = "\n".join(
    [config_line(), turn_line(0, "Hello!"), turn_line(1, "\u200e"), turn_line(2, "Bye.")]
)
BASE_TEXTS = ["Hello!", "\u200e", "Bye."]

garbage = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.one_of(
            st.text(max_size=60),
            st.sampled_from([
                "Traceback (most recent call last):", "{", '{"type": "turn"}', "[1, 2]", "null",
                '{"type": "config"}', "[" * 3000, '{"a": 1}', turn_line(9, "late reply"),
                '{"type": "turn", "turn": 1e400}', "\u2028", "\r", "\x00",
            ]),
        ),
        max_size=6,
    ).map("\n".join),
)


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(junk=garbage, newline=st.booleans())
def test_garbage_appended_never_crashes(tmp_path: Path, junk: str, newline: bool) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_text(BASE + ("\n" if newline else "") + junk, encoding="utf-8")
    try:
        log = load_session(path)
    except SessionFileError:
        return
    texts = [t.text for t in log.turns]
    # Everything before the last original line survives; that line may have
    # been glued to the garbage (no newline between them) and dropped.
    assert texts[:2] == BASE_TEXTS[:2]
    if newline:
        assert texts[:3] == BASE_TEXTS
    assert isinstance(log.events[0], SessionStart)
    assert isinstance(log.events[-1], SessionEnd)
    assert all(isinstance(e, Turn) for e in log.events[1:-1])
    for fmt in FORMATS:
        export_session(log, fmt)
    analyze_log(log)
