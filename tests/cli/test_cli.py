"""The command line as a user runs it: real subprocesses, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from attractor_tui.cli.parser import build_parser, main
from attractor_tui.sessions.store import load_session

ENV = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "attractor_tui", *args], capture_output=True, text=True,
        timeout=120, cwd=cwd, env=ENV,
    )


def test_help_explains_every_flag_without_heavy_imports() -> None:
    out = cli("run", "--help")
    assert out.returncode == 0
    for flag in ("--model-a", "--model-b", "--system-a", "--system-b", "--seed", "--turns",
                 "--out", "--headless", "--api-base"):
        assert flag in out.stdout
    # --help answers at once because it imports neither litellm nor Textual
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, attractor_tui.cli.parser as c; c.build_parser(); "
         "print('litellm' in sys.modules, 'textual' in sys.modules)"],
        capture_output=True, text=True, env=ENV,
    )
    assert probe.stdout.strip() == "False False"


def test_every_subcommand_flag_has_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, subparser in sub.choices.items():  # type: ignore[union-attr]
        for action in subparser._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_headless_run_then_export(tmp_path: Path) -> None:
    out = cli("run", "--headless", "--model-a", "scripted/goodbye", "--model-b", "scripted/echo",
              "--turns", "2", "--seed", "[bold red]hi[/] \x1b[31m", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("session: ")
    path = Path(last.removeprefix("session: "))
    assert path.parent == tmp_path
    assert "Hello! How can I help you today?" in out.stdout
    assert "\x1b[31m" not in out.stdout  # model text cannot drive the terminal
    exported = cli("export", str(path), "--format", "json")
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert [t["side"] for t in data["turns"]] == ["A", "B", "A", "B"]
    assert {t["author"] for t in data["turns"]} == {"model"}
    assert data["end_reason"] == "turns"


def test_headless_missing_key_is_a_clear_message(tmp_path: Path) -> None:
    out = cli("run", "--headless", "--model-a", "openai/gpt-4o-mini", "--turns", "1",
              "--retries", "0", "--out", str(tmp_path))
    assert out.returncode == 1
    assert "No API key for openai: set OPENAI_API_KEY" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
    path = Path(out.stdout.strip().splitlines()[-1].removeprefix("session: "))
    log = load_session(path)
    assert log.end is not None and log.end.reason == "error"


def test_export_of_broken_file_names_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "session_start", "schema_version": 1}\n')
    assert main(["export", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl:1" in err and "Traceback" not in err


def test_bad_flag_value_is_a_clear_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "--headless", "--turns", "0"]) == 2
    assert "turns" in capsys.readouterr().err
