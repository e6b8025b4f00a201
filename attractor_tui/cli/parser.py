"""Command line: `attractor-tui [run|export|import|analyze] ...`.

Heavy modules (litellm, Textual) are imported inside the commands that need
them, so `attractor-tui --help` answers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from attractor_tui import __version__
from attractor_tui.core.config import DEFAULT_MODEL, DEFAULT_SEED, DEFAULT_SYSTEM

DESCRIPTION = """\
Watch two language-model instances talk to each other.

With no command, opens the start screen of the terminal app. The default
model is embedded/smollm2-135m, a small local model that needs no network and
no API key; any litellm model string works when you have keys or a server
(anthropic/claude-..., openai/gpt-..., ollama/llama3, hosted_vllm/...).
"""


def _add_session_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("conversation")
    group.add_argument("--model", metavar="M",
                       help="model for both sides (overridden by --model-a/--model-b)")
    group.add_argument("--model-a", metavar="M", help=f"model for side A (default {DEFAULT_MODEL})")
    group.add_argument("--model-b", metavar="M", help=f"model for side B (default {DEFAULT_MODEL})")
    group.add_argument("--system-a", metavar="S",
                       help=f'system prompt for A (default "{DEFAULT_SYSTEM}")')
    group.add_argument("--system-b", metavar="S",
                       help=f'system prompt for B (default "{DEFAULT_SYSTEM}")')
    group.add_argument("--seed", metavar="TEXT",
                       help=f'first user message, sent to A (default "{DEFAULT_SEED}")')
    group.add_argument("--turns", type=int, metavar="N",
                       help="each side speaks N times, then the session ends "
                            "(default: until stopped)")
    group.add_argument("--temperature", type=float, metavar="T",
                       help="sampling temperature for both sides (default 0.7)")
    group.add_argument("--max-tokens", type=int, metavar="N",
                       help="longest reply per turn, in tokens (default 256)")
    group.add_argument("--api-base", metavar="URL",
                       help="base URL of an OpenAI-compatible server, for both sides "
                            "(e.g. http://localhost:8000/v1 for vLLM)")
    group.add_argument("--timeout", type=float, metavar="S",
                       help="seconds to wait for each model call (default 120)")
    group.add_argument("--retries", type=int, metavar="N",
                       help="automatic retries on rate limits and outages (default 2)")
    exp = parser.add_argument_group("experiment")
    exp.add_argument("--scenario", metavar="NAME",
                     help="start from a preset (see `attractor-tui scenarios`); flags override it")
    exp.add_argument("--tool-pack", metavar="NAME",
                     help="tools offered to the models: none, exit-free, exit-costs, or a file")
    exp.add_argument("--tools-for", choices=["both", "A", "B"],
                     help="which side is offered the tool pack (default both)")
    exp.add_argument("--stop-phrase", action="append", metavar="TEXT",
                     help='end when a side says TEXT (e.g. "stopping now"); repeatable')
    exp.add_argument("--stop-policy", choices=["either", "both"],
                     help="a stop phrase ends the session when either side / both sides said it")
    exp.add_argument("--token-budget", type=int, metavar="N",
                     help="end after N tokens in total (both sides, prompt + completion)")
    exp.add_argument("--cost-budget", type=float, metavar="USD",
                     help="end once litellm's cost estimate reaches USD")
    exp.add_argument("--time-limit", type=float, metavar="S", help="end after S seconds")
    exp.add_argument("--attractor-stop", type=int, metavar="K",
                     help="end once the conversation has stayed K model turns in the same "
                          "attractor state (goodbye loop, emoji spiral, ...); the reason "
                          "recorded is attractor:<state>")
    exp.add_argument("--context", choices=["truncate", "summarize", "none"],
                     help="when history outgrows a model's window: drop oldest turns "
                          "(default), summarise them, or do nothing")
    parser.add_argument("--out", type=Path, default=Path("sessions"), metavar="DIR",
                        help="folder for the session file (default ./sessions)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attractor-tui", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"attractor-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="start a conversation now (in the app, or --headless)",
                         description="Start a conversation without the start screen.")
    _add_session_flags(run)
    run.add_argument("--headless", action="store_true",
                     help="no app: stream both sides to stdout and exit at the end")

    resume = sub.add_parser("resume", help="continue a stored session in the same file",
                            description="Continue a session from its last complete turn; "
                                        "both histories are rebuilt from the file.")
    resume.add_argument("file", type=Path, help="session file (.jsonl)")
    resume.add_argument("--turns", type=int, metavar="N",
                        help="each side speaks N more times (default: the session's own limit)")
    resume.add_argument("--headless", action="store_true", help="no app: stream to stdout")

    fork = sub.add_parser("fork", help="branch a session at a turn into a new file",
                          description="Start a new session whose history is FILE's first "
                                      "TURN turns (it records FILE as its parent).")
    fork.add_argument("file", type=Path, help="session file (.jsonl)")
    fork.add_argument("--at", type=int, required=True, metavar="TURN",
                      help="keep turns 0..TURN-1 (0-based turn index)")
    fork.add_argument("--out", type=Path, metavar="DIR",
                      help="folder for the new file (default: beside FILE)")
    fork.add_argument("--turns", type=int, metavar="N",
                      help="then run: each side speaks N more times")
    fork.add_argument("--headless", action="store_true",
                      help="with --turns: run without the app")
    fork.add_argument("--no-run", action="store_true", help="only write the new file")

    replay = sub.add_parser("replay", help="watch a stored session again",
                            description="Replay a session (ours or a peer log) in the app. "
                                        "Never writes to the file.")
    replay.add_argument("file", type=Path, help="session file (.jsonl)")
    replay.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help="1 = original pace, 10 = ten times faster, 0 = instantly "
                             "(default 1)")

    sub.add_parser("sessions", help="browse stored sessions",
                   description="Open the session browser on ./sessions.").add_argument(
        "--dir", type=Path, default=Path("sessions"), metavar="DIR",
        help="folder of session files (default ./sessions)")

    sub.add_parser("scenarios", help="list experiment presets and tool packs",
                   description="List scenarios and tool packs, shipped and your own "
                               "($XDG_CONFIG_HOME/attractor-tui/{scenarios,toolpacks}).")

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

    export = sub.add_parser("export", help="print a session as JSON, Markdown, HTML or text",
                            description="Export a session file (ours or a peer log).")
    export.add_argument("file", type=Path, help="session file (.jsonl)")
    export.add_argument("--format", "-f", choices=["json", "md", "html", "txt"], default="json",
                        help="output format (default json)")
    export.add_argument("-o", "--output", type=Path, metavar="OUT",
                        help="write to this file instead of stdout")

    imp = sub.add_parser("import", help="convert peer-harness logs into session files",
                         description="Convert JSONL logs of the attractor-states harness "
                                     "into attractor-tui session files.")
    imp.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="log files to convert")
    imp.add_argument("--out", type=Path, default=Path("sessions"), metavar="DIR",
                     help="folder for the converted files (default ./sessions)")

    analyze = sub.add_parser("analyze", help="label sessions with their attractor state",
                             description="Classify how each conversation ended, with evidence.")
    analyze.add_argument("paths", type=Path, nargs="+", metavar="FILE_OR_DIR",
                         help="session files or folders of them (ours or peer logs)")
    analyze.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    global PRESET_ERRORS
    PRESET_ERRORS = _preset_errors()
    if hasattr(signal, "SIGPIPE"):  # `attractor-tui export ... | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return _launch_app(None, Path("sessions"), start_screen=True)
        if args.command == "run":
            config = config_from_args(args)
            if args.headless:
                from attractor_tui.cli.headless import run_headless

                return asyncio.run(run_headless(config, args.out))
            return _launch_app(config, args.out, start_screen=False)
        if args.command == "resume":
            return _resume(args)
        if args.command == "fork":
            return _fork(args)
        if args.command == "replay":
            from attractor_tui.ui.app import run_replay

            return run_replay(_load(args.file), speed=args.speed)
        if args.command == "sessions":
            from attractor_tui.ui.app import run_browser

            return run_browser(args.dir)
        if args.command == "scenarios":
            return _scenarios()
        if args.command == "batch":
            from attractor_tui.experiments.batch import batch_command

            out = args.out or Path("sessions") / f"batch-{args.scenario}"
            return batch_command(
                scenario=args.scenario, runs=args.runs, turns=args.turns,
                model_a=args.model_a or args.model, model_b=args.model_b or args.model,
                concurrency=args.concurrency, out=out, api_base=args.api_base,
            )
        if args.command == "report":
            if args.format == "tui":
                if args.output is not None:
                    raise UserError("--format tui shows the report on screen; "
                                    "use md, html or json with -o")
                from attractor_tui.ui.standalone import run_report

                return run_report(args.dir)
            from attractor_tui.experiments.report import report_command

            return report_command(args.dir, args.format, args.output)
        if args.command == "export":
            return _export(args)
        if args.command == "import":
            return _import(args)
        if args.command == "analyze":
            return _analyze(args)
    except KeyboardInterrupt:
        return 130
    except PRESET_ERRORS as exc:
        print(f"attractor-tui: {exc}", file=sys.stderr)
        return 2
    except UserError as exc:
        print(f"attractor-tui: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")
    return 2


class UserError(Exception):
    """A problem the user can fix; printed without a traceback."""


class _NeverRaised(Exception):
    pass


def _preset_errors() -> tuple[type[Exception], ...]:
    from attractor_tui.experiments.presets import PresetError
    from attractor_tui.sessions.store import SessionFileError

    return (PresetError, SessionFileError)


PRESET_ERRORS: tuple[type[Exception], ...] = (_NeverRaised,)


def config_from_args(args: argparse.Namespace) -> Any:
    from pydantic import ValidationError

    from attractor_tui.core.config import SessionConfig, SideConfig

    base = None
    if args.scenario:
        from attractor_tui.experiments.scenarios import load_scenario

        base = load_scenario(args.scenario).session_config(0)
    tools = None
    if args.tool_pack:
        from attractor_tui.experiments.toolpacks import load_tool_pack

        tools = load_tool_pack(args.tool_pack).tools
    tools_for = args.tools_for or "both"

    def side(model: str | None, system: str | None, which: str) -> SideConfig:
        start = (base.a if which == "A" else base.b) if base else SideConfig()
        fields: dict[str, Any] = start.model_dump()
        if model or args.model:
            fields["model"] = model or args.model
        if system is not None:
            fields["system"] = system
        if args.temperature is not None:
            fields["temperature"] = args.temperature
        if args.max_tokens is not None:
            fields["max_tokens"] = args.max_tokens
        if args.api_base:
            fields["params"] = {**fields["params"], "api_base": args.api_base}
        if tools is not None:
            fields["tools"] = tools if tools_for in ("both", which) else []
        elif args.tools_for and tools_for not in ("both", which):
            fields["tools"] = []
        if args.stop_phrase:
            fields["stop_phrases"] = args.stop_phrase
        if args.context:
            fields["context"] = args.context
        return SideConfig(**fields)

    try:
        fields: dict[str, Any] = base.model_dump() if base else {}
        fields.update({
            "a": side(args.model_a, args.system_a, "A"),
            "b": side(args.model_b, args.system_b, "B"),
        })
        if args.turns is not None or base is None:
            fields["turns"] = args.turns
        if args.tool_pack:
            fields["tool_pack"] = args.tool_pack
        for flag, key in (("stop_policy", "stop_policy"), ("token_budget", "token_budget"),
                          ("cost_budget", "cost_budget"), ("time_limit", "time_limit"),
                          ("attractor_stop", "attractor_stop")):
            if getattr(args, flag) is not None:
                fields[key] = getattr(args, flag)
        if args.seed is not None:
            fields["seed"] = args.seed
        if args.timeout is not None:
            fields["timeout"] = args.timeout
        if args.retries is not None:
            fields["num_retries"] = args.retries
        return SessionConfig(**fields)
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise UserError(f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}") from exc


def _scenarios() -> int:
    from rich.console import Console
    from rich.table import Table

    from attractor_tui.experiments.scenarios import list_scenarios
    from attractor_tui.experiments.toolpacks import list_tool_packs

    console = Console()
    for title, items in (("scenarios (--scenario)", list_scenarios()),
                         ("tool packs (--tool-pack)", list_tool_packs())):
        table = Table(title=title, title_justify="left")
        table.add_column("name", style="bold")
        table.add_column("description")
        for name, description in sorted(items.items()):
            table.add_row(name, description)
        console.print(table)
    return 0


def _resume(args: argparse.Namespace) -> int:
    log = _load(args.file)
    if args.headless:
        from attractor_tui.cli.headless import resume_headless

        return asyncio.run(resume_headless(log, turns=args.turns))
    from attractor_tui.ui.app import run_resume

    return run_resume(log, turns=args.turns)


def _fork(args: argparse.Namespace) -> int:
    from attractor_tui.sessions.continuation import fork_session

    _load(args.file)  # clear errors first
    target = fork_session(args.file, args.at, args.out)
    print(f"forked: {target}")
    if args.no_run or args.turns is None:
        return 0
    args.file = target
    return _resume(args)


def _launch_app(config: Any, out: Path, *, start_screen: bool) -> int:
    from attractor_tui.ui.app import run_app

    return run_app(config, out, start_screen=start_screen)


def _load(path: Path) -> Any:
    from attractor_tui.sessions.store import SessionFileError, load_session

    try:
        log = load_session(path)
    except SessionFileError as exc:
        raise UserError(str(exc)) from exc
    for warning in log.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return log


def _export(args: argparse.Namespace) -> int:
    from attractor_tui.analysis import end_state_note
    from attractor_tui.sessions.export import export_session

    log = _load(args.file)
    text = export_session(log, args.format, notes=[end_state_note(log.turns)])
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _import(args: argparse.Namespace) -> int:
    from attractor_tui.sessions.formats.peer_logs import import_files

    reports = import_files(list(args.paths), args.out)
    failed = 0
    for report in reports:
        if report.error:
            failed += 1
            print(f"{report.source}: FAILED: {report.error}")
            continue
        print(f"{report.source} -> {report.target} ({report.turns} turns)")
        for warning in report.warnings:
            print(f"  warning: {warning}")
    return 1 if failed else 0


def _analyze(args: argparse.Namespace) -> int:
    import json

    from attractor_tui.analysis import analyze_log

    files: list[Path] = []
    for path in args.paths:
        files.extend(sorted(path.glob("*.jsonl")) if path.is_dir() else [path])
    if not files:
        raise UserError("no session files found")
    results = [analyze_log(_load(f)) for f in files]
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False, default=str))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="attractor analysis")
    table.add_column("file", overflow="fold")
    table.add_column("end state", no_wrap=True, style="bold")
    for column in ("onset", "turns", "emoji", "operator", "tools"):
        table.add_column(column, justify="right", no_wrap=True)
    for r in results:
        onset = "–" if r["onset_index"] is None else str(r["onset_index"])
        table.add_row(
            Path(r["file"]).name, r["end_state"], onset, str(r["turns"]),
            str(r["emoji_total"]), str(r.get("interjections", 0)), str(r.get("tool_calls", 0)),
        )
    console = Console()
    console.print(table)
    for r in results:
        console.print(f"[bold]{Path(r['file']).name}[/]: ", end="")
        console.print("; ".join(r["evidence"]), markup=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
