"""Memory across sessions (issue 27): a side's notes in a text file, carried forward.

`--memory-a PATH` / `--memory-b PATH` give a side a file of its own (the whole
file is its notes); both sides naming one file (`--memory PATH`) share it,
each side's notes under its own heading (`## A`, `## B`). A session reads the
notes when it opens (they are recorded in its config, `SideConfig.notes`, and
put at the top of the side's context) and each side's model rewrites them at
the end (`core.engine.Engine._remember`).

A run holds a lock beside the file (`PATH.lock`, holding its process id) from
opening to its end, so two runs never overwrite each other's notes; a lock
whose process is gone is taken over. A write replaces the file atomically (a
temporary file in the same folder, then `os.replace`), so a crash leaves the
old notes or the new ones, never half of either.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from attractor_tui.core.config import SIDES, SessionConfig, Side
from attractor_tui.sessions.log import SessionFileError, read_prompt

SECTION = re.compile(r"^## (A|B)[ \t]*$", re.M)
"""A side's heading in a shared memory file."""


class MemoryFileError(SessionFileError):
    """A memory file that cannot be used (not text, locked); the message says why."""


def split_sections(text: str) -> dict[str, str]:
    """A shared file's parts: `""` (text before any heading), `"A"`, `"B"`."""
    parts = SECTION.split(text)
    sections = {"": parts[0].strip()}
    for side, body in zip(parts[1::2], parts[2::2], strict=True):
        sections[side] = body.strip()
    return sections


def join_sections(sections: dict[str, str]) -> str:
    head = sections.get("", "")
    out = [head + "\n"] if head else []
    out += [f"## {side}\n{sections[side]}\n" for side in SIDES if side in sections]
    return "\n".join(out)


def with_notes(config: SessionConfig, notes: dict[Side, str]) -> SessionConfig:
    """`config` with each side's starting notes filled in (recorded in the session file)."""
    update = {side.lower(): config.side(side).model_copy(update={"notes": text})
              for side, text in notes.items()}
    return config.model_copy(update=update)


class MemoryFiles:
    """The memory files a config names: locked while a session runs (`core.engine.MemoryKeeper`)."""

    def __init__(self, config: SessionConfig) -> None:
        self._paths: dict[Side, Path] = {
            side: Path(path).expanduser() for side in SIDES
            if (path := config.side(side).memory)}
        self._locks: list[Path] = []

    def __bool__(self) -> bool:
        return bool(self._paths)

    def sides(self) -> Sequence[Side]:
        return list(self._paths)

    def path(self, side: Side) -> str:
        return str(self._paths[side])

    def shared(self, side: Side) -> bool:
        """Both sides keep their notes in this side's file (each in a section)."""
        return len(self._paths) == 2 and _same(self._paths["A"], self._paths["B"])

    def open(self) -> dict[Side, str]:
        """Lock every file and read each side's notes; `MemoryFileError` (nothing held) if
        a file is locked by another run or is not text."""
        try:
            for path in {p.resolve(): p for p in self._paths.values()}.values():
                self._lock(path)
            return {side: self.current(side) for side in self._paths}
        except BaseException:
            self.release()
            raise

    def current(self, side: Side) -> str:
        path = self._paths[side]
        if not path.exists():
            return ""  # a new memory: the file appears with the first notes
        try:
            text = read_prompt(path)
        except MemoryFileError:
            raise
        except SessionFileError as exc:
            raise MemoryFileError(path, f"cannot be used as a memory file: "
                                        f"{str(exc).removeprefix(f'{path}: ')}") from exc
        return split_sections(text).get(side, "") if self.shared(side) else text.strip()

    def save(self, side: Side, notes: str) -> None:
        path = self._paths[side]
        text = notes.strip() + "\n"
        if self.shared(side):
            sections = split_sections(read_prompt(path)) if path.exists() else {}
            sections[side] = notes.strip()
            text = join_sections(sections)
        _replace(path, text)

    def release(self) -> None:
        """Drop the locks this object holds (idempotent)."""
        while self._locks:
            lock = self._locks.pop()
            with contextlib.suppress(OSError):
                if lock.read_text(encoding="utf-8").strip() == str(os.getpid()):
                    lock.unlink()

    def _lock(self, path: Path) -> None:
        lock = path.with_name(path.name + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _holder(lock)
                if holder is not None and _alive(holder):
                    raise MemoryFileError(path, f"in use by another run (process {holder}, "
                                                f"lock {lock}); wait for it to end, or delete "
                                                "the lock if that run is gone") from None
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()  # its process is gone: take the lock over
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(f"{os.getpid()}\n")
            self._locks.append(lock)
            return
        raise MemoryFileError(path, f"cannot take the lock {lock}")


def _same(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _holder(lock: Path) -> int | None:
    try:
        return int(lock.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _replace(path: Path, text: str) -> None:
    """Write `text` to `path` atomically: a temporary file beside it, fsynced, renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
