"""UniversalBackrooms `*.txt` logs, both header styles, on small synthetic files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attractor_tui.sessions import formats
from attractor_tui.sessions.formats import backrooms
from attractor_tui.sessions.store import SessionFileError, load_session
from tests.support.formats import backrooms_file, cli, meta_of

NAME = "gpt4o_opus_science_20241020_180757.txt"
MESSAGES = [
    ("GPT4o 1", "Let us begin.\n\n### Generating a 3D Fractal:\n```\nz = z**2 + c\n```"),
    ("Claude 2", "Reflection:\nA fine start.\n\n1. Quaternions:\n   more"),
    ("GPT4o 1", "  indented first line, trailing spaces  "),
    ("Claude 2", "^C^C"),
]


def head_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")[: formats.HEAD_BYTES]


@pytest.mark.parametrize("hashes", [True, False], ids=["### X ###", "X:"])
def test_both_header_styles_keep_every_message_exact(tmp_path: Path, hashes: bool) -> None:
    path = backrooms_file(tmp_path / NAME, MESSAGES, hashes=hashes, ended_by="Claude 2")
    assert formats.detect(path, head_of(path)) is backrooms
    log = load_session(path)
    assert [(t.side, t.text) for t in log.turns] == [
        ("AB"[int(actor[-1]) - 1], text) for actor, text in MESSAGES]
    assert [t.round for t in log.turns] == [0, 0, 1, 1]
    assert (log.config.a.model, log.config.b.model) == ("gpt4o", "opus")
    assert {t.model for t in log.turns if t.side == "B"} == {"opus"}
    meta = meta_of(log)
    assert meta["actors"] == {"A": "GPT4o 1", "B": "Claude 2"}
    assert meta["template"] == "science"
    assert meta["header_style"] == ("### X ###" if hashes else "X:")
    assert log.start.ts.isoformat() == "2024-10-20T18:07:57+00:00"
    # The closing line is the end, not a message.
    assert log.end is not None
    assert (log.end.reason, log.end.detail) == (
        "phrase", "Claude 2 has ended the conversation with ^C^C.")


def test_a_log_without_the_closing_line_ends_as_imported(tmp_path: Path) -> None:
    path = backrooms_file(tmp_path / NAME, MESSAGES[:2])
    log = load_session(path)
    assert [t.text for t in log.turns] == [text for _, text in MESSAGES[:2]]
    assert log.end is not None and log.end.reason == "imported"


def test_a_header_like_line_of_a_third_actor_is_text(tmp_path: Path) -> None:
    # Same model on both sides: "Step 2:" after a blank line is text, "GPT4o 2:" a header.
    text = "Plan:\n\nStep 2:\nthen this"
    path = backrooms_file(tmp_path / "gpt4o_gpt4o_cli_20241018_225415.txt",
                          [("GPT4o 1", text), ("GPT4o 2", "ok")], hashes=False,
                          ended_by="GPT4o 1")
    log = load_session(path)
    assert [t.text for t in log.turns] == [text, "ok"]
    assert log.end is not None and log.end.reason == "phrase"


def test_a_closing_line_of_an_unknown_actor_stays_text(tmp_path: Path) -> None:
    path = backrooms_file(tmp_path / NAME, [("GPT4o 1", "hi"), ("Claude 2", "Hello.\n\n"
                          "Someone has ended the conversation with a bang.")])
    log = load_session(path)
    assert log.turns[-1].text.endswith("with a bang.")
    assert log.end is not None and log.end.reason == "imported"


def test_without_the_usual_name_two_actors_are_needed_and_name_the_models(tmp_path: Path
                                                                        ) -> None:
    path = backrooms_file(tmp_path / "chat.txt", [("Claude 1", "a"), ("O1 2", "b")])
    assert formats.detect(path, head_of(path)) is backrooms
    log = load_session(path)
    assert (log.config.a.model, log.config.b.model) == ("Claude", "O1")
    assert meta_of(log)["time_from"] == "file modification time"
    one = backrooms_file(tmp_path / "notes.txt", [("Step 1", "not a log")], hashes=False)
    assert formats.detect(one, head_of(one)) is None
    assert formats.session_files(tmp_path) == [path]  # notes.txt is not listed
    with pytest.raises(SessionFileError, match="not a session file attractor-tui can read"):
        load_session(one)


def test_import_export_and_analyze_take_the_file_directly(tmp_path: Path) -> None:
    path = backrooms_file(tmp_path / NAME, MESSAGES, ended_by="Claude 2")
    code, out, _ = cli(["import", str(path), "--out", str(tmp_path / "out")])
    assert code == 0 and "(4 turns)" in out
    [written] = (tmp_path / "out").glob("*.jsonl")
    assert [t.text for t in load_session(written).turns] == [text for _, text in MESSAGES]
    code, out, _ = cli(["export", str(path), "-f", "md"])
    assert code == 0 and "Generating a 3D Fractal" in out
    code, out, _ = cli(["analyze", str(path), "--json"])
    assert code == 0
    [record] = json.loads(out)
    assert (record["conversation"], record["turns"], record["end_reason"]) == (0, 4, "phrase")
    summary = formats.summarise(path)
    assert (summary.turns, summary.models, summary.broken) == (4, "gpt4o / opus", False)
