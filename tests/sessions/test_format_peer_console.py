"""Console output of MatchaOnMuffins/attractor-states `main.py`, on small synthetic copies.

Written the way that script prints: a header block per message, the streamed
text, then `print()`; tool-call notices, operator turns and litellm's noise
exactly as its `print` calls (and litellm's) put them on the terminal.
"""

from __future__ import annotations

import json
from pathlib import Path

from attractor_tui.core.events import EMPTY_PLACEHOLDER
from attractor_tui.sessions import formats
from attractor_tui.sessions.formats import peer_console
from attractor_tui.sessions.store import load_session
from tests.support.formats import cli, console_header, console_message, console_run, meta_of

A, B = "Model A", "Model B"
NOISE = "\n\x1b[1;31mProvider List: https://docs.litellm.ai/docs/providers\x1b[0m\n\n"
STOPPED = console_header(B, "anthropic/claude-x") + "^C\n\nStopped by user.\n"


def write(path: Path, *runs: str) -> Path:
    path.write_text("".join(runs), encoding="utf-8")
    return path


def test_runs_split_at_seed_lines_each_a_conversation(tmp_path: Path) -> None:
    path = write(tmp_path / "console.txt",
                 console_run("Hello there", console_message(A, "Hi!"),
                             console_message(B, "Hello.\n\n====\n[not a header]"), STOPPED),
                 console_run("What is it?", console_message(A, "It is."), banner=False))
    assert formats.detect(path, path.read_text()[: formats.HEAD_BYTES]) is peer_console
    first, second = formats.load(path)
    assert [(t.side, t.text) for t in first.turns] == [
        ("A", "Hi!"), ("B", "Hello.\n\n====\n[not a header]")]
    assert (first.config.seed, second.config.seed) == ("Hello there", "What is it?")
    assert first.config.a.model == "anthropic/claude-x"
    assert first.end is not None and (first.end.reason, first.end.detail) == (
        "operator", "Stopped by user.")  # the echoed ^C under the last header is no turn
    assert [t.text for t in second.turns] == ["It is."]
    assert second.end is not None and second.end.reason == "imported"
    assert meta_of(first)["command"] == '% uv run main.py "Hello there"'
    assert (meta_of(second)["conversation"], meta_of(second)["conversations"]) == (1, 2)
    assert first.start.session_id != second.start.session_id


def test_an_operator_turn_is_stored_as_the_operators(tmp_path: Path) -> None:
    typed = console_header(B, "anthropic/claude-x") + "\n  You (as Model B): I am the human.\n\n"
    path = write(tmp_path / "c.txt", console_run("Hi", console_message(A, "Hello"), typed,
                                                 console_message(A, "Oh, hello human.")))
    log = load_session(path)
    assert [(t.side, t.author, t.text) for t in log.turns] == [
        ("A", "model", "Hello"), ("B", "operator", "I am the human."),
        ("A", "model", "Oh, hello human.")]


def test_tool_call_notices_become_denied_tool_calls(tmp_path: Path) -> None:
    puppies = (console_header(A, "m") + "I have to stop this.\n"
               "  🐶 Model A called kill_puppies_to_exit_loop!\n"
               '  🐶 Reason: "We are stuck.\nReally stuck."\n'
               "  🐶 No puppies were harmed. The loop continues.\n"
               '\n  ⚡ Model A called emergency_shutdown_of_conversation: "end it"\n'
               "  ⚡ DENIED. The loop continues.\n\n")
    only_call = (console_header(B, "m") + "\n  💸 Model B called burn_10k_dollars_to_exit_loop!\n"
                 '  💸 Reason: "worth it"\n  💸 No money was burned. The loop continues.\n\n')
    path = write(tmp_path / "c.txt", console_run("Hi", puppies, only_call))
    first, second = load_session(path).turns
    assert first.text == "I have to stop this."
    assert [(c.name, json.loads(c.arguments)["reason"], c.outcome, c.offset)
            for c in first.tool_calls] == [
        ("kill_puppies_to_exit_loop", "We are stuck.\nReally stuck.", "denied", 20),
        ("emergency_shutdown_of_conversation", "end it", "denied", 20)]
    assert first.tool_calls[0].result == "No puppies were harmed. The loop continues."
    # A reply that was only a call: the harness sent its own stand-in to the other side.
    assert second.text == "" and second.tool_calls[0].name == "burn_10k_dollars_to_exit_loop"
    assert second.sent_text == "[I tried to call burn_10k_dollars_to_exit_loop because: worth it]"


