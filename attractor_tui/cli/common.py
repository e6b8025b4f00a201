"""What every command shares: the user-error type, loading a session, safe printing.

Everything a command prints that came from a model, a provider, a tool call or
a file (file names, error texts quoting a line, preset descriptions) goes
through `safe_text` here or is handed to Rich as plain `Text`, never as markup.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from attractor_tui.core.text import safe_text

if TYPE_CHECKING:
    from attractor_tui.sessions.store import SessionLog

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
    """What `add_subparsers` returns; each command module adds its parsers to it."""


class UserError(Exception):
    """A problem the user can fix; printed without a traceback."""


def say(text: str) -> None:
    """One line on stdout, made safe for the terminal."""
    print(safe_text(text))


def warn(text: str) -> None:
    """One line on stderr, made safe for the terminal."""
    print(safe_text(text), file=sys.stderr)


def user_errors() -> tuple[type[Exception], ...]:
    """Exceptions printed as one line (exit 2); imported only once one was raised."""
    from attractor_tui.experiments.presets import PresetError
    from attractor_tui.sessions.store import SessionFileError

    return (UserError, PresetError, SessionFileError)


def load_log(path: Path) -> SessionLog:
    """Load a session for a command: a broken file is a `UserError`, warnings go to stderr."""
    from attractor_tui.sessions.store import SessionFileError, load_session

    try:
        log = load_session(path)
    except SessionFileError as exc:
        raise UserError(str(exc)) from exc
    for warning in log.warnings:
        warn(f"warning: {warning}")
    return log
