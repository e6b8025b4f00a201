"""The file formats attractor-tui reads, and the one place that chooses between them.

Each format is a module with the members of `base.Format`: `detect` sniffs
the start of a file, `load` returns every conversation in it (a file may hold
several), `summarise` fills in the browser's summary from its start and end.
Adding a format is one module plus one line in `FORMATS`.

Every reader goes through here: `store.load_session` (and so `replay`,
`export`, `analyze`, resume and fork), the browser's index, `report` and
`import`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from attractor_tui.sessions.formats import native, peer_logs
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
    "is_session_file",
    "load",
    "session_files",
    "summarise",
    "target_path",
]

FORMATS: list[Format] = [native, peer_logs]
"""Asked in this order; the first whose `detect` recognises a file reads it."""

FALLBACK: Format = native
"""Reads a file with one of its suffixes that no format recognises.

A `.jsonl` with a torn header or a stray first line is most likely one of
ours; our loader says exactly what is wrong with it, which helps more than
"unknown format".
"""

HEAD_BYTES = 8192
"""How much of a file `detect` sees."""


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
    """Whether a file of this name is one the browser, `report` and `import` pick up."""
    return not name.startswith(".") and any(_has_suffix(name, f) for f in FORMATS)


def session_files(directory: Path | str) -> list[Path]:
    """The entries in `directory` (not recursive) named like sessions, sorted by name.

    Sub-folders are left out; anything else so named is kept, even a FIFO or a
    broken link, so that the reader reports it as one bad file (readers only
    ever open regular files: `log.open_regular`).
    """
    try:
        with os.scandir(directory) as entries:
            names = sorted(entry.name for entry in entries if not _is_folder(entry))
    except OSError:
        return []
    return [Path(directory) / name for name in names if is_session_file(name)]


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


# ------------------------------------------------------------------ import


@dataclass
class ImportReport:
    """What happened to one conversation (or one unreadable file) of an `import_files` batch."""

    source: Path
    target: Path | None = None
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
        for log in logs:
            report = _write_import(path, log, Path(out_dir), written)
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
