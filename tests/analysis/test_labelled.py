"""The loader of every labelled conversation (evaluation only, issue 24)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from attractor_tui.analysis.labelled import family_of, load_labelled

ROOT = Path(__file__).resolve().parents[2]
OWN = ROOT / "tests" / "analysis" / "labels" / "fixture_labels.toml"
FIXTURES = ROOT.parent / "shared" / "fixtures"


@pytest.mark.parametrize(("model", "family"), [
    ("anthropic/claude-opus-4.5", "claude"), ("opus", "claude"), ("sonnet", "claude"),
    ("openai/gpt-5.2", "gpt"), ("gpt4o", "gpt"), ("o1-preview", "gpt"),
    ("google/gemini-2.5-flash", "gemini"), ("google/gemma-3-27b-it", "gemma"),
    ("x-ai/grok-4.1-fast", "grok"), ("moonshotai/kimi-k2.5", "kimi"),
    ("deepseek/deepseek-v3.2", "deepseek"), ("qwen/qwen3-8b", "qwen"),
    ("meta-llama/llama-3.3-70b-instruct", "llama"), ("allenai/Olmo-3-32B-Think", "olmo"),
    ("z-ai/glm-4.7", "glm"), ("arcee-ai/trinity-large-preview:free", "trinity"),
    ("acme/brand-new-7b", "brand-new-7b"),
])
def test_family_of(model: str, family: str) -> None:
    assert family_of(model) == family


@pytest.mark.skipif(not (FIXTURES / "labelled" / "labels.toml").is_file(),
                    reason="../shared/fixtures is absent")
def test_every_labelled_conversation_loads_with_its_families() -> None:
    rows = load_labelled(FIXTURES, OWN)
    assert Counter(r.source for r in rows) == {"own": 67, "shared": 33}
    assert len({r.key for r in rows}) == 100
    by_key = {r.key: r for r in rows}
    pair = by_key["labelled/cross_grok-4.1-fast_vs_gpt-5.2__1.json#0"]
    assert pair.families == {"grok", "gpt"}
    assert by_key["backrooms/gpt4o_opus_science_20241020_180757.txt#0"].families == {
        "gpt", "claude"}
    for r in rows:
        assert r.end_state in r.end_state_ok and r.topic in r.topic_ok
        assert r.log.turns and r.families
    assert sum(len(r.topic_ok) > 1 for r in rows) == 2
