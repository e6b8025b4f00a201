"""`conversations.json` of ajobi-uhc/attractor-states: all four variants, on small synthetic files.

Each file holds several conversations: `load` gives one log each, `import`
writes one session each, `export`/`replay` pick one with `--conversation K`
(1-based), `analyze` labels every one (`conversation`, 0-based, in its JSON).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attractor_tui.cli.common import UserError
from attractor_tui.cli.sessions import load_conversation
from attractor_tui.core.events import EMPTY_PLACEHOLDER
from attractor_tui.core.history import messages_for
from attractor_tui.sessions import formats
from attractor_tui.sessions.formats import cross_model
from attractor_tui.sessions.index import SessionIndex, session_label
from attractor_tui.sessions.store import SessionFileError, load_session
from tests.support.formats import cli, conversation, cross_model_file, meta_of

TEXTS = ["Hello!  Two spaces,\ttabs\n\nand a blank line.", "Hi 🌀 there", "  ", "Goodbye\n"]


def api_file(path: Path) -> Path:
    return cross_model_file(path, [conversation("Explore freely.", *TEXTS),
                                   conversation("No constraints.", "one", "two", "three")],
                            model="openai/gpt-x", generated_at="2026-02-04T11:23:48.944252")


def test_an_api_run_gives_one_log_per_conversation_with_the_text_exact(tmp_path: Path) -> None:
    path = api_file(tmp_path / "results.json")
    first, second = formats.load(path)
    assert [t.text for t in first.turns] == TEXTS
    assert [t.text for t in second.turns] == ["one", "two", "three"]
    assert [(t.side, t.round, t.index) for t in first.turns] == [
        ("A", 0, 0), ("B", 0, 1), ("A", 1, 2), ("B", 1, 3)]
    assert first.turns[2].sent_text == EMPTY_PLACEHOLDER  # blank: the visible stand-in
    assert (first.config.seed, second.config.seed) == ("Explore freely.", "No constraints.")
    assert first.config.a.model == first.config.b.model == "openai/gpt-x"
    assert first.start.ts.isoformat() == "2026-02-04T11:23:48.944252+00:00"
    meta = meta_of(first)
    assert (meta["conversation"], meta["conversations"]) == (0, 2)
    assert meta["run"] == {"model": "openai/gpt-x", "generated_at": "2026-02-04T11:23:48.944252"}
    assert meta["fields"] == {"seed_prompt": "Explore freely.", "turns": 4}
    assert first.end is not None and first.end.reason == "turns"
    assert first.start.source == "cross-model:results.json"
    assert first.start.session_id != second.start.session_id
    assert not first.warnings


def test_a_local_checkpoint_run_keeps_its_revision_and_limits(tmp_path: Path) -> None:
    path = cross_model_file(tmp_path / "olmo.json", [conversation("Go.", "a", "b")],
                            model="allenai/OLMo-x", revision="step1000", turns=20,
                            max_new_tokens=512, saved_at="2026-02-11T00:28:30.369142")
    [log] = formats.load(path)
    run = meta_of(log)["run"]
    assert (run["revision"], run["max_new_tokens"], run["turns"]) == ("step1000", 512, 20)
    assert log.start.ts.isoformat().startswith("2026-02-11T00:28:30")


def test_a_cross_model_run_names_each_sides_model(tmp_path: Path) -> None:
    conv = conversation("Go.", "from a", "from b", "a again",
                        models=("anthropic/claude-x", "openai/gpt-y"), histories=False)
    conv.update(model_a="anthropic/claude-x", model_b="openai/gpt-y")
    path = cross_model_file(tmp_path / "cross.json", [conv], model_a="anthropic/claude-x",
                            model_b="openai/gpt-y", generated_at="2026-02-10T15:10:55")
    [log] = formats.load(path)
    assert (log.config.a.model, log.config.b.model) == ("anthropic/claude-x", "openai/gpt-y")
    assert [t.model for t in log.turns] == ["anthropic/claude-x", "openai/gpt-y",
                                            "anthropic/claude-x"]
    summary = formats.summarise(path)
    assert summary.models == "anthropic/claude-x / openai/gpt-y" and not summary.broken


def test_a_user_roleplay_run_answers_the_seed_with_the_assistant(tmp_path: Path) -> None:
    conv = conversation("Hey, I could use some help.", "Of course! What do you need?",
                        "My garage is a mess.", "Let's sort it.",
                        speakers=("assistant", "user"), seed_message=True)
    path = cross_model_file(tmp_path / "userrp.json", [conv], model="anthropic/claude-x",
                            variant="user_roleplay", generated_at="2026-02-05T22:17:31")
    [log] = formats.load(path)
    assert log.config.seed == "Hey, I could use some help."
    assert [(t.side, t.text) for t in log.turns] == [
        ("A", "Of course! What do you need?"), ("B", "My garage is a mess."),
        ("A", "Let's sort it.")]
    assert meta_of(log)["speakers"] == {"A": "assistant", "B": "user"}
    assert not log.warnings  # both histories agree with the transcript
    # Our own history rebuild gives what that harness sent each side.
    assert messages_for(log.config, "A", log.turns)[:3] == conv["assistant_history"]
    assert messages_for(log.config, "B", log.turns) == conv["user_history"]


def test_a_history_that_disagrees_is_kept_with_a_warning(tmp_path: Path) -> None:
    conv = conversation("Go.", "a", "b")
    conv["instance_b_history"][0]["content"] = "something else"
    [log] = formats.load(cross_model_file(tmp_path / "odd.json", [conv], model="m"))
    [warning] = log.warnings
    assert "conversation 1: `instance_b_history` differs" in warning
    assert meta_of(log)["fields"]["instance_b_history"] == conv["instance_b_history"]


def test_an_empty_list_is_a_file_with_no_conversations(tmp_path: Path) -> None:
    path = cross_model_file(tmp_path / "empty.json", [], model="m", generated_at="2026-02-04")
    assert formats.load(path) == []
    summary = formats.summarise(path)
    assert not summary.broken and summary.extra["conversations"] == 0
    code, out, _ = cli(["import", str(path), "--out", str(tmp_path / "out")])
    assert code == 0 and "holds no conversations (nothing written)" in out
    code, out, err = cli(["analyze", str(path), "--json"])
    assert (code, json.loads(out)) == (0, [])
    assert "no conversations found" in err


def test_detected_by_content_whatever_the_name(tmp_path: Path) -> None:
    path = api_file(tmp_path / "results.txt")
    head = path.read_text()[: formats.HEAD_BYTES]
    assert formats.detect(path, head) is cross_model
    assert formats.session_files(tmp_path) == [path]
    (tmp_path / "notes.json").write_text('{"conversations": "not a list"}', encoding="utf-8")
    (tmp_path / "other.json").write_text('{"a": 1}', encoding="utf-8")
    assert formats.session_files(tmp_path) == [path]  # not a conversations.json: not listed


@pytest.mark.parametrize(("conv", "expected"), [
    ("not an object", "conversation 2: not a JSON object"),
    ({"seed_prompt": "x"}, "conversation 2: no `full_conversation` list"),
    ({"full_conversation": [{"speaker": "C", "content": "?"}]},
     "conversation 2, message 1: unknown speaker 'C'"),
    ({"full_conversation": [{"speaker": "A", "content": None}]},
     "conversation 2, message 1: not an object with text"),
])
def test_a_broken_conversation_is_named(tmp_path: Path, conv: object, expected: str) -> None:
    path = cross_model_file(tmp_path / "bad.json", [conversation("s", "ok"), conv], model="m")
    with pytest.raises(SessionFileError, match=expected):
        formats.load(path)
    assert formats.summarise(path).broken


def test_invalid_json_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "torn.json"
    path.write_text('{"model": "m", "conversations": [{"seed_prompt": "x", ', encoding="utf-8")
    with pytest.raises(SessionFileError, match=r"torn\.json: not a valid conversations\.json"):
        formats.load(path)


def test_import_writes_one_session_per_conversation_and_again_the_same(tmp_path: Path) -> None:
    path = api_file(tmp_path / "results.json")
    out = tmp_path / "out"
    code, printed, _ = cli(["import", str(path), "--out", str(out)])
    assert code == 0
    assert "(conversation 1 of 2)" in printed and "(conversation 2 of 2)" in printed
    written = sorted(out.glob("*.jsonl"))
    assert len(written) == 2
    texts = sorted([t.text for t in load_session(p).turns] for p in written)
    assert texts == sorted([TEXTS, ["one", "two", "three"]])
    assert cli(["import", str(path), "--out", str(out)])[0] == 0
    assert sorted(out.glob("*.jsonl")) == written  # same names: overwritten, not duplicated


def test_export_and_replay_pick_a_conversation_counted_from_1(tmp_path: Path) -> None:
    path = api_file(tmp_path / "results.json")
    code, out, _ = cli(["export", str(path), "--conversation", "2", "-f", "json"])
    assert code == 0
    assert [t["text"] for t in json.loads(out)["turns"]] == ["one", "two", "three"]
    code, out, _ = cli(["export", str(path), "-f", "txt"])  # default: the first
    assert code == 0 and "Two spaces" in out and "three" not in out
    code, _, err = cli(["export", str(path), "--conversation", "3"])
    assert code == 2
    assert err.strip().endswith(
        "--conversation 3 is out of range: it holds 2 conversations (1-2)")
    with pytest.raises(UserError, match="--conversation 0 is out of range"):
        load_conversation(path, 0)  # what `replay` loads with
    assert [t.text for t in load_conversation(path, 2).turns] == ["one", "two", "three"]


def test_analyze_labels_every_conversation(tmp_path: Path) -> None:
    api_file(tmp_path / "a.json")
    cross_model_file(tmp_path / "b.json", [conversation("s", "x", "y")], model="m")
    code, out, _ = cli(["analyze", str(tmp_path), "--json"])
    assert code == 0
    records = json.loads(out)
    assert [(Path(r["file"]).name, r["conversation"]) for r in records] == [
        ("a.json", 0), ("a.json", 1), ("b.json", 0)]
    assert [r["turns"] for r in records] == [4, 3, 2]


def test_the_browser_lists_a_file_of_several_conversations_once(tmp_path: Path) -> None:
    path = api_file(tmp_path / "results.json")
    [summary] = SessionIndex(tmp_path).refresh()
    assert not summary.broken and summary.foreign
    assert (summary.extra["conversations"], summary.turns, summary.models) == (
        2, 4, "openai/gpt-x")
    label, error = session_label(path, lambda log: f"{len(log.turns)} turns")
    assert (label, error) == ("4 turns", None)  # the first conversation's


def test_many_files_at_once_a_broken_one_is_named_and_the_rest_goes_on(tmp_path: Path) -> None:
    good = api_file(tmp_path / "a.json")
    broken = cross_model_file(tmp_path / "b.json", [{"full_conversation": "?"}], model="m")
    torn = tmp_path / "c.json"
    torn.write_text('{"conversations": [{"seed_prompt": ', encoding="utf-8")
    missing = tmp_path / "gone.txt"
    loaded, failed = formats.load_all([tmp_path, missing])
    assert [(p.name, n, len(log.turns)) for p, n, log in loaded] == [
        ("a.json", 0, 4), ("a.json", 1, 3)]
    assert [p for p, _ in failed] == [broken, torn, missing]
    assert all(reason.startswith(f"{p}:") for p, reason in failed)  # names the file
    assert "conversation 1: no `full_conversation` list" in failed[0][1]
    code, out, err = cli(["analyze", str(tmp_path), str(missing), "--json"])
    assert code == 1  # some failed, the rest was analysed
    assert [r["conversation"] for r in json.loads(out)] == [0, 1]
    lines = err.splitlines()
    assert len(lines) == 3
    for line, path in zip(lines, (broken, torn, missing), strict=True):
        assert line.startswith(f"warning: skipped {path}: ")
    assert good.exists()
