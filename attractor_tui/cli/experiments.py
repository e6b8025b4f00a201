"""`scenarios`, `batch`, `report`: presets, many runs, and what came of them.

A user's presets are files, so their names and descriptions are shown as
plain `Text` made safe, never as Rich markup.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from attractor_tui.cli.common import UserError, writing
from attractor_tui.core.text import safe_line, safe_text

if TYPE_CHECKING:
    from attractor_tui.cli.common import Subparsers


def add_scenarios(sub: Subparsers) -> None:
    scenarios = sub.add_parser("scenarios", help="list experiment presets and tool packs",
                               description="List scenarios and tool packs, shipped and your own "
                                           "($XDG_CONFIG_HOME/attractor-tui/"
                                           "{scenarios,toolpacks}).")
    scenarios.set_defaults(handler=scenarios_command)


def add_batch(sub: Subparsers) -> None:
    batch = sub.add_parser("batch", help="run many conversations headless",
                           description="Run N conversations of a scenario with bounded "
                                       "concurrency; rerun the same command to finish an "
                                       "interrupted batch.")
    batch.add_argument("--scenario", default="hello-there", metavar="NAME",
                       help="scenario to run (default hello-there)")
    batch.add_argument("--runs", type=int, default=10, metavar="N",
                       help="number of conversations (default 10)")
    batch.add_argument("--turns", type=int, metavar="T",
                       help="each side speaks T times (default: the scenario's)")
    batch.add_argument("--model", metavar="M", help="model for both sides")
    batch.add_argument("--model-a", metavar="M", help="model for side A")
    batch.add_argument("--model-b", metavar="M", help="model for side B")
    batch.add_argument("--api-base", metavar="URL",
                       help="OpenAI-compatible server for both sides, e.g. a vLLM server or a "
                            "LiteLLM proxy spreading calls over several keys/deployments")
    batch.add_argument("--concurrency", type=int, default=4, metavar="C",
                       help="conversations at once (default 4; the embedded model runs "
                            "one generation at a time whatever C is)")
    batch.add_argument("--out", type=Path, metavar="DIR",
                       help="folder for the batch (default sessions/batch-<scenario>)")
    batch.add_argument("--timeout", type=float, metavar="S",
                       help="seconds to wait for each model call (default: the scenario's, "
                            "else 120); a rerun may change it")
    batch.add_argument("--retries", type=int, metavar="N",
                       help="automatic retries of a call on rate limits and outages "
                            "(default: the scenario's, else 2); a rerun may change it")
    batch.set_defaults(handler=batch_command)


def add_report(sub: Subparsers) -> None:
    report = sub.add_parser("report", help="tables and plots over a folder of sessions",
                            description="Summarise a batch: end states, topics, emoji, "
                                        "substantive turns, tool-call rates. "
                                        "--format tui opens it as a screen of terminal "
                                        "charts (e there writes md and html beside DIR).")
    report.add_argument("dir", type=Path, help="folder of session files")
    report.add_argument("--format", "-f", choices=["md", "html", "json", "rich", "tui"],
                        default="md",
                        help="output format; rich = tables and charts printed to the "
                             "terminal, tui = an interactive report screen (default md)")
    report.add_argument("-o", "--output", type=Path, metavar="OUT",
                        help="write to this file instead of stdout")
    report.set_defaults(handler=report_command)


# ------------------------------------------------------------------ handlers


def scenarios_command(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from attractor_tui.experiments.scenarios import list_scenarios
    from attractor_tui.experiments.toolpacks import list_tool_packs

    console = Console()
    for title, items in (("scenarios (--scenario)", list_scenarios()),
                         ("tool packs (--tool-pack)", list_tool_packs())):
        table = Table(title=title, title_justify="left")
        table.add_column("name", style="bold")
        table.add_column("description")
        for name, description in sorted(items.items()):
            table.add_row(Text(safe_line(name)), Text(safe_text(description)))
        console.print(table)
    return 0


def batch_command(args: argparse.Namespace) -> int:
    from attractor_tui.experiments import batch

    out = args.out or Path("sessions") / f"batch-{args.scenario}"
    with writing(out):  # batch.json and the run files: one line if the folder is unwritable
        return batch.batch_command(
            scenario=args.scenario, runs=args.runs, turns=args.turns,
            model_a=args.model_a or args.model, model_b=args.model_b or args.model,
            concurrency=args.concurrency, out=out, api_base=args.api_base,
            timeout=args.timeout, num_retries=args.retries,
        )


def report_command(args: argparse.Namespace) -> int:
    if args.format == "tui":
        if args.output is not None:
            raise UserError("--format tui shows the report on screen; "
                            "use md, html or json with -o")
        from attractor_tui.ui.standalone import run_report

        return run_report(args.dir)
    from attractor_tui.experiments.report import report_command

    with writing(args.output) if args.output else contextlib.nullcontext():
        return report_command(args.dir, args.format, args.output)
