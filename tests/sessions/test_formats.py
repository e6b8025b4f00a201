"""The format registry: detection, loading, browser summaries, and adding a format.

Every file here is small and synthetic, written in tmp_path.
"""

from __future__ import annotations

import ast
import json
from datetime import timedelta
from pathlib import Path

import pytest

import attractor_tui.sessions as sessions_pkg
from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.events import (
    PersistedEvent,
    SessionEnd,
    SessionStart,
    Turn,
)
from attractor_tui.sessions import formats
from attractor_tui.sessions.formats import native, peer_logs
from attractor_tui.sessions.index import SessionIndex, read_summary
from attractor_tui.sessions.store import SessionFileError, dump_event, load_session
from tests.support.formats import T0, TwoChats, chats_file


def native_file(path: Path, turns: int = 3, *, seed: str = "Hello", system: str = "",
                end: str | None = "turns") -> Path:
    config = SessionConfig(a=SideConfig(model="m/a", system=system), b=SideConfig(model="m/b"),
                           seed=seed)
    events: list[PersistedEvent] = [SessionStart(ts=T0, session_id="n" * 32, config=config)]
    for i in range(turns):
        events.append(Turn(ts=T0 + timedelta(seconds=i + 1), index=i, round=i // 2,
                           side="A" if i % 2 == 0 else "B", text=f"reply {i}"))
    if end:
        events.append(SessionEnd(reason=end))
    path.write_text("".join(dump_event(e) + "\n" for e in events), encoding="utf-8")
    return path


def peer_file(path: Path, replies: int = 3, tail: str = "") -> Path:
    lines = [json.dumps({"type": "config", "timestamp": "2026-02-17T09:38:23+00:00",
                         "seed": "Hi", "model_a": "p/a", "model_b": "p/b"})]
    for n in range(replies):
        lines.append(json.dumps({
            "type": "turn", "timestamp": f"2026-02-17T09:39:{n:02d}+00:00", "turn": n // 2,
            "label": "Model A" if n % 2 == 0 else "Model B", "model": "p/x",
            "response": f"peer reply {n}", "tool_attempts": [], "interjected": False,
        }))
    path.write_text("\n".join(lines) + "\n" + tail, encoding="utf-8")
    return path


def head_of(path: Path) -> str:
    return path.read_bytes()[: formats.HEAD_BYTES].decode("utf-8", "replace")


# ------------------------------------------------------------------ detection


def test_detection_picks_the_format_of_each_file(tmp_path: Path) -> None:
    ours = native_file(tmp_path / "ours.jsonl")
    # Our seed mentions a peer record; the header is still ours.
    tricky = native_file(tmp_path / "tricky.jsonl", seed='{"type": "config"} as text')
    peer = peer_file(tmp_path / "peer.jsonl")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n", encoding="utf-8")
    assert formats.detect(ours, head_of(ours)) is native
    assert formats.detect(tricky, head_of(tricky)) is native
    assert formats.detect(peer, head_of(peer)) is peer_logs
    assert formats.detect(notes, head_of(notes)) is None

    assert load_session(ours).start.source is None
    assert load_session(peer).start.source == "peer-log:peer.jsonl"
    assert [t.text for t in load_session(peer).turns] == [f"peer reply {n}" for n in range(3)]


def test_a_header_longer_than_the_sniffed_head_is_still_recognised(tmp_path: Path) -> None:
    path = native_file(tmp_path / "long.jsonl", system="be brief. " * 5000)  # ~50 KB line 1
    assert len(path.read_text().split("\n")[0]) > formats.HEAD_BYTES
    assert formats.detect(path, head_of(path)) is native
    assert len(load_session(path).turns) == 3
    assert read_summary(path).turns == 3 and not read_summary(path).broken


