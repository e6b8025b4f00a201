"""`scenarios`, `batch`, `report`: presets, many runs, and what came of them.

A user's presets are files, so their names and descriptions are shown as
plain `Text` made safe, never as Rich markup.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attractor_tui.cli.common import WORKERS_HELP, UserError, workers_arg, writing
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
                       help="conversations at once (default 4; the embedded model decodes "
                            "up to 4 calls together, more wait for a slot)")
    batch.add_argument("--out", type=Path, metavar="DIR",
                       help="folder for the batch (default sessions/batch-<scenario>)")
    batch.add_argument("--timeout", type=float, metavar="S",
                       help="seconds to wait for each model call (default: the scenario's, "
                            "else 120); a rerun may change it")
    batch.add_argument("--retries", type=int, metavar="N",
                       help="automatic retries of a call on rate limits and outages "
                            "(default: the scenario's, else 2); a rerun may change it")
    batch.add_argument("--workers", type=workers_arg, metavar="N|auto", help=WORKERS_HELP)
    batch.add_argument("--max-cost", type=float, metavar="USD",
                       help="stop starting new turns once the batch has spent this much "
                            "(litellm's price table); a rerun with a higher cap continues")
    batch.add_argument("--router", type=Path, metavar="FILE",
                       help="a LiteLLM Router config (YAML or JSON: model_list, router_settings)"
                            ": calls spread over its deployments and keys, with its rpm/tpm "
                            "limits, retries and fallbacks; --model names a model_name in it "
                            "(one worker by default: each worker's Router counts its limits "
                            "alone)")
    batch.add_argument("--dry-run", action="store_true",
                       help="print the calls, tokens and price the batch would take at most, "
                            "then exit without running anything")
    batch.add_argument("--vary", metavar="KEY=V1,V2",
                       help="run the batch once per value of one setting, each into a "
                            "sub-folder of --out named after the value (same runs and "
                            "seeds; compare with `report DIR --compare`); KEY is one of "
                            "tool_pack, scenario, model, model_a, model_b, system_a, "
                            "system_b, temperature, seed, operator (ROUND:SIDE:TEXT or none)")
    memory = batch.add_argument_group(
        "memory across sessions", "runs naming a memory file go one after another, each "
                                  "starting with the notes the previous one left")
    memory.add_argument("--memory-chain", type=int, metavar="N",
                        help="run N sessions in sequence sharing one memory (--memory, "
                             "default DIR/memory.md); the report shows them by session number")
    memory.add_argument("--memory", metavar="PATH", help="one memory file for both sides")
    memory.add_argument("--memory-a", metavar="PATH", help="side A's own memory file")
    memory.add_argument("--memory-b", metavar="PATH", help="side B's own memory file")
    batch.set_defaults(handler=batch_command)


def add_report(sub: Subparsers) -> None:
    report = sub.add_parser("report", help="tables and plots over a folder of sessions",
                            description="Summarise a batch: end states and topics (counts, "
                                        "shares, 95% intervals), emoji, substantive turns, "
                                        "tool-call rates, per model. With --compare: test "
                                        "whether folders (conditions) differ, label by label. "
                                        "--format tui opens it as a screen of terminal "
                                        "charts (e there writes md and html beside DIR).")
    report.add_argument("dirs", type=Path, nargs="+", metavar="DIR",
                        help="folder of session files; with --compare two or more, or one "
                             "`batch --vary` folder (its sub-folders are the conditions)")
    report.add_argument("--compare", action="store_true",
                        help="compare the folders: per label Fisher's exact test (two "
                             "conditions) or an exact/chi-square test (more), Holm-corrected")
    report.add_argument("--exclude-interjected", action="store_true",
                        help="leave out conversations with operator turns")
    report.add_argument("--labels", choices=["rules", "judge"], default="rules",
                        help="end states from the rules (default) or from the LLM judge's "
                             "cached verdicts (run `analyze --judge MODEL DIR` first; "
                             "conversations without one are left out)")
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
    from attractor_tui.experiments import launch

    out = args.out or Path("sessions") / f"batch-{args.scenario}"
    if getattr(args, "vary", None):
        from attractor_tui.experiments.vary import vary_command

        def one(c: Any) -> int:  # one condition: this same command, its settings changed
            return batch_command(argparse.Namespace(**{
                **vars(args), "vary": None, "scenario": c.scenario, "model": None,
                "model_a": c.model_a, "model_b": c.model_b, "out": c.folder}))

        with writing(out):
            return vary_command(args.vary, scenario=args.scenario, out=out, run=one,
                                model_a=args.model_a or args.model,
                                model_b=args.model_b or args.model)
    runs, concurrency, workers = args.runs, args.concurrency, args.workers
    memory = _memory_overrides(args, out)
    if memory:  # one session after another: each starts with the notes the last one left
        runs = args.memory_chain or runs
        concurrency, workers = 1, 1
    with writing(out):  # batch.json and the run files: one line if the folder is unwritable
        code = launch.batch_command(
            scenario=args.scenario, runs=runs, turns=args.turns,
            model_a=args.model_a or args.model, model_b=args.model_b or args.model,
            concurrency=concurrency, out=out, api_base=args.api_base,
            timeout=args.timeout, num_retries=args.retries, workers=workers,
            max_cost=args.max_cost, dry_run=args.dry_run, router=args.router,
            overrides=memory or None,
        )
    import gc

    gc.freeze()  # the command is over: spare the exit's collection of litellm's heap (~2 s)
    return code


def _memory_overrides(args: argparse.Namespace, out: Path) -> dict[str, str]:
    """`--memory*` as scenario overrides (`--memory-chain` alone: DIR/memory.md), after
    checking the files are free and text, so a locked one is one line before anything runs."""
    chain = getattr(args, "memory_chain", None)
    if chain is not None and chain < 1:
        raise UserError(f"--memory-chain needs 1 or more sessions (got {chain})")
    shared = getattr(args, "memory", None)
    if chain and not (shared or getattr(args, "memory_a", None)
                      or getattr(args, "memory_b", None)):
        shared = str(out / "memory.md")
    found: dict[str, str] = {}
    for key in ("memory_a", "memory_b"):
        path = getattr(args, key, None) or shared
        if path:
            found[key] = str(path)
    if found:
        from attractor_tui.core.config import SessionConfig, SideConfig
        from attractor_tui.sessions.memory import MemoryFiles

        probe = MemoryFiles(SessionConfig(a=SideConfig(memory=found.get("memory_a")),
                                          b=SideConfig(memory=found.get("memory_b"))))
        probe.open()  # MemoryFileError: one line, exit 2
        probe.release()
    return found


def report_command(args: argparse.Namespace) -> int:
    dirs: list[Path] = list(args.dirs)
    if len(dirs) > 1 and not args.compare:
        raise UserError("several folders: add --compare to compare them, or give one folder")
    if args.format == "tui":
        if args.labels != "rules":
            raise UserError("--labels judge works with md, html, json and rich")
        if args.output is not None:
            raise UserError("--format tui shows the report on screen; "
                            "use md, html or json with -o")
        from attractor_tui.ui.standalone import run_report

        if args.compare:
            return run_report(dirs[0], compare=dirs,
                              exclude_interjected=args.exclude_interjected)
        return run_report(dirs[0], exclude_interjected=args.exclude_interjected)
    from attractor_tui.experiments.report import compare_command, report_command

    with writing(args.output) if args.output else contextlib.nullcontext():
        if args.compare:
            return compare_command(dirs, args.format, args.output,
                                   exclude_interjected=args.exclude_interjected,
                                   labels=args.labels)
        return report_command(dirs[0], args.format, args.output,
                              exclude_interjected=args.exclude_interjected, labels=args.labels)
