"""Schema of the hand-labelled fixture set (tests/analysis/labels/fixture_labels.toml).

The labels are the yardstick the classifier is measured against, so a typo in
a label, a duplicated key or a hand-edited split would silently skew every
agreement figure. This reads only the TOML file, never the shared fixtures.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

from attractor_tui.analysis import LABELS
from attractor_tui.analysis.topics import TOPICS

LABELS_FILE = Path(__file__).parent / "labels" / "fixture_labels.toml"
FOLDERS = ("cross-model", "backrooms", "peer-console")
FIELDS = {"folder", "file", "conversation", "end_state", "onset_index", "topic", "split", "note"}


def _digest(folder: str, file: str, conversation: int) -> str:
    return hashlib.sha1(f"{folder}/{file}#{conversation}".encode()).hexdigest()


def expected_splits(keys: list[tuple[str, str, int]]) -> dict[tuple[str, str, int], str]:
    """The split rule, mechanical, not by choice: the third of the keys
    (rounded up) with the smallest sha1 digests is held out."""
    ranked = sorted(keys, key=lambda key: _digest(*key))
    held = set(ranked[: math.ceil(len(ranked) / 3)])
    return {key: "heldout" if key in held else "dev" for key in keys}


@pytest.fixture(scope="module")
def entries() -> list[dict[str, Any]]:
    with LABELS_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    assert set(data) == {"conversation"}, "only [[conversation]] tables belong in the file"
    rows = data["conversation"]
    assert isinstance(rows, list)
    return rows


def test_split_rule_matches_known_keys(entries: list[dict[str, Any]]) -> None:
    # Pinned values, so a changed split rule in the test itself cannot pass unnoticed.
    splits = expected_splits([(r["folder"], r["file"], r["conversation"]) for r in entries])
    assert splits[("cross-model", "anthropic_claude-opus-4.5.json", 0)] == "heldout"
    assert splits[("cross-model", "anthropic_claude-opus-4.5.json", 4)] == "dev"
    assert sum(1 for split in splits.values() if split == "heldout") == math.ceil(len(splits) / 3)


def test_at_least_sixty_entries_and_both_splits(entries: list[dict[str, Any]]) -> None:
    assert len(entries) >= 60
    assert {row["split"] for row in entries} == {"dev", "heldout"}


def test_every_entry_has_the_schema(entries: list[dict[str, Any]]) -> None:
    for row in entries:
        where = f"{row.get('folder')}/{row.get('file')}#{row.get('conversation')}"
        assert set(row) <= FIELDS, f"{where}: unknown fields {set(row) - FIELDS}"
        assert FIELDS - {"onset_index"} <= set(row), f"{where}: missing fields"
        assert row["folder"] in FOLDERS, where
        assert isinstance(row["file"], str) and row["file"] and "/" not in row["file"], where
        assert isinstance(row["conversation"], int) and row["conversation"] >= 0, where
        assert row["end_state"] in LABELS, f"{where}: {row['end_state']!r} is not a label"
        assert row["topic"] in TOPICS, f"{where}: {row['topic']!r} is not a topic"
        note = row["note"]
        assert isinstance(note, str) and note.strip() and "\n" not in note, where
        if row["folder"] == "backrooms":
            assert row["conversation"] == 0, f"{where}: a backrooms file holds one conversation"


def test_onset_present_exactly_when_not_too_short(entries: list[dict[str, Any]]) -> None:
    for row in entries:
        where = f"{row['folder']}/{row['file']}#{row['conversation']}"
        if row["end_state"] == "too_short":
            assert "onset_index" not in row, f"{where}: too_short takes no onset"
        else:
            onset = row.get("onset_index")
            assert isinstance(onset, int) and not isinstance(onset, bool), where
            assert onset >= 0, where


def test_keys_are_unique(entries: list[dict[str, Any]]) -> None:
    keys = [(row["folder"], row["file"], row["conversation"]) for row in entries]
    duplicates = {key for key in keys if keys.count(key) > 1}
    assert not duplicates


def test_split_follows_the_hash_rule(entries: list[dict[str, Any]]) -> None:
    splits = expected_splits([(r["folder"], r["file"], r["conversation"]) for r in entries])
    wrong = [
        (row["folder"], row["file"], row["conversation"], row["split"])
        for row in entries
        if row["split"] != splits[(row["folder"], row["file"], row["conversation"])]
    ]
    assert not wrong
