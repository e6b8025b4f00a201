"""Export a session for people and other tools: JSON, Markdown, HTML, plain text.

Model text is hostile input: it may hold HTML, Markdown that breaks the page
structure, Rich markup, terminal escapes or nothing visible at all. The HTML
export escapes everything it prints and is self-contained (inline CSS, no
scripts, no external resources). Markdown quotes each reply and neutralises
HTML tags. Rich markup is never interpreted: "[bold]" stays literal text. A
reply with nothing visible is shown as a note naming its code points, so a
reader sees that *something* (U+200E) was sent rather than a gap.

Turns and rounds are numbered for people, from 1 (`### 1 · ... round 1`, as
the app's cards and the headless output count); the JSON keeps the stored
0-based `index` and `round`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

from attractor_tui.core.config import SideConfig
from attractor_tui.core.events import ErrorEvent, ToolCallRecord, Turn
from attractor_tui.core.secrets import redact_env
from attractor_tui.core.text import describe_invisible, is_blank, safe_line, safe_text
from attractor_tui.sessions.log import prompt_preview
from attractor_tui.sessions.store import SessionLog

ExportFormat = Literal["json", "md", "html", "txt"]
FORMATS: tuple[ExportFormat, ...] = ("json", "md", "html", "txt")


Note = tuple[str, str]
"""An extra metadata row, e.g. `("End state", ...)` from `analysis.end_state_note`."""


def export_session(log: SessionLog, fmt: ExportFormat, notes: Sequence[Note] = ()) -> str:
    """Render `log` in `fmt`; raises ValueError for an unknown format.

    `notes` are rows the caller adds after "Ended" in md/html/txt (this layer
    may not import `analysis`, which knows the end state).
    """
    if fmt == "json":  # redact_env: an old file may still hold a key in an error message
        return redact_env(json_text(session_dict(log)))
    if fmt == "md":
        return redact_env(_markdown(log, notes))
    if fmt == "html":
        return redact_env(_html(log, notes))
    if fmt == "txt":
        return redact_env(_text(log, notes))
    raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")


# ---------------------------------------------------------------------- json

_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\ud800-\udfff]")


def json_text(value: Any, *, indent: int | None = 2,
              default: Callable[[Any], Any] | None = None) -> str:
    """`value` as JSON that is safe to print or `cat`, ending in a newline.

    The text stays exact (JSON is data): `json` already escapes C0 controls
    and ESC; C1 controls, DEL and lone surrogates are written as `\\u`
    escapes too, so no terminal obeys them and UTF-8 can always encode them.
    """
    text = json.dumps(value, indent=indent, ensure_ascii=False, default=default)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def turn_dict(turn: Turn) -> dict[str, Any]:
    """One turn in the export JSON shape (text exactly as produced)."""
    return {
        "index": turn.index,
        "round": turn.round,
        "side": turn.side,
        "author": turn.author,
        "model": turn.model,
        "text": turn.text,
        "tool_calls": [
            {"name": c.name, "arguments": c.arguments, "outcome": c.outcome}
            for c in turn.tool_calls
        ],
        "interrupted": turn.interrupted,
        "timestamp": _iso(turn.ts),
    }


def _error_dict(error: ErrorEvent) -> dict[str, Any]:
    return {
        "side": error.side,
        "message": error.message,
        "kind": error.kind,
        "timestamp": _iso(error.ts),
    }


def session_dict(log: SessionLog) -> dict[str, Any]:
    """The JSON export: config, turns, end reason, errors and source."""
    end = log.end
    return {
        "config": log.config.model_dump(mode="json"),
        "turns": [turn_dict(t) for t in log.turns],
        "end_reason": end.reason if end is not None else None,
        "errors": [_error_dict(e) for e in log.errors],
        "source": log.start.source,
    }


# -------------------------------------------------------------- shared bits


def _title(log: SessionLog) -> str:
    config = log.config
    if config.title:
        return config.title
    a, b = config.a.model, config.b.model
    return f"{a} talks to itself" if a == b else f"{a} and {b}"


def _when(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _offered_tools(log: SessionLog) -> list[str] | None:
    tools = getattr(log.start, "tools", None)
    return [str(t) for t in tools] if isinstance(tools, list) else None


def _end_line(log: SessionLog) -> str:
    end = log.end
    if end is None:
        return "not ended (still running, or stopped without an end record)"
    return f"{end.reason}: {end.detail}" if end.detail else end.reason


def _blank_note(text: str) -> str | None:
    """A visible description of a reply that shows nothing, else None."""
    if not is_blank(text):
        return None
    return "[empty reply]" if not text else f"[no visible text: {describe_invisible(text)}]"


def _speaker(turn: Turn) -> str:
    if turn.author == "operator":
        return f"Operator (in {turn.side}'s place)"
    return f"{turn.side} · {turn.model}" if turn.model else turn.side


def _metadata(log: SessionLog, notes: Sequence[Note]) -> list[tuple[str, str]]:
    config = log.config
    start = log.start
    rows: list[tuple[str, str]] = [
        ("Model A", config.a.model),
        ("Model B", config.b.model),
        ("Seed", prompt_preview(config.seed)),
        ("System A", prompt_preview(config.a.system)),
        ("System B", "same as A" if config.b.system == config.a.system
         and config.a.system != prompt_preview(config.a.system)
         else prompt_preview(config.b.system)),
        ("Started", _when(start.ts)),
        ("Turns", str(len(log.turns))),
        ("Ended", _end_line(log)),
    ]
    rows += notes
    operator = sum(1 for t in log.turns if t.author == "operator")
    if operator:
        rows.append(("Operator turns", str(operator)))
    tools = _offered_tools(log)
    if tools is not None:
        rows.append(("Tools offered", ", ".join(tools) if tools else "none"))
    if start.source:
        rows.append(("Source", start.source))
    if start.parent:
        rows.append(("Forked from", f"{start.parent} after turn {start.parent_turn}"))
    if not start.source:  # an import's sampling settings are unknown, not our defaults
        rows += [(f"Sampling {s}", _params(c)) for s, c in (("A", config.a), ("B", config.b))]
    return rows


def _params(cfg: SideConfig) -> str:
    parts = [f"temperature {cfg.temperature}", f"max_tokens {cfg.max_tokens}"]
    parts.extend(f"{k} {v}" for k, v in sorted(cfg.public_params().items()))
    return ", ".join(parts)


def _tool_line(call: ToolCallRecord) -> str:
    args = call.arguments or "{}"
    result = f" → {call.result}" if call.result else ""
    return safe_text(f"{call.name}({args}) [{call.outcome}]{result}")


# ------------------------------------------------------------------ markdown

_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")


def _md_inline(text: str) -> str:
    """Metadata values: one line, tags neutralised, Markdown specials escaped."""
    flat = " ".join(safe_text(text).split())
    flat = re.sub(r"([\\`*_\[\]#|])", r"\\\1", flat)
    return _MD_TAG.sub("&lt;", flat) or "—"


def _md_quote(text: str) -> str:
    """A reply as a blockquote: its Markdown renders, but cannot break out of the quote."""
    body = _MD_TAG.sub("&lt;", safe_text(text))
    return "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))


def _markdown(log: SessionLog, notes: Sequence[Note]) -> str:
    out = [f"# {_md_inline(_title(log))}", ""]
    out += ["| | |", "|---|---|"]
    out += [f"| **{k}** | {_md_inline(v)} |" for k, v in _metadata(log, notes)]
    out.append("")
    for error in log.errors:
        side = f" ({error.side})" if error.side else ""
        out.append(f"- ⚠ error{side}: {_md_inline(error.message)}")
    if log.errors:
        out.append("")
    for turn in log.turns:
        marker = "🟦 A" if turn.side == "A" else "🟧 B"
        if turn.author == "operator":
            head = f"### {turn.index + 1} · ✋ OPERATOR in place of {turn.side}"
        else:
            head = f"### {turn.index + 1} · {marker} · {_md_inline(turn.model or '')}"
        out += [head, "", f"*round {turn.round + 1} · {turn.ts:%H:%M:%S}*"]
        if turn.interrupted:
            out[-1] += " · **interrupted**"
        out.append("")
        note = _blank_note(turn.text)
        out.append(f"> *{note}*" if note else _md_quote(turn.text))
        for call in turn.tool_calls:
            out += ["", f"- 🔧 tool call: `{_tool_line(call).replace('`', 'ʼ')}`"]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------------- html

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;
color:#1d2430}
main{max-width:920px;margin:0 auto;padding:24px 16px 48px}
h1{font-size:1.4em;margin:0 0 12px}
table.meta{border-collapse:collapse;background:#fff;border-radius:8px;overflow:hidden;
width:100%;margin-bottom:20px;box-shadow:0 1px 2px #0001}
table.meta th{text-align:left;width:11em;background:#eef0f4;vertical-align:top}
table.meta th,table.meta td{padding:6px 10px;border-bottom:1px solid #e3e6eb;
white-space:pre-wrap;word-break:break-word}
.turn{margin:10px 0;display:flex}
.turn.B{justify-content:flex-end}
.bubble{max-width:78%;border-radius:12px;padding:8px 12px;box-shadow:0 1px 2px #0002}
.A .bubble{background:#e3efff;border-left:4px solid #2f6fd6}
.B .bubble{background:#fff1e0;border-right:4px solid #d9822b}
.operator .bubble{background:#fff;border:2px dashed #8a3ffc}
.who{font-size:.8em;color:#555;margin-bottom:4px}
.who b{color:#1d2430}
.tag{display:inline-block;font-size:.75em;padding:0 6px;border-radius:8px;background:#8a3ffc;
color:#fff;margin-left:4px}
.tag.int{background:#b42318}
.text{white-space:pre-wrap;word-break:break-word;margin:0;font:inherit}
.blank{color:#777;font-style:italic}
.tool{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;background:#0000000d;
border-radius:6px;padding:4px 6px;margin-top:6px;white-space:pre-wrap;word-break:break-all}
.error{background:#fde8e8;border:1px solid #f5b5b5;border-radius:8px;padding:6px 10px;
margin:6px 0}
footer{color:#777;font-size:.8em;margin-top:24px}
"""