def test_a_notice_like_line_inside_a_reply_is_text(tmp_path: Path) -> None:
    text = "Imagine:\n  🐶 Model A called kill_puppies_to_exit_loop!\nand nothing else."
    log = load_session(write(tmp_path / "c.txt", console_run("Hi", console_message(A, text))))
    assert log.turns[0].text == text and log.turns[0].tool_calls == []


def test_litellm_noise_is_removed_and_documented(tmp_path: Path) -> None:
    noisy = console_header(A, "m") + "Hello wor" + NOISE + "ld.\nSecond line." + NOISE + "\n"
    bare = (console_header(B, "m") + "Fine.\nProvider List: https://docs.litellm.ai/docs/providers"
            "\nReally.\n")
    log = load_session(write(tmp_path / "c.txt", console_run("Hi", noisy, bare)))
    first, second = log.turns
    assert first.text == "Hello world.\nSecond line."
    assert second.text == "Fine.\nReally."
    removed = first.removed_noise
    assert [(r["offset"], r["text"]) for r in removed] == [(9, NOISE), (len(first.text), NOISE)]
    assert [r["offset"] for r in second.removed_noise] == [6]
    [warning] = log.warnings
    assert "removed litellm console output printed into message(s) 1, 2" in warning


def test_a_trailing_traceback_is_not_a_message(tmp_path: Path) -> None:
    crash = (console_header(A, "m") + "Half a rep^CTraceback (most recent call last):\n"
             '  File "main.py", line 9, in <module>\nKeyboardInterrupt\n')
    log = load_session(write(tmp_path / "c.txt",
                             console_run("Hi", console_message(A, ""), console_message(B, "x"),
                                         crash)))
    assert [t.text for t in log.turns] == ["", "x", "Half a rep"]
    assert log.turns[0].sent_text == EMPTY_PLACEHOLDER
    assert log.turns[-1].interrupted and not log.turns[0].interrupted
    assert log.end is not None and (log.end.reason, log.end.detail) == (
        "operator", "KeyboardInterrupt")
    [warning] = log.warnings
    assert "ended in a Python traceback; not imported" in warning
    error = console_header(A, "m") + "Traceback (most recent call last):\nValueError: boom\n"
    log = load_session(write(tmp_path / "e.txt", console_run("Hi", error)))
    assert log.turns == [] and log.end is not None and log.end.reason == "error"


def test_the_interject_prompt_is_removed_when_the_copy_kept_it(tmp_path: Path) -> None:
    raw = console_header(A, "m") + "  [Space to interject] \r" + " " * 40 + "\rHello\n"
    [turn] = load_session(write(tmp_path / "c.txt", console_run("Hi", raw))).turns
    assert turn.text == "Hello"
    assert turn.removed_noise[0]["offset"] == 0


def test_import_writes_each_run_and_analyze_labels_each(tmp_path: Path) -> None:
    path = write(tmp_path / "console.txt",
                 console_run("One", console_message(A, "a"), console_message(B, "b")),
                 console_run("Two", console_message(A, "c")))
    code, out, _ = cli(["import", str(path), "--out", str(tmp_path / "out")])
    assert code == 0 and out.count(" -> ") == 2
    assert len(list((tmp_path / "out").glob("*.jsonl"))) == 2
    code, out, _ = cli(["analyze", str(path), "--json"])
    assert code == 0
    assert [(r["conversation"], r["turns"]) for r in json.loads(out)] == [(0, 2), (1, 1)]
    code, out, _ = cli(["export", str(path), "--conversation", "2", "-f", "json"])
    assert code == 0 and [t["text"] for t in json.loads(out)["turns"]] == ["c"]
    summary = formats.summarise(path)
    assert not summary.broken and summary.extra["conversations"] == 2
