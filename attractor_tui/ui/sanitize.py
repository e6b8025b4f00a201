"""Make model and operator text safe to put on a terminal.

Model output is untrusted: an ESC byte could move the cursor, retitle the
terminal or forge what the researcher sees. Everything shown in the UI passes
through `sanitize` first; Rich/Textual markup is never parsed from this text
(widgets receive `Text`/`Content`/`Markdown` objects, not markup strings).
"""

from __future__ import annotations

import re

_KEEP = {"\n", "\t"}


def _visible(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ ... ␟ (ESC shows as ␛)
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<{code:02X}>"  # C1 controls have no control-picture glyphs


_TABLE = {
    code: _visible(chr(code))
    for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
    if chr(code) not in _KEEP
}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def sanitize(text: str) -> str:
    """Replace terminal control characters with visible stand-ins.

    `\\n` and `\\t` are kept, `\\r\\n` becomes `\\n`; every other C0/C1
    control character (ESC included) becomes a visible glyph such as `␛`, so
    an escape sequence is displayed as inert text instead of being executed.
    """
    if not _CONTROL.search(text):
        return text
    return text.replace("\r\n", "\n").translate(_TABLE)


def sanitize_line(text: str) -> str:
    """`sanitize` for one-line labels (titles, model names): newlines become spaces."""
    return sanitize(text).replace("\n", " ").replace("\t", " ")
