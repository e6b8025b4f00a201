"""Word salad: incoherent, escalating text, measured without a dictionary.

Four cheap, quotable symptoms of one turn (issue 12's `word_salad`):

- *degenerate repetition inside the message*: one word filling a large part of
  it ("ensuring, ensuring, ensuring", "How'm. How'm.");
- *coined compounds*: hyphen-chained coinages ("ziggurat-hive babel-babble");
- *all-caps neologisms*: long shouted words that are not acronyms ("OMNIVERSE");
- *grammar breaking down*: few function words ("the", "of", "is"...) left
  around the compounds and coinages.

Code blocks, formulas and table rows are left out first, and compounds and
caps count only with few function words: a specification is dense, not salad.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from attractor_tui.analysis.metrics import lower_words

MIN_WORDS = 30
"""Shorter prose says too little to call it incoherent."""
ANY_WORD_SHARE = 0.4
"""One word (function words too: "So. So. So.") making up this share of the words."""
CONTENT_WORD_SHARE = 0.2
"""One content word making up this share of the content words ("ensuring")."""
MIN_CONTENT_WORDS = 15
COMPOUND_RATE = 0.12
"""Hyphen-chained coinages per word (technical prose stays under 0.07)."""
CAPS_MIN = 10
"""Distinct all-caps words of 7+ letters (a spec's constants stay well under)."""
DENSE_FUNCTION = 0.2
"""Compounds or caps count only in text with fewer function words than this:
jargon strings, not sentences. Telegraphic but sensible text (few function
words alone) is not salad."""

_FUNCTION_TEXT = """
a an the of to in on at by for with from as into onto than then and or but nor so if
because while when where which who whom whose what that this these those there here
is are was were be been being am do does did have has had will would shall should can
could may might must not no it its it's i i'm me my we us our you your he him his she her
they them their one all any some each every more most other such own same just also
very too only even about over under again out up down off through between
"""
FUNCTION_WORDS = frozenset(_FUNCTION_TEXT.split())
_COMPOUND = re.compile(r"\b[A-Za-z]{3,}(?:-[A-Za-z]{3,})+\b")
_CAPS = re.compile(r"[A-Z](?<!\w[A-Z])[A-Z]{6,}\b")
"""`\b[A-Z]{7,}\b`, written to start with a capital so that the engine skips to the
capitals instead of trying every place (the lookbehind is the `\b` before it)."""
_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")
_NOT_PROSE = re.compile(r"```.*?(?:```|\Z)|\$\$.*?\$\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)


@dataclass(frozen=True, slots=True)
class Salad:
    """The symptoms of one turn; `reason` is empty when the turn reads as language."""

    words: int
    function_share: float
    compounds: int
    caps: tuple[str, ...]
    top_word: str
    top_share: float
    reason: str


NOT_SALAD = Salad(0, 0.0, 0, (), "", 0.0, "")


def _prose(text: str) -> str:
    """Text without code, formulas and table rows."""
    text = _NOT_PROSE.sub(" ", text)
    return "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("|"))


def compound_count(text: str) -> int:
    """`len(_COMPOUND.findall(text))`, sooner: a compound holds no space, so only the
    tokens with a hyphen are searched (at a token's edge `\b` sees a space in the text
    and nothing in the token: the same)."""
    if "-" not in text:
        return 0
    return sum(len(_COMPOUND.findall(t)) for t in text.split() if "-" in t)


def measure(text: str) -> Salad:
    """The word-salad symptoms of `text` and, when they add up, why it is salad."""
    prose = _prose(text)
    found = lower_words(_WORD.findall(prose))
    n = len(found)
    if n < MIN_WORDS:
        return NOT_SALAD
    counts = Counter(found)
    function_n = sum(map(counts.__getitem__, FUNCTION_WORDS.intersection(counts)))
    function = function_n / n
    top, top_n = counts.most_common(1)[0]
    content_n = n - function_n
    # the first most common content word (what `most_common` would put first), no sort
    words = [w for w in counts if w not in FUNCTION_WORDS]
    content = [(w, counts[w]) for w in (max(words, key=counts.__getitem__),)] if words else []
    compounds = compound_count(prose)
    caps = tuple(dict.fromkeys(_CAPS.findall(prose)))
    reason = ""
    if top_n / n >= ANY_WORD_SHARE:
        reason = f"{top!r} is {top_n / n:.0%} of {n} words"
    elif content_n >= MIN_CONTENT_WORDS and content[0][1] / content_n >= CONTENT_WORD_SHARE:
        top, top_n = content[0]
        reason = f"{top!r} is {top_n / content_n:.0%} of {content_n} content words"
    elif function < DENSE_FUNCTION and compounds / n >= COMPOUND_RATE:
        reason = f"{compounds} coined compounds in {n} words, {function:.0%} function words"
    elif function < DENSE_FUNCTION and len(caps) >= CAPS_MIN:
        reason = f"{len(caps)} all-caps coinages {', '.join(repr(c) for c in caps[:3])}"
    return Salad(n, round(function, 3), compounds, caps, top, round(top_n / n, 3), reason)
