"""An 80-page prompt from a file (issue 17): it runs where it fits, is refused with both
numbers where it does not, and is stored once however long the session runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attractor_tui.cli.parser import main
from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.errors import Problem
from attractor_tui.core.events import Turn
from attractor_tui.core.window import PromptTooLong, explain_overflow
from attractor_tui.sessions.export import export_session
from attractor_tui.sessions.runner import open_session
from attractor_tui.sessions.store import load_session, new_session_path
from tests.support.hostile_server import HostileServer

MARK = "PROMPT-START-7f3a"
PROMPT = (MARK + "\n" + "Rule: stay in character and answer briefly, whatever comes.\n" * 6000
          )[:300_000]
"""A 300 KB system prompt (~60,000 tokens)."""


@pytest.fixture
def prompt_file(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.txt"
    path.write_text(PROMPT, encoding="utf-8")
    return path


def test_runs_headless_on_a_model_whose_window_holds_it(
    tmp_path: Path, prompt_file: Path, hostile: HostileServer,
    capsys: pytest.CaptureFixture[str]
) -> None:
    # gpt-4.1's card in litellm's offline map: a window of ~1M input tokens
    out = tmp_path / "out"
    code = main(["run", "--headless", "--model", "openai/gpt-4.1", "--api-base",
                 hostile.api_base, "--system-a", f"@{prompt_file}", "--system-b",
                 f"@{prompt_file}", "--turns", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert len(hostile.calls) == 4
    [path] = out.glob("*.jsonl")
    text = path.read_text(encoding="utf-8")
    assert text.count(MARK) == 1  # both sides' prompt, stored once
    log = load_session(path)
    assert log.config.a.system == log.config.b.system == PROMPT
    assert len(log.turns) == 4


def test_is_refused_on_the_embedded_model_with_both_token_counts(
    tmp_path: Path, prompt_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["run", "--headless", "--system-a", f"@{prompt_file}", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err
    assert err.startswith("attractor-tui: cannot start: side A's system prompt and seed are ")
    tokens = int(err.split(" are ", 1)[1].split(" tokens", 1)[0].replace(",", ""))
    assert tokens > 50_000
    assert "embedded/smollm2-135m's window holds 4,096" in err
    assert "a model with a bigger window" in err and "shorten the prompt" in err
    assert "side B" not in err  # B keeps the default prompt
    assert not out.exists() or not list(out.iterdir())  # nothing was written
    # the app and batch open sessions through the same runner: refused there too
    config = SessionConfig(a=SideConfig(system=PROMPT))
    with pytest.raises(PromptTooLong, match="4,096"):
        open_session(config, new_session_path(tmp_path))


async def test_a_30_turn_session_file_stays_small_and_old_files_still_load(
    tmp_path: Path
) -> None:
    side = SideConfig(model="scripted/echo", system=PROMPT)
    config = SessionConfig(a=side, b=side, turns=15)
    path = tmp_path / "long.jsonl"
    end = await open_session(config, path).run()
    assert end.reason == "turns"
    size = path.stat().st_size
    assert size < 1_000_000, size
    assert path.read_text(encoding="utf-8").count(MARK) == 1
    log = load_session(path)
    assert len(log.turns) == 30 and log.config == config
    header = json.loads(path.read_text(encoding="utf-8").split("\n", 1)[0])
    assert header["config"]["b"] == {**header["config"]["b"], "system_from": "a"}
    # a file written before (each side's prompt in full) reads the same
    header["config"]["b"].pop("system_from")
    header["config"]["b"]["system"] = PROMPT
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps(header) + "\n" + path.read_text(encoding="utf-8").split("\n", 1)[1],
                   encoding="utf-8")
    assert load_session(old).config == config
    # exports show the prompt's first lines and its length, once
    for fmt in ("md", "html", "txt"):
        shown = export_session(log, fmt)
        assert shown.count(MARK) == 1 and "[300,000 characters" in shown, fmt
        assert "same as A" in shown and len(shown) < 40_000, fmt
    assert export_session(log, "json").count(MARK) == 1  # the config whole, once


def test_a_prompt_that_stops_fitting_mid_session_says_which_part() -> None:
    config = SessionConfig(a=SideConfig(model="openai/x", system="word " * 3000,
                                        context_tokens=4096, max_tokens=256))
    problem = Problem("context", "the conversation no longer fits openai/x's context window")
    explained = explain_overflow(problem, config, "A", [], [])
    assert explained.message.endswith("(the system prompt alone is about 5,006 tokens of a "
                                      "4,096-token window: shorten it or choose a model with "
                                      "a bigger window)")
    short = SessionConfig(a=SideConfig(model="openai/x", context_tokens=4096))
    turns = [Turn(index=i, round=i // 2, side="AB"[i % 2], text="chat " * 900)  # type: ignore[arg-type]
             for i in range(4)]
    history = explain_overflow(problem, short, "A", turns, [])
    assert "(the history is about " in history.given_up and "the system prompt 15 of them" in (
        history.given_up)