def test_an_unknown_file_is_named_in_a_clear_error(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Dear diary,\nno sessions here.\n", encoding="utf-8")
    with pytest.raises(SessionFileError) as info:
        load_session(notes)
    message = str(info.value)
    assert message.startswith(f"{notes}: not a session file attractor-tui can read")
    assert native.title in message and peer_logs.title in message
    assert info.value.path == notes


def test_an_unrecognised_jsonl_gets_our_loaders_precise_error(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text('{"type": "turn"}\n', encoding="utf-8")
    with pytest.raises(SessionFileError, match=r"odd\.jsonl:1: first line is not a session_start"):
        load_session(path)


# ------------------------------------------------------------------ summaries


def test_summary_of_our_format(tmp_path: Path) -> None:
    summary = read_summary(native_file(tmp_path / "ours.jsonl", turns=5, end="operator"))
    assert (summary.model_a, summary.model_b, summary.turns) == ("m/a", "m/b", 5)
    assert summary.end_reason == "operator" and not summary.foreign and not summary.broken
    assert summary.when == T0
    assert read_summary(native_file(tmp_path / "open.jsonl", end=None)).end_reason is None


def test_summary_of_a_peer_log(tmp_path: Path) -> None:
    summary = read_summary(peer_file(tmp_path / "peer.jsonl", replies=5))
    assert summary.foreign and summary.source == "peer-log:peer.jsonl"
    assert (summary.model_a, summary.model_b, summary.turns) == ("p/a", "p/b", 5)
    assert summary.end_reason == "imported"
    crashed = peer_file(tmp_path / "crashed.jsonl", replies=2, tail=(
        "Traceback (most recent call last):\n  File \"x.py\", line 1\nRuntimeError: boom\n"))
    summary = read_summary(crashed)
    assert (summary.end_reason, summary.end_detail) == ("error", "RuntimeError: boom")
    assert summary.turns == 2
    log = load_session(crashed)  # the summary agrees with the full load
    assert log.end is not None and (log.end.reason, len(log.turns)) == ("error", 2)


def test_summary_of_an_unknown_file_says_why(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n", encoding="utf-8")
    summary = formats.summarise(notes)
    assert summary.broken and (summary.error or "").startswith("not a session file")
    assert str(notes) not in (summary.error or "")  # the browser shows the name already


def test_index_lists_every_format_in_a_folder(tmp_path: Path) -> None:
    native_file(tmp_path / "ours.jsonl")
    peer_file(tmp_path / "peer.jsonl")
    (tmp_path / "notes.txt").write_text("not listed\n", encoding="utf-8")
    index = SessionIndex(tmp_path)
    by_name = {s.name: s for s in index.refresh()}
    assert set(by_name) == {"ours.jsonl", "peer.jsonl"}
    assert by_name["peer.jsonl"].foreign and not by_name["ours.jsonl"].foreign


# ------------------------------------------------------------- a new format


@pytest.fixture
def with_chats(monkeypatch: pytest.MonkeyPatch) -> TwoChats:
    fmt = TwoChats()
    monkeypatch.setattr(formats, "FORMATS", [*formats.FORMATS, fmt])
    return fmt


def test_a_registered_format_is_used_by_load_session(tmp_path: Path, with_chats: TwoChats
                                                    ) -> None:
    path = chats_file(tmp_path / "one.chats", "A: hi\nB: hello\nA: bye\n")
    log = load_session(path)
    assert [(t.side, t.text) for t in log.turns] == [("A", "hi"), ("B", "hello"), ("A", "bye")]
    assert log.start.source == "chats:one.chats"
    assert formats.detect(path, head_of(path)) is with_chats


def test_without_registration_the_same_file_is_unknown(tmp_path: Path) -> None:
    path = chats_file(tmp_path / "one.chats", "A: hi\n")
    with pytest.raises(SessionFileError, match="not a session file"):
        load_session(path)


def test_a_file_with_several_conversations(tmp_path: Path, with_chats: TwoChats) -> None:
    path = chats_file(tmp_path / "two.chats", "A: hi\nB: hello\n", "A: again\n")
    logs = formats.load(path)
    assert [[t.text for t in log.turns] for log in logs] == [["hi", "hello"], ["again"]]
    with pytest.raises(SessionFileError, match=r"two\.chats: holds 2 conversations"):
        load_session(path)
    # The browser lists it (by its suffix) with the format's own summary.
    [summary] = SessionIndex(tmp_path).refresh()
    assert (summary.name, summary.turns, summary.foreign) == ("two.chats", 3, True)
    # Import writes one session file per conversation, in our format.
    reports = formats.import_files([tmp_path], tmp_path / "out")
    assert [r.turns for r in reports] == [2, 1] and all(r.ok for r in reports)
    assert [[t.text for t in load_session(r.target).turns] for r in reports if r.target] == [
        ["hi", "hello"], ["again"]]


# ----------------------------------------------------------------- structure


def _imports(path: Path, package: str) -> set[str]:
    """Every attractor_tui.sessions module `path` imports, at any depth in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith(package)}


def test_the_sessions_layer_has_no_import_cycle() -> None:
    root = Path(sessions_pkg.__file__).parent
    package = "attractor_tui.sessions"
    modules: dict[str, Path] = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join((package, *parts)).removesuffix(".__init__")
        modules[name] = path
    # A package importing its own submodules is fine; a module importing one
    # that (through any chain) imports it back is the cycle to avoid.
    graph = {name: _imports(path, package) & set(modules) - {name}
             for name, path in modules.items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(name for name in graph if reaches(name, name, {name}))
    assert cycles == []


class ClashingChats(TwoChats):
    """Gives every conversation the same start time and id prefix (so the same target)."""

    @staticmethod
    def session_id(number: int) -> str:
        return "c" * 31 + str(number)


def test_import_never_overwrites_one_conversation_with_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "FORMATS", [*formats.FORMATS, ClashingChats()])
    path = chats_file(tmp_path / "two.chats", "A: first\n", "A: second\n")
    first, second = formats.import_files([path], tmp_path / "out")
    assert first.ok and first.target is not None
    assert not second.ok and "already written" in (second.error or "")
    assert [t.text for t in load_session(first.target).turns] == ["first"]
