"""The committed end-state model is exactly what `bench/fit_classifier.py` writes.

Refits on every labelled conversation (slow: it loads all hundred and fits once
per model family for the confidence thresholds); skips when `../shared` is absent.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from attractor_tui.analysis.fitted import Model, end_state_model, fit, from_json

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures"


def test_fit_is_deterministic_and_round_trips() -> None:
    xs = [{"a": 0.0, "b": 1.0}, {"a": 1.0, "b": 0.0}, {"a": 0.9, "b": 0.2}, {"a": 0.1, "b": 0.7}]
    ys = ["left", "right", "right", "left"]
    one, two = fit(xs, ys, ("a", "b"), steps=50), fit(xs, ys, ("a", "b"), steps=50)
    assert one.to_json() == two.to_json()
    assert from_json(one.to_json()) == one
    assert one.predict({"a": 1.0, "b": 0.0})[0] == "right"
    assert one.predict({"a": 0.0, "b": 1.0})[0] == "left"


def test_the_committed_model_loads_and_names_no_family() -> None:
    model = end_state_model()
    assert isinstance(model, Model) and 0 < model.uncertain <= model.strong <= 1.01
    text = (ROOT / "attractor_tui" / "analysis" / "data" / "end_state_model.json").read_text()
    for family in ("claude", "gpt", "gemini", "grok", "olmo", "qwen", "llama", "kimi"):
        assert family not in text.lower()


@pytest.mark.slow
@pytest.mark.skipif(not (FIXTURES / "labelled").is_dir(), reason="../shared/fixtures is absent")
def test_the_committed_model_is_what_the_fit_writes() -> None:
    spec = importlib.util.spec_from_file_location("fit_classifier",
                                                  ROOT / "bench" / "fit_classifier.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "attractor_tui" / "analysis" / "data" / "end_state_model.json")
    assert module.model_text() == committed.read_text(encoding="utf-8")
