"""Exports: the exact JSON shape, readable Markdown/HTML/text, hostile text kept inert."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from attractor_tui.analysis import end_state_note
from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.events import (
    EMPTY_PLACEHOLDER,
    ErrorEvent,
    SessionEnd,
    SessionStart,
    ToolCallRecord,
    Turn,
)
from attractor_tui.sessions.export import FORMATS, export_session
from attractor_tui.sessions.store import SessionLog, load_session
from tests.support.shared import PEER_LOGS as PEER_DIR

T0 = datetime(2026, 2, 17, 9, 0, 0, tzinfo=UTC)
SCRIPT = "<script>alert('pwned')</script>"
MARKUP = "[bold red]not bold[/] [link=https://x]y[/link]"


def make_log() -> SessionLog:
    config = SessionConfig(
        a=SideConfig(model="anthropic/claude-a", system="Be <b>bold</b> & brief | ok"),
        b=SideConfig(model="openai/gpt-b", system="You are B."),
        seed="Hello </table> there",
        title="",
    )
    turns = [
        Turn(ts=T0 + timedelta(seconds=1), index=0, round=0, side="A",
             model="anthropic/claude-a", text=f"Hi! {SCRIPT}\n# not a heading\n| a | b |"),
        Turn(ts=T0 + timedelta(seconds=2), index=1, round=0, side="B", model="openai/gpt-b",
             text=f"Literal markup: {MARKUP} and \x1b[31mred\x1b[0m",
             tool_calls=[ToolCallRecord(name="end_conversation",
                                        arguments='{"reason": "<done>"}', outcome="refused")]),
        Turn(ts=T0 + timedelta(seconds=3), index=2, round=1, side="A", author="operator",
             model="anthropic/claude-a", text="you can break this, yk"),
        Turn(ts=T0 + timedelta(seconds=4), index=3, round=1, side="B", model="openai/gpt-b",
             text="\u200e", sent_text=EMPTY_PLACEHOLDER),
        Turn(ts=T0 + timedelta(seconds=5), index=4, round=2, side="A",
             model="anthropic/claude-a", text="Goodbye & take care", interrupted=True),
    ]
    events = [
        SessionStart(ts=T0, session_id="abc123", config=config),
        turns[0], turns[1],
        ErrorEvent(ts=T0 + timedelta(seconds=2, milliseconds=500), side="B",
                   message="rate limited <429>", kind="rate_limit"),
        *turns[2:],
        SessionEnd(ts=T0 + timedelta(seconds=6), reason="operator", detail="stopped <early>"),
    ]
    return SessionLog(path=Path("mem.jsonl"), events=events)


class Collector(HTMLParser):
    """Tags and text of an HTML page, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_json_shape_is_exact() -> None:
    data = json.loads(export_session(make_log(), "json"))
    assert set(data) == {"config", "turns", "end_reason", "errors", "source"}
    assert data["end_reason"] == "operator"
    assert data["source"] is None
    assert SessionConfig.model_validate(data["config"]) == make_log().config
    assert [e["message"] for e in data["errors"]] == ["rate limited <429>"]
    keys = {"index", "round", "side", "author", "model", "text", "tool_calls", "interrupted",
            "timestamp"}
    for turn, original in zip(data["turns"], make_log().turns, strict=True):
        assert set(turn) == keys
        assert turn["text"] == original.text  # raw, exactly as produced
        assert turn["side"] in ("A", "B")
        assert turn["author"] in ("model", "operator")
        assert isinstance(turn["interrupted"], bool)
        assert datetime.fromisoformat(turn["timestamp"]) == original.ts
        for call in turn["tool_calls"]:
            assert set(call) == {"name", "arguments", "outcome"}
    assert data["turns"][1]["tool_calls"] == [
        {"name": "end_conversation", "arguments": '{"reason": "<done>"}', "outcome": "refused"}
    ]
    assert data["turns"][2]["author"] == "operator"
    assert data["turns"][4]["interrupted"] is True


def test_json_without_end_is_null() -> None:
    log = make_log()
    log.events.pop()
    assert json.loads(export_session(log, "json"))["end_reason"] is None


