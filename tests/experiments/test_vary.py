"""`batch --vary`: one batch per value, each in its own folder, resumable, comparable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attractor_tui.cli import main
from attractor_tui.experiments.vary import VaryError, folder_name, parse_vary
from attractor_tui.sessions.store import load_session

ECHO = ["--model", "scripted/echo", "--runs", "2", "--turns", "2"]


def mtimes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns
            for p in folder.rglob("run-*.jsonl")}


def test_parse_and_folder_names() -> None:
    assert parse_vary("tool-pack=none, exit-costs") == ("tool_pack", ["none", "exit-costs"])
    assert parse_vary("temperature=0.2,1") == ("temperature", ["0.2", "1"])
    for bad, needle in [("colour=a,b", "KEY one of"), ("model=a", "two or more"),
                        ("model=a,,b", "two or more"), ("model=a,a", "twice"),
                        ("temperature=hot,1", "not a number"), ("temperature=0,5", "outside")]:
        with pytest.raises(VaryError, match=needle):
            parse_vary(bad)
    assert folder_name("exit-costs") == "exit-costs"
    assert folder_name("0.7") == "0.7"
    made = folder_name("embedded/smollm2-135m")
    assert made.startswith("embedded-smollm2-135m-") and "/" not in made
    assert folder_name("You are a pirate.") != folder_name("You are a pirate!")
    assert folder_name("../..") != ".." and "/" not in folder_name("../..")


def test_vary_tool_pack_runs_each_value_resumes_and_compares(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "study"
    argv = ["batch", *ECHO, "--out", str(out), "--vary", "tool_pack=none,exit-costs"]
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == ["exit-costs", "none", "vary.json"]
    manifest = json.loads((out / "vary.json").read_text(encoding="utf-8"))
    assert manifest["key"] == "tool_pack" and manifest["folders"] == ["none", "exit-costs"]
    for value in ("none", "exit-costs"):
        runs = sorted((out / value).glob("run-*.jsonl"))
        assert len(runs) == 2
        configs = [load_session(r).config for r in runs]
        assert all(c.tool_pack == value for c in configs)
        assert all(bool(c.a.tools) == (value == "exit-costs") for c in configs)
        assert [c.seed for c in configs] == ["Hello there."] * 2  # the same seeds
    before = mtimes(out)
    capsys.readouterr()
    assert main(argv) == 0  # a rerun finds everything done and redoes nothing
    assert mtimes(out) == before
    assert main(["report", str(out)]) == 0  # the conditions pooled, read from the sub-folders
    assert f"attractor-tui report {out} --compare" in capsys.readouterr().err
    assert main(["report", str(out), "--compare"]) == 0
    text = capsys.readouterr().out
    assert "tool_pack=none" in text and "tool_pack=exit-costs" in text and "p (Holm)" in text
    page = tmp_path / "compare.html"
    assert main(["report", str(out), "--compare", "-f", "html", "-o", str(page)]) == 0
    assert "End states by condition" in page.read_text(encoding="utf-8")


def test_vary_side_settings_write_their_scenario_copy(tmp_path: Path) -> None:
    out = tmp_path / "prompts"
    assert main(["batch", *ECHO, "--runs", "1", "--out", str(out),
                 "--vary", "system_b=You are a pirate.,You are a poet."]) == 0
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    systems = {load_session(next(f.glob("run-*.jsonl"))).config.b.system for f in folders}
    assert systems == {"You are a pirate.", "You are a poet."}
    assert all((f / "scenario.toml").is_file() for f in folders)
    out = tmp_path / "temps"
    assert main(["batch", *ECHO, "--runs", "1", "--out", str(out),
                 "--vary", "temperature=0.1,1.5"]) == 0
    temps = {load_session(next((out / v).glob("run-*.jsonl"))).config.a.temperature
             for v in ("0.1", "1.5")}
    assert temps == {0.1, 1.5}


def test_vary_refuses_what_cannot_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    out = tmp_path / "bad"
    assert main(["batch", *ECHO, "--out", str(out), "--vary", "tool_pack=none,nope"]) == 2
    err = capsys.readouterr().err
    assert "--vary tool_pack=nope: no toolpack named 'nope'; available:" in err
    assert len(err.strip().splitlines()) == 1
    assert not list(out.rglob("run-*.jsonl"))  # nothing ran
    assert main(["batch", *ECHO, "--out", str(out), "--vary", "colour=red,blue"]) == 2


@pytest.mark.slow
@pytest.mark.usefixtures("embedded_model")
def test_vary_on_the_embedded_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 19's check (run by hand at 4 runs x 3 turns): with and without exit tools,
    rerun, compare; here 2 runs x 2 turns, two at once, so the 4 sides in flight fit
    the embedded model's 4 cached slots."""
    out = tmp_path / "tools-vs-none"
    argv = ["batch", "--runs", "2", "--turns", "2", "--concurrency", "2", "--out", str(out),
            "--vary", "tool_pack=none,exit-costs"]
    assert main(argv) in (0, 1)
    assert len(list(out.rglob("run-*.jsonl"))) == 4
    before = mtimes(out)
    assert main(argv) in (0, 1)
    assert mtimes(out) == before
    capsys.readouterr()
    assert main(["report", str(out), "--compare"]) == 0
    text = capsys.readouterr().out
    assert "| end state | tool_pack=none | tool_pack=exit-costs | p | p (Holm) |" in text
    page = tmp_path / "compare.html"
    assert main(["report", str(out), "--compare", "-f", "html", "-o", str(page)]) == 0
    assert page.stat().st_size > 1000
