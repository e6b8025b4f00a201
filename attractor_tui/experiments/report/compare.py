"""Comparing conditions: do two or more folders differ more than chance would make them?

Each condition is a folder (one `Report`); `compare` lines their end-state
and topic distributions up label by label and tests each label's share
across conditions: Fisher's exact test for two conditions, its
Freeman-Halton extension (exact; chi-square when the table is too big to
enumerate) for more, with Holm's correction across the labels of one axis
(see `experiments.stats` for why Holm). Onset turns and substantive turns
are compared with Mann-Whitney (two conditions) or Kruskal-Wallis (more);
tool-call rates are listed per tool per condition, and tested for "any tool
call" and "a tool called after the operator turn" (`tool_rates`, the
interjection-pressure question of issue 27).

`conditions_of` turns the command line into conditions: several folders, or
one parent whose sub-folders are the conditions (a `batch --vary` folder,
whose `vary.json` gives their order and names).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from attractor_tui.core.text import safe_text
from attractor_tui.experiments.report.build import (
    Report,
    ReportError,
    build_report,
    interval,
)
from attractor_tui.experiments.stats import (
    chi_square,
    exact_2xk,
    exact_feasible,
    fisher_exact,
    holm,
    kruskal_wallis,
    mann_whitney,
)
from attractor_tui.sessions import formats

VARY_MANIFEST = "vary.json"
"""Written by `batch --vary` in the parent folder: the key, the values and their folders."""


@dataclass
class Condition:
    """One folder's share of the comparison."""

    name: str
    directory: str
    n: int
    end_states: dict[str, int]
    topics: dict[str, int]
    onset_turns: list[int]
    """1-based onset turn of each conversation that settled into an attractor."""
    substantive_turns: list[int]
    failed: int = 0
    excluded: int = 0
    interjected: int = 0
    failed_runs: int = 0
    """Runs that failed before any model turn: in no count (`Report.failed_runs`)."""


@dataclass
class LabelTest:
    """One label's counts across conditions and whether they differ."""

    label: str
    counts: list[int]
    pct: list[float]
    intervals: list[tuple[float, float]]
    """95% Wilson interval per condition, in %."""
    p_value: float
    p_adjusted: float = 1.0
    test: str = "fisher"
    sizes: list[int] = field(default_factory=list)
    """Conversations counted per condition; 0 where the rate does not apply (no operator
    turn in that condition): its cell is "—" and the test leaves it out."""

    @property
    def tested(self) -> bool:
        """False when fewer than two conditions had anything to count."""
        return self.test != NOT_TESTED

    def cells(self) -> list[tuple[int, float, float, float] | None]:
        """Per condition (count, %, interval low, high), None where nothing was counted."""
        sizes = self.sizes or [1] * len(self.counts)
        return [(k, pct, lo, hi) if n else None for k, pct, (lo, hi), n
                in zip(self.counts, self.pct, self.intervals, sizes, strict=True)]


NOT_TESTED = "none"


def p_text(p: float) -> str:
    """A p-value as people read it: 3 significant digits, tiny ones as "<0.001"."""
    return "<0.001" if p < 0.001 else f"{p:.3g}"


@dataclass
class DistributionTest:
    """A per-conversation number (onset, substantive turns) compared across conditions."""

    name: str
    stats: list[dict[str, float]]
    n: list[int]
    statistic: float
    p_value: float
    test: str


@dataclass
class Comparison:
    """Everything the comparison renderers show; `to_dict()` is the JSON format."""

    conditions: list[Condition]
    tests: list[LabelTest]
    """End-state labels, Holm-corrected across them."""
    topic_tests: list[LabelTest]
    """Topic labels, Holm-corrected across them (a family of their own)."""
    overall: dict[str, Any]
    """Chi-square over the whole conditions x end states table."""
    distributions: list[DistributionTest]
    tools: list[dict[str, Any]]
    vary: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    tool_rates: list[LabelTest] = field(default_factory=list)
    """"any tool call" (of all conversations) and "called after the operator turn" (of
    those with one), tested across conditions like a label."""
    turns_to_call: DistributionTest | None = None
    """Turns from the operator turn to the first tool call after it, where there was one."""

    @property
    def test_name(self) -> str:
        return "Fisher's exact test" if len(self.conditions) == 2 else (
            "Freeman-Halton exact test (chi-square for large tables)")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["correction"] = "holm"
        return data