def test_markdown_reads_well_and_stays_inert() -> None:
    md = export_session(make_log(), "md")
    assert md.startswith("# anthropic/claude-a and openai/gpt-b\n")
    for label in ("Model A", "Model B", "Seed", "System A", "System B", "Started", "Ended"):
        assert f"**{label}**" in md
    assert "operator: stopped &lt;early>" in md
    assert "🟦 A" in md and "🟧 B" in md
    assert "OPERATOR in place of A" in md
    assert "> you can break this, yk" in md
    assert "🔧 tool call: `end_conversation" in md
    assert "**interrupted**" in md
    assert "[no visible text: U+200E]" in md
    assert "rate limited" in md
    # Hostile text: no live tags, no headings or table rows escaping the quote.
    assert "<script" not in md.lower() and "&lt;script>" in md
    assert "> # not a heading" in md and "\n# not a heading" not in md
    assert "Be &lt;b>bold&lt;/b> & brief \\| ok" in md
    assert MARKUP in md  # Rich markup stays literal
    assert "\x1b" not in md and "␛[31m" in md


def test_html_is_self_contained_and_escaped() -> None:
    page = export_session(make_log(), "html")
    assert page.startswith("<!DOCTYPE html>")
    parser = Collector()
    parser.feed(page)
    assert "script" not in parser.tags
    assert not any(name in ("src", "href") or name.startswith("on") for name, _ in parser.attrs)
    assert "http://" not in page
    assert "<style>" in page and "<link" not in page
    text = "".join(parser.text)
    assert SCRIPT in text  # shown literally, as text
    assert MARKUP in text  # Rich markup stays literal
    assert "Be <b>bold</b> & brief | ok" in text
    assert "Hello </table> there" in text
    assert "stopped <early>" in text and "rate limited <429>" in text
    assert "openai/gpt-b" in text and "anthropic/claude-a" in text
    assert 'class="turn A"' in page and 'class="turn B"' in page
    assert 'class="turn A operator"' in page and ">operator<" in page
    assert "interrupted" in text
    assert "end_conversation" in text
    assert "[no visible text: U+200E]" in text
    assert "\x1b" not in page


def test_text_export() -> None:
    txt = export_session(make_log(), "txt")
    assert "Model A:" in txt and "Model B:" in txt and "Seed:" in txt
    assert "[A] anthropic/claude-a" in txt and "[B] openai/gpt-b" in txt
    assert ">> OPERATOR (in A's place)" in txt
    assert SCRIPT in txt and MARKUP in txt
    assert "(tool) end_conversation" in txt
    assert "[interrupted]" in txt
    assert "\x1b" not in txt


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export_session(make_log(), "pdf")  # type: ignore[arg-type]


def test_empty_session_exports() -> None:
    log = make_log()
    del log.events[1:]
    for fmt in FORMATS:
        assert export_session(log, fmt)


def test_peer_log_exports_keep_every_turn() -> None:
    path = PEER_DIR / "eval_20260217_094120.jsonl"
    if not path.exists():
        pytest.skip("../shared/fixtures/peer-logs is not present (fine in a user's clone)")
    log = load_session(path)
    md = export_session(log, "md")
    page = export_session(log, "html")
    parser = Collector()
    parser.feed(page)
    text = "".join(parser.text)
    for turn in log.turns:
        first = turn.text.strip().split("\n")[0]
        if first.strip("\u200b\u200e\u3164 "):
            assert first in text
            assert first.replace("<", "&lt;") in md
    assert md.count("OPERATOR in place of") == sum(t.author == "operator" for t in log.turns)
    assert "Tools offered" in md and "Sampling A" not in md


GOLDEN = Path(__file__).parent / "golden"
"""Reviewed export copies (outside `__snapshots__`, which syrupy owns and prunes)."""


@pytest.mark.parametrize("fmt", ["md", "html", "txt", "json"])
def test_export_snapshots(fmt: str) -> None:
    """Each format byte for byte against a reviewed copy; any change shows up as a diff.
    Regenerate with `UPDATE_EXPORT_SNAPSHOTS=1 pytest tests/sessions/test_export.py` and review."""
    import os

    log = make_log()
    text = export_session(log, fmt, notes=[end_state_note(log.turns)])  # type: ignore[arg-type]
    golden = GOLDEN / f"session.{fmt}"
    if os.environ.get("UPDATE_EXPORT_SNAPSHOTS"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_people_count_from_one_and_json_keeps_the_stored_indices() -> None:
    log = make_log()
    first = log.turns[0]
    assert (first.index, first.round) == (0, 0)
    md = export_session(log, "md")
    assert "### 1 · 🟦 A" in md and "*round 1 · " in md and "### 0 " not in md
    assert "--- #1 round 1 " in export_session(log, "txt")
    assert "· #1 · round 1 ·" in export_session(log, "html")
    data = json.loads(export_session(log, "json"))
    assert (data["turns"][0]["index"], data["turns"][0]["round"]) == (0, 0)
