"""The grouped alternations find a match exactly where the plain ones do."""

from __future__ import annotations

import re

from attractor_tui.analysis.alternation import alternatives, by_first_letter
from attractor_tui.analysis.metrics import _ANY_START, _LEXICONS, _OPEN, normalise

PLAIN = r"good ?bye|(?:you're|you are) right|see you|a?ha|\[end\]|[|]x|so+|é|om|sign(?:ing)? off"


def test_alternatives_split_only_at_the_top_level() -> None:
    assert alternatives(r"a(?:b|c)|[|]d|e\|f|[]|]g|[^]|]h") == [
        "a(?:b|c)", "[|]d", r"e\|f", "[]|]g", "[^]|]h"]
    assert "|".join(alternatives(PLAIN)) == PLAIN


def test_grouped_alternation_matches_where_the_plain_one_does() -> None:
    plain = re.compile(r"(?=\w)(?<![\w'])(?=" + PLAIN + ")")
    grouped = re.compile(r"(?=\w)(?<![\w'])(?=" + by_first_letter(alternatives(PLAIN)) + ")")
    text = ("goodbye good bye you are right you're right see you aha ha [end] |x soooo é om "
            "signing off sign off youre rightly seeing ah s o")
    assert [m.start() for m in grouped.finditer(text)] == [m.start() for m in plain.finditer(text)]
    assert len(list(grouped.finditer(text))) >= 12


def test_the_lexicon_scan_finds_every_lexicon_match() -> None:
    text = normalise("Goodbye, my friend! I'm the assistant here; this loop again... "
                     "Thank you 🙏 infinite gratitude. Once upon a time, a dragon. Exit.")
    starts = {m.start() for m in _ANY_START.finditer(text)}
    found = {m.start() for p in _LEXICONS for m in p.finditer(text)}
    assert found and found <= starts
    assert _OPEN in _LEXICONS[0].pattern
