"""One bad file never stops, crashes or hangs a command (issue 13, item 5).

Each case runs the real CLI in-process under a deadline (`run_cli`), so a
reader that blocks on a FIFO fails the test instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from attractor_tui.sessions import formats, log
from attractor_tui.sessions.formats.jsonl import MAX_DEPTH, JSONLineError, parse_line
from attractor_tui.sessions.index import INDEX_NAME, SessionIndex, session_label
from attractor_tui.sessions.store import SessionFileError, load_session
from tests.support.builders import write_session
from tests.support.hostile_files import deadline, make_special, run_cli


def good(folder: Path, name: str = "a-good.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_session(folder / name, 4)


def with_line(folder: Path, name: str, line: str) -> Path:
    """A valid session with `line` inserted as line 2."""
    lines = good(folder, "tmp-src.jsonl").read_text().splitlines(keepends=True)
    (folder / "tmp-src.jsonl").unlink()
    path = folder / name
    path.write_text(lines[0] + line + "\n" + "".join(lines[1:]), encoding="utf-8")
    return path


DEEP = "[" * 5000
BIG_INT = '{"type": "turn", "index": ' + "9" * 5000 + "}"


@pytest.mark.parametrize("line,reason", [
    (DEEP, f"nested more than {MAX_DEPTH} levels deep"),
    ("[" * 5000 + "]" * 5000, f"nested more than {MAX_DEPTH} levels deep"),
    ('{"a": ' * 900 + "1" + "}" * 900, f"nested more than {MAX_DEPTH} levels deep"),
    (BIG_INT, "a number with too many digits"),
], ids=["open-brackets", "closed-brackets", "objects", "big-int"])
@pytest.mark.parametrize("command", ["export", "analyze", "fork", "resume"])
def test_a_deep_or_huge_line_is_one_clear_error(
    tmp_path: Path, line: str, reason: str, command: str
) -> None:
    path = with_line(tmp_path / "s", "bad.jsonl", line)
    argv = {"export": ["export", str(path)], "analyze": ["analyze", str(path)],
            "fork": ["fork", str(path), "--at", "1", "--no-run"],
            "resume": ["resume", str(path), "--headless", "--turns", "1"]}[command]
    run = run_cli(argv, timeout=30)
    assert run.traceback is None and not run.hung, run.describe()
    assert run.code == 2
    assert run.err.strip() == f"attractor-tui: {path}:2: {reason}"


def test_the_same_line_at_the_torn_end_is_not_taken_for_a_torn_write(tmp_path: Path) -> None:
    path = good(tmp_path)
    path.write_text(path.read_text() + DEEP, encoding="utf-8")  # no newline: the last line
    with pytest.raises(SessionFileError, match="nested more than"):
        load_session(path)
    path.write_text(path.read_text().removesuffix(DEEP) + '{"type": "tu', encoding="utf-8")
    assert load_session(path).warnings  # a real torn write is still only a warning


def test_parse_line_counts_only_brackets_outside_strings() -> None:
    text = "[" * 500
    assert parse_line(json.dumps({"text": text})) == {"text": text}
    assert parse_line("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    with pytest.raises(JSONLineError) as info:
        parse_line("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert info.value.bound


@pytest.mark.parametrize("kind,reason", [
    ("fifo", "a named pipe (FIFO), not a regular file"),
    ("folder", "a folder, not a regular file"),
    ("symlink_loop", "cannot read: Too many levels of symbolic links"),
    ("device", "a character device, not a regular file"),
])
@pytest.mark.parametrize("command", ["export", "fork", "resume", "replay"])
def test_a_special_file_is_refused_without_blocking(
    tmp_path: Path, kind: str, reason: str, command: str
) -> None:
    path = make_special(tmp_path / "x.jsonl", kind)
    argv = {"export": ["export", str(path)], "replay": ["replay", str(path), "--speed", "0"],
            "fork": ["fork", str(path), "--at", "1", "--no-run"],
            "resume": ["resume", str(path), "--headless"]}[command]
    run = run_cli(argv, timeout=5)
    assert not run.hung and run.traceback is None, run.describe()
    assert (run.code, run.err.strip()) == (2, f"attractor-tui: {path}: {reason}")


def test_analyze_dir_skips_bad_files_like_report(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    good(folder, "a-good.jsonl")
    with_line(folder, "b-deep.jsonl", DEEP)
    with_line(folder, "c-big.jsonl", BIG_INT)
    make_special(folder / "d-fifo.jsonl", "fifo")
    make_special(folder / "e-loop.jsonl", "symlink_loop")
    good(folder, "f-good.jsonl")
    run = run_cli(["analyze", str(folder), "--json"], timeout=10)
    assert not run.hung and run.traceback is None, run.describe()
    assert run.code == 1  # the rest is analysed; the exit code says some were skipped
    assert [Path(r["file"]).name for r in json.loads(run.out)] == ["a-good.jsonl",
                                                                    "f-good.jsonl"]
    assert run.err.splitlines() == [
        f"warning: skipped {folder}/b-deep.jsonl:2: nested more than {MAX_DEPTH} levels deep",
        f"warning: skipped {folder}/c-big.jsonl:2: a number with too many digits",
        f"warning: skipped {folder}/d-fifo.jsonl: a named pipe (FIFO), not a regular file",
        f"warning: skipped {folder}/e-loop.jsonl: cannot read: Too many levels of symbolic links",
    ]
    report = run_cli(["report", str(folder), "--format", "json"], timeout=10)
    assert report.code == 1 and not report.hung and report.traceback is None  # some failed
    assert len(json.loads(report.out)["sessions"]) == 2
    assert len(report.err.splitlines()) == 4  # the same four files, one line each


def test_analyze_with_only_bad_files_is_an_error_naming_each(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    with_line(folder, "b-deep.jsonl", DEEP)
    make_special(folder / "d-fifo.jsonl", "fifo")
    run = run_cli(["analyze", str(folder)], timeout=10)
    assert run.code == 2 and not run.hung and run.traceback is None, run.describe()
    assert "no readable session files" in run.err
    assert "b-deep.jsonl:2" in run.err and "d-fifo.jsonl: a named pipe" in run.err


def test_a_file_over_the_size_bound_is_refused(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = good(tmp_path)
    monkeypatch.setattr(log, "MAX_FILE_BYTES", path.stat().st_size - 1)
    with pytest.raises(SessionFileError, match="does not read files this big"):
        load_session(path)
    monkeypatch.setattr(log, "MAX_FILE_BYTES", path.stat().st_size)
    assert len(load_session(path).turns) == 4


def test_a_bom_and_crlf_file_loads(tmp_path: Path) -> None:
    path = good(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert len(load_session(path).turns) == 4


# ------------------------------------------------------------- the browser's index


def test_index_and_labels_never_block_on_a_fifo(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    good(folder)
    make_special(folder / "fifo.jsonl", "fifo")
    make_special(folder / "loop.jsonl", "symlink_loop")
    make_special(folder / "dir.jsonl", "folder")
    with deadline(5):
        listed = {s.name: s.error for s in SessionIndex(folder).refresh()}
        label = session_label(folder / "fifo.jsonl", lambda _: "x")
    assert listed == {
        "a-good.jsonl": None,
        "fifo.jsonl": "a named pipe (FIFO), not a regular file",
        "loop.jsonl": "cannot read: Too many levels of symbolic links",
    }  # a sub-folder is not a session file, even named like one
    assert label == (None, "a named pipe (FIFO), not a regular file")
    assert [p.name for p in formats.session_files(folder)] == [
        "a-good.jsonl", "fifo.jsonl", "loop.jsonl"]


@pytest.mark.parametrize("index", [
    "[" * 5000,
    '{"version": 2, "sessions": ' + "9" * 5000 + "}",
    '{"version": 2, "sessions": ["a-good.jsonl"]}',
    '{"version": 2, "sessions": {"a-good.jsonl": "text"}}',
    '{"version": 2, "sessions": {"a-good.jsonl": {"name": "a-good.jsonl", "size": "big", '
    '"mtime_ns": 0}}}',
    "fifo",
], ids=["deep", "big-int", "list", "string-entry", "wrong-type", "fifo"])
def test_a_damaged_index_is_rebuilt(tmp_path: Path, index: str) -> None:
    folder = tmp_path / "s"
    path = good(folder)
    if index == "fifo":
        os.mkfifo(folder / INDEX_NAME)
    else:
        (folder / INDEX_NAME).write_text(index, encoding="utf-8")
    with deadline(5):
        listed = SessionIndex(folder).refresh()
    assert [(s.name, s.size, s.turns) for s in listed] == [
        ("a-good.jsonl", path.stat().st_size, 4)]


# ------------------------------------------------------------- sessions --dir


def test_sessions_dir_that_is_missing_or_not_a_folder_is_one_line(tmp_path: Path) -> None:
    missing = run_cli(["sessions", "--dir", str(tmp_path / "nope")])
    assert (missing.code, missing.err.strip()) == (
        2, f"attractor-tui: {tmp_path / 'nope'}: no such folder")
    file = good(tmp_path)
    wrong = run_cli(["sessions", "--dir", str(file)])
    assert (wrong.code, wrong.err.strip()) == (2, f"attractor-tui: {file} is not a folder")


def test_an_index_entry_with_a_lone_surrogate_is_saved_and_reused(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    path = good(folder)
    path.write_text(path.read_text().replace('"scripted/alpha"', '"scripted/\\udfff"', 1))
    first = SessionIndex(folder)
    assert first.refresh()[0].model_a == "scripted/\udfff"
    assert (folder / INDEX_NAME).exists()
    again = SessionIndex(folder)
    assert again.refresh()[0].model_a == "scripted/\udfff" and again.rebuilt == []
