"""Fit the end-state model on every labelled conversation and write it into the package.

Deterministic (plain-Python logistic regression from zero weights, a fixed
number of steps, rounded output): rerunning it on the same labels and
fixtures writes the same bytes, which `tests/analysis/test_fit_classifier.py`
checks. The confidence thresholds come from leave-one-family-out predictions
(`analysis.lofo.fit_committed`). Skips with a message when `../shared` is absent.

    .venv/bin/python bench/fit_classifier.py            # rewrite the model
    .venv/bin/python bench/fit_classifier.py --check    # exit 1 if it would change
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from attractor_tui.analysis.labelled import load_labelled  # noqa: E402
from attractor_tui.analysis.lofo import examples, fit_committed  # noqa: E402

OWN = ROOT / "tests" / "analysis" / "labels" / "fixture_labels.toml"
FIXTURES = ROOT.parent / "shared" / "fixtures"
OUT = ROOT / "attractor_tui" / "analysis" / "data" / "end_state_model.json"


def model_text(fixtures: Path = FIXTURES, own: Path = OWN) -> str:
    return fit_committed(examples(load_labelled(fixtures, own))).to_json()


def main(argv: list[str]) -> int:
    if not (FIXTURES / "labelled").is_dir():
        print(f"skipped: {FIXTURES} is absent")
        return 0
    text = model_text()
    if "--check" in argv:
        same = OUT.is_file() and OUT.read_text(encoding="utf-8") == text
        print("unchanged" if same else f"{OUT} differs from what the fit writes")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
