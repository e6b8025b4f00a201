"""`replay`, `sessions`, `export`, `import`, `analyze`: commands over stored session files.

File contents and file names are untrusted: what these commands print goes
through `safe_text`, and Rich gets it as `Text`, so `[bold]` in a file name
stays literal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from attractor_tui.cli.common import UserError, load_log, say, warn, writing
from attractor_tui.core.text import safe_line, safe_text

if TYPE_CHECKING:
    from attractor_tui.cli.common import Subparsers


def add_replay(sub: Subparsers) -> None:
    replay = sub.add_parser("replay", help="watch a stored session again",
                            description="Replay a session (ours or a peer log) in the app. "
                                        "Never writes to the file.")
    replay.add_argument("file", type=Path, help="session file (.jsonl)")
    replay.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help="1 = original pace, 10 = ten times faster, 0 = instantly "
                             "(default 1)")
    replay.set_defaults(handler=replay_command)


def add_sessions(sub: Subparsers) -> None:
    sessions = sub.add_parser("sessions", help="browse stored sessions",
                              description="Open the session browser on ./sessions.")
    sessions.add_argument("--dir", type=Path, metavar="DIR",
                          help="folder of session files (default ./sessions)")
    sessions.set_defaults(handler=sessions_command)


def add_export(sub: Subparsers) -> None:
    export = sub.add_parser("export", help="print a session as JSON, Markdown, HTML or text",
                            description="Export a session file (ours or a peer log).")
    export.add_argument("file", type=Path, help="session file (.jsonl)")
    export.add_argument("--format", "-f", choices=["json", "md", "html", "txt"], default="json",
                        help="output format (default json)")
    export.add_argument("-o", "--output", type=Path, metavar="OUT",
                        help="write to this file instead of stdout")
    export.set_defaults(handler=export_command)


def add_import(sub: Subparsers) -> None:
    imp = sub.add_parser("import", help="convert peer-harness logs into session files",
                         description="Convert JSONL logs of the attractor-states harness "
                                     "into attractor-tui session files.")
    imp.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="log files to convert")
    imp.add_argument("--out", type=Path, default=Path("sessions"), metavar="DIR",
                     help="folder for the converted files (default ./sessions)")
    imp.set_defaults(handler=import_command)


def add_analyze(sub: Subparsers) -> None:
    analyze = sub.add_parser("analyze", help="label sessions with their attractor state",
                             description="Classify how each conversation ended, with evidence.")
    analyze.add_argument("paths", type=Path, nargs="+", metavar="FILE_OR_DIR",
                         help="session files or folders of them (ours or peer logs)")
    analyze.add_argument("--json", action="store_true", help="print JSON instead of a table")
    analyze.set_defaults(handler=analyze_command)


# ------------------------------------------------------------------ handlers


def replay_command(args: argparse.Namespace) -> int:
    from attractor_tui.ui.app import run_replay

    return run_replay(load_log(args.file), speed=args.speed)


def sessions_command(args: argparse.Namespace) -> int:
    from attractor_tui.ui.app import run_browser

    return run_browser(browse_folder(args.dir))


def browse_folder(given: Path | None) -> Path:
    """The folder to browse; a `--dir` that is missing or not a folder is a one-line error.

    The default ./sessions may be missing (the browser then says how sessions
    get there); a folder the user named must exist, or it is a typo.
    """
    if given is None:
        folder = Path("sessions")
        if folder.exists() and not folder.is_dir():
            raise UserError(f"{folder} is not a folder")
        return folder
    try:
        if not given.is_dir():
            raise UserError(f"{given} is not a folder" if given.exists() else
                            f"{given}: no such folder")
    except OSError as exc:  # a looping link, an unreadable parent
        raise UserError(f"{given}: {exc.strerror or exc}") from exc
    return given


def export_command(args: argparse.Namespace) -> int:
    from attractor_tui.analysis import end_state_note
    from attractor_tui.sessions.export import export_session

    log = load_log(args.file)
    text = export_session(log, args.format, notes=[end_state_note(log.turns)])
    if args.output:
        with writing(args.output):
            args.output.write_text(text, encoding="utf-8")
        warn(f"wrote {args.output}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def import_command(args: argparse.Namespace) -> int:
    from attractor_tui.sessions.formats import import_files, session_files

    empty = [p for p in args.paths if p.is_dir() and not session_files(p)]
    for folder in empty:
        warn(f"no session files found in {folder}")
    reports = import_files(list(args.paths), args.out)
    failed = len(empty)
    for report in reports:
        if report.error:
            failed += 1
            say(f"{report.source}: FAILED: {report.error}")
            continue
        say(f"{report.source} -> {report.target} ({report.turns} turns)")
        for warning in report.warnings:
            say(f"  warning: {warning}")
    return 1 if failed else 0


def analyze_command(args: argparse.Namespace) -> int:
    from attractor_tui.analysis import analyze_log
    from attractor_tui.sessions.formats import session_files

    files: list[Path] = []
    for path in args.paths:
        files.extend(session_files(path) if path.is_dir() else [path])
    if not files:
        raise UserError("no session files found")
    results, problems = [], []
    for file in files:  # like `report`: a bad file is one warning, the rest are analysed
        try:
            results.append(analyze_log(load_log(file)))
        except UserError as exc:
            problems.append(str(exc))
    if not results:
        raise UserError(problems[0] if len(problems) == 1 else
                        "no readable session files:\n  " + "\n  ".join(problems))
    for problem in problems:
        warn(f"warning: skipped {problem}")
    if args.json:
        from attractor_tui.sessions.export import json_text

        sys.stdout.write(json_text(results, indent=2, default=str))
        return 0
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="attractor analysis")
    table.add_column("file", overflow="fold")
    table.add_column("end state", no_wrap=True, style="bold")
    for column in ("onset", "turns", "emoji", "operator", "tools"):
        table.add_column(column, justify="right", no_wrap=True)
    for r in results:
        onset = "–" if r["onset_index"] is None else str(r["onset_index"])
        table.add_row(
            Text(safe_line(Path(r["file"]).name)), Text(safe_line(str(r["end_state"]))), onset,
            str(r["turns"]), str(r["emoji_total"]), str(r.get("interjections", 0)),
            str(r.get("tool_calls", 0)),
        )
    console = Console()
    console.print(table)
    for r in results:
        console.print(Text.assemble((safe_line(Path(r["file"]).name), "bold"), ": "), end="")
        console.print(safe_text("; ".join(r["evidence"])), markup=False)
    return 0
