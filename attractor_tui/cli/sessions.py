"""`replay`, `sessions`, `export`, `import`, `analyze`: commands over stored session files.

File contents and file names are untrusted: what these commands print goes
through `safe_text`, and Rich gets it as `Text`, so `[bold]` in a file name
stays literal.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attractor_tui.cli.common import UserError, say, warn, writing
from attractor_tui.core.text import safe_line, safe_text

if TYPE_CHECKING:
    from rich.table import Table

    from attractor_tui.cli.common import Subparsers
    from attractor_tui.sessions.log import SessionLog


def add_replay(sub: Subparsers) -> None:
    replay = sub.add_parser("replay", help="watch a stored session again",
                            description="Replay a session (ours, or a transcript of another "
                                        "harness) in the app. Never writes to the file.")
    replay.add_argument("file", type=Path, help="session file (any format attractor-tui reads)")
    _add_conversation(replay)
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
                            description="Export a session file (ours, or a transcript of "
                                        "another harness).")
    export.add_argument("file", type=Path, help="session file (any format attractor-tui reads)")
    _add_conversation(export)
    export.add_argument("--format", "-f", choices=["json", "md", "html", "txt"], default="json",
                        help="output format (default json)")
    export.add_argument("-o", "--output", type=Path, metavar="OUT",
                        help="write to this file instead of stdout")
    export.set_defaults(handler=export_command)


def _add_conversation(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--conversation", "-c", type=int, default=1, metavar="K",
                        help="which conversation of a file that holds several (a "
                             "conversations.json, a console copy of several runs): 1 is the "
                             "first (default 1)")


def add_import(sub: Subparsers) -> None:
    imp = sub.add_parser("import", help="convert other harnesses' transcripts into session files",
                         description="Convert transcripts of other harnesses (attractor-states "
                                     "peer logs and console output, conversations.json, "
                                     "UniversalBackrooms logs) into attractor-tui session "
                                     "files, one per conversation.")
    imp.add_argument("paths", type=Path, nargs="+", metavar="PATH",
                     help="files or folders to convert")
    imp.add_argument("--out", type=Path, default=Path("sessions"), metavar="DIR",
                     help="folder for the converted files (default ./sessions)")
    imp.set_defaults(handler=import_command)


def add_analyze(sub: Subparsers) -> None:
    analyze = sub.add_parser("analyze", help="label sessions with their attractor state",
                             description="Classify how each conversation ended, with evidence.")
    analyze.add_argument("paths", type=Path, nargs="+", metavar="FILE_OR_DIR",
                         help="session files or folders of them (any format attractor-tui "
                              "reads; every conversation of each file)")
    analyze.add_argument("--json", action="store_true", help="print JSON instead of a table")
    analyze.add_argument("--judge", metavar="MODEL",
                         help="also ask this litellm model for each end state (cached beside "
                              "the sessions in .judge/; prints the estimated cost first and "
                              "the agreement with the rules after)")
    analyze.add_argument("--judge-api-base", metavar="URL",
                         help="API base of the judge model's server (a local or proxy one)")
    analyze.add_argument("--judge-concurrency", type=int, default=4, metavar="N",
                         help="judge calls at once after the first (default 4; 1 for a "
                              "rate-limited key); a bar shows them on a terminal")
    analyze.add_argument("--judge-only", choices=["uncertain"],
                         help="with --judge: ask only about the conversations whose end state "
                              "is uncertain, and report the judge's label for them")
    analyze.set_defaults(handler=analyze_command)


# ------------------------------------------------------------------ handlers


def _analysis_table(results: list[dict[str, Any]], names: list[str], judged: bool) -> Table:
    """One row per conversation. Labels and topics are never cut, the file name folds,
    and the operator and tools columns only appear when some row has one, so the
    table reads at 80 columns."""
    from rich.table import Table
    from rich.text import Text

    def label(r: dict[str, Any]) -> str:
        mark = {"uncertain": "?", "judge": " (judge)"}.get(str(r.get("end_state_confidence")), "")
        return safe_line(str(r["end_state"]) + mark)

    def topic(r: dict[str, Any]) -> str:
        return safe_line(str(r.get("topic", "other")))

    counts = [("turns", "turns"), ("emoji", "emoji_total"), ("operator", "interjections"),
              ("tools", "tool_calls")]
    counts = [(head, key) for head, key in counts
              if head in ("turns", "emoji") or any(r.get(key) for r in results)]
    table = Table(title="attractor analysis")
    table.add_column("file", overflow="fold", min_width=10, ratio=1)
    table.add_column("end state", no_wrap=True, style="bold",
                     min_width=max(len("end state"), *map(len, map(label, results))))
    table.add_column("topic", no_wrap=True,
                     min_width=max(len("topic"), *map(len, map(topic, results))))
    for head in ("onset", *(head for head, _ in counts)):
        table.add_column(head, justify="right", no_wrap=True)
    if judged:
        table.add_column("judge", overflow="fold")
    for r, name in zip(results, names, strict=True):
        # people read 1-based turns; the JSON keeps the 0-based onset_index
        onset = "–" if r["onset_index"] is None else str(r["onset_index"] + 1)
        cells: list[Text | str] = [Text(safe_line(name)), Text(label(r)), Text(topic(r)), onset,
                                   *(str(r.get(key, 0)) for _, key in counts)]
        if judged:
            from attractor_tui.analysis.judge import judge_cell

            cells.append(Text(safe_line(judge_cell(r))))
        table.add_row(*cells)
    if any(r.get("end_state_confidence") == "uncertain" for r in results):
        table.caption = ("? uncertain: the fitted model is unsure "
                         "(--judge-only uncertain asks a judge)")
    return table


@contextlib.contextmanager
def _judge_bar() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar of judge calls on stderr when it is a terminal, else nothing.

    It starts with the first report (after the cost estimate is printed) and
    is gone when the calls are done.
    """
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]judge[/]"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=True)

    def progress(done: int, total: int) -> None:
        if not bar.tasks:  # the clock starts with the calls, not with litellm's import
            bar.start()
            bar.add_task("judge", total=total)
        bar.update(bar.task_ids[0], completed=done, total=total)

    try:
        yield progress
    finally:
        bar.stop()