def _esc(text: str) -> str:
    return html.escape(safe_text(text), quote=True)


def _html_turn(turn: Turn) -> str:
    classes = f"turn {turn.side}" + (" operator" if turn.author == "operator" else "")
    tags = ""
    if turn.author == "operator":
        tags += '<span class="tag">operator</span>'
    if turn.interrupted:
        tags += '<span class="tag int">interrupted</span>'
    note = _blank_note(turn.text)
    body = (
        f'<p class="text blank">{_esc(note)}</p>' if note
        else f'<pre class="text">{_esc(turn.text)}</pre>'
    )
    tools = "".join(f'<div class="tool">🔧 {_esc(_tool_line(c))}</div>' for c in turn.tool_calls)
    return (
        f'<div class="{classes}" id="t{turn.index}"><div class="bubble">'
        f'<div class="who"><b>{_esc(_speaker(turn))}</b> · #{turn.index + 1} · '
        f'round {turn.round + 1}'
        f' · {turn.ts:%H:%M:%S}{tags}</div>{body}{tools}</div></div>'
    )


def _html(log: SessionLog, notes: Sequence[Note]) -> str:
    title = _esc(_title(log))
    meta = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>"
                   for k, v in _metadata(log, notes))
    errors = "".join(
        f'<div class="error">⚠ error{" (" + _esc(e.side) + ")" if e.side else ""}: '
        f"{_esc(e.message)}</div>"
        for e in log.errors
    )
    turns = "\n".join(_html_turn(t) for t in log.turns)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">"
        f"<title>{title}</title><style>{_CSS}</style></head>\n"
        f'<body><main><h1>{title}</h1><table class="meta">{meta}</table>{errors}\n'
        f"{turns}\n<footer>exported by attractor-tui</footer></main></body></html>\n"
    )


