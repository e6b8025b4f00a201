"""Failed runs are in no statistic, and folders of batches are read whole (issue 25, 1 and 5).

The folder is what a new user had: results, runs that failed before any model
turn (each still a file), and a batch in a sub-folder. `analyze`, `report`
and `report --compare` count the results only, say "N failed runs (reasons)"
apart, and read the sub-folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attractor_tui.cli.parser import main
from attractor_tui.experiments.report import build_report, compare_folders, render
from tests.support.failed_runs import NO_KEY, make_runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as env:
        return make_runs(tmp_path_factory.mktemp("runs") / "sessions", env)


def test_report_leaves_failed_runs_out_of_every_count(runs: Path) -> None:
    report = build_report(runs)
    assert len(report.sessions) == 4  # 2 at the top, 2 in batch/; none of the failed
    assert "too_short" not in {s.end_state for s in report.sessions}
    assert sum(row["count"] for row in report.end_states) == 4
    assert [r["reason"] for r in report.failed_runs] == [NO_KEY, NO_KEY]
    assert report.failed_runs_note == f"2 failed runs (2× {NO_KEY})"
    assert report.folders == {"batch": 2}
    assert sorted(s.file for s in report.sessions if "/" in s.file) == [
        "batch/run-0000.jsonl", "batch/run-0001.jsonl"]
    page = render(report, "md")
    assert f"Left out of every count: 2 failed runs (2× {NO_KEY})." in page
    assert "Counted with its sub-folders: batch/ (2)." in page
    assert f"2 failed runs (2× {NO_KEY})" in render(report, "html")
    assert f"left out: 2 failed runs (2× {NO_KEY})" in render(report, "rich")
    assert json.loads(render(report, "json"))["failed_runs"][0]["reason"] == NO_KEY


def test_compare_counts_results_only(runs: Path) -> None:
    comparison, _ = compare_folders([runs, runs / "batch"])
    assert [c.n for c in comparison.conditions] == [4, 2]
    assert [c.failed_runs for c in comparison.conditions] == [2, 0]
    assert f"sessions: left out: 2 failed runs (2× {NO_KEY})" in comparison.problems


def test_analyze_reads_sub_folders_and_shows_failed_runs_apart(
        runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--json", str(runs)]) == 0
    captured = capsys.readouterr()
    results = json.loads(captured.out)
    assert len(results) == 4 and "too_short" not in {r["end_state"] for r in results}
    assert f"left out: 2 failed runs (2× {NO_KEY})" in captured.err
    assert main(["analyze", str(runs)]) == 0
    table = capsys.readouterr().out
    assert "batch/run-0000.jsonl" in table and "batch/run-0001.jsonl" in table


def test_a_folder_of_failed_runs_only_has_no_results(
        runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    only = tmp_path / "only"
    only.mkdir()
    for path in runs.glob("*.jsonl"):
        if NO_KEY in path.read_text(encoding="utf-8"):
            (only / path.name).write_bytes(path.read_bytes())
    assert main(["report", str(only)]) == 1
    assert f"no results in {only}: 2 failed runs (2× {NO_KEY})" in capsys.readouterr().err
    assert main(["analyze", str(only)]) == 1
    assert "no results: every run failed" in capsys.readouterr().err


def test_a_missing_folder_is_a_user_error(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nope")]) == 2  # was 1
    assert "is not a folder" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nope"), str(tmp_path), "--compare"]) == 2
    assert main(["report", str(tmp_path)]) == 2  # no session file in it