def replay_command(args: argparse.Namespace) -> int:
    from attractor_tui.ui.app import run_replay

    return run_replay(load_conversation(args.file, args.conversation), speed=args.speed)


def load_conversation(path: Path, number: int = 1) -> SessionLog:
    """Conversation `number` (1-based, as people count) of a file, for a command that shows one.

    A broken file or a number out of range is a `UserError`; warnings go to stderr.
    """
    from attractor_tui.sessions import formats
    from attractor_tui.sessions.log import SessionFileError

    try:
        logs = formats.load(path)
    except SessionFileError as exc:
        raise UserError(str(exc)) from exc
    if not 1 <= number <= len(logs):
        if not logs:
            raise UserError(f"{path}: holds no conversation")
        which = "1" if len(logs) == 1 else f"1-{len(logs)}"
        raise UserError(f"{path}: --conversation {number} is out of range: it holds "
                        f"{len(logs)} conversation{'s' if len(logs) > 1 else ''} ({which})")
    log = logs[number - 1]
    for warning in log.warnings:
        warn(f"warning: {warning}")
    return log


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

    log = load_conversation(args.file, args.conversation)
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
        if report.target is None:
            say(f"{report.source}: holds no conversations (nothing written)")
            continue
        which = (f" (conversation {report.conversation + 1} of {report.conversations})"
                 if report.conversations > 1 else "")
        say(f"{report.source}{which} -> {report.target} ({report.turns} turns)")
        for warning in report.warnings:
            say(f"  warning: {warning}")
    return 1 if failed else 0


def analyze_command(args: argparse.Namespace) -> int:
    from attractor_tui.analysis import analyze_log
    from attractor_tui.sessions.formats import load_all

    # Every conversation of every file; like `report`, a bad file is one warning naming it
    # and the rest are analysed; the exit code (1) says some were skipped.
    loaded, failed = load_all(list(args.paths))
    problems = [reason for _, reason in failed]
    if not loaded and problems:
        raise UserError(problems[0] if len(problems) == 1 else
                        "no readable session files:\n  " + "\n  ".join(problems))
    results = []
    for _, number, log in loaded:
        for warning in log.warnings:
            warn(f"warning: {warning}")
        record = analyze_log(log)
        record["conversation"] = number
        results.append(record)
    for problem in problems:
        warn(f"warning: skipped {problem}")
    if not results:
        warn("no conversations found (the files hold none)")
    status = 1 if problems else 0
    judged = None
    if args.judge_only and not args.judge:
        raise UserError("--judge-only needs --judge MODEL")
    if args.judge and results:
        from attractor_tui.analysis.judge import adopt_verdicts, run_judge

        if args.judge_concurrency < 1:
            raise UserError("--judge-concurrency must be at least 1")
        items = [(p, n, log, r) for (p, n, log), r in zip(loaded, results, strict=True)
                 if not args.judge_only or r.get("end_state_confidence") == args.judge_only]
        with _judge_bar() as progress:
            try:
                judged = run_judge(args.judge, args.judge_api_base, items, warn,
                                   concurrency=args.judge_concurrency, progress=progress)
            except ValueError as exc:
                raise UserError(str(exc)) from exc
        status = max(status, judged.status)
        if args.judge_only:
            warn(f"judge: {len(items)} of {len(results)} conversation(s) {args.judge_only}; "
                 f"{adopt_verdicts(items)} now carry the judge's end state")
    if args.json:
        from attractor_tui.sessions.export import json_text

        sys.stdout.write(json_text(results, indent=2, default=str))
        if judged is not None:
            warn(judged.summary())
        return status
    from collections import Counter

    from rich.console import Console
    from rich.text import Text

    # the file, and which of its conversations (1-based) when it holds several
    per_file = Counter(r["file"] for r in results)
    names = [f"{Path(r['file']).name} #{r['conversation'] + 1}" if per_file[r["file"]] > 1
             else Path(r["file"]).name for r in results]
    table = _analysis_table(results, names, judged is not None)
    console = Console()
    console.print(table)
    for r, name in zip(results, names, strict=True):
        console.print(Text.assemble((safe_line(name), "bold"), ": "), end="")
        console.print(safe_text("; ".join(r["evidence"])), markup=False)
        verdict = r.get("judge") or {}
        if verdict:
            console.print(safe_text(f"  judge: {verdict.get('evidence') or verdict.get('error')}"),
                          markup=False)
    if judged is not None:
        console.print(safe_text(judged.summary()), markup=False)
    return status
