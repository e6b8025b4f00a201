"""The file formats attractor-tui reads, and the one place that chooses between them.

Each format is a module with the members of `base.Format`: `detect` sniffs
the start of a file, `load` returns every conversation in it (a file may hold
several), `summarise` fills in the browser's summary from its start and end.
Adding a format is one module plus one line in `FORMATS`.

Every reader goes through here: `store.load_session` (and so resume and
fork), `load` (`replay`, `export`), `load_all` (`analyze` and `report` over
many files, every conversation of each), the browser's index and `import`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from attractor_tui.sessions.formats import backrooms, cross_model, native, peer_console, peer_logs
from attractor_tui.sessions.formats.base import Format, SessionSummary
from attractor_tui.sessions.log import SessionFileError, SessionLog, open_regular, read_text

__all__ = [
    "FALLBACK",
    "FORMATS",
    "Format",
    "ImportReport",
    "SessionSummary",
    "detect",
    "import_files",
    "is_candidate",
    "is_session_file",
    "is_session_path",
    "load",
    "load_all",
    "session_files",
    "session_tree",
    "shown_name",
    "summarise",
    "target_path",
]

FORMATS: list[Format] = [native, peer_logs, cross_model, backrooms, peer_console]
"""Asked in this order; the first whose `detect` recognises a file reads it."""

FALLBACK: Format = native
"""Reads a file with one of its suffixes that no format recognises.

