"""Agreement between hand labels and the rules, for the benchmark and the tests.

A labels file (TOML, `[[conversation]]` tables with `folder`, `file`,
`conversation`, `end_state`, `topic`, `split`; see
`tests/analysis/labels/README.md`) names conversations of transcripts under a
fixtures folder; `score` loads each one through the format registry, analyses
it and compares. Only aggregates leave `Agreement`: per split, the share of
agreeing end states overall and per hand label, and the share the rules call
``other`` (the held-out split is for reporting, never for tuning).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from attractor_tui.analysis.classify import analyze_log


@dataclass(frozen=True)
class Row:
    """One hand-labelled conversation and what the rules said about it."""

    key: str
    split: str
    want: str
    got: str
    want_topic: str
    got_topic: str


@dataclass
class Agreement:
    """Aggregate agreement of one split."""

    split: str
    n: int = 0
    agree: int = 0
    topic_agree: int = 0
    other: int = 0
    per_label: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Hand label -> (agreeing, total)."""

    @property
    def share(self) -> float:
        return self.agree / self.n if self.n else 0.0

    @property
    def other_share(self) -> float:
        return self.other / self.n if self.n else 0.0

    @property
    def topic_share(self) -> float:
        return self.topic_agree / self.n if self.n else 0.0


def read_labels(path: Path) -> list[dict[str, object]]:
    """The `[[conversation]]` tables of a labels file."""
    with path.open("rb") as handle:
        tables = tomllib.load(handle).get("conversation", [])
    return list(tables)


def score(labels: Iterable[dict[str, object]], fixtures: Path) -> list[Row]:
    """Analyse every labelled conversation (loaded through the format registry)."""
    from attractor_tui.sessions.formats import load

    cache: dict[Path, list[object]] = {}
    rows = []
    for entry in labels:
        path = fixtures / str(entry["folder"]) / str(entry["file"])
        if path not in cache:
            cache[path] = list(load(path))
        k = int(str(entry["conversation"]))
        result = analyze_log(cache[path][k], conversation=k)  # type: ignore[arg-type]
        rows.append(Row(
            key=f"{entry['folder']}/{entry['file']}#{k}", split=str(entry["split"]),
            want=str(entry["end_state"]), got=str(result["end_state"]),
            want_topic=str(entry.get("topic", "other")), got_topic=str(result["topic"]),
        ))
    return rows


def aggregate(rows: Iterable[Row], split: str) -> Agreement:
    """The aggregate figures of one split."""
    out = Agreement(split)
    totals: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for row in rows:
        if row.split != split:
            continue
        out.n += 1
        out.agree += row.want == row.got
        out.topic_agree += row.want_topic == row.got_topic
        out.other += row.got == "other"
        totals[row.want] += 1
        hits[row.want] += row.want == row.got
    out.per_label = {label: (hits[label], totals[label]) for label in sorted(totals)}
    return out
