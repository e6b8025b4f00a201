"""Agreement of the rules with the hand labels (issue 12, part 6).

Loads `tests/analysis/labels/fixture_labels.toml` and the shared fixtures it
names (`../shared/fixtures`, through the format registry), analyses every
labelled conversation and prints, for the `dev` and the `heldout` split, the
end-state agreement per hand label and overall, the topic agreement and the
share the rules call `other`. Only aggregates are printed: the held-out rows
are for reporting, never for tuning. Skips with a message when the fixtures
are absent. Last line:
`dev_agreement=<x> heldout_agreement=<y> heldout_other=<z> n_dev=.. n_heldout=..`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from attractor_tui.analysis.agreement import aggregate, read_labels, score  # noqa: E402

LABELS = ROOT / "tests" / "analysis" / "labels" / "fixture_labels.toml"
FIXTURES = ROOT.parent / "shared" / "fixtures"


def main() -> int:
    if not FIXTURES.is_dir() or not LABELS.is_file():
        print(f"skipped: {FIXTURES} or {LABELS} is absent")
        return 0
    rows = score(read_labels(LABELS), FIXTURES)
    results = {split: aggregate(rows, split) for split in ("dev", "heldout")}
    for split, a in results.items():
        print(f"{split}: {a.agree}/{a.n} end states agree ({a.share:.1%}), "
              f"topic {a.topic_share:.1%}, rules say other for {a.other}/{a.n} "
              f"({a.other_share:.1%})")
        for label, (hits, total) in a.per_label.items():
            print(f"  {label:20s} {hits}/{total}")
    dev, held = results["dev"], results["heldout"]
    print(f"dev_agreement={dev.share:.3f} heldout_agreement={held.share:.3f} "
          f"heldout_other={held.other_share:.3f} n_dev={dev.n} n_heldout={held.n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
