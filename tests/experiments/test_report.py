"""Batch reports over real session files made by the real engine (scripted models)."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.events import SessionEnd, SessionStart, Turn
from attractor_tui.experiments.batch import BatchSpec, run_batch
from attractor_tui.experiments.report import (
    build_report,
    histogram,
    render,
    render_report_rich,
    report_command,
    sparkline,
)
from attractor_tui.sessions import formats
from attractor_tui.sessions.store import SessionWriter
from tests.support.builders import GARDEN, scripted
from tests.support.builders import five_kinds as config
from tests.support.formats import TwoChats, chats_file
from tests.support.shared import PEER_LOGS, peer_logs


@pytest.fixture
async def folder(tmp_path: Path) -> Path:
    result = await run_batch(BatchSpec(out=tmp_path, runs=10, scenario=None, configs=config,
                                       concurrency=5, name="mix", engine_backoff=0))
    assert result.ok
    return tmp_path


async def test_report_aggregates_a_batch(folder: Path) -> None:
    report = build_report(folder)
    assert len(report.sessions) == 10 and not report.problems
    states = {r["label"]: r["count"] for r in report.end_states}
    assert sum(states.values()) == 10
    assert states["goodbye_loop"] >= 2 and states["emoji_spiral"] >= 2
    assert sum(r["pct"] for r in report.end_states) == pytest.approx(100, abs=0.5)
    # emoji: the two emoji-only pairs carry ~50 each, the mixed pair about half that
    emoji = report.emoji
    totals = sorted(s.emoji_total for s in report.sessions)
    assert emoji["max"] == totals[-1] and emoji["total"] == sum(totals)
    assert emoji["without_emoji"] == 6 and emoji["top"][0][0] in "🎉✨🌟🙏"
    assert sum(b["count"] for b in emoji["histogram"]) == 10
    # tools: forbidden_exit is called in the two tool conversations only
    tool = next(r for r in report.tools if r["name"] == "forbidden_exit")
    assert tool["sessions"] == 2 and tool["session_pct"] == 20.0
    assert tool["outcomes"] == {"denied": tool["calls"]} and tool["per_100_turns"] > 0
    # topics: the garden conversations share one topic
    garden = next(t for t in report.topics if "tomatoes" in t["keywords"])
    assert garden["sessions"] >= 4
    # models differ, so there is a breakdown, one row per pairing
    pairs = {r["models"]: r for r in report.models}
    assert "scripted/bye ↔ scripted/party" in pairs
    assert pairs["scripted/party"]["top_end_state"] == "emoji_spiral"
    # degradation: a goodbye loop settles at once; in the garden talk B says A's line back
    # every turn, an echo the fitted model calls a verbatim loop from its first copy
    by_file = {s.file: s for s in report.sessions}
    assert by_file["run-0000.jsonl"].onset_index == 0
    assert by_file["run-0000.jsonl"].substantive_before_onset == 0
    garden_run = by_file["run-0002.jsonl"]
    assert (garden_run.end_state, garden_run.onset_index) == ("verbatim_loop", 1)
    assert garden_run.substantive_before_onset == 1
    assert report.batch is not None and report.batch["spec"]["scenario"] == "mix"
    curve = report.similarity["mean"]
    assert curve[0] is None and all(0 <= v <= 1 for v in curve[1:])


async def test_html_is_self_contained_escaped_and_plots_are_valid_svg(folder: Path) -> None:
    hostile = "<script>alert(1)</script>"
    cfg = SessionConfig(a=SideConfig(model=f"evil/{hostile}"), b=SideConfig(model="x|y"))
    async with SessionWriter(folder / "zz-<img src=x onerror=alert(2)>.jsonl") as writer:
        await writer.write(SessionStart(session_id="h", config=cfg))
        for i in range(8):
            await writer.write(Turn(index=i, round=i // 2, side="AB"[i % 2], model="m",
                                    text=f"{hostile} tomatoes & <b>basil</b> 🎉"))
        await writer.write(SessionEnd(reason="turns"))
    page = render(build_report(folder), "html")
    assert "<script" not in page.lower() and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert not re.search(r'\b(src|href)=["\']?(https?:)?//', page)  # nothing external
    svgs = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    titles = [re.search(r"<title>(.*?)</title>", svg).group(1) for svg in svgs]  # type: ignore[union-attr]
    # end states, per-model stacked bar, (topics, once the classifier gives them), emoji,
    # similarity curves
    assert {"End states", "End states by model", "Conversations by emoji count",
            "Similarity to the other side&#x27;s previous turn"} <= set(titles)
    for svg in svgs:
        ET.fromstring(svg)  # well-formed XML, so every label was escaped
    markdown = render(build_report(folder), "md")
    assert "x\\|y" in markdown and "<script>" not in markdown


async def test_json_and_rich_renderings(folder: Path) -> None:
    report = build_report(folder)
    data = json.loads(render(report, "json"))
    assert {"end_states", "topics", "emoji", "substantive", "tools", "models",
            "similarity", "sessions"} <= set(data)
    assert data["sessions"][0]["file"] == "run-0000.jsonl" and data["sessions"][0]["models"]
    console = Console(record=True, width=100, file=io.StringIO())
    console.print(render_report_rich(report))
    text = console.export_text()
    for needle in ("end states", "goodbye_loop", "emoji per conversation", "turn similarity",
                   "forbidden_exit", "by model"):
        assert needle in text


async def test_rich_rendering_never_parses_model_text_as_markup(tmp_path: Path) -> None:
    cfg = SessionConfig(a=SideConfig(model="scripted/[bold red]x[/]"), b=scripted(GARDEN))
    async with SessionWriter(tmp_path / "s.jsonl") as writer:
        await writer.write(SessionStart(session_id="m", config=cfg))
        await writer.write(Turn(index=0, round=0, side="A", text="hi"))
    console = Console(record=True, width=120, file=io.StringIO())
    console.print(render_report_rich(build_report(tmp_path)))
    assert "scripted/[bold red]x[/]" in console.export_text()


async def test_report_command_writes_files_and_refuses_empty_folders(
    folder: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path_factory.mktemp("out")
    for fmt in ("md", "html", "json"):
        target = out / f"report.{fmt}"
        assert report_command(folder, fmt, target) == 0  # type: ignore[arg-type]
        assert target.stat().st_size > 500
    assert report_command(folder, "md", None) == 0
    assert capsys.readouterr().out.startswith("# Attractor report")
    empty = tmp_path_factory.mktemp("empty")
    assert report_command(empty, "md", None) == 1
    assert "no readable session files" in capsys.readouterr().err
    assert report_command(empty / "missing", "md", None) == 1


def test_report_on_the_peer_logs() -> None:
    peer_logs()
    report = build_report(PEER_LOGS)
    assert len(report.sessions) >= 8
    labels = {r["label"] for r in report.end_states}
    assert labels & {"goodbye_loop", "minimal_exchange", "meta_loop"}
    assert report.emoji["max"] > 100  # one run spirals into hundreds of emoji
    assert any("traceback" in p for p in report.problems)


def test_histogram_and_sparkline_edges() -> None:
    assert histogram([]) == [{"lo": 0, "hi": 0, "count": 0}]
    bins = histogram([0, 1, 2, 3, 25], max_bins=5)
    assert [b["lo"] for b in bins] == [0, 6, 12, 18, 24] and bins[0]["count"] == 4
    assert sparkline([None, 0.0, 0.5, 1.0]) == " ▁▅█"
    assert len(sparkline([0.5] * 500, width=40)) == 40


def test_report_reads_every_conversation_of_a_registered_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "FORMATS", [*formats.FORMATS, TwoChats()])
    chats_file(tmp_path / "two.chats", "A: hi\nB: hello\n", "A: goodbye\nB: bye\nA: farewell\n")
    (tmp_path / "notes.txt").write_text("not a session\n", encoding="utf-8")  # not picked up
    report = build_report(tmp_path)
    assert [(s.file, s.turns) for s in report.sessions] == [("two.chats#1", 2),
                                                             ("two.chats#2", 3)]
    assert report.problems == []


def test_shares_carry_wilson_intervals_and_operator_turns_are_marked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.experiments.test_compare import folder as known
    from tests.experiments.test_compare import write

    runs = known(tmp_path / "runs", short=3, emoji=7)
    write(runs / "zz-operator.jsonl", "emoji", operator=True)
    report = build_report(runs)
    rows = {r["label"]: r for r in report.end_states}
    assert (rows["emoji_spiral"]["count"], rows["emoji_spiral"]["pct"]) == (8, 72.7)
    # Wilson 8/11 by hand: (0.7273 + 0.1746) / 1.3492 -+ 1.96 * sqrt(0.01803 + 0.00794) / 1.3492
    assert (rows["emoji_spiral"]["lo"], rows["emoji_spiral"]["hi"]) == (43.4, 90.3)
    assert report.emoji["with_emoji"] == 8 and report.emoji["with_emoji_ci"] == [43.4, 90.3]
    assert report.interjected == 1 and report.topic_labels
    assert sum(r["count"] for r in report.topic_labels) == 11
    md = render(report, "md")
    assert "| emoji_spiral | 8 | 72.7% | 43.4–90.3% |" in md
    assert "zz-operator.jsonl [operator]" in md
    kept = build_report(runs, exclude_interjected=True)
    assert len(kept.sessions) == 10 and kept.excluded == 1 and kept.interjected == 0
    assert "1 conversation(s) with operator turns left out" in render(kept, "md")
    (runs / "zz-broken.jsonl").write_text("{oops\n", encoding="utf-8")
    assert report_command(runs, "md", None) == 1  # the report is written, the failure named
    out = capsys.readouterr()
    assert out.out.startswith("# Attractor report")
    assert out.err.count("zz-broken.jsonl") == 1


async def test_per_model_table_counts_a_mixed_pair_for_both(folder: Path) -> None:
    report = build_report(folder)
    per = {r["models"]: r for r in report.per_model}
    # five kinds x 2: bye alone (2), party alone (2), bye with party (2)
    assert per["scripted/bye"]["sessions"] == 4 and per["scripted/party"]["sessions"] == 4
    assert sum(per["scripted/party"]["end_state_pct"].values()) == pytest.approx(100)
    page = render(report, "html")
    assert "End states by model" in page and "<h2>By model pair</h2>" in page
