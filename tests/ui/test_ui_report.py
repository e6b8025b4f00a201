"""The report screen and its terminal charts.

Folders are real batches (scripted models, the real engine and store), so
the screen shows what `report.build_report` makes of actual session files.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import LoadingIndicator

from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.events import SessionEnd, SessionStart, Turn
from attractor_tui.experiments.batch import BatchSpec, run_batch
from attractor_tui.experiments.report import Report, build_report
from attractor_tui.sessions.store import SessionWriter
from attractor_tui.ui.screens import report as report_screen
from attractor_tui.ui.screens.browser import BrowserScreen
from attractor_tui.ui.screens.help import HelpScreen
from attractor_tui.ui.screens.report import ReportScreen, export_targets
from attractor_tui.ui.standalone import browser_app, report_app, run_report
from attractor_tui.ui.widgets.charts import (
    bar,
    bar_chart,
    framed_line_chart,
    histogram_chart,
    line_chart,
    log_buckets,
    sparkline,
)
from tests.support.builders import five_kinds
from tests.support.ui import screen_text
from tests.support.waiting import settle, wait_until

SIZE = (140, 110)
"""Tall enough that every panel is on screen without scrolling."""


async def make_batch(folder: Path, runs: int = 5) -> Path:
    """One conversation of each kind: goodbye, emoji, garden, tool calls, mixed pair."""
    result = await run_batch(BatchSpec(out=folder, runs=runs, scenario=None, configs=five_kinds,
                                       concurrency=5, name="mix", engine_backoff=0))
    assert result.ok
    return folder


@pytest.fixture
async def folder(tmp_path: Path) -> Path:
    return await make_batch(tmp_path / "runs")


def report_of(app: Any) -> ReportScreen:
    screen = app.screen
    assert isinstance(screen, ReportScreen), screen
    return screen


async def loaded(pilot: Pilot) -> ReportScreen:
    screen = report_of(pilot.app)
    await wait_until(pilot, lambda: not screen.loading_report)
    return screen


def line_with(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


# ------------------------------------------------------------------ charts


def test_bars_are_proportional_in_eighths() -> None:
    assert bar(1.0, 20) == "█" * 20
    assert bar(0.5, 20) == "█" * 10
    assert bar(0.0, 20) == ""
    assert bar(0.001, 20) == "▏"  # a non-zero value never vanishes
    assert bar(0.55, 10) == "█████▌"
    assert bar(3.0, 5) == "█" * 5  # clamped


def test_bar_chart_scales_to_the_largest_row() -> None:
    rows = [("a", 8, "8", "red"), ("bb", 4, "4", "blue"), ("c", 3, "3", "")]
    chart = bar_chart(rows, 37)  # 2 label + 1 value + 2 spaces: 32 cells of bar
    lines = chart.plain.splitlines()
    assert [len(line) for line in lines] == [37, 37, 37]
    assert [line.count("█") for line in lines] == [32, 16, 12]
    assert lines[1].startswith("bb ") and lines[1].endswith(" 4")
    assert chart.spans[0].style == "red"  # each row in its colour
    assert bar_chart([], 30).plain == ""


def test_log_buckets_cover_orders_of_magnitude() -> None:
    values = [0, 0, 1, 2, 3, 4, 7, 8, 900]
    buckets = log_buckets(values)
    assert buckets[:5] == [(0, 0, 2), (1, 1, 1), (2, 3, 2), (4, 7, 2), (8, 15, 1)]
    assert buckets[-1] == (512, 1023, 1)  # the largest value has a bucket of its own
    assert len(buckets) == 11 and sum(n for _, _, n in buckets) == len(values)
    assert log_buckets([]) == [(0, 0, 0)]
    chart = histogram_chart(buckets, 40).plain.splitlines()
    assert len(chart) == len(buckets)
    assert chart[0].strip().startswith("0 ") and chart[-1].strip().startswith("512–1023 ")
    assert chart[0].count("█") == chart[2].count("█") > chart[1].count("█") > 0
    assert "█" not in chart[6]  # 16–31 is empty


def test_line_chart_size_and_placement() -> None:
    top, bottom = [1.0] * 10, [0.0] * 10
    chart = line_chart([(bottom, "blue"), (top, "red")], width=20, height=5)
    lines = chart.plain.split("\n")
    assert len(lines) == 5 and all(len(line) == 20 for line in lines)
    assert lines[0].strip() and lines[-1].strip() and not "".join(lines[1:-1]).strip()
    assert all(0x2800 <= ord(ch) <= 0x28FF for ch in lines[0])  # braille, edge to edge
    # a thousand points still fit the width; gaps stay blank
    long = [0.5 if i < 500 else None for i in range(1000)]
    lines = line_chart([(long, "")], width=30, height=4).plain.split("\n")
    assert all(len(line) == 30 for line in lines)
    drawn = [line for line in lines if line.strip()]
    assert len(drawn) == 1  # a flat line at 0.5, in one row of cells
    assert drawn[0][:15].strip() == drawn[0][:15] and not drawn[0][16:].strip()


def test_line_chart_draws_the_later_series_on_top() -> None:
    chart = line_chart([([0.5, 0.5], "blue"), ([0.5, 0.5], "red")], width=4, height=2)
    styles = {str(span.style) for span in chart.spans}
    assert styles == {"red"}


def test_framed_chart_and_sparkline_lengths() -> None:
    series = [([None, 0.2, 0.4, 0.9], "blue")]
    lines = framed_line_chart(series, 40, 6, "turn").plain.split("\n")
    assert len(lines) == 8 and all(len(line) == 40 for line in lines)
    assert lines[0].startswith("1.0 ┤") and lines[5].startswith("0.0 ┤")
    assert lines[-1].rstrip().endswith("3") and "turn" in lines[-1]
    spark = sparkline([None, 0.0, 1.0], 10, "cyan")
    assert isinstance(spark, Text) and spark.plain == " ▁█" and spark.style == "cyan"
    assert len(sparkline([0.5] * 300, 24).plain) == 24


# ------------------------------------------------------------------ screen


async def test_shows_end_states_emoji_and_tables(folder: Path) -> None:
    expected = build_report(folder)
    app = report_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        text = screen_text(app)
    assert "5 conversation(s)" in text
    for row in expected.end_states:
        line = line_with(text, f" {row['label']} ")
        assert f"{row['count']}  {row['pct']:.1f}%" in line
        assert "█" in line
    assert expected.emoji["top"][0][0] in line_with(text, "top ")
    assert f"max {expected.emoji['max']:g}" in text
    for needle in ("turn similarity", "┤", "topic words", "tomatoes", "forbidden_exit",
                   "by model", "scripted/bye ↔ scripted/party", "run-0004.jsonl",
                   "substantive turns", "onset turn"):
        assert needle in text
    assert "problem" not in text.lower()


async def test_broken_files_are_listed_beside_the_report(folder: Path) -> None:
    (folder / "zz-broken.jsonl").write_text('{"type": "session_start", oops\n')
    app = report_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        text = screen_text(app)
    assert "5 conversation(s) · 1 problem(s)" in text
    assert "zz-broken.jsonl:1: not valid JSON" in text


async def test_empty_broken_and_missing_folders_say_why(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bad.jsonl").write_text("not json at all\n")
    for directory, needles in (
        (empty, ["No readable session files in", "attractor-tui batch"]),
        (broken, ["No readable session files in", "bad.jsonl:1"]),
        (tmp_path / "missing", ["missing is not a folder"]),
    ):
        app = report_app(directory)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await loaded(pilot)
            text = screen_text(app)
            for needle in needles:
                assert needle in text
            assert screen.report is None or not screen.report.sessions
            await pilot.press("e")  # nothing to export: nothing is written
            await settle(pilot)
            assert not any(p.exists() for p in export_targets(directory).values())


async def test_export_writes_md_and_html_beside_the_folder(folder: Path) -> None:
    targets = export_targets(folder)
    assert targets["md"] == folder.parent / "runs-report.md"
    app = report_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: all(p.exists() for p in targets.values()))
        await wait_until(pilot, lambda: any(
            str(targets["html"]) in n.message for n in app._notifications))  # noqa: SLF001
    assert targets["md"].read_text().startswith("# Attractor report")
    assert "<svg" in targets["html"].read_text()
    assert not list(folder.glob("*.md"))  # the session folder itself is left alone


async def test_reload_picks_up_new_files_and_escape_leaves(folder: Path) -> None:
    app = report_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert "5 conversation(s)" in screen_text(app)
        await make_batch(folder, runs=7)  # a rerun adds run-0005 and run-0006
        await pilot.press("r")
        await loaded(pilot)
        assert "7 conversation(s)" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
    assert app.return_code == 0 and app.result is None


async def test_builds_in_a_thread_while_the_ui_responds(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def slow_build(directory: Path, **options: Any) -> Report:
        assert threading.current_thread() is not threading.main_thread()
        release.wait(10)
        return build_report(directory, **options)

    monkeypatch.setattr(report_screen, "build_report", slow_build)
    app = report_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        screen = report_of(app)
        await wait_until(pilot, lambda: "Analysing 5 session file(s)" in screen_text(app))
        assert screen.loading_report and screen.query_one(LoadingIndicator).display
        await pilot.press("question_mark")  # the UI still answers keys meanwhile
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "Export md+html" in screen_text(app)  # the report's keys are listed
        await pilot.press("escape")
        release.set()
        await loaded(pilot)
        assert not screen.query_one(LoadingIndicator).display
        assert "goodbye_loop" in screen_text(app)


async def test_a_failing_build_is_reported_not_raised(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_build(directory: Path, **options: Any) -> Report:
        raise ValueError("analysis exploded")

    monkeypatch.setattr(report_screen, "build_report", broken_build)
    app = report_app(folder)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        assert "could not build the report: ValueError: analysis exploded" in screen_text(app)


async def test_model_text_is_sanitised(tmp_path: Path) -> None:
    hostile = "evil\x1b[31m[bold]x[/bold]"
    cfg = SessionConfig(a=SideConfig(model=hostile), b=SideConfig(model="scripted/b"))
    async with SessionWriter(tmp_path / "s.jsonl") as writer:
        await writer.write(SessionStart(session_id="h", config=cfg))
        for i in range(6):
            await writer.write(Turn(index=i, round=i // 2, side="AB"[i % 2], model="m",
                                    text="tomatoes \x1b]0;pwned\x07 basil 🎉"))
        await writer.write(SessionEnd(reason="turns"))
    app = report_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        text = screen_text(app)
    assert "evil␛[31m[bold]x[/bold]" in text  # shown, inert, markup not parsed
    assert "\x1b" not in text and "\x07" not in text


async def test_an_already_built_report_shows_at_once(folder: Path) -> None:
    from attractor_tui.ui.standalone import ToolApp

    report = build_report(folder)
    app = ToolApp(lambda: ReportScreen(report))
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert screen.report is report and "5 conversation(s)" in screen_text(app)


async def test_browser_R_opens_the_report_of_its_folder(folder: Path) -> None:
    app = browser_app(folder, labels=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        browser = app.screen
        assert isinstance(browser, BrowserScreen)
        await pilot.press("R")
        screen = await loaded(pilot)
        assert screen.directory == folder and "goodbye_loop" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is browser


def test_cli_report_tui(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    from attractor_tui import cli
    from attractor_tui.ui import standalone

    seen: list[tuple[Path, dict[str, Any]]] = []
    monkeypatch.setattr(standalone, "run_report", lambda d, **kw: seen.append((d, kw)) or 0)
    assert cli.main(["report", str(tmp_path), "--format", "tui"]) == 0
    assert seen == [(tmp_path, {"exclude_interjected": False})]
    other = tmp_path / "other"
    assert cli.main(["report", str(tmp_path), str(other), "--compare", "-f", "tui"]) == 0
    assert seen[-1] == (tmp_path, {"compare": [tmp_path, other], "exclude_interjected": False})
    assert cli.main(["report", str(tmp_path), "-f", "tui", "-o", "x.md"]) == 2
    assert "--format tui" in capsys.readouterr().err
    assert "tui = an interactive report screen" in _report_help()


def _report_help() -> str:
    from attractor_tui.cli.parser import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")  # noqa: SLF001
    return sub.choices["report"].format_help()  # type: ignore[attr-defined]


def test_run_report_refuses_a_missing_folder(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run_report(tmp_path / "nope") == 2  # a user error, as everywhere
    assert "is not a folder" in capsys.readouterr().err


# ---------------------------------------------------------------- snapshot


def test_report_screen_snapshot(snap_compare, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic: scripted runs, a relative folder name, nothing timed on screen."""
    monkeypatch.chdir(tmp_path)
    asyncio.run(make_batch(Path("runs")))
    (Path("runs") / "zz-broken.jsonl").write_text('{"type": "session_start", oops\n')

    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)

    assert snap_compare(report_app(Path("runs")), terminal_size=(120, 48),
                        run_before=run_before)


