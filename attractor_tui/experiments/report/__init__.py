"""Batch reports: what a folder of conversations fell into, as md, html, json or Rich.

`build` collects a folder into one `Report` (reading every file through the
format registry); `markdown`, `html` and `rich` render it, with the plots and
text helpers of `charts`. `render` picks the renderer and `report_command` is
`attractor-tui report DIR`; `compare` tests several folders (conditions)
against each other, `render_compare` and `compare_command` (`report --compare`)
show it. Every name callers used from the former single
module is re-exported here.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Literal

from attractor_tui.core.secrets import redact_env
from attractor_tui.experiments.report.build import (
    IDF_FLOOR,
    KEYWORDS_PER_SESSION,
    MAX_CURVE_TURNS,
    MIN_CURVE_SHARE,
    SMOOTH_WINDOW,
    STOPWORDS,
    TOPIC_OVERLAP,
    TOPIC_PROFILE,
    Report,
    ReportError,
    SessionSummary,
    build_report,
    histogram,
    smooth,
)
from attractor_tui.experiments.report.charts import (
    sparkline,
    svg_bars,
    svg_histogram,
    svg_lines,
    svg_stacked,
)
from attractor_tui.experiments.report.compare import (
    VARY_MANIFEST,
    Comparison,
    LabelTest,
    compare,
    compare_folders,
    conditions_of,
)
from attractor_tui.experiments.report.html import (
    LABEL_COLOURS,
    TOPIC_COLOURS,
    render_compare_html,
    render_html,
)
from attractor_tui.experiments.report.markdown import render_compare_markdown, render_markdown
from attractor_tui.experiments.report.rich import (
    RICH_COLOURS,
    render_compare_rich,
    render_report_rich,
)

__all__ = [
    "Comparison",
    "LabelTest",
    "TOPIC_COLOURS",
    "compare",
    "compare_command",
    "compare_folders",
    "conditions_of",
    "render_compare",
    "render_compare_html",
    "render_compare_markdown",
    "render_compare_rich",
    "svg_stacked",
    "IDF_FLOOR",
    "KEYWORDS_PER_SESSION",
    "LABEL_COLOURS",
    "MAX_CURVE_TURNS",
    "MIN_CURVE_SHARE",
    "RICH_COLOURS",
    "SMOOTH_WINDOW",
    "STOPWORDS",
    "TOPIC_OVERLAP",
    "TOPIC_PROFILE",
    "Report",
    "ReportError",
    "ReportFormat",
    "SessionSummary",
    "build_report",
    "histogram",
    "render",
    "render_html",
    "render_markdown",
    "render_report_rich",
    "report_command",
    "smooth",
    "sparkline",
    "svg_bars",
    "svg_histogram",
    "svg_lines",
]

ReportFormat = Literal["md", "html", "json", "rich"]


def render(report: Report, fmt: ReportFormat) -> str:
    """The report as text in `fmt` ("rich": the terminal rendering, 100 columns, no colour)."""
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    if fmt == "rich":
        from rich.console import Console

        console = Console(record=True, width=100, file=io.StringIO())
        console.print(render_report_rich(report))
        return console.export_text()
    raise ValueError(f"unknown report format {fmt!r}")


def render_compare(comparison: Comparison, fmt: ReportFormat) -> str:
    """The comparison as text in `fmt` (json: `conditions`, `tests` and the rest)."""
    if fmt == "json":
        return json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return render_compare_markdown(comparison)
    if fmt == "html":
        return render_compare_html(comparison)
    if fmt == "rich":
        from rich.console import Console

        console = Console(record=True, width=120, file=io.StringIO())
        console.print(render_compare_rich(comparison))
        return console.export_text()
    raise ValueError(f"unknown report format {fmt!r}")


def _emit(text: str, output: Path | None) -> None:
    text = redact_env(text)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def compare_command(directories: list[Path], fmt: ReportFormat = "md",
                    output: Path | None = None, *, exclude_interjected: bool = False,
                    labels: str = "rules") -> int:
    """`attractor-tui report DIR1 DIR2 ... --compare` (or one `batch --vary` folder).

    0 on success; 1 when some file could not be read (the comparison is still
    written, the files are named); 2 when a folder is missing or a condition
    has nothing to compare.
    """
    try:
        comparison, reports = compare_folders(directories,
                                              exclude_interjected=exclude_interjected,
                                              labels=labels)
    except ReportError as exc:  # a folder that is missing or holds nothing: the user's to fix
        print(f"attractor-tui: {exc}", file=sys.stderr)
        return 2
    empty = [c.name for c in comparison.conditions if not c.n]
    for problem in comparison.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if empty:
        print(f"attractor-tui: no readable session files in: {', '.join(empty)}",
              file=sys.stderr)
        return 2
    if fmt == "rich" and output is None:
        from rich.console import Console

        Console().print(render_compare_rich(comparison))
    else:
        _emit(render_compare(comparison, fmt), output)
    return 1 if any(r.failed for r in reports) else 0


def report_command(directory: Path, fmt: ReportFormat = "md", output: Path | None = None,
                   *, exclude_interjected: bool = False, labels: str = "rules") -> int:
    """`attractor-tui report DIR`: 0 on success, 1 when some file could not be read (the
    report of the rest is still written) or every run failed, 2 when the folder is missing
    or holds no readable session file (a user error, as everywhere).

    `labels="judge"`: end states from cached judge verdicts (`build_report`)."""
    try:
        report = build_report(directory, exclude_interjected=exclude_interjected,
                              labels=labels)
    except ReportError as exc:  # a folder that is missing or holds nothing: the user's to fix
        print(f"attractor-tui: {exc}", file=sys.stderr)
        return 2
    if not report.sessions:
        if report.failed_runs_note:
            print(f"attractor-tui: no results in {directory}: {report.failed_runs_note}",
                  file=sys.stderr)
        else:
            print(f"attractor-tui: no readable session files in {directory}", file=sys.stderr)
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1 if report.failed_runs else 2
    for problem in report.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if report.failed_runs_note:
        print(f"left out: {report.failed_runs_note}", file=sys.stderr)
    if (Path(directory) / VARY_MANIFEST).is_file():
        print(f"note: the report pools the conditions of a `batch --vary`; compare them: "
              f"attractor-tui report {directory} --compare", file=sys.stderr)
    if fmt == "rich" and output is None:
        from rich.console import Console

        Console().print(render_report_rich(report))
    else:
        _emit(render(report, fmt), output)
    return 1 if report.failed else 0  # each failed file was named above
