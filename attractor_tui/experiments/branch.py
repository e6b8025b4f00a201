"""Counterfactual branches: N continuations of one conversation from the same turn.

`attractor-tui branch FILE --at TURN --samples N` writes N forks of FILE into a
folder beside it (`<stem>.branches-at-<TURN>/run-000i.jsonl`), each holding
turns 1..TURN-1 and naming FILE as its parent, then runs them as one batch
(same resume rules: a rerun finishes what is missing) and reports how the
branches ended: end states with counts and 95% Wilson intervals, topics, and
when the final state set in. How often the branches reach the parent's own
end state says how stable that attractor is from that turn; `--interject`
puts an operator's words into the branch point (on the side given) to show
what they would have changed.

TURN is 1-based, as people count: branches regenerate turn TURN onwards.

A parent with a memory file: each branch starts from the notes the parent
started with (recorded in its file) and updates no memory file. N samples of
one moment are not N more sessions of a life, and N runs writing one file
would each have to wait for the others' lock.

Only branches that ran count: one that failed before writing a model turn of
its own (`sessions.log.failed_run`) or has not finished is listed apart, so a
failure is never read as the parent's prefix ending `too_short`.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attractor_tui.core.config import SessionConfig, Side
from attractor_tui.core.events import (
    ContextTrim,
    OperatorAction,
    SessionStart,
    Turn,
    new_session_id,
)
from attractor_tui.experiments.batch import BatchError, BatchSpec
from attractor_tui.sessions.log import failed_runs_note
from attractor_tui.sessions.runner import check_resumable, completed
from attractor_tui.sessions.store import SessionFileError, SessionLog, dump_event, load_session

SEEDED = ("embedded/",)
"""Models given a per-branch `seed` so the branches differ and each can be redone exactly."""


@dataclass
class BranchPlan:
    """What `branch` was asked for."""

    file: Path
    at: int
    """1-based: the first turn the branches write anew."""
    samples: int
    turns: int | None = None
    """Each side speaks this many times after the branch point (None: the parent's plan)."""
    temperature: float | None = None
    interject: str | None = None
    side: Side = "A"
    concurrency: int = 8

    def folder(self) -> Path:
        return self.file.parent / f"{self.file.stem}.branches-at-{self.at}"


@dataclass
class BranchReport:
    """How the branches ended; `to_dict` is what `branch.json` holds."""

    parent: str
    at: int
    samples: int
    parent_label: str | None
    labels: dict[str, int] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    topics: dict[str, int] = field(default_factory=dict)
    onsets: list[int] = field(default_factory=list)
    """1-based turns at which each branch's final state set in (branches that have one)."""
    interject: str | None = None
    side: Side | None = None
    failed: list[str] = field(default_factory=list)
    """Why each branch that failed (or cannot be read) failed: in no count."""
    unfinished: int = 0
    """Branches not run to their end yet (a rerun finishes them): in no count."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "parent": self.parent, "at": self.at, "samples": self.samples,
            "parent_label": self.parent_label, "labels": self.labels,
            "intervals_95": {k: list(v) for k, v in self.intervals.items()},
            "topics": self.topics, "onset_turns": self.onsets,
            "interject": self.interject, "side": self.side,
            "failed": self.failed, "unfinished": self.unfinished,
        }


def parent_log(plan: BranchPlan) -> SessionLog:
    """The parent session, checked: native, long enough, branchable at `plan.at`."""
    log = load_session(plan.file)
    check_resumable(log)
    if plan.samples < 1:
        raise BatchError("--samples must be 1 or more")
    if not 0 <= plan.at <= len(log.turns):
        raise BatchError(f"--at {plan.at} is outside 0..{len(log.turns)} (the session has "
                         f"{len(log.turns)} turns; the branches keep turns 1..TURN, as fork does)")
    if plan.turns is not None and plan.turns < 1:
        raise BatchError("--turns must be 1 or more")
    return log


def branch_config(log: SessionLog, plan: BranchPlan, index: int) -> SessionConfig:
    """The parent's config with the branch's turn limit, temperature and seed."""
    config = log.config
    done = completed(t for t in log.turns if t.index < plan.at)
    update: dict[str, Any] = {}
    if plan.turns is not None:
        update["turns"] = plan.turns + math.ceil(done / 2)
    elif config.turns is None:
        raise BatchError("the parent has no turn limit: give --turns")
    for key in ("a", "b"):
        side = getattr(config, key)
        fields: dict[str, Any] = {}
        if plan.temperature is not None:
            fields["temperature"] = plan.temperature
        if side.model.startswith(SEEDED):
            fields["params"] = {**side.params, "seed": index + 1}
        if side.memory:
            fields["memory"] = None  # the parent's notes stay (`notes`); see the docstring
        if fields:
            update[key] = side.model_copy(update=fields)
    return config.model_copy(update=update)


def write_fork(log: SessionLog, plan: BranchPlan, index: int, target: Path) -> None:
    """Branch `index`: the parent's turns and trims before the branch point, and the
    interjection queued for its side (the engine puts it in that side's next slot)."""
    at = plan.at  # turns kept, as `fork --at`: the branches write turn at+1 on
    start = SessionStart(session_id=new_session_id(), config=branch_config(log, plan, index),
                         parent=str(log.path), parent_turn=at, source=log.start.source)
    kept: list[Turn | ContextTrim | OperatorAction] = []
    for event in log.events:
        if isinstance(event, Turn) and event.index >= at:
            break  # trims recorded after the branch point belong to the parent's future
        if isinstance(event, Turn | ContextTrim):
            kept.append(event)
    if plan.interject:
        kept.append(OperatorAction(action="queue", side=plan.side, text=plan.interject,
                                   ref=new_session_id()[:12]))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(dump_event(start) + "\n")
        for item in kept:
            handle.write(dump_event(item) + "\n")
    tmp.replace(target)


def prepare(plan: BranchPlan) -> tuple[SessionLog, BatchSpec]:
    """Write the forks that are missing and the batch spec that runs (or resumes) them."""
    from attractor_tui.experiments.batch import run_file

    log = parent_log(plan)
    folder = plan.folder()
    configs = [branch_config(log, plan, i) for i in range(plan.samples)]
    for i in range(plan.samples):
        target = run_file(folder, i, plan.samples)
        if not target.exists():
            write_fork(log, plan, i, target)
    spec = BatchSpec(out=folder, runs=plan.samples, scenario=None, configs=configs.__getitem__,
                     name=f"branch of {plan.file.name} after turn {plan.at}",
                     concurrency=max(1, min(plan.concurrency, plan.samples)),
                     overrides={"interject": plan.interject, "side": plan.side,
                                "temperature": plan.temperature, "turns": plan.turns})
    return log, spec


def report(plan: BranchPlan, log: SessionLog) -> BranchReport:
    """Classify every branch and the parent; count end states, topics and onsets."""
    from attractor_tui.analysis.classify import classify
    from attractor_tui.experiments.batch import run_file
    from attractor_tui.experiments.stats import wilson

    parent = classify(log.turns)
    out = BranchReport(parent=str(plan.file), at=plan.at, samples=plan.samples,
                       parent_label=parent.label, interject=plan.interject,
                       side=plan.side if plan.interject else None)
    labels: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    for i in range(plan.samples):
        try:
            branch = load_session(run_file(plan.folder(), i, plan.samples))
        except SessionFileError as exc:
            out.failed.append(str(exc))
            continue
        if branch.failure is not None:
            out.failed.append(branch.failure)
            continue
        if branch.end is None:
            out.unfinished += 1
            continue
        found = classify([t for t in branch.turns if not t.interrupted])
        labels[found.label] += 1
        topics[found.topic] += 1
        if found.onset_index is not None:
            out.onsets.append(found.onset_index + 1)
    n = sum(labels.values())
    out.labels = dict(labels.most_common())
    out.intervals = {k: wilson(v, n) for k, v in out.labels.items()}
    out.topics = dict(topics.most_common())
    return out


def report_lines(r: BranchReport) -> list[str]:
    """The short report, for people (1-based turns)."""
    n = sum(r.labels.values())
    words = f", with {r.side} saying {r.interject!r}" if r.interject else ""
    lines = [f"{n} branch(es) of {Path(r.parent).name} after turn {r.at}{words}; "
             f"the parent ended {r.parent_label}"]
    for label, count in r.labels.items():
        low, high = r.intervals[label]
        same = "  (the parent's end state)" if label == r.parent_label else ""
        lines.append(f"  {label:<20} {count:>3}/{n}  {count / n:>4.0%}  "
                     f"95% CI {low:.0%}-{high:.0%}{same}")
    if r.topics:
        lines.append("topics: " + ", ".join(f"{t} {c}" for t, c in r.topics.items()))
    if r.onsets:
        lines.append(f"final state set in at turn {statistics.median(r.onsets):g} (median; "
                     f"{min(r.onsets)}-{max(r.onsets)} over {len(r.onsets)} branch(es))")
    if r.failed:
        lines.append("not counted: " + failed_runs_note(r.failed))
    if r.unfinished:
        lines.append(f"not counted: {r.unfinished} unfinished branch(es); rerun the same "
                     "command to finish them")
    return lines


def save_report(plan: BranchPlan, summary: BranchReport) -> Path:
    """`branch.json` beside the runs: the report for tools (0-based nothing; turns 1-based)."""
    import json

    path = plan.folder() / "branch.json"
    path.write_text(json.dumps(summary.to_dict(), indent=1), encoding="utf-8")
    return path


async def branch_subprocess(file: Path, at: int, samples: int) -> tuple[bool, str]:
    """`attractor-tui branch` as a child process (the app's `f` in replay): (ok, what it said).

    A separate process keeps the batch's CPU and event loop away from the app's;
    the text is the report, or the one error line.
    """
    import asyncio
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "attractor_tui", "branch", str(file), "--at", str(at),
        "--samples", str(samples), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode in (0, 1) and out.strip():
        return True, out.decode("utf-8", "replace").strip()
    lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    return False, lines[-1] if lines else f"branch exited with code {proc.returncode}"
