"""`safe_text`/`safe_line`: nothing a terminal obeys survives, everything else is kept.

The oracle is `unicodedata` (category Cc is exactly C0, DEL and C1; Cs the
surrogates) and the documented stand-ins, not the module's own table.
"""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from attractor_tui.core.text import SURROGATE_MARK, safe_line, safe_text, visible, visible_length

ESCAPES = [
    "\x1b[2J", "\x1b[31m", "\x1b]0;title\x07", "\x1b]52;c;U1Q=\x07", "\x1b]52;c;U1Q=\x1b\\",
    "\x1bP+q\x1b\\", "\x9b2J", "\x9d0;t\x9c", "\x85", "\x1b", "\x00", "\x07", "\x08", "\x7f",
    "\r", "\r\n", "\n", "\t", "\ud83d", "\ude00", "\ud800", "\udfff",
]
"""CSI, OSC (title, OSC 52 clipboard, both terminators), DCS, C1 CSI/OSC/ST, NEL, C0, DEL,
CR/CRLF, and lone surrogates (halves of an emoji)."""

hostile = st.lists(
    st.one_of(
        st.sampled_from(ESCAPES),
        st.text(max_size=8),
        st.text(st.characters(categories=["Cc", "Cs", "Cf", "Zs", "So"]), max_size=4),
    ),
    max_size=12,
).map("".join)

SETTINGS = settings(max_examples=200, deadline=None)


def obeyable(ch: str) -> bool:
    """A character a terminal may act on (or UTF-8 cannot encode)."""
    return unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t"


def stand_in(ch: str) -> str:
    code = ord(ch)
    if code == 0x1B:
        return "\u241b"
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if 0xD800 <= code <= 0xDFFF:
        return SURROGATE_MARK
    return f"<{code:02X}>"


@SETTINGS
@given(hostile)
def test_nothing_obeyable_survives(text: str) -> None:
    out = safe_text(text)
    assert not any(obeyable(ch) for ch in out)
    out.encode("utf-8")  # no lone surrogate left to crash a write


@SETTINGS
@given(hostile)
def test_every_other_character_is_kept_in_place(text: str) -> None:
    expected = "".join(stand_in(ch) if obeyable(ch) else ch
                       for ch in text.replace("\r\n", "\n"))
    assert safe_text(text) == expected
    assert safe_text(text).count("\n") == text.count("\n")
    assert safe_text(text).count("\t") == text.count("\t")


@SETTINGS
@given(hostile)
def test_idempotent(text: str) -> None:
    once = safe_text(text)
    assert safe_text(once) == once
    assert safe_line(safe_line(text)) == safe_line(text)


@SETTINGS
@given(st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=40))
def test_clean_text_is_returned_unchanged(text: str) -> None:
    assert safe_text(text) == text


@SETTINGS
@given(hostile)
def test_safe_line_is_one_line(text: str) -> None:
    line = safe_line(text)
    assert "\n" not in line and "\t" not in line
    assert line == safe_text(text).replace("\n", " ").replace("\t", " ")


def test_known_sequences() -> None:
    assert safe_text("\x1b]52;c;U1Q=\x1b\\hi") == "␛]52;c;U1Q=␛\\hi"
    assert safe_text("\x9b2J\x85") == "<9B>2J<85>"
    assert safe_text("a\r\nb\rc\x00") == "a\nb␍c␀"
    assert safe_text("half \ud83d emoji") == "half \ufffd emoji"
    assert safe_line("model\nname\tx") == "model name x"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(
    list("ab Z\n\t.-'") + ["\u200b", "\u3164", "\u00a0", "\x7f", "\x85", "é", "👍", "\ufe0f",
                          "\U000e0020", "\u2800", "\x00"]), max_size=60))
def test_visible_length_counts_what_visible_keeps(text: str) -> None:
    assert visible_length(text) == len(visible(text))
