"""80 rounds on the real embedded model: the context policies keep it going.

The window is set to 512 tokens (the model's own is 4096) so the policy acts
over and over within 80 rounds (a trim every few rounds per side) while the
test stays well under a minute; the
full-window run is `bench/long_context.py`, which prints how it went.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.history import messages_for
from attractor_tui.sessions.store import load_session
from tests.support.builders import run_session

pytestmark = pytest.mark.slow  # the real model; skip with `-m "not slow"`

ROUNDS = 80
WINDOW = 512


@pytest.fixture(scope="module", autouse=True)
def _model_present() -> None:
    from attractor_tui.backends.embedded import find_model_path

    try:
        find_model_path()
    except Exception as exc:  # the suite's installer provides it; a bare clone may not
        pytest.skip(f"embedded model not installed: {exc}")


@pytest.mark.parametrize("policy", ["truncate", "summarize"])
async def test_many_rounds_stay_inside_the_window(tmp_path: Path, policy: str) -> None:
    side = SideConfig(model="embedded/smollm2-135m", max_tokens=8, temperature=0,
                      context=policy, context_tokens=WINDOW)
    config = SessionConfig(a=side, b=side.model_copy(), turns=ROUNDS)
    _, log, _ = await run_session(tmp_path, config)
    assert log.end is not None and log.end.reason == "turns", log.end
    assert len(log.turns) == 2 * ROUNDS
    assert log.errors == []
    used = [t.usage.prompt_tokens + t.usage.completion_tokens for t in log.turns if t.usage]
    assert len(used) == len(log.turns) and max(used) <= WINDOW  # the model's own count
    assert {t.side for t in log.trims} == {"A", "B"}
    assert len(log.trims) >= 6  # the policy acted again and again, not once
    assert all(t.action == policy for t in log.trims)
    if policy == "summarize":
        assert any(t.summary for t in log.trims)
    # the file alone rebuilds a history that fits: what the next turn would send
    reloaded = load_session(log.path)
    for which in ("A", "B"):
        sent = messages_for(config, which, reloaded.turns, reloaded.trims)
        assert len(sent) < 2 * ROUNDS
