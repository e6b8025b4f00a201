"""Hostile session files, and the CLI run in-process under a deadline.

Shared by `tests/sessions/test_fuzz_files.py` (hypothesis picks the
mutations) and `bench/fuzz_files.py` (thousands of seeded ones). A mutation
is a function `(bytes, Random) -> bytes` over a valid file's bytes; the
special files (FIFO, a folder named `*.jsonl`, a symlink loop, a device) are
made by `make_special`.
"""

from __future__ import annotations

import io
import os
import random
import re
import signal
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from attractor_tui.cli import main
from tests.support.builders import write_session

Mutation = Callable[[bytes, random.Random], bytes]


class Hang(BaseException):
    """Raised by `deadline` when a call runs too long (a BaseException, so that no
    `except Exception` in the code under test can swallow it)."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise `Hang` in the main thread after `seconds` (SIGALRM: it interrupts even a
    blocking `open()` of a FIFO, which no thread-based timeout can)."""

    def fire(signum: int, frame: object) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_PRINTED_TRACEBACK = re.compile(r'^Traceback \(most recent call last\):\n  File "', re.M)
"""A traceback as Python prints it (a warning quoting a log's traceback line is fine)."""


@dataclass
class CliRun:
    argv: list[str]
    code: int | None
    out: str
    err: str
    traceback: str | None = None
    """An exception that escaped `main`, or a traceback printed to stderr."""
    hung: bool = False

    def describe(self) -> str:
        return (f"argv={self.argv} code={self.code} hung={self.hung}\n"
                f"traceback={self.traceback}\nstderr={self.err[-2000:]}")


def run_cli(argv: list[str], timeout: float = 10.0) -> CliRun:
    """`attractor-tui ARGV` in this process, its output captured, bounded by `timeout`."""
    out, err = io.StringIO(), io.StringIO()
    code: int | None = None
    caught: str | None = None
    hung = False
    try:
        with redirect_stdout(out), redirect_stderr(err), deadline(timeout):
            code = main(argv)
    except Hang:
        hung = True
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException:  # noqa: BLE001 - the point is to record it
        caught = traceback.format_exc()
    printed = err.getvalue()
    if caught is None and _PRINTED_TRACEBACK.search(printed):
        caught = printed
    return CliRun(list(argv), code, out.getvalue(), printed, caught, hung)


# ------------------------------------------------------------------ files


def base_files(folder: Path) -> dict[str, bytes]:
    """Valid files to mutate: one of ours (with every event kind) and a peer log."""
    folder.mkdir(parents=True, exist_ok=True)
    ours = write_session(folder / "base-native.jsonl", 6, extras=True).read_bytes()
    peer = (
        '{"type": "config", "timestamp": "2026-01-02T03:04:05", "seed": "Hi", '
        '"model_a": "m/a", "model_b": "m/b", "system_a": "", "system_b": ""}\n'
        + "".join(
            f'{{"type": "turn", "timestamp": "2026-01-02T03:04:{10 + i}", "turn": {i // 2}, '
            f'"label": "Model {"AB"[i % 2]}", "model": "m/{"ab"[i % 2]}", '
            f'"response": "reply {i} \\ud83d\\ude00", "tool_attempts": [], '
            f'"interjected": false}}\n'
            for i in range(4)
        )
    ).encode()
    return {"native": ours, "peer": peer}


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _pick_line(data: bytes, rng: random.Random) -> tuple[list[bytes], int]:
    lines = _lines(data)
    return lines, rng.randrange(len(lines))


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def garbage_line(data: bytes, rng: random.Random) -> bytes:
    lines, at = _pick_line(data, rng)
    junk = rng.choice([b"not json at all", b"{", b"}", b"null", b"42", b'"str"', b"[]", b"{}",
                       b'{"type": 7}', b'{"type": "turn"}', b"\x00\x01\x02", b"\xff\xfe",
                       b"Traceback (most recent call last):", b'{"type": "session_end"}',
                       bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))])
    lines.insert(at, junk)
    return b"\n".join(lines)


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if buf:
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    return bytes(buf)


