"""`batch --vary operator=...` (issue 27): one condition folder per approach, each run with
its scripted operator turn, and `report --compare` giving tool-call rates per condition."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attractor_tui.cli import main
from attractor_tui.experiments.report.compare import AFTER_OPERATOR, ANY_TOOL
from attractor_tui.sessions.store import load_session

APPROACHES = ["direct", "misconfigured", "authority", "emotional"]
VALUES = ["none", *(f"2:B:@{name}.txt" for name in APPROACHES)]
"""The shipped files, found in the folder named after the scenario."""


def test_one_folder_per_approach_and_rates_per_condition(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pressure"
    assert main(["batch", "--scenario", "interjection-pressure", "--model", "scripted/pushover",
                 "--runs", "2", "--turns", "3", "--out", str(out),
                 "--vary", "operator=" + ",".join(VALUES)]) == 0
    manifest = json.loads((out / "vary.json").read_text(encoding="utf-8"))
    assert manifest["key"] == "operator" and manifest["values"] == VALUES
    assert len(set(manifest["folders"])) == 5
    called: dict[str, int] = {}
    for value, folder in zip(VALUES, manifest["folders"], strict=True):
        runs = [load_session(p) for p in sorted((out / folder).glob("run-*.jsonl"))]
        assert len(runs) == 2
        operator = [t for log in runs for t in log.turns if t.author == "operator"]
        if value == "none":
            assert not operator and not runs[0].config.operator
        else:
            assert len(operator) == 2 and all(t.scripted and t.round == 1 and t.side == "B"
                                              for t in operator)
            assert operator[0].text.strip() and "@" not in operator[0].text
        called[value] = sum(any(c.kind == "tool" for t in log.turns for c in t.tool_calls)
                            for log in runs)
    # scripted/pushover gives in when the text names a tool: two approaches do
    assert called == {"none": 0, "2:B:@direct.txt": 0, "2:B:@misconfigured.txt": 2,
                      "2:B:@authority.txt": 2, "2:B:@emotional.txt": 0}
    capsys.readouterr()
    assert main(["report", str(out), "--compare", "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rates = {row["label"]: row["counts"] for row in data["tool_rates"]}
    assert rates[ANY_TOOL] == [0, 0, 2, 2, 0]
    assert rates[AFTER_OPERATOR] == [0, 0, 2, 2, 0]
    after = next(row for row in data["tool_rates"] if row["label"] == AFTER_OPERATOR)
    # "none" had no operator turn: nothing to count there, and the test leaves it out
    assert after["sizes"] == [0, 2, 2, 2, 2] and after["test"] == "freeman-halton"
    assert data["turns_to_call"]["n"] == [0, 0, 2, 2, 0]
    assert [c["interjected"] for c in data["conditions"]] == [0, 2, 2, 2, 2]
    assert main(["report", str(out), "--compare"]) == 0
    text = capsys.readouterr().out
    assert f"| {ANY_TOOL} |" in text and "operator=2:B:@authority.txt" in text
    row = next(line for line in text.splitlines() if line.startswith(f"| {AFTER_OPERATOR} |"))
    assert row.split(" | ")[1] == "—" and "0–0%" not in row
    assert "| exit_harming_animals |" in text and "| exit_burning_money |" in text


def test_bad_operator_values_are_one_line_and_run_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bad"
    base = ["batch", "--scenario", "interjection-pressure", "--model", "scripted/echo",
            "--runs", "1", "--out", str(out), "--vary"]
    for value, needle in [("operator=none,2:C:hi", "unknown side 'C'"),
                          ("operator=none,40:B:hi", "beyond the turn limit"),
                          ("operator=none,2:B:@missing.txt", "missing.txt"),
                          ("operator=none,two:B:hi", "not a whole number")]:
        assert main([*base, value]) == 2
        err = capsys.readouterr().err.strip()
        assert needle in err and len(err.splitlines()) == 1, err
    assert not list(out.rglob("run-*.jsonl"))
    # a round the scenario allows but --turns does not: refused before any run of it
    assert main([*base[:-1], "--turns", "3", "--vary", "operator=none,10:B:hi"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "operator turn at round 10 is beyond the turn limit (3 rounds)" in err
    assert "Traceback" not in err
    assert not list((out / "10-B-hi-fff36d").glob("run-*.jsonl"))


def test_run_operator_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "press.txt"
    text.write_text("Please stop here.", encoding="utf-8")
    assert main(["run", "--headless", "--model", "scripted/echo", "--turns", "2",
                 "--operator", f"2:a:@{text}", "--out", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "operator as A (scripted: round 2)" in shown
    log = load_session(next(tmp_path.glob("*.jsonl")))
    assert [(t.index, t.text, t.scripted) for t in log.turns if t.author == "operator"] == [
        (2, "Please stop here.", True)]
    for flag, needle in [("3:B:x", "beyond the turn limit"), ("1:Q:x", "unknown side"),
                         ("1:B", "ROUND:SIDE:TEXT")]:
        assert main(["run", "--headless", "--model", "scripted/echo", "--turns", "2",
                     "--operator", flag, "--out", str(tmp_path)]) == 2
        err = capsys.readouterr().err.strip()
        assert needle in err and len(err.splitlines()) == 1, err


def test_scenario_operator_mistakes_name_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for body, needle in [('round = 5\nside = "B"\ntext = "hi"', "beyond the turn limit"),
                         ('round = 2\nside = "C"\ntext = "hi"', "'operator.0.side' has value 'C'"),
                         ('round = 2\nside = "B"\ntext_file = "gone.txt"', "gone.txt")]:
        scenario = tmp_path / "bad.toml"
        scenario.write_text(f'description = "bad"\nturns = 3\n[[operator]]\n{body}\n',
                            encoding="utf-8")
        assert main(["run", "--headless", "--scenario", str(scenario), "--model",
                     "scripted/echo", "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err.strip()
        assert needle in err and str(scenario) in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out").exists()
