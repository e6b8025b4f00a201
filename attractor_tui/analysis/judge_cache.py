"""Judge verdicts cached beside the sessions, so a re-run costs nothing.

Each conversation's verdicts live in `.judge/<content>-<conversation>.json`
in the session's own folder: `<content>` is the SHA-256 of the file's bytes,
so an edited file is judged again and a renamed one is not. Inside, verdicts
are keyed by judge (the model, plus its API base when one was given) and
`RUBRIC_HASH`. The folder's name starts with a dot and it is a folder: the
format registry's `session_files` skips both, so it is never taken for a
session. A damaged cache file is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attractor_tui.analysis.classify import LABELS
from attractor_tui.analysis.judge_rubric import RUBRIC_HASH
from attractor_tui.analysis.topics import TOPICS
from attractor_tui.core.secrets import strip_url
from attractor_tui.sessions.log import SessionFileError, open_regular

CACHE_DIR = ".judge"
VERSION = 1
MAX_CACHE_BYTES = 1 << 20
"""A cache file larger than this is not read (a verdict is a few hundred bytes)."""


def judge_key(model: str, api_base: str | None = None) -> str:
    """Who judged: the model, and the server when one was named (credentials stripped)."""
    return f"{model}@{strip_url(api_base)}" if api_base else model


def content_hash(path: Path) -> str:
    """SHA-256 of the file's bytes (regular files only; `SessionFileError` otherwise)."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def cache_file(path: Path, conversation: int, digest: str) -> Path:
    return path.parent / CACHE_DIR / f"{digest[:32]}-{conversation}.json"


def _read(file: Path) -> dict[str, Any]:
    try:
        with open_regular(file) as handle:
            raw = handle.read(MAX_CACHE_BYTES + 1)
        data = json.loads(raw) if len(raw) <= MAX_CACHE_BYTES else None
    except (SessionFileError, OSError, ValueError):  # missing, not regular, not JSON: a miss
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}
    results = data.get("results")
    return results if isinstance(results, dict) else {}


def lookup(path: Path, conversation: int, digest: str, judge: str) -> dict[str, Any] | None:
    """The cached verdict of `judge` under the current rubric, or None."""
    entry = _read(cache_file(path, conversation, digest)).get(f"{judge}|{RUBRIC_HASH}")
    return entry if isinstance(entry, dict) else None


def latest(path: Path, conversation: int, digest: str | None = None) -> dict[str, Any] | None:
    """The most recent verdict of any judge under the current rubric, or None (for `report`).

    `digest` defaults to the file's current content hash; an unreadable file has none.
    """
    if digest is None:
        try:
            digest = content_hash(path)
        except (SessionFileError, OSError):  # the report names unreadable files itself
            return None
    entries = [e for e in _read(cache_file(path, conversation, digest)).values()
               if isinstance(e, dict) and e.get("rubric") == RUBRIC_HASH]
    return max(entries, key=lambda e: str(e.get("judged_at", "")), default=None)


def store(path: Path, conversation: int, digest: str, judge: str,
          verdict: dict[str, Any]) -> dict[str, Any]:
    """Add `verdict` to the cache (atomically); returns the entry as stored.

    Raises `OSError` when the folder cannot be written: the caller warns and goes on.
    """
    file = cache_file(path, conversation, digest)
    results = _read(file)
    entry = {**verdict, "judge": judge, "rubric": RUBRIC_HASH,
             "judged_at": datetime.now(UTC).isoformat(timespec="seconds")}
    results[f"{judge}|{RUBRIC_HASH}"] = entry
    file.parent.mkdir(exist_ok=True)
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    payload = {"version": VERSION, "file": path.name, "conversation": conversation,
               "content": digest, "results": results}
    tmp.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, file)
    return entry


def relabel(record: dict[str, Any], path: Path, conversation: int) -> dict[str, Any] | None:
    """`record` (an analyze record) with the latest cached judge verdict as its labels.

    End state, onset, topic and evidence become the judge's; `labels` names
    the judge and `rules_end_state` keeps the rules' label. None when the
    conversation has no cached verdict under the current rubric (`report
    --labels judge` reads the cache only; it never calls a model).
    """
    verdict = latest(path, conversation)
    if verdict is None or verdict.get("end_state") not in LABELS:
        return None
    onset = verdict.get("onset_index")
    return {
        **record,
        "end_state": verdict["end_state"],
        "onset_index": onset if isinstance(onset, int) else None,
        "topic": verdict.get("topic") if verdict.get("topic") in TOPICS else "other",
        "evidence": [f"judge {verdict.get('judge', '?')}: {verdict.get('evidence', '')}"],
        "labels": f"judge:{verdict.get('judge', '?')}",
        "rules_end_state": record.get("end_state"),
    }
