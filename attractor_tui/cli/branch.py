"""`branch`: N counterfactual continuations of a session from one turn, run and reported."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from attractor_tui.cli.common import WORKERS_HELP, text_arg, workers_arg, writing

if TYPE_CHECKING:
    from attractor_tui.cli.common import Subparsers


def add_branch(sub: Subparsers) -> None:
    branch = sub.add_parser(
        "branch", help="run N continuations of a session from one turn and compare their ends",
        description="Fork FILE at TURN SAMPLES times into a folder beside it "
                    "(<name>.branches-at-TURN), run the forks as one batch (a rerun finishes "
                    "what is missing) and report how they ended: end states with 95% "
                    "intervals, topics, onset. How stable is the attractor from that turn, and "
                    "what would an operator's words have changed?")
    branch.add_argument("file", type=Path, help="session file (.jsonl)")
    branch.add_argument("--at", type=int, required=True, metavar="TURN",
                        help="keep the first TURN turns (#1..#TURN, as the app numbers them "
                             "and as fork --at does); the branches write #TURN+1 on")
    branch.add_argument("--samples", type=int, default=10, metavar="N",
                        help="number of branches (default 10)")
    branch.add_argument("--turns", type=int, metavar="T",
                        help="each side speaks T times after the branch point "
                             "(default: the parent's own turn limit)")
    branch.add_argument("--temperature", type=float, metavar="X",
                        help="sampling temperature of both sides in the branches")
    branch.add_argument("--interject", metavar="TEXT", type=text_arg,
                        help="an operator's words, put into the branch point on --side "
                             "(@FILE reads them from a file)")
    branch.add_argument("--side", choices=["A", "B"], default="A",
                        help="whose turn --interject is (default A)")
    branch.add_argument("--concurrency", type=int, default=8, metavar="C",
                        help="branches at once (default 8)")
    branch.add_argument("--workers", type=workers_arg, metavar="N|auto",
                        help=WORKERS_HELP.replace("runs", "branches"))
    branch.set_defaults(handler=branch_command)


def branch_command(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from attractor_tui.cli.common import load_log
    from attractor_tui.core.text import safe_text
    from attractor_tui.experiments.batch import BatchError
    from attractor_tui.experiments.branch import (
        BranchPlan,
        prepare,
        report,
        report_lines,
        save_report,
    )
    from attractor_tui.experiments.launch import run_with_bar

    load_log(args.file)  # a missing or broken file is one clear line
    plan = BranchPlan(file=args.file, at=args.at, samples=args.samples, turns=args.turns,
                      temperature=args.temperature, interject=args.interject, side=args.side,
                      concurrency=args.concurrency)
    console = Console(stderr=True, highlight=False)
    with writing(plan.folder()):
        try:
            log, spec = prepare(plan)
        except BatchError as exc:
            console.print(Text(safe_text(f"attractor-tui: {exc}")))
            return 2
        code, result = run_with_bar(spec, workers=args.workers, console=console)
        if result is None:
            return code
        summary = report(plan, log)
        save_report(plan, summary)
    out = Console(highlight=False)
    for line in report_lines(summary):
        out.print(Text(safe_text(line)))
    return code
