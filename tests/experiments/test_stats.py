"""The comparison statistics against reference values.

The references were computed once with scipy 1.17 (`stats.fisher_exact`,
`chi2_contingency(correction=False)`, `chi2.sf`, `mannwhitneyu`, `kruskal`,
and `multivariate_hypergeom` summed over every table for Freeman-Halton) or
by hand where noted, and are hard-coded so that scipy is not a dependency.
"""

from __future__ import annotations

import pytest

from attractor_tui.experiments.stats import (
    chi2_sf,
    chi_square,
    exact_2xk,
    exact_feasible,
    fisher_exact,
    holm,
    kruskal_wallis,
    mann_whitney,
    wilson,
)


def test_wilson_interval() -> None:
    # by hand: p = 0.3, z = 1.96: (0.3 + 0.19208) / 1.38415 -+ 1.96 * sqrt(0.021 + 0.0096) / 1.38415
    assert wilson(3, 10) == pytest.approx((0.107791, 0.603222), abs=1e-6)
    assert wilson(5, 20) == pytest.approx((0.111862, 0.468701), abs=1e-6)
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.277533, abs=1e-6)
    lo, hi = wilson(10, 10)
    assert lo == pytest.approx(0.722467, abs=1e-6) and hi == pytest.approx(1.0)
    assert wilson(0, 0) == (0.0, 0.0)


@pytest.mark.parametrize(("table", "expected"), [
    ((3, 1, 1, 3), 0.4857142857),  # by hand: (1 + 16 + 16 + 1) / 70
    ((8, 2, 1, 5), 0.0349650350),
    ((0, 10, 10, 0), 1.0825088e-05),
    ((7, 3, 4, 6), 0.3698499643),
    ((12, 18, 20, 10), 0.0692058063),
    ((1, 0, 0, 1), 1.0),
    ((0, 5, 0, 5), 1.0),  # the label never occurs: nothing to test
])
def test_fisher_exact_two_sided(table: tuple[int, int, int, int], expected: float) -> None:
    assert fisher_exact(*table) == pytest.approx(expected, rel=1e-7)


def test_freeman_halton_for_three_conditions() -> None:
    assert exact_2xk([(5, 5), (1, 9), (2, 8)]) == pytest.approx(0.1915580671, rel=1e-8)
    assert exact_2xk([(4, 2), (0, 6), (3, 3)]) == pytest.approx(0.0950226244, rel=1e-8)
    assert exact_2xk([(6, 4), (6, 4), (6, 4)]) == pytest.approx(1.0)
    # 2x2 is Fisher's test
    assert exact_2xk([(8, 2), (1, 5)]) == pytest.approx(fisher_exact(8, 2, 1, 5))


def test_exact_falls_back_to_chi_square_for_huge_tables() -> None:
    rows = [(300, 300), (250, 350), (320, 280), (310, 290)]
    assert not exact_feasible(rows) and exact_feasible([(5, 5), (1, 9), (2, 8)])
    assert exact_2xk(rows) == pytest.approx(chi_square([list(r) for r in rows])[2])


def test_chi_square_and_its_survival_function() -> None:
    stat, dof, p = chi_square([[10, 20, 30], [6, 9, 17]])
    assert (stat, dof, p) == (pytest.approx(0.2715746515), 2, pytest.approx(0.8730282834))
    stat, dof, p = chi_square([[12, 5], [7, 9], [2, 14]])
    assert (stat, dof, p) == (pytest.approx(11.3642769608), 2, pytest.approx(0.0034062664))
    assert chi_square([[5, 0], [0, 5]]) == (pytest.approx(10.0), 1, pytest.approx(0.0015654023))
    assert chi_square([[3, 0], [4, 0]])[2] == 1.0  # a column of zeros leaves one column
    for x, dof, expected in [(3.84, 1, 0.0500435212), (10, 4, 0.0404276820),
                             (0.5, 3, 0.9188914117), (50, 10, 2.669083425e-07),
                             (100, 2, 1.928749848e-22), (1e-3, 1, 0.9747728794)]:
        assert chi2_sf(x, dof) == pytest.approx(expected, rel=1e-8)


def test_holm_adjustment() -> None:
    # by hand: sorted 0.01*4, 0.03*3, 0.04*2 (raised to 0.09 to stay monotone), 0.5*1
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_mann_whitney() -> None:
    assert mann_whitney([1, 2, 3, 4], [5, 6, 7, 8, 9]) == (0.0, pytest.approx(0.0158730159))
    assert mann_whitney([3, 1, 4, 1, 5], [9, 2, 6, 5, 3, 5]) == (
        6.5, pytest.approx(0.1386258799))
    assert mann_whitney([0, 0, 1, 2, 2, 5, 8], [3, 4, 4, 6, 9, 9, 10, 12]) == (
        7.0, pytest.approx(0.0172688724))
    assert mann_whitney([], [1, 2])[1] == 1.0
    assert mann_whitney([3, 3, 3], [3, 3])[1] == 1.0


def test_kruskal_wallis() -> None:
    h, p = kruskal_wallis([[1, 2, 3, 3], [4, 5, 5, 6], [2, 8, 9]])
    assert h == pytest.approx(4.8060675883) and p == pytest.approx(0.0904431508)
    assert kruskal_wallis([[1, 2], []]) == (0.0, 1.0)
