"""What a user reads when things go wrong: the real commands, the hostile server, real files.

Issue 13, items 2, 7 and 8: a split emoji no longer crashes `run --headless`, a
stored lone surrogate no longer stops `export`, `analyze` or `fork`, litellm's
jargon gives way to plain words naming the host, `import` of an empty folder
says so, and only a newer schema version asks for an upgrade.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from attractor_tui.cli.parser import main
from attractor_tui.core.text import SURROGATE_MARK
from attractor_tui.sessions.store import load_session
from tests.support.hostile_server import SPLIT_TEXT, HostileServer


@contextlib.contextmanager
def captured() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        yield buffer


def headless(out: Path, model: str, api_base: str) -> tuple[int, str]:
    with captured() as buffer:
        code = main(["run", "--headless", "--turns", "1", "--model-a", model,
                     "--model-b", "scripted/echo", "--api-base", api_base, "--retries", "0",
                     "--out", str(out)])
    return code, buffer.getvalue()


def session_file(out: Path) -> Path:
    [path] = out.glob("*.jsonl")
    return path


# ---------------------------------------------------------------- headless


def test_headless_joins_a_split_emoji(tmp_path: Path, hostile: HostileServer) -> None:
    code, out = headless(tmp_path, "openai/split-surrogate", hostile.api_base)
    assert code == 0, out
    assert SPLIT_TEXT in out and "Traceback" not in out
    log = load_session(session_file(tmp_path))
    assert [t.text for t in log.turns] == [SPLIT_TEXT, f"echo 0: {SPLIT_TEXT}"]


def test_a_cut_stream_reads_plainly(tmp_path: Path, hostile: HostileServer) -> None:
    code, out = headless(tmp_path, "openai/cut-stream", hostile.api_base)
    assert code == 1
    assert f"the connection to 127.0.0.1:{hostile.port} closed mid-reply" in out
    for jargon in ("APIConnectionError", "OpenAIException", "payload", "MidStreamFallback"):
        assert jargon not in out


def test_cannot_reach_names_the_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-dummy")
    code, out = headless(tmp_path, "openai/x", "http://127.0.0.1:9/v1")
    assert code == 1 and "cannot reach 127.0.0.1:9" in out


def test_a_rate_limit_out_of_retries_ends_without_promising_one(
    tmp_path: Path, hostile: HostileServer
) -> None:
    code, out = headless(tmp_path, "openai/retry-after:0", hostile.api_base)
    assert code == 1
    assert "session ended: error (rate limited; retries used up)" in out
    end = load_session(session_file(tmp_path)).end
    assert end is not None and end.detail == "rate limited; retries used up"


# ------------------------------------------------------------ stored files


def lone_surrogate_file(tmp_path: Path) -> Path:
    """A real session whose turn texts hold a lone `\\ud800` escape, as another tool wrote it."""
    with captured():
        assert main(["run", "--headless", "--turns", "1", "--model", "scripted/echo",
                     "--out", str(tmp_path / "made")]) == 0
    source = session_file(tmp_path / "made")
    lines = []
    for line in source.read_text().splitlines():
        event = json.loads(line)
        if event["type"] == "turn":
            event["text"] = "half \ud800 of it"
        lines.append(json.dumps(event))  # ensure_ascii: the file holds the `\ud800` escape
    path = tmp_path / "lone.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "\\ud800" in path.read_text()
    return path


def test_a_lone_surrogate_file_exports_analyzes_and_forks(tmp_path: Path) -> None:
    path = lone_surrogate_file(tmp_path)
    for argv in (["export", str(path), "-f", "md"], ["export", str(path), "-f", "txt"],
                 ["export", str(path), "-f", "html"], ["export", str(path), "-f", "json"],
                 ["analyze", str(path)], ["analyze", "--json", str(path)],
                 ["resume", str(path), "--headless", "--turns", "1"]):
        with captured() as out:
            assert main(argv) == 0, (argv, out.getvalue())
        assert "Traceback" not in out.getvalue()
    with captured() as out:
        assert main(["fork", str(path), "--at", "2", "--out", str(tmp_path / "fork"),
                     "--no-run"]) == 0, out.getvalue()
    forked = load_session(session_file(tmp_path / "fork"))
    assert [t.text for t in forked.turns] == [f"half {SURROGATE_MARK} of it"] * 2
    resumed = load_session(path)  # the resume appended the echo of a lone half: as a mark
    assert resumed.turns[-1].text.endswith(f"half {SURROGATE_MARK} of it")
    assert resumed.end is not None and resumed.end.reason == "turns"


@pytest.mark.parametrize(("version", "expected"), [
    (0, "not a valid attractor-tui session (schema_version 0)"),
    ("1", "not a valid attractor-tui session (schema_version '1')"),
    (None, "not a valid attractor-tui session (schema_version missing)"),
    (True, "not a valid attractor-tui session (schema_version True)"),
    (99, "unknown schema version 99 (this attractor-tui reads version 1); upgrade "
         "attractor-tui to open it"),
])
def test_only_a_newer_schema_asks_for_an_upgrade(tmp_path: Path, version: object,
                                                 expected: str) -> None:
    header = {"type": "session_start", "session_id": "x",
              "config": {"a": {"model": "scripted/echo"}, "b": {"model": "scripted/echo"}}}
    if version is not None:
        header["schema_version"] = version
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(header) + "\n", encoding="utf-8")
    with captured() as out:
        assert main(["export", str(path)]) != 0
    assert expected in out.getvalue()
    assert ("upgrade" in out.getvalue()) == (version == 99)


def test_import_of_an_empty_folder_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with captured() as out:
        code = main(["import", str(empty), "--out", str(tmp_path / "out")])
    assert code == 1
    assert out.getvalue().strip() == f"no session files found in {empty}"
