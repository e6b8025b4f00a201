"""A failed run is no result (issue 25, item 1): the one rule, the index and the browser.

A session that never produced a model turn because of an error (an unknown
model, a missing key, nothing listening) still leaves a file; `SessionLog.failure`
says so from the file's own error event, and every reader uses it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from attractor_tui.core.events import ErrorEvent, SessionEnd, SessionStart, Turn
from attractor_tui.sessions.formats import load_all
from attractor_tui.sessions.index import SessionIndex, session_label
from attractor_tui.sessions.log import failed_run, failed_runs_note
from attractor_tui.sessions.store import load_session
from attractor_tui.ui.screens.browser import row_cells
from tests.support.builders import T0, write_session
from tests.support.failed_runs import NO_KEY, make_runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as env:
        return make_runs(tmp_path_factory.mktemp("runs") / "sessions", env)


def test_a_run_stopped_by_an_error_before_any_model_turn_is_failed(runs: Path) -> None:
    failures = [load_session(p).failure for p in runs.glob("*.jsonl")]
    assert failures.count(NO_KEY) == 2 and failures.count(None) == 2


def test_a_session_with_turns_an_empty_one_or_a_retried_error_is_a_result(
        tmp_path: Path) -> None:
    with_turns = load_session(write_session(tmp_path / "a.jsonl", 6, extras=True))
    assert with_turns.errors and with_turns.failure is None  # its error came after turn 1
    empty = load_session(write_session(tmp_path / "b.jsonl", 0, end="operator"))
    assert empty.failure is None  # stopped at once, no error: too short, not failed
    start = SessionStart(ts=T0, session_id="s" * 32, config=with_turns.config)
    retried = [start, ErrorEvent(message="rate limited, retrying in 4 s", retryable=True),
               ErrorEvent(message="rate limited; retries used up"),
               ErrorEvent(message="summary failed", retryable=True),
               SessionEnd(reason="error")]
    assert failed_run(retried) == "rate limited; retries used up"  # the error that stopped it
    interrupted = [start, Turn(index=0, round=0, side="A", text="par", interrupted=True),
                   ErrorEvent(message="cannot reach 127.0.0.1:9")]
    assert failed_run(interrupted) == "cannot reach 127.0.0.1:9"  # a partial is no turn


def test_the_note_counts_the_reasons() -> None:
    assert failed_runs_note(["x"]) == "1 failed run (x)"
    assert failed_runs_note(["x", "y", "x"]) == "3 failed runs (2× x; 1× y)"
    assert failed_runs_note(["x", "x"]) == "2 failed runs (2× x)"


def test_the_index_marks_failed_runs_and_the_browser_shows_them_apart(runs: Path) -> None:
    summaries = SessionIndex(runs).refresh()
    failed = [s for s in summaries if s.failed is not None]
    assert [s.failed for s in failed] == [NO_KEY, NO_KEY]
    assert all(s.end_text == "failed" and not s.broken for s in failed)
    assert sum(s.failed is None for s in summaries) == 2
    cells = [cell.plain for cell in row_cells(failed[0])]
    assert cells[3] == "✗ failed" and cells[4] == NO_KEY
    # from the cache the same
    assert [s.failed for s in SessionIndex(runs).refresh() if s.failed] == [NO_KEY, NO_KEY]
    # and no end state is computed for them
    assert session_label(runs / failed[0].name, lambda _: "too_short") == (None, None)


def test_analyze_and_report_read_sub_folders(runs: Path) -> None:
    loaded, problems = load_all([runs])
    assert problems == []
    assert sorted(str(p.relative_to(runs)) for p, _, _ in loaded if p.parent != runs) == [
        "batch/run-0000.jsonl", "batch/run-0001.jsonl"]
    assert len(loaded) == 6  # 4 at the top (2 failed), 2 in the batch


def test_a_fork_whose_own_run_failed_is_failed_despite_its_parents_turns(
        tmp_path: Path) -> None:
    from attractor_tui.sessions.store import dump_event

    parent = load_session(write_session(tmp_path / "parent.jsonl", 4))
    start = SessionStart(ts=T0, session_id="f" * 32, config=parent.config,
                         parent=str(parent.path), parent_turn=2)
    events = [start, *parent.turns[:2], ErrorEvent(message=NO_KEY), SessionEnd(reason="error")]
    folder = tmp_path / "forks"
    folder.mkdir()
    (folder / "fork.jsonl").write_text("".join(dump_event(e) + "\n" for e in events),
                                       encoding="utf-8")
    assert load_session(folder / "fork.jsonl").failure == NO_KEY
    assert [s.failed for s in SessionIndex(folder).refresh()] == [NO_KEY]  # the browser too
    # the parent's own copy of those turns is a result, as is a fork that wrote a turn
    assert failed_run([start, *parent.turns[:3], ErrorEvent(message=NO_KEY)]) is None
