"""The grouped alternations find a match exactly where the plain ones do."""

from __future__ import annotations

import re

from attractor_tui.analysis.alternation import alternatives, by_first_letter, expand_leading
from attractor_tui.analysis.metrics import (
    _ALTERNATIVES,
    _LEXICONS,
    FAREWELL,
    STOP_INTENT,
    _lexicon_hits,
    _to_try,
    normalise,
)

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


RICH = normalise(
    "Goodbye, my friend! Good-bye. Bye-bye! I'm the assistant here; you're actually the user. "
    "This loop again... Thank you 🙏 infinite gratitude, I am grateful. Once upon a time, a "
    "dragon. Exit. I'll stop. I'm done. No more responses. Standing by, your move; whenever "
    "you're ready. That's my line, mix-up! The harness, a python script, two claudes, tokens. "
    "You're absolutely right, great point, spot-on. Chapter one: the last word, the final "
    "word; final word. Take care. It's been a pleasure. Have a great day! i'm going. i'm going "
    "to go. Good luck! Fin. The end.\nSo long, farewell, adieu. Signing off. Over and out.")


def test_leading_groups_multiply_out_in_the_engines_order() -> None:
    for alt in (r"(?:i'm|i am) (?:going )?done", r"(?:the )?(?:last|final) word",
                r"(?:a|b)+c", r"(?:x(?:y|z)?)w", r"(?:ab)??c"):
        plain = re.compile(alt)
        expanded = re.compile("(?:" + "|".join(expand_leading(alt)) + ")")
        for text in ("i'm done i am going done i am donex", "the last word final word the "
                     "final wordy", "abc bbc c", "xw xyw xzw xxw", "abc c ab"):
            assert expanded.findall(text) == plain.findall(text), (alt, text)
    assert expand_leading(r"(?:the )?(?:last|final) word") == [
        "the (?:last|final) word", "last word", "final word"]
    assert expand_leading(r"(?:a|b)+c") == [r"(?:a|b)+c"]


def test_each_lexicon_matches_what_its_plain_alternation_does() -> None:
    for pattern in _LEXICONS:
        plain = re.compile(r"(?=\w)(?<![\w'])(?:" + "|".join(_ALTERNATIVES[pattern])
                           + r")(?![\w'])")
        assert pattern.findall(RICH) == plain.findall(RICH)
    assert sum(len(p.findall(RICH)) for p in _LEXICONS) >= 40


def test_the_lexicon_scan_finds_what_each_lexicon_finds() -> None:
    hits = _lexicon_hits(RICH)
    assert hits == [p.findall(RICH) for p in _LEXICONS]
    assert hits[0][:3] == ["goodbye", "good-bye", "bye-bye"]
    for text in ("", "bye", "x bye", "byebye bye", "the end the end.", "\u00e9 bye"):
        assert _lexicon_hits(text) == [p.findall(text) for p in _LEXICONS]


def test_a_lexicon_is_tried_wherever_its_words_could_start() -> None:
    stop = _LEXICONS.index(STOP_INTENT)
    farewell = _LEXICONS.index(FAREWELL)
    # `i(?:'ll| will) ...` continues with a group: tried after an "i" whatever follows
    assert stop in _to_try("ix")
    assert farewell in _to_try("go") and farewell not in _to_try("gx")
