"""Hostile text through every output path: nothing a terminal would obey comes out.

Random text laced with escape sequences (CSI, OSC 52 clipboard writes, C1
CSI 0x9b, lone surrogates) goes in as a model's reply, a model name, a tool
call, a provider's error body (from a real HTTP server on 127.0.0.1), the
fields of a session file on disk, a file's name and a user preset; out come
the headless transcript, `export`, `analyze`, `import`, `scenarios`, the
error lines, batch's summary and the report. Each output must hold no ESC,
no C1, no other control but newline and tab, and no lone surrogate, and must
still *show* what was sent (its stand-ins appear), so a path that dropped
the text could not pass.

Live paths get no lone surrogates here (tests/core/test_streaming_faults.py
drives them through the engine); files on disk do carry them as JSON escapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import json
import os
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from attractor_tui.cli.headless import resume_headless, run_headless
from attractor_tui.cli.parser import main
from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.text import safe_line, safe_text
from attractor_tui.experiments.launch import batch_command
from attractor_tui.sessions.store import load_session
from tests.support.builders import scripted
from tests.support.hostile_server import HostileServer

LIVE_ESCAPES = [
    "\x1b[2J", "\x1b[H", "\x1b[31m", "\x1b]0;pwned\x07", "\x1b]52;c;U1Q=\x07",
    "\x1b]52;c;U1Q=\x1b\\", "\x1bP+q\x1b\\", "\x9b2J", "\x9d52;c;U1Q=\x9c", "\x85", "\x1b",
    "\x00", "\x07", "\x08", "\x7f", "\r", "\r\n", "\n",
]
SURROGATES = ["\ud83d", "\ude00", "\ud800", "\udfff"]


def hostile(pieces: list[str]) -> st.SearchStrategy[str]:
    plain = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\t"),
                    max_size=6)
    return st.lists(st.one_of(st.sampled_from(pieces), plain), min_size=1, max_size=8).map(
        lambda parts: "«" + "".join(parts) + "\x1b[2J»")  # always one ESC at least


LIVE = hostile(LIVE_ESCAPES)
ON_DISK = hostile(LIVE_ESCAPES + SURROGATES).map(lambda t: json.loads(json.dumps(t)))
"""As a JSON file holds it: a high and a low surrogate side by side read back as one emoji."""
SETTINGS = settings(max_examples=25, deadline=None)


def obeyable(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t"


def assert_inert(out: str, *sent: str, shown: Callable[[str], str] = safe_text) -> None:
    """No control a terminal acts on is in `out`, and each of `sent` shows through.

    "Shows through": the stand-in of each of its controls that survives any
    path's whitespace folding (ESC, C0/C1 other than whitespace, surrogates)
    appears, as `shown` renders it (HTML escapes `<9B>`).
    """
    bad = sorted({f"U+{ord(ch):04X}" for ch in out if obeyable(ch)})
    assert not bad, f"raw controls reached the output: {bad}"
    for text in sent:
        for ch in {c for c in text if obeyable(c) and not c.isspace()}:
            assert shown(ch) in out, f"{shown(ch)} of {safe_text(text)!r} not shown"


def _shown_in(fmt: str) -> Callable[[str], str]:
    """How a stand-in reads in `fmt`: HTML escapes the `<` of `<9B>`."""
    return (lambda ch: html.escape(safe_text(ch))) if fmt == "html" else safe_text


def plain_console() -> tuple[Console, io.StringIO]:
    """A console that adds no escapes of its own, wide enough not to wrap."""
    buffer = io.StringIO()
    return Console(file=buffer, width=10_000, color_system=None, force_terminal=False,
                   highlight=False), buffer


@contextlib.contextmanager
def captured() -> Iterator[io.StringIO]:
    """stdout and stderr of a `main` call, together."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        yield buffer


# ------------------------------------------------------------ hostile server
# `hostile_server` (tests/support/hostile_server.py, module scope): `error-escapes`
# answers 500 and `bad-request` 400, each with `message` as the error text.


# ------------------------------------------------------------------ headless


