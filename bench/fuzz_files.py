"""Fuzz every file-reading command with thousands of mutated session files.

Each round writes one hostile entry into a fresh folder beside a good session:
a valid file (ours or a peer log) put through one to three seeded mutations
from `tests/support/hostile_files.py` (truncation, garbage lines, byte flips,
deep nesting, huge numbers, lone surrogates, wrong schema versions, arrays,
CRLF, BOM, wrong field types, shuffled lines), or every tenth round a special
entry (FIFO, folder named `*.jsonl`, symlink loop, dangling link, /dev/zero).
Then `export` (json, md, txt, html), `analyze` (file and folder), `report`,
`fork`, `resume --headless` (scripted provider) and `import` run on it
in-process through `attractor_tui.cli.main`, each under a SIGALRM deadline,
and the browser's index summarises the folder.

A traceback is an exception escaping `main` (or one printed to stderr); a hang
is a call past its deadline. Last line:
`invocations=N tracebacks=N hangs=N seconds=S` (target: 0 and 0).

Knobs: FUZZ_INVOCATIONS (default 5000), FUZZ_SEED (default 13), FUZZ_TIMEOUT
(seconds per call, default 10).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from attractor_tui.sessions.index import SessionIndex  # noqa: E402
from tests.support.hostile_files import (  # noqa: E402
    MUTATIONS,
    SPECIALS,
    Hang,
    base_files,
    commands,
    deadline,
    make_special,
    mutate,
    run_cli,
)


def main() -> int:
    wanted = int(os.environ.get("FUZZ_INVOCATIONS", "5000"))
    rng = random.Random(int(os.environ.get("FUZZ_SEED", "13")))
    timeout = float(os.environ.get("FUZZ_TIMEOUT", "10"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bases = base_files(root / "bases")
        run_cli(["resume", str(root / "bases" / "base-native.jsonl"), "--headless",
                 "--turns", "1"], timeout=120)  # warm-up: litellm's first import
        invocations = tracebacks = hangs = 0
        seen: Counter[str] = Counter()
        codes: Counter[int | None] = Counter()
        started = time.perf_counter()
        round_ = 0
        while invocations < wanted:
            folder = root / f"r{round_}" / "sessions"
            folder.mkdir(parents=True)
            (folder / "good.jsonl").write_bytes(bases["native"])
            file = folder / "x.jsonl"
            if round_ % 10 == 9:
                what = rng.choice(SPECIALS)
                make_special(file, what)
            else:
                kind = rng.choice(sorted(bases))
                names = rng.sample(sorted(MUTATIONS), rng.randint(1, 3))
                what = f"{kind}:{'+'.join(names)}"
                file.write_bytes(mutate(bases[kind], names, rng))
            for argv in commands(file, folder, folder.parent / "out"):
                run = run_cli(argv, timeout)
                invocations += 1
                codes[run.code] += 1
                if run.hung or run.traceback:
                    hangs += run.hung
                    tracebacks += run.traceback is not None
                    last = "hang" if run.hung else (run.traceback or "").strip().splitlines()[-1]
                    key = f"{argv[0]}: {last[:120]}"
                    if not seen[key]:
                        print(f"[{what}] {run.describe()[:3000]}", file=sys.stderr)
                    seen[key] += 1
            try:
                with deadline(timeout):
                    SessionIndex(folder).refresh()
            except Hang:
                hangs += 1
                print(f"[{what}] browser index: hang", file=sys.stderr)
            except Exception:  # noqa: BLE001 - counted and shown, the run goes on
                tracebacks += 1
                print(f"[{what}] browser index:\n{traceback.format_exc()}", file=sys.stderr)
            round_ += 1
        seconds = time.perf_counter() - started
    for key, count in seen.most_common():
        print(f"{count:5d}  {key}", file=sys.stderr)
    exits = " ".join(f"{code}:{n}" for code, n in sorted(codes.items(), key=str))
    print(f"rounds={round_} mutations={len(MUTATIONS)} specials={len(SPECIALS)} "
          f"exit codes {exits}")
    print(f"invocations={invocations} tracebacks={tracebacks} hangs={hangs} "
          f"seconds={seconds:.1f}")
    return 0 if tracebacks == hangs == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
