"""Batch reports: what a folder of conversations fell into, as md, html, json or Rich.

`build` collects a folder into one `Report` (reading every file through the
format registry); `markdown`, `html` and `rich` render it, with the plots and
text helpers of `charts`. `render` picks the renderer and `report_command` is
`attractor-tui report DIR`. Every name callers used from the former single
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
from attractor_tui.experiments.report.charts import sparkline, svg_bars, svg_histogram, svg_lines
from attractor_tui.experiments.report.html import LABEL_COLOURS, render_html
from attractor_tui.experiments.report.markdown import render_markdown
from attractor_tui.experiments.report.rich import RICH_COLOURS, render_report_rich

__all__ = [
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


def report_command(directory: Path, fmt: ReportFormat = "md", output: Path | None = None) -> int:
    """`attractor-tui report DIR`: 0 on success, 1 when there is nothing to report on."""
    try:
        report = build_report(directory)
    except ReportError as exc:
        print(f"attractor-tui: {exc}", file=sys.stderr)
        return 1
    if not report.sessions:
        print(f"attractor-tui: no readable session files in {directory}", file=sys.stderr)
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    for problem in report.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if fmt == "rich" and output is None:
        from rich.console import Console

        Console().print(render_report_rich(report))
        return 0
    text = redact_env(render(report, fmt))
    if output is not None:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
