"""Fuzz: every command that reads session files, over mutated and special files.

Hypothesis picks a valid file (ours or a peer log) and one to three mutations
(truncation, garbage lines, byte flips, deep nesting, huge numbers, lone
surrogates, wrong schema versions, arrays, CRLF, BOM, wrong field types...);
each command then runs in-process under a deadline. Zero tracebacks, zero
hangs, and a refused file is one `attractor-tui: ...` line. Bounded to stay
fast; `bench/fuzz_files.py` runs the same mutations by the thousand.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attractor_tui.analysis import end_state_note
from attractor_tui.sessions import formats
from attractor_tui.sessions.index import SessionIndex, session_label
from tests.support.hostile_files import (
    MUTATIONS,
    SPECIALS,
    base_files,
    commands,
    deadline,
    make_special,
    mutate,
    run_cli,
)

SINGLE_FILE = {"export", "fork", "resume"}


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("bases")
    found = base_files(folder)
    warm = run_cli(["resume", str(folder / "base-native.jsonl"), "--headless", "--turns", "1"],
                   timeout=60)  # litellm's first import is slow; not part of any deadline below
    assert warm.code == 0 and warm.traceback is None, warm.describe()
    return found


def check_commands(file: Path, folder: Path, out: Path) -> None:
    for argv in commands(file, folder, out):
        run = run_cli(argv, timeout=10)
        assert not run.hung and run.traceback is None, run.describe()
        assert run.code in (0, 1, 2), run.describe()
        if argv[0] in SINGLE_FILE and run.code == 2:
            assert run.err.splitlines()[-1].startswith("attractor-tui: "), run.describe()
    with deadline(10):  # what the browser does with the folder
        listed = SessionIndex(folder).refresh()
        assert {s.name for s in listed} >= {"good.jsonl"}
        session_label(file, lambda log: end_state_note(log.turns))
        formats.summarise(file)


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(["native", "peer"]),
       names=st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3),
       seed=st.integers(0, 2**32 - 1))
def test_every_command_survives_a_mutated_file(
    bases: dict[str, bytes], kind: str, names: list[str], seed: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sessions"
        folder.mkdir()
        (folder / "good.jsonl").write_bytes(bases["native"])
        file = folder / "x.jsonl"
        file.write_bytes(mutate(bases[kind], names, random.Random(seed)))
        check_commands(file, folder, Path(tmp) / "out")


@pytest.mark.parametrize("kind", SPECIALS)
def test_every_command_survives_a_special_entry(
    bases: dict[str, bytes], tmp_path: Path, kind: str
) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    (folder / "good.jsonl").write_bytes(bases["native"])
    check_commands(make_special(folder / "x.jsonl", kind), folder, tmp_path / "out")