@SETTINGS
@given(reply=LIVE, model=LIVE, tool=LIVE, arguments=LIVE)
def test_headless_transcript_is_inert(tmp_path_factory: pytest.TempPathFactory, reply: str,
                                      model: str, tool: str, arguments: str) -> None:
    item = {"text": reply, "tool_calls": [{"name": tool, "arguments": arguments}]}
    config = SessionConfig(a=scripted([item], name="m" + model, chunk_size=10_000),
                           b=scripted(["fine"]), turns=1)
    console, buffer = plain_console()
    asyncio.run(run_headless(config, tmp_path_factory.mktemp("run"), console=console))
    out = buffer.getvalue()
    assert_inert(out, reply, model, tool, arguments)
    assert f"· {safe_line('scripted/m' + model)} ·" in out
    assert safe_text(reply) in out
    assert f"tool call {safe_line(tool)}({safe_line(arguments)})" in out


@SETTINGS
@given(message=LIVE)
def test_provider_error_is_inert(hostile_server: HostileServer,
                                 tmp_path_factory: pytest.TempPathFactory, message: str) -> None:
    hostile_server.message = message
    config = SessionConfig(
        a=SideConfig(model="openai/error-escapes", params={"api_base": hostile_server.api_base}),
        b=scripted(["unused"]), turns=1, num_retries=0)
    console, buffer = plain_console()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OPENAI_API_KEY", "not-a-real-key")
        code = asyncio.run(run_headless(config, tmp_path_factory.mktemp("err"),
                                        console=console))
    out = buffer.getvalue()
    assert code == 1 and "server error" in out and "session ended: error" in out
    assert_inert(out, message)


# ------------------------------------------------------------- files on disk


