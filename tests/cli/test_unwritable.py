"""An unwritable place gives one line naming the path and the reason, never a traceback.

Tests run as root, for whom a chmod'ed folder is still writable, so the OS is
made to refuse for real: a path *under a regular file* (ENOTDIR) for every
command that writes, and `/dev/full` (ENOSPC on the first flush) for a
session whose file fails while it runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from attractor_tui.cli import headless
from attractor_tui.cli.parser import main
from attractor_tui.core.config import SessionConfig
from attractor_tui.core.events import SessionStart, Turn
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import SessionWriteError, SessionWriter
from tests.support.builders import scripted, write_session
from tests.support.shared import peer_log

needs_dev_full = pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")


@pytest.fixture
def blocked(tmp_path: Path) -> Path:
    """A regular file: nothing can be created under it, not even by root."""
    target = tmp_path / "afile"
    target.write_text("not a folder\n", encoding="utf-8")
    return target


def one_line_error(capsys: pytest.CaptureFixture[str], code: int, path: Path,
                   reason: str = "Not a directory") -> str:
    captured = capsys.readouterr()
    err = captured.err + captured.out
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("attractor-tui:")]
    assert len(lines) == 1, err
    assert str(path) in lines[0] and reason in lines[0], lines[0]
    return lines[0]


def test_run_headless_into_an_unwritable_folder(blocked: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--headless", "--turns", "1", "--model", "scripted/echo",
                 "--out", str(blocked / "sub")])
    line = one_line_error(capsys, code, blocked / "sub")
    assert line == f"attractor-tui: cannot write {blocked / 'sub'}: Not a directory"


@pytest.mark.parametrize("fmt", ["json", "md"])
def test_export_to_an_unwritable_file(tmp_path: Path, blocked: Path, fmt: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    source = write_session(tmp_path / "s.jsonl")
    code = main(["export", str(source), "-f", fmt, "-o", str(blocked / "x.md")])
    line = one_line_error(capsys, code, blocked / "x.md")
    assert line.startswith("attractor-tui: cannot write ")


def test_report_to_an_unwritable_file(tmp_path: Path, blocked: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    write_session(folder / "s.jsonl")
    code = main(["report", str(folder), "-o", str(blocked / "r.md")])
    line = one_line_error(capsys, code, blocked / "r.md")
    assert line.startswith("attractor-tui: cannot write ")


def test_fork_into_an_unwritable_folder(tmp_path: Path, blocked: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    source = write_session(tmp_path / "s.jsonl")
    code = main(["fork", str(source), "--at", "2", "--out", str(blocked / "f")])
    one_line_error(capsys, code, blocked / "f")


def test_batch_into_an_unwritable_folder(blocked: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["batch", "--runs", "1", "--turns", "1", "--model", "scripted/echo",
                 "--out", str(blocked / "b")])
    one_line_error(capsys, code, blocked / "b")


def test_batch_manifest_that_cannot_be_replaced(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`batch.json` is a folder: the manifest's atomic replace fails on a real OS error."""
    out = tmp_path / "b"
    (out / "batch.json").mkdir(parents=True)
    code = main(["batch", "--runs", "1", "--turns", "1", "--model", "scripted/echo",
                 "--out", str(out)])
    one_line_error(capsys, code, out / "batch.json", reason="directory")


def test_batch_run_file_that_cannot_be_written(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A run's file is a folder: that run fails with one line, the batch reports it."""
    out = tmp_path / "b"
    (out / "run-0000.jsonl").mkdir(parents=True)
    code = main(["batch", "--runs", "1", "--turns", "1", "--model", "scripted/echo",
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code != 0 and "Traceback" not in captured.err + captured.out
    assert "run-0000.jsonl" in captured.err


def test_import_into_an_unwritable_folder(blocked: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    source = peer_log("eval_20260217_093823.jsonl")
    code = main(["import", str(source), "--out", str(blocked / "i")])
    captured = capsys.readouterr()
    assert code != 0 and "Traceback" not in captured.err + captured.out
    failed = [line for line in captured.out.splitlines() if "FAILED" in line]
    assert failed and all(str(blocked / "i") in line and "Not a directory" in line
                          for line in failed)


# ------------------------------------------------------- failing mid-session


@pytest.fixture
def full_disk(tmp_path: Path) -> Path:
    """A session path whose writes fail with ENOSPC once flushed."""
    link = tmp_path / "full.jsonl"
    link.symlink_to("/dev/full")
    return link


@needs_dev_full
def test_headless_session_whose_disk_fills(full_disk: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    fresh: Callable[[Path], Path] = lambda _folder: full_disk  # noqa: E731
    monkeypatch.setattr(headless, "new_session_path", fresh)
    code = main(["run", "--headless", "--turns", "2", "--model", "scripted/echo"])
    line = one_line_error(capsys, code, full_disk, reason="No space left on device")
    assert line.startswith("attractor-tui: cannot write ")


@needs_dev_full
def test_writer_reports_a_failed_drain_once(full_disk: Path) -> None:
    """The first write after the failure raises; close does not raise the same error again."""
    async def scenario() -> None:
        writer = SessionWriter(full_disk)
        await writer.write(SessionStart(session_id="s" * 32, config=SessionConfig()))
        await writer.flush()
        turn = Turn(index=0, round=0, side="A", model="m", text="hi")
        with pytest.raises(SessionWriteError) as caught:
            await writer.write(turn)
        assert str(caught.value) == f"cannot write {full_disk}: No space left on device"
        await writer.close()  # already reported: quiet

    asyncio.run(scenario())


@needs_dev_full
def test_writer_close_reports_lost_last_lines(full_disk: Path) -> None:
    """Lines lost in the last drain are not silent: close raises."""
    async def scenario() -> None:
        writer = SessionWriter(full_disk)
        await writer.write(SessionStart(session_id="s" * 32, config=SessionConfig()))
        with pytest.raises(SessionWriteError):
            await writer.close()

    asyncio.run(scenario())


@needs_dev_full
def test_session_ends_with_the_write_error(full_disk: Path) -> None:
    config = SessionConfig(a=scripted(name="echo"), b=scripted(name="echo"), turns=2)

    async def scenario() -> None:
        with pytest.raises(SessionWriteError, match="No space left on device"):
            await open_session(config, full_disk).run()

    asyncio.run(scenario())
