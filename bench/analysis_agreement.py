"""Leave-one-family-out agreement of the labels with the readers' (issue 24).

Loads every labelled conversation (`analysis.labelled`: the project's 67 and
the shared fixtures' 33), groups them by model family and predicts each one
with a model fitted without every conversation of its families
(`analysis.lofo`). Prints the agreement per family and overall (a label is
right when it is one either reader chose), per-label precision and recall,
the confusion matrix, how often `strong` labels are right, the uncertain and
`other` shares, and the topic agreement. Skips with a message when
`../shared/fixtures` is absent. Last line:
`lofo_end_state=<x> lofo_topic=<y> other=<z> strong_right=<s> uncertain=<u> n=<n>`.

The topic figure is leave-one-family-out too, by the same `lofo` split: the
topic model (`analysis.topic_fit`) fitted without the held-out families.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from attractor_tui.analysis.classify import classify  # noqa: E402
from attractor_tui.analysis.fitted import Model  # noqa: E402
from attractor_tui.analysis.labelled import Labelled, load_labelled  # noqa: E402
from attractor_tui.analysis.lofo import (  # noqa: E402
    Example,
    examples,
    fit_committed,
    lofo,
    predict_example,
)
from attractor_tui.analysis.topic_fit import fit_labelled, predict_labelled  # noqa: E402

OWN = ROOT / "tests" / "analysis" / "labels" / "fixture_labels.toml"
FIXTURES = ROOT.parent / "shared" / "fixtures"


def end_state_predictions(items: Sequence[Example]) -> list[tuple[str, float, str]]:
    """(label, probability, confidence) per item, each from a model fitted without its
    families, confidence cuts included: `fit_committed` on the other families fits the
    model and takes its cuts from their own leave-one-family-out predictions (nested),
    so no figure here saw the held-out families."""

    def predict(model: Model, e: Example) -> tuple[str, float, str]:
        label, p = predict_example(model, e)
        return label, p, ("strong" if e.x is None else model.confidence(p))

    return lofo(items, lambda e: e.families, fit_committed, predict)


def topic_predictions(rows: Sequence[Labelled], fit: Callable[[list[Labelled]], Any] | None = None,
                      predict: Callable[[Any, Labelled], str] | None = None) -> list[str]:
    """Each row's topic: `analyze_log`'s, or leave-one-family-out from `fit`/`predict`."""
    if fit is None or predict is None:
        return [classify(r.log.turns).topic for r in rows]
    return lofo(rows, lambda r: r.families, fit, predict)


def _share(a: int, b: int) -> str:
    return f"{a}/{b} ({a / b:.0%})" if b else "0/0"


def report(rows: Sequence[Labelled], preds: Sequence[tuple[str, float, str]],
           topics: Sequence[str]) -> str:
    n = len(rows)
    right = [p[0] in r.end_state_ok for r, p in zip(rows, preds, strict=True)]
    topic_right = sum(t in r.topic_ok for r, t in zip(rows, topics, strict=True))
    print(f"end state, leave-one-family-out: {_share(sum(right), n)}")
    families = sorted({f for r in rows for f in r.families})
    for fam in families:
        idx = [i for i, r in enumerate(rows) if fam in r.families]
        print(f"  {fam:10s} {_share(sum(right[i] for i in idx), len(idx))}")
    print("per label (reader 1's label; precision counts a prediction right when either "
          "reader chose it):")
    got = Counter(p[0] for p in preds)
    labels = sorted({r.end_state for r in rows} | set(got))
    for lab in labels:
        want = [i for i, r in enumerate(rows) if r.end_state == lab]
        said = [i for i, p in enumerate(preds) if p[0] == lab]
        print(f"  {lab:20s} recall {_share(sum(right[i] for i in want), len(want)):12s} "
              f"precision {_share(sum(right[i] for i in said), len(said))}")
    print("confusion (rows: reader 1, columns: predicted):")
    short = {lab: lab[:6] for lab in labels}
    print(" " * 22 + " ".join(f"{short[lab]:>6s}" for lab in labels))
    for lab in labels:
        counts = Counter(p[0] for r, p in zip(rows, preds, strict=True) if r.end_state == lab)
        print(f"  {lab:20s}" + " ".join(f"{counts[c] or '.':>6}" for c in labels))
    conf = Counter(p[2] for p in preds)
    strong = [ok for ok, p in zip(right, preds, strict=True) if p[2] == "strong"]
    print(f"confidence: strong {conf['strong']}, weak {conf['weak']}, uncertain "
          f"{conf['uncertain']}; strong labels right {_share(sum(strong), len(strong))}")
    misses = Counter((r.end_state, p[0]) for r, p, ok in zip(rows, preds, right, strict=True)
                     if not ok)
    print("misses: " + ", ".join(f"{a}->{b} {k}" for (a, b), k in misses.most_common()))
    print(f"topic, leave-one-family-out: {_share(topic_right, n)}")
    return (f"lofo_end_state={sum(right) / n:.3f} lofo_topic={topic_right / n:.3f} "
            f"other={got['other'] / n:.3f} "
            f"strong_right={(sum(strong) / len(strong) if strong else 0):.3f} "
            f"uncertain={conf['uncertain'] / n:.3f} n={n}")


def main() -> int:
    if not (FIXTURES / "labelled").is_dir() or not OWN.is_file():
        print(f"skipped: {FIXTURES} or {OWN} is absent")
        return 0
    rows = load_labelled(FIXTURES, OWN)
    preds = end_state_predictions(examples(rows))
    print(report(rows, preds, topic_predictions(rows, fit_labelled, predict_labelled)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
