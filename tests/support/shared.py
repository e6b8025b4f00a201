"""The shared real transcripts beside the repository, skipped cleanly when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"
PEER_LOGS = SHARED_FIXTURES / "peer-logs"


def peer_logs() -> list[Path]:
    """The shared real transcripts, or a clean skip in a user's clone."""
    if not PEER_LOGS.is_dir():
        pytest.skip("../shared/fixtures/peer-logs is not present (fine in a user's clone)")
    return sorted(PEER_LOGS.glob("*.jsonl"))
