"""The few statistics a comparison of conditions needs, in plain Python.

Why here and not scipy: these are a dozen short, well-known formulas; a
large numeric dependency for them would weigh on every install (the tests
check them against reference values computed once with scipy).

- `wilson`: 95% interval of a share (good for small n and shares near 0 or 1,
  where the plain normal interval goes below 0 or above 1).
- `fisher_exact`: two conditions, one label: exact two-sided p of a 2x2 table.
- `exact_2xk`: more conditions, one label: the Freeman-Halton extension of
  Fisher's test (exact, by enumerating every table with the same margins)
  while that is affordable, else `chi_square`.
- `chi_square`: Pearson's test of independence with its p-value from the
  chi-square survival function (the regularised upper incomplete gamma).
- `holm`: the multiple-comparison correction across labels. Holm rather than
  Benjamini-Hochberg because the label tests are not independent (the shares
  of one folder sum to 100%, so one label rising makes others fall) and Holm
  controls the family-wise error under any dependence, while BH's guarantee
  needs positive dependence; with a dozen labels Holm costs little power.
- `mann_whitney` (two conditions) and `kruskal_wallis` (more): onset and
  substantive-turn distributions, which are skewed counts with many ties.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import product

Z95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95% interval."""
RELATIVE_TOLERANCE = 1 + 1e-7
"""Tables as likely as the observed one, up to float error, count as "as extreme" (as scipy)."""
MAX_TABLES = 200_000
"""Above this many tables with the observed margins, `exact_2xk` uses the chi-square test."""
EXACT_MWU = 8
"""Mann-Whitney's exact distribution is used when both samples are at most this big
and nothing is tied (scipy's rule); otherwise the normal approximation."""


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of `successes`/`n`; (0, 0) when n is 0."""
    if n <= 0:
        return (0.0, 0.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


# ------------------------------------------------------------ exact tests


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p of the 2x2 table [[a, b], [c, d]]: the probability, with the
    margins fixed, of a table no more likely than the observed one."""
    return exact_2xk([(a, b), (c, d)])


def exact_2xk(rows: Sequence[tuple[int, int]]) -> float:
    """Exact p for k conditions x (label, not label): Freeman-Halton.

    `rows` holds (with the label, without) per condition. With the margins
    fixed, the labelled counts follow the multivariate hypergeometric law;
    p sums the probabilities of every table no more likely than the observed
    one. Falls back to `chi_square` when there are more than `MAX_TABLES`.
    """
    sizes = [a + b for a, b in rows]
    hits = sum(a for a, _ in rows)
    total = sum(sizes)
    if total == 0 or hits in (0, total) or sum(1 for s in sizes if s) < 2:
        return 1.0
    if _tables(sizes, hits) > MAX_TABLES:
        return chi_square([list(r) for r in rows])[2]
    norm = _log_choose(total, hits)

    def log_p(counts: Sequence[int]) -> float:
        return sum(_log_choose(s, x) for s, x in zip(sizes, counts, strict=True)) - norm

    observed = log_p([a for a, _ in rows]) + math.log(RELATIVE_TOLERANCE)
    p = 0.0
    for counts in _fillings(sizes, hits):
        lp = log_p(counts)
        if lp <= observed:
            p += math.exp(lp)
    return min(1.0, p)


def exact_feasible(rows: Sequence[tuple[int, int]]) -> bool:
    """Whether `exact_2xk` enumerates these margins (else it uses the chi-square test)."""
    return _tables([a + b for a, b in rows], sum(a for a, _ in rows)) <= MAX_TABLES


def _fillings(sizes: Sequence[int], hits: int) -> list[tuple[int, ...]]:
    """Every way to spread `hits` over groups of these sizes (x_i <= size_i)."""
    if len(sizes) == 1:
        return [(hits,)] if hits <= sizes[0] else []
    rest = sum(sizes[1:])
    out: list[tuple[int, ...]] = []
    for x in range(max(0, hits - rest), min(sizes[0], hits) + 1):
        out.extend((x, *tail) for tail in _fillings(sizes[1:], hits - x))
    return out


def _tables(sizes: Sequence[int], hits: int) -> int:
    """How many tables `_fillings` would list (counted without listing them)."""
    ways = [1] + [0] * hits
    for size in sizes:
        nxt = [0] * (hits + 1)
        for total, w in enumerate(ways):
            if w:
                for x in range(min(size, hits - total) + 1):
                    nxt[total + x] += w
        ways = nxt
    return ways[hits]


# ------------------------------------------------------------- chi-square