def deep_nesting(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice([63, 64, 65, 100, 900, 1000, 5000, 100_000])
    opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
    closed = rng.random() < 0.5
    nest = opener * depth + (b"1" + closer * depth if closed else b"")
    lines, at = _pick_line(data, rng)
    if rng.random() < 0.5:
        lines.insert(at, nest)
    else:  # inside a record, where a reader might recurse into it after parsing
        lines[at] = re.sub(rb'"text": ', b'"text": ' + nest + b', "x": ', lines[at], count=1)
    return b"\n".join(lines)


def huge_number(data: bytes, rng: random.Random) -> bytes:
    number = rng.choice([b"9" * 4301, b"9" * 5000, b"-" + b"1" * 10_000, b"1e999999",
                         b"1" + b"0" * 400, b"-0", b"1.5", b"NaN", b"Infinity", b"1" * 4300])
    spots = list(re.finditer(rb":\s*(-?\d+(?:\.\d+)?)", data))
    if not spots:
        return data + number
    spot = rng.choice(spots)
    return data[: spot.start(1)] + number + data[spot.end(1):]


def lone_surrogate(data: bytes, rng: random.Random) -> bytes:
    mark = rng.choice([b"\\ud800", b"\\udfff", b"\\ud83d", b"\\ude00x", b"\xed\xa0\x80",
                       b"\\u0000", b"\\u001b[2J"])
    spots = [m.end() for m in re.finditer(rb'": "', data)]
    if not spots:
        return data + mark
    at = rng.choice(spots)
    return data[:at] + mark + data[at:]


def schema_version(data: bytes, rng: random.Random) -> bytes:
    value = rng.choice([b"0", b"-1", b'"1"', b"99", b"null", b"1.0", b"true", b"[1]", b"{}",
                        b"9" * 5000])
    if rng.random() < 0.2:
        return re.sub(rb'"schema_version":\s*\d+,?\s*', b"", data, count=1)
    return re.sub(rb'("schema_version":\s*)\d+', rb"\g<1>" + value, data, count=1)


def as_array(data: bytes, rng: random.Random) -> bytes:
    lines = [ln for ln in _lines(data) if ln.strip()] or [b"{}"]
    if rng.random() < 0.5:  # the whole file as one JSON array
        return b"[" + b",".join(lines) + b"]\n"
    at = rng.randrange(len(lines))
    lines[at] = b"[" + lines[at] + b"]"
    return b"\n".join(lines) + b"\n"


def crlf(data: bytes, rng: random.Random) -> bytes:
    return data.replace(b"\n", b"\r\n")


def bom(data: bytes, rng: random.Random) -> bytes:
    return rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]) + data


def wrong_types(data: bytes, rng: random.Random) -> bytes:
    """A field holding a value of another type (the parser is fine, the model is not)."""
    value = rng.choice([b"null", b"[]", b"{}", b"-5", b'"x"', b"true", b"1e308", b'"\\ud800"'])
    spots = list(re.finditer(rb'"(\w+)": ("[^"]*"|-?\d+|true|false|null)', data))
    if not spots:
        return data
    spot = rng.choice(spots)
    return data[: spot.start(2)] + value + data[spot.end(2):]


def swap_types(data: bytes, rng: random.Random) -> bytes:
    kinds = [b"session_start", b"turn", b"session_end", b"error", b"operator", b"context",
             b"session_resume", b"config", b"turn_begin", b"text_delta", b"nonsense"]
    spots = list(re.finditer(rb'"type": "(\w+)"', data))
    if not spots:
        return data
    spot = rng.choice(spots)
    return data[: spot.start(1)] + rng.choice(kinds) + data[spot.end(1):]


def shuffle_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    choice = rng.random()
    if choice < 0.4:
        rng.shuffle(lines)
    elif choice < 0.7:
        at = rng.randrange(len(lines))
        lines.insert(at, lines[rng.randrange(len(lines))])  # a duplicate line
    else:
        del lines[rng.randrange(len(lines))]
    return b"\n".join(lines)


def emptyish(data: bytes, rng: random.Random) -> bytes:
    return rng.choice([b"", b"\n", b"   \n\n", b"\x00" * 64, b"\xef\xbb\xbf", b"\r\n"])


MUTATIONS: dict[str, Mutation] = {
    f.__name__: f for f in (truncate, garbage_line, flip_bytes, deep_nesting, huge_number,
                            lone_surrogate, schema_version, as_array, crlf, bom, wrong_types,
                            swap_types, shuffle_lines, emptyish)
}


def mutate(data: bytes, names: list[str], rng: random.Random) -> bytes:
    for name in names:
        data = MUTATIONS[name](data, rng)
    return data


SPECIALS = ("fifo", "folder", "symlink_loop", "dangling_link", "device", "unreadable_dir")


def make_special(path: Path, kind: str) -> Path:
    """A file system entry at `path` that no reader may block on or crash over."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
        (path / "inner.jsonl").write_text("{}\n")
    elif kind == "symlink_loop":
        os.symlink(path.name, path)
    elif kind == "dangling_link":
        os.symlink(path.with_name("nowhere-at-all"), path)
    elif kind == "device":
        os.symlink("/dev/zero", path)  # endless bytes: only a size bound stops a reader
    elif kind == "unreadable_dir":
        os.symlink(path.parent, path)  # a link to the folder itself
    else:
        raise ValueError(kind)
    return path


def commands(file: Path, folder: Path, out: Path) -> list[list[str]]:
    """Every command that reads `file` (or `folder`, which holds it)."""
    return [
        ["export", str(file)],
        ["export", str(file), "--format", "md"],
        ["export", str(file), "--format", "txt"],
        ["export", str(file), "--format", "html"],
        ["analyze", str(file)],
        ["analyze", str(folder), "--json"],
        ["report", str(folder), "--format", "json"],
        ["fork", str(file), "--at", "1", "--no-run", "--out", str(out)],
        ["resume", str(file), "--headless", "--turns", "1"],
        ["import", str(file), "--out", str(out)],
    ]
