"""Make hostile text safe to show on a terminal.

Models (and pasted operator text) can emit ANSI escapes and other control
characters that would move the cursor, recolour or clear the screen. These
functions keep newlines and tabs and render every other C0/C1 control as a
visible placeholder, so the text shows literally.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x1B:
        return "␛"
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode control pictures ␀..␟
    if code == 0x7F:
        return "␡"
    return f"\\x{code:02x}"


def neutralise_controls(text: str) -> str:
    """Replace terminal control characters (not \\n or \\t) with visible stand-ins."""
    return _CONTROL.sub(_visible, text)
