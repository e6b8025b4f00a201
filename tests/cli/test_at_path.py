"""`@PATH` on every text flag, and prompt files named by a scenario (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from attractor_tui.cli.parser import build_parser
from attractor_tui.cli.run import config_from_args
from attractor_tui.experiments.presets import PresetError
from attractor_tui.experiments.scenarios import load_scenario

LONG = "You are one of two minds.\n" + "A line of a very long prompt.\n" * 8000  # ~240 KB


def parse(*argv: str) -> object:
    return build_parser().parse_args(list(argv))


def test_every_text_flag_reads_a_file(tmp_path: Path) -> None:
    prompt, seed, phrase = tmp_path / "p.txt", tmp_path / "seed.txt", tmp_path / "stop.txt"
    prompt.write_text(LONG, encoding="utf-8")
    seed.write_text("Begin.\nSecond line.", encoding="utf-8")
    phrase.write_text("we are done", encoding="utf-8")
    args = parse("run", "--model", "scripted/echo", "--system-a", f"@{prompt}",
                 "--system-b", "@@handle", "--seed", f"@{seed}",
                 "--stop-phrase", f"@{phrase}", "--stop-phrase", "plain")
    config = config_from_args(args)  # type: ignore[arg-type]
    assert config.a.system == LONG and len(config.a.system) > 128 * 1024
    assert config.b.system == "@handle"  # @@ is a literal @
    assert config.seed == "Begin.\nSecond line."
    assert config.a.stop_phrases == ["we are done", "plain"]
    branch = parse("branch", "x.jsonl", "--at", "2", "--interject", f"@{seed}")
    assert branch.interject == "Begin.\nSecond line."  # type: ignore[attr-defined]


@pytest.mark.parametrize(("make", "expected"), [
    (lambda d: d / "missing.txt", "cannot read: No such file or directory"),
    (lambda d: d, "a folder, not a regular file"),
    (lambda d: _write(d / "bin.txt", b"\x7fELF\x00\x01"), "a binary file, not text"),
    (lambda d: _write(d / "latin.txt", b"caf\xe9"), "not UTF-8 text (byte 3)"),
])
def test_a_bad_file_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, expected: str
) -> None:
    target = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(SystemExit) as info:
        parse("run", "--system-a", f"@{target}")
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("attractor-tui run: error: argument --system-a: ")
    assert str(target) in err and expected in err and "Traceback" not in err


def test_an_empty_name_says_how_to_write_a_literal_at(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("run", "--seed", "@")
    assert "write @@ for a literal @" in capsys.readouterr().err


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_scenario_names_prompt_files_relative_to_itself(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    (folder / "prompts").mkdir(parents=True)
    (folder / "prompts" / "a.txt").write_text(LONG, encoding="utf-8")
    (folder / "prompts" / "b.txt").write_text("B's own prompt", encoding="utf-8")
    (folder / "seed.txt").write_text("Open with this.", encoding="utf-8")
    path = folder / "long.toml"
    path.write_text('system_a_file = "prompts/a.txt"\nsystem_b_file = "prompts/b.txt"\n'
                    'seed_file = "seed.txt"\ntpm = 30000\n[b]\nrpm = 5\n', encoding="utf-8")
    config = load_scenario(str(path)).session_config(0)
    assert config.a.system == LONG and config.b.system == "B's own prompt"
    assert config.seed == "Open with this."
    assert (config.a.tpm, config.a.rpm, config.b.tpm, config.b.rpm) == (30000, None, 30000, 5)


def test_a_scenario_prompt_file_problem_names_both_files(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('system_file = "nowhere.txt"\n', encoding="utf-8")
    with pytest.raises(PresetError) as info:
        load_scenario(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: key 'system_file' = 'nowhere.txt' cannot be read: ")
    assert str(tmp_path / "nowhere.txt") in message
    path.write_text('system = "inline"\nsystem_file = "p.txt"\n', encoding="utf-8")
    with pytest.raises(PresetError, match="both 'system_file' and 'system' are set"):
        load_scenario(str(path))


def test_pacing_flags_per_side_override_both(tmp_path: Path) -> None:
    args = parse("run", "--model", "scripted/echo", "--tpm", "10000", "--tpm-b", "500",
                 "--rpm-a", "3")
    config = config_from_args(args)  # type: ignore[arg-type]
    assert (config.a.tpm, config.b.tpm, config.a.rpm, config.b.rpm) == (10000, 500, 3, None)
