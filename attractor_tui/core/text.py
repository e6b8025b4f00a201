"""Text rules every layer shares: what counts as blank, and how any string is made safe to show.

Model replies, provider errors, tool calls and file fields are untrusted: an
ESC byte could move the cursor, retitle the terminal, write the clipboard
(OSC 52) or forge what the researcher sees. `safe_text` is the one function
that makes such a string inert before it reaches a terminal or an export;
`is_blank` is the one rule for "this reply shows nothing" (the engine and
every importer send `EMPTY_PLACEHOLDER` instead; analysis counts it minimal).
"""

from __future__ import annotations

import re

# ------------------------------------------------------------------- blank

# Code points that render as nothing: Unicode categories Cc, Cf, Zs, Zl, Zp
# (controls, format characters such as U+200B/U+200E/U+FEFF, spaces), plus
# fillers and selectors that are letters or marks by category but show
# nothing: Hangul fillers (U+3164, U+115F, U+1160, U+FFA0), braille blank,
# combining grapheme joiner, Khmer inherent vowels, variation selectors.
# A table, so that checks run in C (tests compare it with `unicodedata`).
_INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0, 0x20), (0x7F, 0xA0), (0xAD, 0xAD), (0x34F, 0x34F), (0x600, 0x605), (0x61C, 0x61C),
    (0x6DD, 0x6DD), (0x70F, 0x70F), (0x890, 0x891), (0x8E2, 0x8E2), (0x115F, 0x1160),
    (0x1680, 0x1680), (0x17B4, 0x17B5), (0x180E, 0x180E), (0x2000, 0x200F), (0x2028, 0x202F),
    (0x205F, 0x2064), (0x2066, 0x206F), (0x2800, 0x2800), (0x3000, 0x3000), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F), (0xE0100, 0xE01EF),
)


def char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


_INVISIBLE_CLASS = char_class(_INVISIBLE_RANGES)
_INVISIBLE_RUN = re.compile(f"[{_INVISIBLE_CLASS}]+")
_VISIBLE_CHAR = re.compile(f"[^{_INVISIBLE_CLASS}]")


def is_invisible_char(ch: str) -> bool:
    """True for a character that shows nothing: space, control, format, filler."""
    return _VISIBLE_CHAR.match(ch) is None


def is_blank(text: str) -> bool:
    """True when a reply shows nothing at all (empty, blanks, U+200B, U+200E, U+3164...).

    Providers reject such messages, so the engine and importer send
    `EMPTY_PLACEHOLDER` instead; analysis counts them as minimal turns.
    """
    return _VISIBLE_CHAR.search(text) is None


def visible(text: str) -> str:
    """`text` without its invisible characters."""
    return _INVISIBLE_RUN.sub("", text)


_NOT_GRAPHIC_ASCII = re.compile(r"[^\x21-\x7e]+")


def visible_length(text: str) -> int:
    """`len(visible(text))`, sooner: spaces and newlines go first, and of the rest
    only the runs outside printable ASCII can hold an invisible character, so the big
    character class runs over those alone."""
    text = text.replace(" ", "").replace("\n", "")  # the usual invisible ones, in C
    odd = "".join(_NOT_GRAPHIC_ASCII.findall(text))
    return len(text) - len(odd) + len(visible(odd))


def describe_invisible(text: str) -> str:
    """Name the code points of an invisible-only reply, for humans ("U+200E")."""
    if not text:
        return "empty"
    names = sorted({f"U+{ord(ch):04X}" for ch in text})
    return " ".join(names[:6]) + (" ..." if len(names) > 6 else "")


# -------------------------------------------------------------------- safe

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
SURROGATE_MARK = "\ufffd"
"""Shown for a lone UTF-16 surrogate (half an emoji from a broken stream or file)."""


def _picture(code: int) -> str:
    if code == 0x1B:
        return "\u241b"  # ␛
    if code < 0x20:
        return chr(0x2400 + code)  # control pictures ␀ ... ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0xD800 <= code <= 0xDFFF:
        return SURROGATE_MARK
    return f"<{code:02X}>"  # C1 controls have no control-picture glyphs


_TABLE = {
    code: _picture(code)
    for code in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0),
                 *range(0xD800, 0xE000)]
}


def safe_text(text: str) -> str:
    """`text` with nothing a terminal would execute: shown, never obeyed.

    Newlines and tabs are kept and `\\r\\n` becomes `\\n`; every other C0
    and C1 control (ESC included) becomes a visible stand-in such as `␛` or
    `<9B>`, and a lone surrogate becomes `\ufffd`. Markup is not this
    function's business: callers hand the result to Rich/Textual as plain
    `Text`, never as a markup string.
    """
    if not _UNSAFE.search(text):
        return text
    return text.replace("\r\n", "\n").translate(_TABLE)


def safe_line(text: str) -> str:
    """`safe_text` for one-line labels (titles, model names): newlines and tabs become spaces."""
    return safe_text(text).replace("\n", " ").replace("\t", " ")


# --------------------------------------------------------------- surrogates

_SURROGATE = re.compile("[\ud800-\udfff]")


def mend_surrogates(text: str) -> str:
    """`text` as UTF-8 can hold it: surrogate pairs joined, lone halves as `SURROGATE_MARK`.

    A provider's JSON may send `\\ud83d\\ude00` (😀) as two escapes, even split over
    two stream chunks, or half of one; a lone half cannot be written to a file.
    """
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