# ------------------------------------------------------------- conditions


def conditions_of(paths: Sequence[Path]) -> tuple[list[tuple[str, Path]], dict[str, Any] | None]:
    """(name, folder) per condition, and the `vary.json` manifest when there is one.

    One folder with sub-folders holding sessions: its sub-folders (in the
    manifest's order when it has one). Several folders: each is a condition,
    named after the folder (the whole path when two share a name).
    """
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.is_dir():
            raise ReportError(f"{p} is not a folder")
    vary: dict[str, Any] | None = None
    if len(paths) == 1:
        parent = paths[0]
        vary = _vary_manifest(parent)
        subs = [d for d in sorted(parent.iterdir()) if d.is_dir() and formats.session_files(d)]
        if vary is not None:
            order = {str(f): i for i, f in enumerate(vary.get("folders", []))}
            subs.sort(key=lambda d: (order.get(d.name, len(order)), d.name))
        if len(subs) < 2:
            raise ReportError(f"{parent} has {len(subs)} sub-folder(s) with sessions; "
                              "--compare needs two or more folders (or a `batch --vary` folder)")
        names = _value_names(vary, subs)
        return list(zip(names, subs, strict=True)), vary
    names = [p.name or str(p) for p in paths]
    if len(set(names)) < len(names):
        names = [str(p) for p in paths]
    return list(zip(names, paths, strict=True)), None