def _template(tmp: Path) -> list[dict[str, Any]]:
    """A real session file's events, with a tool call and an error to fill in."""
    item = {"text": "hi", "tool_calls": [{"name": "t", "arguments": "{}"}]}
    config = SessionConfig(a=scripted([item]), b=scripted(["fine"]), turns=1)
    console, _ = plain_console()
    asyncio.run(run_headless(config, tmp, console=console))
    [path] = tmp.glob("*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def _hostile_file(template: list[dict[str, Any]], path: Path, text: str) -> Path:
    """`template` with every field a reader prints set to `text` (JSON escapes it)."""
    events = json.loads(json.dumps(template))
    for event in events:
        if event["type"] == "session_start":
            event["config"]["a"]["model"] = "scripted/m" + text
            event["config"]["b"]["system"] = text
            event["config"]["title"] = text
        elif event["type"] == "turn":
            event["model"] = "scripted/m" + text
            event["text"] = text + " " + event["text"]
            for call in event.get("tool_calls", []):
                call["name"], call["arguments"], call["result"] = text, text, text
        elif event["type"] == "session_end":
            event["detail"] = text
    end = events.pop()
    events += [{"ts": end["ts"], "type": "error", "side": "A", "message": text,
                "kind": "server"}, end]
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def _file_name(text: str) -> str:
    """`text` as a legal file name (no slash, no NUL, no surrogate, short)."""
    name = "".join(c for c in text if c not in "/\0" and not 0xD800 <= ord(c) <= 0xDFFF)
    return name.encode()[:120].decode(errors="ignore") + ".jsonl"


@SETTINGS
@given(text=ON_DISK)
def test_export_of_a_hostile_file_is_inert(tmp_path_factory: pytest.TempPathFactory,
                                           text: str) -> None:
    tmp = tmp_path_factory.mktemp("export")
    path = _hostile_file(_template(tmp / "t"), tmp / "s.jsonl", text)
    assert load_session(path).config.a.model == "scripted/m" + text  # it really is on disk
    for fmt in ("md", "txt", "html"):
        with captured() as out:
            assert main(["export", str(path), "-f", fmt]) == 0
        assert_inert(out.getvalue(), text, shown=_shown_in(fmt))
    with captured() as out:
        assert main(["export", str(path), "-f", "json"]) == 0
    assert_inert(out.getvalue())
    data = json.loads(out.getvalue())  # JSON is data: the exact text, escaped
    assert data["config"]["a"]["model"] == "scripted/m" + text
    assert data["errors"][0]["message"] == text


def test_html_export_stays_escaped(tmp_path: Path) -> None:
    text = "<b onclick=x>\x1b[2J&amp;\x9b</b>"
    path = _hostile_file(_template(tmp_path / "t"), tmp_path / "s.jsonl", text)
    with captured() as out:
        assert main(["export", str(path), "-f", "html"]) == 0
    assert "<b onclick" not in out.getvalue()
    assert "&lt;b onclick=x&gt;␛[2J&amp;amp;&lt;9B&gt;&lt;/b&gt;" in out.getvalue()


@settings(max_examples=15, deadline=None)
@given(text=ON_DISK, name=LIVE)
def test_file_commands_print_nothing_obeyable(tmp_path_factory: pytest.TempPathFactory,
                                              text: str, name: str) -> None:
    """analyze (table and JSON), a broken file's error line, import's summary."""
    tmp = tmp_path_factory.mktemp("files")
    path = _hostile_file(_template(tmp / "t"), tmp / _file_name(name), text)
    for argv in (["analyze", str(path)], ["analyze", "--json", str(path)]):
        with captured() as out:
            assert main(argv) == 0
        assert_inert(out.getvalue(), path.name if argv[1] != "--json" else "")
    broken = tmp / ("broken" + path.name)
    broken.write_text(text.encode("utf-8", "replace").decode() + "\n", encoding="utf-8")
    for argv in (["export", str(broken)], ["analyze", str(broken)],
                 ["import", str(broken), str(path), "--out", str(tmp / "imported")]):
        with captured() as out:
            main(argv)
        assert_inert(out.getvalue(), broken.name)


@settings(max_examples=10, deadline=None)
@given(model=LIVE)
def test_resume_of_a_hostile_file_is_inert(tmp_path_factory: pytest.TempPathFactory,
                                           model: str) -> None:
    """The model name comes back from disk into the live transcript."""
    tmp = tmp_path_factory.mktemp("resume")
    path = _hostile_file(_template(tmp / "t"), tmp / "s.jsonl", model)
    console, buffer = plain_console()
    asyncio.run(resume_headless(load_session(path), turns=2, console=console))
    out = buffer.getvalue()
    assert_inert(out, model)
    assert f"· {safe_line('scripted/m' + model)} ·" in out


@SETTINGS
@given(description=LIVE, name=LIVE)
def test_scenarios_listing_is_inert(description: str, name: str) -> None:
    folder = Path(os.environ["XDG_CONFIG_HOME"]) / "attractor-tui" / "scenarios"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    good = folder / _file_name(name).replace(".jsonl", ".toml")
    good.write_text(f'description = {toml_string(description)}\nseeds = ["hi"]\n')
    (folder / "broken.toml").write_text(f"description = {toml_string(description)}\n[[[")
    with pytest.MonkeyPatch.context() as env, captured() as out:
        env.setenv("COLUMNS", "1000")  # a long name is cut with an ellipsis, not shown
        assert main(["scenarios"]) == 0
    assert_inert(out.getvalue(), description, good.stem)


def toml_string(text: str) -> str:
    """`text` as a TOML basic string (controls as `\\u` escapes, the rest raw)."""
    def one(ch: str) -> str:
        if ch in '"\\':
            return "\\" + ch
        return f"\\u{ord(ch):04x}" if unicodedata.category(ch) == "Cc" else ch
    return '"' + "".join(map(one, text)) + '"'


# --------------------------------------------------------- batch and report


@settings(max_examples=10, deadline=None)
@given(message=LIVE)
def test_batch_summary_is_inert(hostile_server: HostileServer,
                                tmp_path_factory: pytest.TempPathFactory, message: str) -> None:
    hostile_server.message = message  # a 400 is not retryable: one call per run
    out_dir = tmp_path_factory.mktemp("batch") / "b\x1b]0;title\x07"
    console, buffer = plain_console()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OPENAI_API_KEY", "not-a-real-key")
        code = batch_command(scenario="hello-there", runs=1, turns=1,
                             model_a="openai/bad-request", model_b="openai/bad-request",
                             concurrency=1, out=out_dir, api_base=hostile_server.api_base,
                             run_retries=0, console=console)
    out = buffer.getvalue()
    assert code == 1 and "1 failed run (" in out and "run-0000.jsonl" in out
    assert_inert(out, message, out_dir.name)


@settings(max_examples=10, deadline=None)
@given(text=ON_DISK)
def test_report_is_inert(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    from attractor_tui.experiments.report import build_report, render

    tmp = tmp_path_factory.mktemp("report")
    template = _template(tmp / "t")
    folder = tmp / "sessions"
    folder.mkdir()
    for n in range(2):
        _hostile_file(template, folder / f"s{n}.jsonl", text)
    report = build_report(folder)
    for fmt in ("md", "html"):
        assert_inert(render(report, fmt), text, shown=_shown_in(fmt))
    assert_inert(render(report, "rich"))  # its table cells cut long text with "…"
