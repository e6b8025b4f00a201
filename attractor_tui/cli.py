"""Command line: `attractor-tui [run|export|import|analyze] ...`.

Heavy modules (litellm, Textual) are imported inside the commands that need
them, so `attractor-tui --help` answers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .config import DEFAULT_MODEL, DEFAULT_SEED, DEFAULT_SYSTEM

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
    group.add_argument("--system-a", metavar="S", help=f'system prompt for A (default "{DEFAULT_SYSTEM}")')
    group.add_argument("--system-b", metavar="S", help=f'system prompt for B (default "{DEFAULT_SYSTEM}")')
    group.add_argument("--seed", metavar="TEXT",
                       help=f'first user message, sent to A (default "{DEFAULT_SEED}")')
    group.add_argument("--turns", type=int, metavar="N",
                       help="each side speaks N times, then the session ends (default: until stopped)")
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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return _launch_app(None, Path("sessions"), start_screen=True)
        if args.command == "run":
            config = config_from_args(args)
            if args.headless:
                from .headless import run_headless

                return asyncio.run(run_headless(config, args.out))
            return _launch_app(config, args.out, start_screen=False)
        if args.command == "export":
            return _export(args)
        if args.command == "import":
            return _import(args)
        if args.command == "analyze":
            return _analyze(args)
    except KeyboardInterrupt:
        return 130
    except UserError as exc:
        print(f"attractor-tui: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")
    return 2


class UserError(Exception):
    """A problem the user can fix; printed without a traceback."""


def config_from_args(args: argparse.Namespace) -> Any:
    from pydantic import ValidationError

    from .config import SessionConfig, SideConfig

    def side(model: str | None, system: str | None) -> SideConfig:
        fields: dict[str, Any] = {}
        if model or args.model:
            fields["model"] = model or args.model
        if system is not None:
            fields["system"] = system
        if args.temperature is not None:
            fields["temperature"] = args.temperature
        if args.max_tokens is not None:
            fields["max_tokens"] = args.max_tokens
        if args.api_base:
            fields["params"] = {"api_base": args.api_base}
        return SideConfig(**fields)

    try:
        fields: dict[str, Any] = {
            "a": side(args.model_a, args.system_a),
            "b": side(args.model_b, args.system_b),
            "turns": args.turns,
        }
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


def _launch_app(config: Any, out: Path, *, start_screen: bool) -> int:
    from .ui.app import run_app

    return run_app(config, out, start_screen=start_screen)


def _load(path: Path) -> Any:
    from .store import SessionFileError, load_session

    try:
        log = load_session(path)
    except SessionFileError as exc:
        raise UserError(str(exc)) from exc
    for warning in log.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return log


def _export(args: argparse.Namespace) -> int:
    from .export import export_session

    text = export_session(_load(args.file), args.format)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _import(args: argparse.Namespace) -> int:
    from .importers import import_files

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

    from .analysis import analyze_log

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
    for column in ("file", "end state", "onset", "turns", "emoji", "interjections", "tool calls"):
        table.add_column(column)
    for r in results:
        table.add_row(
            Path(r["file"]).name, r["end_state"], str(r["onset_index"]), str(r["turns"]),
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