def chi_square(table: Sequence[Sequence[int]]) -> tuple[float, int, float]:
    """Pearson's chi-square test of independence: (statistic, degrees of freedom, p).

    Rows or columns that are all zero are dropped first (they carry no
    information and would divide by zero); fewer than 2x2 left means p = 1.
    """
    rows = [list(r) for r in table if sum(r)]
    if not rows:
        return (0.0, 0, 1.0)
    keep = [j for j in range(len(rows[0])) if sum(r[j] for r in rows)]
    rows = [[r[j] for j in keep] for r in rows]
    if len(rows) < 2 or len(keep) < 2:
        return (0.0, 0, 1.0)
    total = sum(map(sum, rows))
    row_sums = [sum(r) for r in rows]
    col_sums = [sum(r[j] for r in rows) for j in range(len(keep))]
    stat = 0.0
    for i, j in product(range(len(rows)), range(len(keep))):
        expected = row_sums[i] * col_sums[j] / total
        stat += (rows[i][j] - expected) ** 2 / expected
    dof = (len(rows) - 1) * (len(keep) - 1)
    return (stat, dof, chi2_sf(stat, dof))


def chi2_sf(x: float, dof: int) -> float:
    """P(X >= x) for X chi-square with `dof` degrees of freedom."""
    if x <= 0:
        return 1.0
    return _gamma_q(dof / 2, x / 2)


def _gamma_q(a: float, x: float) -> float:
    """The regularised upper incomplete gamma Q(a, x) (series below a+1, else a
    continued fraction: Numerical Recipes' gser/gcf)."""
    if x < a + 1:
        term = total = 1.0 / a
        k = a
        for _ in range(1000):
            k += 1
            term *= x / k
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(-x + a * math.log(x) - math.lgamma(a)))
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(-x + a * math.log(x) - math.lgamma(a)) * h)


# ------------------------------------------------------------- correction


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given (monotone, capped at 1)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


# ------------------------------------------------------------ rank tests


def _ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Mid-ranks (1-based) of `values`, and the size of every group of ties."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    ties: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def mann_whitney(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Mann-Whitney U test, two-sided: (U of `x`, p).

    Exact when both samples are small and untied; otherwise the normal
    approximation with the tie correction and a continuity correction (as
    scipy's default). An empty sample, or all values equal, gives p = 1.
    """
    n1, n2 = len(x), len(y)
    if not n1 or not n2:
        return (0.0, 1.0)
    ranks, ties = _ranks([*x, *y])
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    n = n1 + n2
    if n1 <= EXACT_MWU and n2 <= EXACT_MWU and all(t == 1 for t in ties):
        return (u1, _mwu_exact(u1, n1, n2))
    tie_term = sum(t ** 3 - t for t in ties) / (n * (n - 1))
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term))
    if sigma == 0:
        return (u1, 1.0)
    mu = n1 * n2 / 2
    z = (abs(u1 - mu) - 0.5) / sigma
    return (u1, min(1.0, 2 * _normal_sf(max(0.0, z))))


def _mwu_exact(u: float, n1: int, n2: int) -> float:
    """Two-sided exact p: twice the smaller tail of U's null distribution."""
    # dist(a, b)[k]: orderings of a x's and b y's in which x beats y in k pairs
    table: dict[tuple[int, int], list[int]] = {}

    def dist(a: int, b: int) -> list[int]:
        if (a, b) in table:
            return table[(a, b)]
        if a == 0 or b == 0:
            out = [1]
        else:
            # the largest item is an x (adds b to U) or a y (adds nothing)
            with_x = [0] * b + dist(a - 1, b)
            with_y = dist(a, b - 1)
            size = max(len(with_x), len(with_y))
            out = [(with_x[k] if k < len(with_x) else 0) + (with_y[k] if k < len(with_y) else 0)
                   for k in range(size)]
        table[(a, b)] = out
        return out

    counts = dist(n1, n2)
    total = sum(counts)
    k = round(min(u, n1 * n2 - u))
    lower = sum(counts[: k + 1]) / total
    return min(1.0, 2 * lower)


def kruskal_wallis(groups: Sequence[Sequence[float]]) -> tuple[float, float]:
    """Kruskal-Wallis H test with the tie correction: (H, p from chi-square, k-1 dof)."""
    groups = [g for g in groups if len(g)]
    if len(groups) < 2:
        return (0.0, 1.0)
    values = [v for g in groups for v in g]
    n = len(values)
    ranks, ties = _ranks(values)
    h = 0.0
    start = 0
    for g in groups:
        h += sum(ranks[start:start + len(g)]) ** 2 / len(g)
        start += len(g)
    h = 12 / (n * (n + 1)) * h - 3 * (n + 1)
    correction = 1 - sum(t ** 3 - t for t in ties) / (n ** 3 - n)
    if correction <= 0:
        return (0.0, 1.0)
    h /= correction
    return (h, chi2_sf(h, len(groups) - 1))
