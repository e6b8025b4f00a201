"""32 rounds on the real embedded model: the context policies keep it going.

The window is set to 256 tokens (the model's own is 4096) so the policy acts
over and over within 32 rounds (the first trim near round 8, then one every
five or six rounds per side) while the test stays short: at 512 tokens and 80
rounds the same checks took ~170 s of CPU for the two policies, most of the
slow lane. The full-window run is `bench/long_context.py`, which prints how it
went.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.history import messages_for
from attractor_tui.sessions.store import load_session
from tests.support.builders import run_session

# the real model (loaded once per process, `embedded_model`); skip with `-m "not slow"`
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("embedded_model")]

ROUNDS = 32
WINDOW = 256


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
