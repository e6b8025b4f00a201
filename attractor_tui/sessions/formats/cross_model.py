"""Read `conversations.json` of ajobi-uhc/attractor-states: several conversations per file.

One JSON object per run, `{..., conversations: [...]}`, in four variants: API
runs (`model`, `generated_at`), local checkpoints (`model`, `revision`,
`max_new_tokens`, `turns`, `saved_at`), cross-model runs (`model_a`,
`model_b`, and a `model` on each message) and user role-play runs
(`variant`, speakers `user`/`assistant`, histories `user_history` /
`assistant_history`). Each conversation is `{seed_prompt, turns,
full_conversation: [{speaker, content, model?}], *_history?}`.

`full_conversation` becomes the turns, text kept exactly. Speakers `A`/`B`
are our sides; in role-play the assistant answers the seed, so it is side A
and the simulated user side B (the seed, the user's first message, becomes
the config's seed, as in our own sessions). The `*_history` lists are each
side's own view and are redundant with the transcript: they are checked
against it, and kept in the metadata only when they disagree (with a
warning). Every other field travels along in `SessionStart.meta`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, BinaryIO

from attractor_tui.core.config import SessionConfig, Side, SideConfig
from attractor_tui.core.events import SessionEnd
from attractor_tui.sessions.formats.base import SessionSummary
from attractor_tui.sessions.formats.jsonl import JSONLineError, parse_line
from attractor_tui.sessions.formats.transcript import (
    Message,
    build_log,
    content_id,
    digest,
    file_time,
    parse_time,
    summarise_by_loading,
)
from attractor_tui.sessions.log import SessionFileError, SessionLog

SOURCE = "cross-model"
"""`SessionStart.source` is `cross-model:<file name>`; `meta["conversation"]` says which."""
HARNESS = "ajobi-uhc/attractor-states"

title = "conversations.json (ajobi-uhc/attractor-states)"
suffixes: tuple[str, ...] = (".json",)

_HEAD = re.compile(r'"conversations"\s*:\s*\[\s*[\]{]')
_HISTORIES = ("instance_a_history", "instance_b_history", "user_history", "assistant_history")
_ROLEPLAY: dict[str, Side] = {"assistant": "A", "user": "B"}
_PLAIN: dict[str, Side] = {"A": "A", "B": "B"}


def detect(path: Path, head: str) -> bool:
    """A JSON object whose head shows a `conversations` list (empty or of objects)."""
    return head.lstrip("\ufeff \t\r\n").startswith("{") and _HEAD.search(head) is not None


def load(path: Path, text: str) -> list[SessionLog]:
    """One log per conversation, in file order; an empty list is a file with none."""
    try:
        data = parse_line(text)
    except JSONLineError as exc:
        raise SessionFileError(path, f"not a valid conversations.json ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("conversations"), list):
        raise SessionFileError(path, "not a conversations.json (no `conversations` list)")
    conversations: list[Any] = data["conversations"]
    run = {k: v for k, v in data.items() if k != "conversations"}
    ts = parse_time(run.get("generated_at")) or parse_time(run.get("saved_at"))
    if ts is None:
        ts = file_time(path)
    text_digest = digest(text)
    return [_conversation(path, text_digest, number, len(conversations), conv, run, ts)
            for number, conv in enumerate(conversations)]


def summarise(path: Path, handle: BinaryIO, summary: SessionSummary) -> None:
    summarise_by_loading(load, path, handle, summary, SOURCE)


def _conversation(path: Path, text_digest: str, number: int, count: int, conv: Any,
                  run: dict[str, Any], ts: Any) -> SessionLog:
    where = f"conversation {number + 1}"
    if not isinstance(conv, dict):
        raise SessionFileError(path, f"{where}: not a JSON object")
    full = conv.get("full_conversation")
    if not isinstance(full, list):
        raise SessionFileError(path, f"{where}: no `full_conversation` list")
    for n, message in enumerate(full, 1):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str) \
                or not isinstance(message.get("speaker"), str):
            raise SessionFileError(
                path, f"{where}, message {n}: not an object with text `speaker` and `content`")
    speakers = {m["speaker"] for m in full}
    roleplay = (bool(speakers) and speakers <= set(_ROLEPLAY)) or "user_history" in conv
    sides = _ROLEPLAY if roleplay else _PLAIN
    prompt = conv.get("seed_prompt")
    seed: str = prompt if isinstance(prompt, str) else ""
    replies = full
    if roleplay and full and full[0]["speaker"] == "user":
        seed, replies = full[0]["content"], full[1:]  # the user's first message is the seed
    models = _models(run, conv, replies, sides)
    messages = []
    for n, message in enumerate(replies, 1 + len(full) - len(replies)):
        side = sides.get(message["speaker"])
        if side is None:
            raise SessionFileError(
                path, f"{where}, message {n}: unknown speaker {message['speaker']!r} "
                      f"(expected {' or '.join(sides)})")
        extra = {k: v for k, v in message.items() if k not in ("speaker", "content", "model")}
        model = message.get("model")
        messages.append(Message(
            side=side, text=message["content"],
            model=model if isinstance(model, str) else models[side],
            extra={"foreign_extra": extra} if extra else {},
        ))
    warnings: list[str] = []
    fields = {k: v for k, v in conv.items() if k != "full_conversation" and k not in _HISTORIES}
    for name, side, history in _histories(conv, roleplay):
        expected = _expected_history(side, seed, messages)
        if history != expected[: len(history)] or len(history) > len(expected):
            warnings.append(f"{path}: {where}: `{name}` differs from `full_conversation`; "
                            "kept it in the session's metadata")
            fields[name] = history
    meta: dict[str, Any] = {
        "harness": HARNESS, "format": SOURCE, "conversation": number, "conversations": count,
        "run": run, "fields": fields,
    }
    if roleplay:
        meta["speakers"] = {"A": "assistant", "B": "user"}
    config = SessionConfig(a=SideConfig(model=models["A"], system=""),
                           b=SideConfig(model=models["B"], system=""), seed=seed)
    planned = conv.get("turns")
    complete = isinstance(planned, int) and planned == len(messages)
    end = SessionEnd(ts=ts, reason="turns" if complete else "imported",
                     detail=f"{len(messages)} of {planned} turns" if isinstance(planned, int)
                     and not complete else "")
    return build_log(
        path, session_id=content_id(SOURCE, text_digest, number), source=f"{SOURCE}:{path.name}",
        ts=ts, config=config, meta=meta, messages=messages, end=end, warnings=warnings,
    )


def _models(run: dict[str, Any], conv: dict[str, Any], replies: list[dict[str, Any]],
            sides: dict[str, Side]) -> dict[Side, str]:
    """Each side's model: the conversation's or run's `model_a`/`model_b`, else `model`,
    else the first message of that side that names one."""
    found: dict[Side, str] = {}
    keys: tuple[tuple[Side, str], ...] = (("A", "model_a"), ("B", "model_b"))
    for side, key in keys:
        for source in (conv, run):
            if isinstance(source.get(key), str):
                found[side] = source[key]
                break
        else:
            named = next((m["model"] for m in replies if sides.get(m["speaker"]) == side
                          and isinstance(m.get("model"), str)), None)
            model = run.get("model")
            found[side] = named or (model if isinstance(model, str) else "")
    return found


def _histories(conv: dict[str, Any], roleplay: bool) -> list[tuple[str, Side, Any]]:
    names: tuple[tuple[str, Side], ...] = (
        (("assistant_history", "A"), ("user_history", "B")) if roleplay
        else (("instance_a_history", "A"), ("instance_b_history", "B")))
    return [(name, side, conv[name]) for name, side in names if name in conv]


def _expected_history(side: Side, seed: str, messages: list[Message]) -> list[dict[str, str]]:
    """The side's own history as that harness builds it: own replies `assistant`."""
    history = [{"role": "user", "content": seed}] if side == "A" else []
    history.extend({"role": "assistant" if m.side == side else "user", "content": m.text}
                   for m in messages)
    return history
