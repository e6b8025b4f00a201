"""Command line: `attractor-tui [COMMAND] ...`, the parser and the dispatch.

Each command group lives in its own module (`run`: run/resume/fork,
`sessions`: replay/sessions/export/import/analyze, `experiments`:
scenarios/batch/report) and registers its parsers with a `handler`. Heavy
modules (litellm, Textual) are imported inside the handlers, so
`attractor-tui --help` answers at once.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from attractor_tui import __version__
from attractor_tui.cli import branch, experiments, run, serve, sessions
from attractor_tui.cli.common import UserError, os_error_line, user_errors
from attractor_tui.cli.run import config_from_args
from attractor_tui.core.text import safe_text

__all__ = ["DESCRIPTION", "UserError", "build_parser", "config_from_args", "main"]

DESCRIPTION = """\
Watch two language-model instances talk to each other.

With no command, opens the start screen of the terminal app. The default
model is embedded/smollm2-135m, a small local model that needs no network and
no API key; any litellm model string works when you have keys or a server
(anthropic/claude-..., openai/gpt-..., ollama/llama3, hosted_vllm/...).
"""

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attractor-tui", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"attractor-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # the order here is the order of `--help`
    run.add_run(sub)
    run.add_resume(sub)
    run.add_fork(sub)
    sessions.add_replay(sub)
    sessions.add_sessions(sub)
    experiments.add_scenarios(sub)
    experiments.add_batch(sub)
    branch.add_branch(sub)
    experiments.add_report(sub)
    sessions.add_export(sub)
    sessions.add_import(sub)
    sessions.add_analyze(sub)
    serve.add_serve(sub, build_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if hasattr(signal, "SIGPIPE"):  # `attractor-tui export ... | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    try:
        if args.command is None:
            return run.launch_app(None, Path("sessions"), start_screen=True)
        if handler is not None:
            return handler(args)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # a folder that cannot be written, a full disk: one line
        print(f"attractor-tui: {safe_text(os_error_line(exc))}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not isinstance(exc, user_errors()):
            raise
        print(f"attractor-tui: {safe_text(str(exc))}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")


if __name__ == "__main__":
    raise SystemExit(main())
