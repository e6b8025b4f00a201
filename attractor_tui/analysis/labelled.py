"""Every hand-labelled conversation, with the model families it belongs to.

Evaluation code only (issue 24): the fitting script and the agreement benchmark
group conversations by model family for leave-one-family-out agreement. The
classifier itself never imports this module: nothing that labels a
conversation may name a file, a model or a family.

Two label files feed it: the project's own (`tests/analysis/labels/
fixture_labels.toml`, `folder`/`file`/`conversation` per row) and the shared
one (`<fixtures>/labelled/labels.toml`, `file`/`conversation`, with a second
reader's `end_state_also`/`topic_also` where the readers differed).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attractor_tui.sessions.log import SessionLog

__all__ = ["FAMILIES", "Labelled", "family_of", "families_of", "load_labelled", "shared_labels"]

FAMILIES: tuple[tuple[str, str], ...] = (
    # (pattern searched in the lower-cased model name, family); first match wins
    (r"claude|opus|sonnet|haiku", "claude"),
    (r"gpt|(?<![a-z])o[134](?:-|$)|openai|chatgpt", "gpt"),
    (r"gemini", "gemini"),
    (r"gemma", "gemma"),
    (r"grok|x-ai", "grok"),
    (r"kimi|moonshot", "kimi"),
    (r"deepseek", "deepseek"),
    (r"qwen", "qwen"),
    (r"llama", "llama"),
    (r"olmo", "olmo"),
    (r"glm|z-ai|zhipu", "glm"),
    (r"trinity|arcee", "trinity"),
    (r"mistral|mixtral", "mistral"),
    (r"smollm", "smollm"),
)


def family_of(model: str) -> str:
    """The model family a model name belongs to ("anthropic/claude-opus-4.5" -> claude);
    an unknown name is its own family (its last path part, lower-cased)."""
    name = model.strip().lower()
    for pattern, family in FAMILIES:
        if re.search(pattern, name):
            return family
    return name.rsplit("/", 1)[-1] or "unknown"


def families_of(log: SessionLog) -> frozenset[str]:
    """The families of both sides' models as the log records them (a backrooms log's
    come from its file name through the loader)."""
    models = [log.config.a.model, log.config.b.model]
    models += [t.model for t in log.turns if getattr(t, "model", None)]
    found = {family_of(m) for m in models if m and m.strip()}
    return frozenset(found or {family_of(log.path.stem)})


@dataclass(frozen=True)
class Labelled:
    """One hand-labelled conversation, loaded."""

    key: str
    """"folder/file#k"."""
    source: str
    """"own" (the project's 67) or "shared" (the shared fixtures' 33)."""
    families: frozenset[str]
    log: SessionLog
    end_state: str
    end_state_ok: frozenset[str]
    """`end_state` plus a second reader's `end_state_also`: either is right."""
    topic: str
    topic_ok: frozenset[str]
    onset_index: int | None
    split: str = ""
    """The own file's dev/heldout split; empty for shared rows."""


def _tables(path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as handle:
        return list(tomllib.load(handle).get("conversation", []))


def shared_labels(fixtures: Path) -> Path:
    return fixtures / "labelled" / "labels.toml"


def load_labelled(fixtures: Path, own_labels: Path) -> list[Labelled]:
    """Every labelled conversation: the own labels' rows, then the shared ones (each
    only when its labels file exists), loaded through the format registry."""
    from attractor_tui.sessions.formats import load

    rows: list[tuple[str, str, dict[str, Any]]] = []
    if own_labels.is_file():
        rows += [("own", str(t["folder"]), t) for t in _tables(own_labels)]
    shared = shared_labels(fixtures)
    if shared.is_file():
        rows += [("shared", str(t.get("folder", "labelled")), t) for t in _tables(shared)]
    cache: dict[Path, list[SessionLog]] = {}
    out = []
    for source, folder, table in rows:
        path = fixtures / folder / str(table["file"])
        if path not in cache:
            cache[path] = list(load(path))
        k = int(table.get("conversation", 0))
        log = cache[path][k]
        end_state = str(table["end_state"])
        topic = str(table.get("topic", "other"))
        onset = table.get("onset_index")
        out.append(Labelled(
            key=f"{folder}/{table['file']}#{k}", source=source, families=families_of(log),
            log=log, end_state=end_state,
            end_state_ok=frozenset({end_state, str(table.get("end_state_also", end_state))}),
            topic=topic, topic_ok=frozenset({topic, str(table.get("topic_also", topic))}),
            onset_index=int(onset) if onset is not None else None,
            split=str(table.get("split", "")),
        ))
    return out