# ---------------------------------------------------------------------- text


def _text(log: SessionLog, notes: Sequence[Note]) -> str:
    title = safe_line(_title(log))
    out = [title, "=" * min(72, max(8, len(title))), ""]
    width = max(len(k) for k, _ in _metadata(log, notes))
    for key, value in _metadata(log, notes):
        lines = safe_text(value).split("\n") or [""]
        out.append(f"{key + ':':<{width + 1}} {lines[0]}")
        out += [f"{'':<{width + 1}} {line}" for line in lines[1:]]
    for error in log.errors:
        side = f" ({error.side})" if error.side else ""
        out.append(f"! error{side}: {safe_text(error.message)}")
    out.append("")
    for turn in log.turns:
        flags = " [interrupted]" if turn.interrupted else ""
        if turn.author == "operator":
            who = f">> OPERATOR (in {turn.side}'s place)"
        else:
            who = f"[{turn.side}] {safe_line(turn.model)}".rstrip()
        out.append(f"--- #{turn.index + 1} round {turn.round + 1} {turn.ts:%H:%M:%S} "
                   f"{who}{flags}")
        note = _blank_note(turn.text)
        body = note if note else safe_text(turn.text)
        out += ["    " + line if line else "" for line in body.split("\n")]
        out += [f"    (tool) {_tool_line(c)}" for c in turn.tool_calls]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