A `.jsonl` with a torn header or a stray first line is most likely one of
ours; our loader says exactly what is wrong with it, which helps more than
"unknown format".
"""

HEAD_BYTES = 8192
"""How much of a file `detect` sees."""

SNIFFED_SUFFIXES: tuple[str, ...] = (".json", ".txt")
"""Endings too common to mean "session": such a file is one only if a format recognises
its content (a folder's notes.txt is not listed; a backrooms log is, whatever its name)."""


def detect(path: Path, head: str) -> Format | None:
    """The format that recognises the file starting with `head`, if any."""
    for fmt in FORMATS:
        if fmt.detect(path, head):
            return fmt
    return None


def _reader(path: Path, head: str) -> Format:
    fmt = detect(path, head)
    if fmt is not None:
        return fmt
    if _has_suffix(path.name, FALLBACK):
        return FALLBACK
    raise _unknown(path)


def _unknown(path: Path) -> SessionFileError:
    known = ", ".join(f.title for f in FORMATS)
    return SessionFileError(path, f"not a session file attractor-tui can read (it reads: {known})")


def load(path: Path | str) -> list[SessionLog]:
    """Every conversation in the file, read by the format that recognises it.

    Raises `SessionFileError` naming the file for an unreadable, unknown or
    damaged file.
    """
    path = Path(path)
    text = read_text(path)
    return _reader(path, text[:HEAD_BYTES]).load(path, text)


def summarise(path: Path, stat: os.stat_result | None = None) -> SessionSummary:
    """The browser's summary of one file, from its start and end only; never raises."""
    try:
        stat = stat or path.stat()
    except OSError as exc:
        return SessionSummary(path.name, 0, 0, error=f"cannot read: {exc.strerror or exc}")
    summary = SessionSummary(path.name, stat.st_size, stat.st_mtime_ns)
    try:
        with open_regular(path) as handle:
            head = handle.read(HEAD_BYTES).decode("utf-8", "replace")
            try:
                fmt = _reader(path, head)
            except SessionFileError as exc:
                summary.error = str(exc).removeprefix(f"{path}: ")
                return summary
            handle.seek(0)
            fmt.summarise(path, handle, summary)
    except SessionFileError as exc:  # not a regular file, or it vanished
        summary.error = str(exc).removeprefix(f"{path}: ")
    except OSError as exc:
        summary.error = f"cannot read: {exc.strerror or exc}"
    return summary


def _has_suffix(name: str, fmt: Format) -> bool:
    return name.endswith(fmt.suffixes)


def is_session_file(name: str) -> bool:
    """Whether a file of this name is a session by its name alone (`.jsonl`, or a suffix of
    a registered format other than the sniffed ones); see `is_session_path`."""
    if name.startswith(".") or name.endswith(SNIFFED_SUFFIXES):
        return False
    return any(_has_suffix(name, f) for f in FORMATS)


def is_candidate(name: str) -> bool:
    """Whether a file of this name may be a session (named like one, or `.json`/`.txt`)."""
    return not name.startswith(".") and (
        name.endswith(SNIFFED_SUFFIXES) or any(_has_suffix(name, f) for f in FORMATS))


def is_session_path(path: Path) -> bool:
    """Whether the browser, `report` and `import` pick up this file.

    Named like a session (`is_session_file`: listed even when broken, so the
    reader can say what is wrong), or named `.json`/`.txt` and recognised by a
    format from its first `HEAD_BYTES` (one that cannot be opened is left out).
    """
    name = path.name
    if not is_candidate(name):
        return False
    if is_session_file(name):
        return True
    try:
        with open_regular(path) as handle:
            head = handle.read(HEAD_BYTES).decode("utf-8", "replace")
    except (SessionFileError, OSError):
        return False
    return detect(path, head.removeprefix("\ufeff")) is not None


def session_files(directory: Path | str) -> list[Path]:
    """The entries in `directory` (not recursive) that are sessions, sorted by name.

    Those named like sessions, and `.json`/`.txt` files whose content a format
    recognises (`is_session_path`). Sub-folders are left out; anything else
    named like a session is kept, even a FIFO or a broken link, so that the
    reader reports it as one bad file (readers only ever open regular files:
    `log.open_regular`).
    """
    try:
        with os.scandir(directory) as entries:
            names = sorted(entry.name for entry in entries if not _is_folder(entry))
    except OSError:
        return []
    return [Path(directory) / name for name in names if is_session_path(Path(directory) / name)]


def session_tree(directory: Path | str) -> list[Path]:
    """`session_files` of `directory` and of every sub-folder below it, folder by folder.

    For `analyze` and `report`, which take a folder holding batch folders as
    one whole. Folders starting with a dot (`.judge/`) are left out, and links
    to folders are not followed (a loop must not hang a report).
    """
    found: list[Path] = []
    for root, folders, _ in os.walk(directory, followlinks=False):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        found.extend(session_files(root))
    return found


def shown_name(path: Path, folders: list[Path]) -> str:
    """A file as `analyze` and `report` name it: relative to the first of `folders` it is in
    (`batch-x/run-0001.jsonl` for one in a sub-folder), else its name alone."""
    for folder in folders:
        if folder.is_dir() and path.is_relative_to(folder):
            return str(path.relative_to(folder))
    return path.name


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


# ------------------------------------------------------------------ many files


Loaded = tuple[Path, int, SessionLog]
"""A file, the conversation's 0-based position in it, and the conversation."""
Failed = tuple[Path, str]
"""A file (or folder) that could not be read, and why: one line that names it (and the line
in it, as `SessionFileError` does: `FILE:LINE: reason`)."""


def load_all(paths: list[Path] | list[str]) -> tuple[list[Loaded], list[Failed]]:
    """Every conversation of every file (folders: their session files and sub-folders').

    One unreadable, unknown or damaged file never stops the rest: it is in
    the second list with the reason, and the others load. A folder with no
    session files is a failure too ("no session files found"). Warnings stay
    on each `SessionLog.warnings`.
    """
    loaded: list[Loaded] = []
    failed: list[Failed] = []
    for path in map(Path, paths):
        files = session_tree(path) if path.is_dir() else [path]
        if path.is_dir() and not files:
            failed.append((path, f"{path}: no session files found"))
        for file in files:
            try:
                logs = load(file)
            except SessionFileError as exc:
                failed.append((file, str(exc)))
                continue
            loaded.extend((file, number, log) for number, log in enumerate(logs))
    return loaded, failed


# ------------------------------------------------------------------ import


@dataclass
class ImportReport:
    """What happened to one conversation (or one unreadable file) of an `import_files` batch."""

    source: Path
    target: Path | None = None
    conversation: int = 0
    """0-based position of the conversation in `source`."""
    conversations: int = 1
    """How many `source` holds."""
    turns: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def target_path(out_dir: Path, log: SessionLog) -> Path:
    """Where an imported conversation is written: named like our own sessions, by start time.

    The id part comes from the content hash, so re-importing overwrites the
    earlier copy instead of piling up duplicates.
    """
    start = log.start
    return Path(out_dir) / f"{start.ts:%Y%m%d-%H%M%S}-{start.session_id[:6]}{native.SUFFIX}"


def import_files(paths: list[Path], out_dir: Path) -> list[ImportReport]:
    """Convert each foreign file (folders: their session files) into our format in `out_dir`.

    One report per conversation written; one bad file does not stop the batch,
    its report carries the error.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(session_files(path) if path.is_dir() else [path])
    reports: list[ImportReport] = []
    written: dict[Path, str] = {}
    """Target -> session id written there by this batch."""
    for path in files:
        try:
            logs = _foreign(path)
        except SessionFileError as exc:
            reports.append(ImportReport(source=path, error=str(exc)))
            continue
        if not logs:  # e.g. a conversations.json with an empty list: not an error
            reports.append(ImportReport(source=path, conversations=0))
        for number, log in enumerate(logs):
            report = _write_import(path, log, Path(out_dir), written)
            report.conversation, report.conversations = number, len(logs)
            if report.target is not None:
                written[report.target] = log.start.session_id
            reports.append(report)
    return reports


def _foreign(path: Path) -> list[SessionLog]:
    text = read_text(path)
    fmt = detect(path, text[:HEAD_BYTES])
    if fmt is None:
        raise _unknown(path)
    if fmt is native:
        raise SessionFileError(path, "already an attractor-tui session file (nothing to import)")
    return fmt.load(path, text)


def _write_import(source: Path, log: SessionLog, out_dir: Path, written: dict[Path, str]
                  ) -> ImportReport:
    report = ImportReport(source=source, turns=len(log.turns), warnings=list(log.warnings))
    try:
        target = target_path(out_dir, log)
        if target.resolve() == source.resolve():
            raise SessionFileError(source, "refusing to overwrite the source file")
        if written.get(target, log.start.session_id) != log.start.session_id:
            # another conversation of this batch, same start second and id prefix
            raise SessionFileError(source, f"a conversation of this batch was already "
                                           f"written to {target}; not overwriting it")
        native.write_log(log, target)
        report.target = target
    except SessionFileError as exc:
        report.error = str(exc)
    except OSError as exc:
        report.error = f"cannot write into {out_dir}: {exc.strerror or exc}"
    return report
