"""Every shared real transcript imports, exports and analyses through the CLI (issue 12).

The files live beside the repository (../shared/fixtures) and are never copied
in; without them these tests skip. Besides "no error", each check compares
what was read with the file read independently: conversation counts, and the
text of every message (rebuilt byte for byte for the two plain-text formats).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attractor_tui.sessions import formats
from attractor_tui.sessions.log import SessionLog
from attractor_tui.sessions.store import load_session
from tests.support.formats import cli, meta_of
from tests.support.shared import (
    BACKROOMS,
    CROSS_MODEL,
    FIXTURE_FILES,
    FOLDERS,
    PEER_CONSOLE,
    needs_fixtures,
    shared_files,
)

every_file = pytest.mark.parametrize(
    "path", FIXTURE_FILES or [Path("absent")], ids=lambda p: f"{p.parent.name}/{p.name}")


@needs_fixtures
@every_file
def test_imports_exports_and_analyses(path: Path, tmp_path: Path) -> None:
    logs = formats.load(path)
    out = tmp_path / "out"
    code, printed, _ = cli(["import", str(path), "--out", str(out)])
    assert code == 0, printed
    written = sorted(out.glob("*.jsonl"))
    assert len(written) == len(logs)  # N conversations, N sessions
    assert sorted(len(load_session(p).turns) for p in written) == sorted(
        len(log.turns) for log in logs)
    exports = [(1, fmt) for fmt in ("json", "md", "html", "txt")] if logs else []
    exports += [(len(logs), "json")] if len(logs) > 1 else []
    for number, fmt in exports:
        code, text, err = cli(["export", str(path), "--conversation", str(number), "-f", fmt])
        assert code == 0 and text.strip(), err
    code, text, err = cli(["analyze", str(path), "--json"])
    assert code == 0, err
    records = json.loads(text)
    assert [r["conversation"] for r in records] == list(range(len(logs)))
    assert all(r["end_state"] for r in records)


@needs_fixtures
def test_every_shared_folder_is_listed_and_analysed_at_once() -> None:
    for folder in FOLDERS:
        files = shared_files(folder)
        assert formats.session_files(folder) == files, folder
        summaries = [formats.summarise(p) for p in files]
        assert not [s.name for s in summaries if s.broken]
    code, text, err = cli(["analyze", *map(str, FOLDERS), "--json"])
    assert code == 0, err
    total = sum(len(formats.load(p)) for p in FIXTURE_FILES)
    assert len(json.loads(text)) == total


def test_cross_model_messages_are_the_files_messages() -> None:
    for path in shared_files(CROSS_MODEL):
        data = json.loads(path.read_text(encoding="utf-8"))
        logs = formats.load(path)
        assert len(logs) == len(data["conversations"])
        for log, conv in zip(logs, data["conversations"], strict=True):
            full = conv["full_conversation"]
            if full and full[0]["speaker"] == "user":  # role-play: the seed opens it
                assert log.config.seed == full[0]["content"]
                full = full[1:]
            assert [t.text for t in log.turns] == [m["content"] for m in full]
            assert not log.warnings  # the histories agree with the transcript


def _backrooms_text(log: SessionLog) -> str:
    actors, style = meta_of(log)["actors"], meta_of(log)["header_style"]
    out = "".join(
        "\n" + (f"### {actors[t.side]} ###" if style == "### X ###" else f"{actors[t.side]}:")
        + f"\n{t.text}\n" for t in log.turns)
    if log.end is not None and log.end.reason == "phrase":
        out += f"\n{log.end.detail}\n"
    return out


def test_backrooms_logs_rebuild_byte_for_byte() -> None:
    for path in shared_files(BACKROOMS):
        [log] = formats.load(path)
        assert _backrooms_text(log) == path.read_text(encoding="utf-8"), path.name


def test_peer_console_messages_are_the_printed_ones() -> None:
    rule = "=" * 60
    for path in shared_files(PEER_CONSOLE):
        text = path.read_text(encoding="utf-8")
        logs = formats.load(path)
        turns = [t for log in logs for t in log.turns]
        for turn in turns:
            if turn.author == "model" and not turn.tool_calls and not turn.interrupted \
                    and not getattr(turn, "removed_noise", None):
                block = f"\n{rule}\n[Model {turn.side} - {turn.model}]\n{rule}\n{turn.text}\n\n"
                assert block in text, (path.name, turn.index)
        headers = text.count(f"{rule}\n[Model ")
        # each header is a turn, but for a reply cut off before it began (one per run at most)
        assert 0 <= headers - len(turns) <= len(logs)
