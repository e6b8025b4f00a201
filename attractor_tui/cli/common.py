"""What every command shares: the user-error type, loading a session, safe printing.

A file that cannot be written (a read-only folder, a path under a file, a
full disk) is one line naming the path and the reason, never a traceback:
commands wrap their writes in `writing`, and `parser.main` turns any other
`OSError` into the same kind of line (`os_error_line`).

Everything a command prints that came from a model, a provider, a tool call or
a file (file names, error texts quoting a line, preset descriptions) goes
through `safe_text` here or is handed to Rich as plain `Text`, never as markup.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from attractor_tui.core.text import safe_text

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

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


def widen_for_file(console: Console, table: RenderableType) -> None:
    """To a file or a pipe, draw `table` at its natural width: no row folded at 80 columns.

    A terminal has a width to respect; a file has none, and a name split over
    two rows cannot be searched for or copied. Text lines meant for files are
    printed with `soft_wrap=True` for the same reason.
    """
    if console.is_terminal:
        return
    from rich.measure import Measurement

    natural = Measurement.get(console, console.options.update_width(FILE_WIDTH), table).maximum
    console.width = max(console.width, natural)


FILE_WIDTH = 1000
"""Widest table drawn into a file or a pipe."""


def os_error_line(exc: OSError) -> str:
    """A failed file operation as `PATH: reason` (our own write errors read as they are)."""
    if getattr(exc, "path", None) is not None or exc.filename is None:
        return str(exc)  # SessionWriteError: "cannot write PATH: reason"
    where = str(exc.filename)
    if exc.filename2 is not None:
        where += f" -> {exc.filename2}"
    return f"{where}: {exc.strerror or exc}"


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an `OSError` while writing `path` into `cannot write PATH: reason` (a `UserError`)."""
    try:
        yield
    except OSError as exc:
        # os.replace(tmp, final) names both: the final one is what the user asked for
        target = Path(getattr(exc, "path", None) or exc.filename2 or exc.filename or path)
        if not _related(target, Path(path)):
            raise  # reading something else failed: `main` words it as `PATH: reason`
        raise UserError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _related(a: Path, b: Path) -> bool:
    """True when `a` is `b`, inside it, or one of the folders it would be written into."""
    return a == b or a in b.parents or b in a.parents


def user_errors() -> tuple[type[Exception], ...]:
    """Exceptions printed as one line (exit 2); imported only once one was raised."""
    from attractor_tui.core.window import PromptTooLong
    from attractor_tui.experiments.presets import PresetError
    from attractor_tui.sessions.store import SessionFileError

    return (UserError, PresetError, SessionFileError, PromptTooLong)


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


WORKERS_HELP = ("processes sharing the runs and the concurrency: a number, or auto (the "
                "default), which picks from the cores and --concurrency: one process below "
                "32 conversations at once (it is not CPU-bound there), else one per 16 at "
                "once, at most one per core; 1 for the embedded model")


def workers_arg(value: str) -> int | None:
    """argparse `type=` for `--workers`: N, or `auto` (None: the batch decides)."""
    if value.strip().lower() == "auto":
        return None
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number or auto, not {value!r}") from None


def text_arg(value: str) -> str:
    """argparse `type=` for every text flag: `@PATH` reads the text from a file.

    One shell argument may not exceed 128 KB on Linux, so a long prompt must
    come from a file; `@@text` stands for the literal `@text`. A missing,
    unreadable, binary or non-UTF-8 file is one line naming it.
    """
    if value.startswith("@@"):
        return value[1:]
    if not value.startswith("@"):
        return value
    from attractor_tui.sessions.log import SessionFileError, read_prompt

    if not value[1:]:
        raise argparse.ArgumentTypeError("@ needs a file name (@prompt.txt); write @@ for a "
                                         "literal @")
    try:
        return read_prompt(Path(value[1:]).expanduser())
    except SessionFileError as exc:
        raise argparse.ArgumentTypeError(safe_text(f"{exc} (write @@ for a literal @)")) from exc
