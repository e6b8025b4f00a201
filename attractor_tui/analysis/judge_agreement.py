"""Agreement between two labellings of the same conversations (rules vs judge).

The share agreeing is what a reader checks first; Cohen's kappa corrects it
for the agreement two raters would reach by chance with their label
frequencies, so a folder where nearly everything is one label cannot look
better than it is. (Agreement with hand labels is `analysis.agreement`.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two paired labellings: (p_o - p_e) / (1 - p_e).

    None when it is undefined: no pairs, or chance agreement is already
    certain (both raters used one and the same label throughout).
    """
    if len(a) != len(b):
        raise ValueError(f"labellings differ in length ({len(a)} vs {len(b)})")
    n = len(a)
    if not n:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[label] * count_b[label] for label in count_a) / (n * n)
    if expected == 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


@dataclass(frozen=True)
class PairAgreement:
    """How often two labellings agree, and kappa."""

    n: int
    agreeing: int
    kappa: float | None

    @property
    def share(self) -> float:
        return self.agreeing / self.n if self.n else 0.0

    def line(self, left: str = "rules", right: str = "judge") -> str:
        """One sentence for a summary: `rules vs judge: 8/10 agree (80.0%), ...kappa 0.71`."""
        if not self.n:
            return f"{left} vs {right}: nothing to compare"
        kappa = "n/a (a single label throughout)" if self.kappa is None else f"{self.kappa:.2f}"
        return (f"{left} vs {right}: {self.agreeing}/{self.n} agree ({100 * self.share:.1f}%), "
                f"Cohen's kappa {kappa}")


def pair_agreement(a: Sequence[str], b: Sequence[str]) -> PairAgreement:
    """Share agreeing and kappa of two paired labellings."""
    return PairAgreement(n=len(a), agreeing=sum(x == y for x, y in zip(a, b, strict=True)),
                         kappa=cohen_kappa(a, b))
