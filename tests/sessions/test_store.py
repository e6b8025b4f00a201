"""Session files on real disk: round trip, torn tails, garbage, versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attractor_tui.core.config import SessionConfig
from attractor_tui.core.events import SessionEnd, SessionStart, Turn
from attractor_tui.core.history import messages_for
from attractor_tui.sessions.store import (
    SessionFileError,
    SessionWriter,
    dump_event,
    load_session,
    parse_session_text,
)
from tests.support.builders import run_session, scripted


def sample_lines() -> list[str]:
    config = SessionConfig(seed="Hi [bold]there[/bold] \x1b[31m")
    events = [
        SessionStart(session_id="s1", config=config),
        Turn(index=0, round=0, side="A", text="hello 👋 [link=x]y[/link]"),
        Turn(index=1, round=0, side="B", text="\u200b", sent_text="[no reply]"),
        Turn(index=2, round=1, side="A", author="operator", text="operator words"),
        SessionEnd(reason="turns"),
    ]
    return [dump_event(e) for e in events]


async def test_round_trip_rebuilds_histories(tmp_path: Path) -> None:
    config = SessionConfig(a=scripted(["one", "two"]), b=scripted(["uno", "dos"]), turns=2)
    engine, log, _ = await run_session(tmp_path, config)
    assert log.config == config
    assert log.turns == engine.turns
    for side in ("A", "B"):
        assert messages_for(log.config, side, log.turns) == messages_for(config, side, engine.turns)


def test_truncated_last_line_is_dropped_with_warning(tmp_path: Path) -> None:
    text = "\n".join(sample_lines()) + "\n"
    torn = text[: len(text) - 15]
    path = tmp_path / "torn.jsonl"
    path.write_text(torn)
    log = load_session(path)
    assert len(log.turns) == 3 and log.end is None
    assert "incomplete" in log.warnings[0]


def test_garbage_in_the_middle_names_file_and_line(tmp_path: Path) -> None:
    lines = sample_lines()
    lines.insert(2, "{not json")
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SessionFileError, match=r"bad\.jsonl:3: not valid JSON"):
        load_session(path)


def test_unknown_schema_version(tmp_path: Path) -> None:
    lines = sample_lines()
    header = json.loads(lines[0])
    header["schema_version"] = 99
    lines[0] = json.dumps(header)
    path = tmp_path / "future.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SessionFileError, match="unknown schema version 99"):
        load_session(path)


def test_invalid_event_field(tmp_path: Path) -> None:
    lines = sample_lines()
    lines[1] = lines[1].replace('"side":"A"', '"side":"C"')
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SessionFileError, match=r":2: not a valid event \(turn.side"):
        load_session(path)


def test_empty_and_non_utf8_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(SessionFileError, match="empty session file"):
        load_session(empty)
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SessionFileError, match="not UTF-8"):
        load_session(binary)
    with pytest.raises(SessionFileError, match="cannot read"):
        load_session(tmp_path / "missing.jsonl")


async def test_writer_repairs_torn_tail_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    lines = sample_lines()
    path.write_text("\n".join(lines[:3]) + "\n" + lines[3][:20])
    async with SessionWriter(path) as writer:
        await writer.write(SessionEnd(reason="operator"))
    log = load_session(path)
    assert log.warnings == [] and log.end is not None and log.end.reason == "operator"


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(cut=st.integers(min_value=0, max_value=2000), junk=st.binary(max_size=40))
def test_loader_never_crashes_on_truncation_or_garbage(tmp_path: Path, cut: int, junk: bytes):
    data = ("\n".join(sample_lines()) + "\n").encode()
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data[: cut % (len(data) + 1)] + junk)
    try:
        log = load_session(path)
    except SessionFileError as exc:
        assert str(path) in str(exc)
        return
    # recovered a valid prefix: every event is a real parsed one, header first
    assert isinstance(log.events[0], SessionStart)
    assert len(log.turns) <= 3


@given(text=st.text(max_size=300))
def test_parse_text_only_raises_session_file_error(text: str) -> None:
    try:
        parse_session_text(Path("x.jsonl"), text)
    except SessionFileError:
        pass
