"""Fit the topic model on the hand-labelled conversations and write it to the package.

Loads every labelled conversation (`tests/analysis/labels/fixture_labels.toml`
and `../shared/fixtures/labelled/labels.toml`, through `analysis.labelled`),
prints the leave-one-family-out topic agreement (per family, per topic
precision and recall, per confidence), then fits on all of them and writes
`attractor_tui/analysis/data/topic_model.json` (`--check`: only compares it).
Deterministic: the same labels give the same bytes. Skips with a message when
the fixtures are absent. Last line: `lofo_topic=<x>`.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from attractor_tui.analysis.labelled import load_labelled  # noqa: E402
from attractor_tui.analysis.topic_fit import Prediction, fit_shipped, per_conversation  # noqa: E402
from attractor_tui.analysis.topic_model import CONFIDENCES  # noqa: E402

LABELS = ROOT / "tests" / "analysis" / "labels" / "fixture_labels.toml"
FIXTURES = ROOT.parent / "shared" / "fixtures"
MODEL = ROOT / "attractor_tui" / "analysis" / "data" / "topic_model.json"


def report(predictions: list[Prediction], wanted: dict[str, str]) -> float:
    """Print the held-out figures; returns the agreement over conversations."""
    scores = per_conversation(predictions)
    families = sorted({p.family for p in predictions})
    for family in families:
        rows = [p for p in predictions if p.family == family]
        print(f"  held out {family:10s} {sum(p.right for p in rows)}/{len(rows)}")
    said: Counter[str] = Counter(p.topic for p in predictions)
    right: Counter[str] = Counter(p.topic for p in predictions if p.right)
    truth: Counter[str] = Counter(wanted[p.key] for p in predictions)
    found: Counter[str] = Counter(wanted[p.key] for p in predictions if p.right)
    print("  over held-out predictions (a cross-model pair once per family):")
    print("  topic              precision   recall")
    for topic in sorted(set(said) | set(truth)):
        print(f"  {topic:18s} {right[topic]:3d}/{said[topic]:<3d}     "
              f"{found[topic]:3d}/{truth[topic]:<3d}")
    for level in CONFIDENCES:
        rows = [p for p in predictions if p.confidence == level]
        print(f"  {level:10s} {sum(p.right for p in rows)}/{len(rows)} right")
    return sum(scores.values()) / len(scores) if scores else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed model instead of writing it")
    args = parser.parse_args(argv)
    if not FIXTURES.is_dir() or not LABELS.is_file():
        print(f"skipped: {FIXTURES} or {LABELS} is absent")
        return 0
    labelled = load_labelled(FIXTURES, LABELS)
    model, predictions = fit_shipped(labelled)
    print(f"{len(labelled)} labelled conversations; leave-one-family-out topic agreement:")
    share = report(predictions, {x.key: x.topic for x in labelled})
    text = model.to_json()
    if args.check:
        same = MODEL.is_file() and MODEL.read_text(encoding="utf-8") == text
        print(f"committed model {'is' if same else 'is NOT'} what the fit gives")
        status = 0 if same else 1
    else:
        MODEL.write_text(text, encoding="utf-8")
        print(f"wrote {MODEL.relative_to(ROOT)} ({len(model.log_odds)} stems, "
              f"strong from p >= {model.strong} (None: never), "
              f"uncertain below a lead of {model.margin})")
        status = 0
    print(f"lofo_topic={share:.3f}")
    return status


if __name__ == "__main__":
    sys.exit(main())