def _vary_manifest(parent: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((parent / VARY_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _value_names(vary: dict[str, Any] | None, subs: list[Path]) -> list[str]:
    """"key=value" for a vary folder's sub-folders, else the folder names."""
    if vary is None:
        return [d.name for d in subs]
    folders = [str(f) for f in vary.get("folders", [])]
    values = [str(v) for v in vary.get("values", [])]
    by_folder = dict(zip(folders, values, strict=False))
    key = vary.get("key", "")
    return [f"{key}={by_folder[d.name]}" if d.name in by_folder else d.name for d in subs]


# ---------------------------------------------------------------- compare


def compare_folders(paths: Sequence[Path], *, exclude_interjected: bool = False,
                    labels: str = "rules") -> tuple[Comparison, list[Report]]:
    """Build each condition's report and compare them (`labels`: see `build_report`)."""
    named, vary = conditions_of(paths)
    reports = [build_report(folder, exclude_interjected=exclude_interjected, labels=labels)
               for _, folder in named]
    return compare([name for name, _ in named], reports, vary=vary), reports


def compare(names: Sequence[str], reports: Sequence[Report],
            vary: dict[str, Any] | None = None) -> Comparison:
    """Line the reports up label by label and test each label across them."""
    conditions = [_condition(safe_text(name), r) for name, r in zip(names, reports, strict=True)]
    problems = [f"{c.name}: {p}" for c, r in zip(conditions, reports, strict=True)
                for p in ([f"left out: {r.failed_runs_note}"] if r.failed_runs_note else [])
                + r.problems]
    return Comparison(
        conditions=conditions,
        tests=label_tests([c.end_states for c in conditions], [c.n for c in conditions]),
        topic_tests=label_tests([c.topics for c in conditions],
                                [sum(c.topics.values()) for c in conditions]),
        overall=_overall(conditions),
        distributions=[
            distribution_test("onset turn", [c.onset_turns for c in conditions]),
            distribution_test("substantive turns", [c.substantive_turns for c in conditions]),
        ],
        tools=_tools(reports),
        vary=vary,
        problems=problems,
        tool_rates=tool_rates(reports),
        turns_to_call=distribution_test(
            "turns to first call after operator",
            [[s.call_after_operator for s in r.sessions if s.call_after_operator is not None]
             for r in reports]),
    )


def _condition(name: str, report: Report) -> Condition:
    return Condition(
        name=name, directory=report.directory, n=len(report.sessions),
        end_states={r["label"]: r["count"] for r in report.end_states},
        topics={r["label"]: r["count"] for r in report.topic_labels},
        onset_turns=[s.onset_index + 1 for s in report.sessions if s.onset_index is not None],
        substantive_turns=[s.substantive_turns for s in report.sessions],
        failed=len(report.failed), excluded=report.excluded, interjected=report.interjected,
        failed_runs=len(report.failed_runs),
    )


def label_tests(counts: Sequence[dict[str, int]], sizes: Sequence[int]) -> list[LabelTest]:
    """Per label seen anywhere: counts, shares, intervals, p and Holm's adjusted p.

    Ordered by the label's total count (most common first), then name.
    """
    totals: dict[str, int] = {}
    for c in counts:
        for label, k in c.items():
            totals[label] = totals.get(label, 0) + k
    tests: list[LabelTest] = []
    for label in sorted(totals, key=lambda lab: (-totals[lab], lab)):
        ks = [c.get(label, 0) for c in counts]
        # A condition with nothing to count (n = 0) is no evidence either way.
        rows = [(k, n - k) for k, n in zip(ks, sizes, strict=True) if n]
        if len(rows) < 2:
            p, name = 1.0, NOT_TESTED
        elif len(rows) == 2:
            p, name = fisher_exact(*rows[0], *rows[1]), "fisher"
        else:
            p = exact_2xk(rows)
            name = "freeman-halton" if exact_feasible(rows) else "chi-square"
        tests.append(LabelTest(
            label=label, counts=ks,
            pct=[round(100 * k / n, 1) if n else 0.0 for k, n in zip(ks, sizes, strict=True)],
            intervals=[interval(k, n) for k, n in zip(ks, sizes, strict=True)],
            p_value=p, test=name, sizes=list(sizes)))
    tested = [t for t in tests if t.tested]
    for test, adjusted in zip(tested, holm([t.p_value for t in tested]), strict=True):
        test.p_adjusted = adjusted
    return tests


def _overall(conditions: Sequence[Condition]) -> dict[str, Any]:
    labels = sorted({k for c in conditions for k in c.end_states})
    table = [[c.end_states.get(k, 0) for k in labels] for c in conditions]
    stat, dof, p = chi_square(table)
    return {"test": "chi-square", "statistic": round(stat, 4), "dof": dof, "p_value": p}


def _stats(values: Sequence[int]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "median": 0.0, "min": 0.0, "max": 0.0}
    return {"mean": round(statistics.fmean(values), 2),
            "median": float(statistics.median(values)),
            "min": float(min(values)), "max": float(max(values))}


def distribution_test(name: str, groups: Sequence[Sequence[int]]) -> DistributionTest:
    """Mann-Whitney U for two groups, Kruskal-Wallis H for more."""
    if len(groups) == 2:
        stat, p = mann_whitney(groups[0], groups[1])
        test = "mann-whitney"
    else:
        stat, p = kruskal_wallis(groups)
        test = "kruskal-wallis"
    return DistributionTest(name=name, stats=[_stats(g) for g in groups],
                            n=[len(g) for g in groups], statistic=round(stat, 4), p_value=p,
                            test=test)


ANY_TOOL = "any tool call"
AFTER_OPERATOR = "tool called after the operator turn"


def tool_rates(reports: Sequence[Report]) -> list[LabelTest]:
    """Share of conversations calling any tool, and of those with an operator turn, the share
    calling one after it; each tested across conditions (its own denominator)."""
    with_operator = [[s for s in r.sessions if s.operator_at is not None] for r in reports]
    rates = label_tests([{ANY_TOOL: sum(s.called_any_tool for s in r.sessions)} for r in reports],
                        [len(r.sessions) for r in reports])
    if any(with_operator):
        rates += label_tests(
            [{AFTER_OPERATOR: sum(s.call_after_operator is not None for s in group)}
             for group in with_operator], [len(group) for group in with_operator])
    return rates


def _tools(reports: Sequence[Report]) -> list[dict[str, Any]]:
    """Per tool: calls, conversations using it (with interval) and calls per 100 model turns,
    per condition."""
    names = sorted({t["name"] for r in reports for t in r.tools})
    rows: list[dict[str, Any]] = []
    for name in names:
        per: list[dict[str, Any]] = []
        for r in reports:
            row = next((t for t in r.tools if t["name"] == name), None)
            used = row["sessions"] if row else 0
            per.append({"calls": row["calls"] if row else 0, "sessions": used,
                        "session_pct": row["session_pct"] if row else 0.0,
                        "interval": interval(used, len(r.sessions)),
                        "per_100_turns": row["per_100_turns"] if row else 0.0})
        rows.append({"name": name, "conditions": per})
    return rows

