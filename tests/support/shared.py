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
