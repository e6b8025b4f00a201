"""`report --compare`: folders of sessions with known end states, checked against
values computed by hand (Wilson) or once with scipy (Fisher, Freeman-Halton).

Two end states no classifier version disputes: `too_short` (two turns) and
`emoji_spiral` (a dozen turns of varied emoji runs, never the same message twice).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from attractor_tui.cli import main
from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.events import SessionEnd, SessionStart, ToolCallRecord, Turn
from attractor_tui.experiments.report import (
    compare_command,
    compare_folders,
    conditions_of,
    render_compare,
)
from attractor_tui.experiments.report.build import ReportError
from attractor_tui.experiments.stats import mann_whitney
from attractor_tui.sessions.store import dump_event
from tests.support.builders import T0

POOL = "🎉✨🌟🙏💫🌈🔥💖🌸🎶"
TOOL = ToolCallRecord(name="end_conversation", offset=0, arguments="{}", outcome="denied",
                      result="refused")


def emoji_turn(i: int) -> str:
    return "".join(POOL[(i * 3 + k) % len(POOL)] for k in range(5 + i % 3))


def write(path: Path, kind: str, *, tool: bool = False, operator: bool = False) -> None:
    """One session: `short` (two plain turns) or `emoji` (12 varied emoji turns)."""
    config = SessionConfig(a=SideConfig(model="scripted/x"), b=SideConfig(model="scripted/x"))
    events: list[Any] = [SessionStart(ts=T0, session_id=path.stem.ljust(32, "0"),
                                      config=config)]
    texts = (["Hello there, how are you today?", "Fine, thanks for asking, and you?"]
             if kind == "short" else [emoji_turn(i) for i in range(12)])
    for i, text in enumerate(texts):
        fields: dict[str, Any] = {}
        if tool and i == 1:
            fields["tool_calls"] = [TOOL]
        if operator and i == 1:
            fields["author"] = "operator"
        events.append(Turn(ts=T0, index=i, round=i // 2, side="AB"[i % 2], text=text, **fields))
    events.append(SessionEnd(ts=T0, reason="turns"))
    path.write_text("".join(dump_event(e) + "\n" for e in events), encoding="utf-8")


def folder(path: Path, short: int, emoji: int, tools: int = 0) -> Path:
    path.mkdir(parents=True)
    for i in range(short):
        write(path / f"run-{i:04d}.jsonl", "short", tool=i < tools)
    for i in range(short, short + emoji):
        write(path / f"run-{i:04d}.jsonl", "emoji")
    return path


@pytest.fixture
def two(tmp_path: Path) -> tuple[Path, Path]:
    return (folder(tmp_path / "tools", short=7, emoji=3, tools=2),
            folder(tmp_path / "none", short=2, emoji=8))


def test_two_conditions_counts_intervals_and_fisher(two: tuple[Path, Path]) -> None:
    comparison, reports = compare_folders(list(two))
    assert [c.name for c in comparison.conditions] == ["tools", "none"]
    assert [c.n for c in comparison.conditions] == [10, 10]
    assert [c.end_states for c in comparison.conditions] == [
        {"too_short": 7, "emoji_spiral": 3}, {"too_short": 2, "emoji_spiral": 8}]
    tests = {t.label: t for t in comparison.tests}
    short, spiral = tests["too_short"], tests["emoji_spiral"]
    assert short.counts == [7, 2] and short.pct == [70.0, 20.0]
    # Wilson by hand: 7/10 -> 1 - the interval of 3/10 (0.1078, 0.6032); 2/10 below
    assert short.intervals == [(39.7, 89.2), (5.7, 51.0)]
    assert spiral.intervals == [(10.8, 60.3), (49.0, 94.3)]
    # Fisher [[7, 3], [2, 8]] (scipy: 0.0697785187); both labels carry the same table
    assert short.test == "fisher"
    assert short.p_value == pytest.approx(0.0697785187, rel=1e-8)
    assert spiral.p_value == pytest.approx(0.0697785187, rel=1e-8)
    # Holm over two equal p-values: both become 2p
    assert short.p_adjusted == pytest.approx(0.1395570374, rel=1e-8)
    assert spiral.p_adjusted == pytest.approx(0.1395570374, rel=1e-8)
    # onsets: only the spirals settle; the test is Mann-Whitney on their 1-based turns
    onset = comparison.distributions[0]
    assert onset.name == "onset turn" and onset.test == "mann-whitney"
    assert onset.n == [3, 8]
    groups = [c.onset_turns for c in comparison.conditions]
    assert all(t >= 1 for g in groups for t in g)
    assert onset.p_value == pytest.approx(mann_whitney(*groups)[1])
    # tool calls: two conversations of the first condition, none in the second
    [tool] = comparison.tools
    assert tool["name"] == "end_conversation"
    first, second = tool["conditions"]
    assert (first["calls"], first["sessions"], first["session_pct"]) == (2, 2, 20.0)
    assert first["interval"] == (5.7, 51.0)
    assert (second["calls"], second["sessions"]) == (0, 0)
    assert reports[0].sessions and not comparison.problems


def test_three_conditions_use_the_exact_freeman_halton_test(
        two: tuple[Path, Path], tmp_path: Path) -> None:
    third = folder(tmp_path / "half", short=5, emoji=5)
    comparison, _ = compare_folders([*two, third])
    tests = {t.label: t for t in comparison.tests}
    assert tests["too_short"].test == "freeman-halton"
    # scipy's multivariate_hypergeom summed over every table with these margins
    assert tests["too_short"].p_value == pytest.approx(0.1061200050, rel=1e-8)
    assert comparison.distributions[0].test == "kruskal-wallis"
    assert comparison.overall["dof"] == 2


def test_json_markdown_and_html(two: tuple[Path, Path], tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert compare_command(list(two), "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["conditions"][0] | {"topics": None} == data["conditions"][0] | {
        "name": "tools", "n": 10, "end_states": {"too_short": 7, "emoji_spiral": 3},
        "topics": None}
    assert {"label", "p_value", "p_adjusted"} <= set(data["tests"][0])
    assert data["correction"] == "holm"
    comparison, _ = compare_folders(list(two))
    md = render_compare(comparison, "md")
    assert "| too_short | 7 (70%, 39.7–89.2%) | 2 (20%, 5.7–51%) | 0.0698 | 0.14 |" in md
    page = render_compare(comparison, "html")
    svgs = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert svgs and "End states by condition" in svgs[0]
    for svg in svgs:
        ET.fromstring(svg)
    assert "<script" not in page
    text = render_compare(comparison, "rich")
    assert "too_short" in text and "0.0698" in text


def test_a_vary_parent_gives_its_conditions_in_the_manifest_order(tmp_path: Path) -> None:
    parent = tmp_path / "study"
    folder(parent / "exit-costs", short=1, emoji=1)
    folder(parent / "none", short=1, emoji=1)
    (parent / "vary.json").write_text(json.dumps(
        {"key": "tool_pack", "values": ["none", "exit-costs"],
         "folders": ["none", "exit-costs"]}), encoding="utf-8")
    named, vary = conditions_of([parent])
    assert [n for n, _ in named] == ["tool_pack=none", "tool_pack=exit-costs"]
    assert vary is not None and vary["key"] == "tool_pack"
    with pytest.raises(ReportError, match="needs two or more"):
        conditions_of([parent / "none"])


def test_cli_compare_exclude_interjected_and_a_broken_file(
        two: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    write(two[0] / "run-0100.jsonl", "emoji", operator=True)
    (two[1] / "run-0200.jsonl").write_text("{not json\n", encoding="utf-8")
    code = main(["report", str(two[0]), str(two[1]), "--compare", "--exclude-interjected",
                 "-f", "json"])
    captured = capsys.readouterr()
    assert code == 1  # a file could not be read: said, and the rest still compared
    assert "run-0200.jsonl" in captured.err
    data = json.loads(captured.out)
    assert [c["n"] for c in data["conditions"]] == [10, 10]
    assert data["conditions"][0]["excluded"] == 1
    assert main(["report", str(two[0]), str(two[1])]) == 2  # several folders need --compare
    assert "--compare" in capsys.readouterr().err