# -------------------------------------------------------------- comparison


def test_stacked_bar_fills_its_width_by_share() -> None:
    from attractor_tui.ui.widgets.charts import stacked_bar

    text = stacked_bar([("a", 7, "red"), ("b", 3, "blue"), ("c", 0, "green")], 20)
    assert text.plain == "█" * 14 + "▓" * 6
    assert [(s.start, s.end, s.style) for s in text.spans] == [(0, 14, "red"), (14, 20, "blue")]
    assert stacked_bar([("a", 1, "red"), ("b", 99, "blue")], 10).spans[0].end == 1  # visible
    assert stacked_bar([], 5).plain == "·" * 5


async def test_comparison_screen_and_export(tmp_path: Path) -> None:
    from tests.experiments.test_compare import folder as known

    first = known(tmp_path / "tools", short=7, emoji=3, tools=2)
    second = known(tmp_path / "none", short=2, emoji=8)
    app = report_app(first, compare=[first, second])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await settle(pilot)
        text = screen_text(app)
        assert "Attractor comparison" in text and "end states by condition" in text
        row = line_with(text, "7 (70%)")
        assert "too_short" in row
        assert "7 (70%) 39.7–89.2%" in row and "2 (20%) 5.7–51%" in row
        assert "0.0698" in row and "0.14" in row
        assert "mann-whitney" in text and "end_conversation" in text
        await pilot.press("e")
        await wait_until(pilot, lambda: (tmp_path / "tools-compare.html").exists())
    assert "End states by condition" in (tmp_path / "tools-compare.html").read_text("utf-8")
    assert (tmp_path / "tools-compare.md").read_text("utf-8").startswith(
        "# Attractor comparison: tools vs none")
