"""The shared real transcripts beside the repository, skipped cleanly when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"
PEER_LOGS = SHARED_FIXTURES / "peer-logs"
ABSENT = "../shared/fixtures/peer-logs is not present (fine in a user's clone)"

PEER_LOG_FILES: list[Path] = sorted(PEER_LOGS.glob("*.jsonl")) if PEER_LOGS.is_dir() else []
"""The transcripts known at collection time (for `parametrize`); empty when absent."""

needs_peer_logs = pytest.mark.skipif(not PEER_LOG_FILES, reason=ABSENT)


def peer_logs() -> list[Path]:
    """The shared real transcripts, or a clean skip in a user's clone."""
    if not PEER_LOGS.is_dir():
        pytest.skip(ABSENT)
    return sorted(PEER_LOGS.glob("*.jsonl"))


def peer_log(name: str) -> Path:
    """One shared transcript, or a clean skip in a user's clone.

    Only a missing folder skips: with the folder there, a missing file fails loudly.
    """
    if not PEER_LOGS.is_dir():
        pytest.skip(ABSENT)
    return PEER_LOGS / name


# ------------------------------------------- the other harnesses' transcripts

CROSS_MODEL = SHARED_FIXTURES / "cross-model"
"""ajobi-uhc/attractor-states `conversations.json` files (several conversations each)."""
BACKROOMS = SHARED_FIXTURES / "backrooms"
"""UniversalBackrooms `*.txt` logs."""
PEER_CONSOLE = SHARED_FIXTURES / "peer-console"
"""Console output of MatchaOnMuffins/attractor-states `main.py`."""

FOLDERS: dict[Path, str] = {PEER_LOGS: "*.jsonl", CROSS_MODEL: "*.json", BACKROOMS: "*.txt",
                            PEER_CONSOLE: "*.txt"}
"""Each shared folder and the transcripts in it (READMEs are not transcripts)."""


def _listed(folder: Path) -> list[Path]:
    return sorted(folder.glob(FOLDERS[folder])) if folder.is_dir() else []


FIXTURE_FILES: list[Path] = [path for folder in FOLDERS for path in _listed(folder)]
"""Every shared transcript known at collection time (for `parametrize`); empty when absent."""

needs_fixtures = pytest.mark.skipif(
    not FIXTURE_FILES, reason="../shared/fixtures is not present (fine in a user's clone)")


def shared_files(folder: Path) -> list[Path]:
    """The transcripts of one shared folder, or a clean skip when it is absent."""
    if not folder.is_dir():
        pytest.skip(f"../shared/fixtures/{folder.name} is not present (fine in a user's clone)")
    return _listed(folder)
