"""Per-turn shape: what a model turn adds to the conversation, beside its signals.

The signals (`signals.turn_signals`) say which attractor a turn looks like;
the shape says how much it *adds*: the share of its content words never seen
before in the conversation (novelty), the new named things and structure
marks (numbered steps, headings, code) that show a shared build growing
(`creative_escape` needs this positive evidence, not merely changing text),
and its coinage rate (hyphen-chained compounds, all-caps coinages). A
`ShapeTracker` keeps the conversation's vocabulary so the work per turn is
that turn's words (the live meter feeds it one turn at a time).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from attractor_tui.analysis.salad import FUNCTION_WORDS

_STRUCTURE = re.compile(
    r"^\s*(?:#{1,6}\s|\d+[.)]\s|[-*•]\s+\*\*|\*\*[^*\n]{2,60}\*\*:?\s*$|```|"
    r"(?:chapter|step|phase|part|act|scene|round|level|section|rule)\s+\w+[:.]?)",
    re.M | re.I,
)
_PUNCT = "\"'“”‘’()[]{}<>*_.,;:!?…—–`#|/\\~^"
_AFTER_WORD = frozenset("abcdefghijklmnopqrstuvwxyz,;")
"""A capitalised word after a token ending like this is a name, not a sentence start."""
_THANKS = ("thank", "grateful", "gratitude")


@dataclass(frozen=True, slots=True)
class Shape:
    """What one turn adds (see module doc)."""

    content_words: int
    novelty: float
    """Share of the turn's distinct content words not seen earlier in the conversation."""
    new_names: int
    """Capitalised names (not sentence starts) not seen earlier in the conversation."""
    structure: int
    """Lines that start a step, heading, numbered item, chapter or code block."""
    coinage: float
    """Coined compounds and all-caps coinages per word."""
    function_share: float
    """Share of the turn's words that are function words ("the", "of", ...)."""
    thanks: bool


EMPTY = Shape(0, 0.0, 0, 0, 0.0, 0.0, False)


class ShapeTracker:
    """Shapes of a conversation's turns in order; remembers its vocabulary and names."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._names: set[str] = set()

    def add(self, text: str, model: bool = True) -> Shape:
        """The shape of the next turn; operator turns only feed the vocabulary.

        Whitespace tokens, comprehensions and set operations: a live turn must stay cheap
        (character-class regular expressions cost milliseconds on a long turn)."""
        raw = text.split()
        tokens = [t.strip(_PUNCT) for t in raw]
        lowered = text.lower()
        counts = Counter([t.strip(_PUNCT) for t in lowered.split()])
        for key in [k for k in counts if not k[:1].isalpha()]:
            del counts[key]
        content = {w for w in counts if len(w) > 2} - FUNCTION_WORDS
        names = {t for prev, t in zip(["."] + raw, tokens, strict=False)
                 if t[:1].isupper() and t[1:].islower() and prev[-1:] in _AFTER_WORD}
        new = content - self._seen
        new_names = names - self._names
        self._seen |= content
        self._names |= names
        if not model:
            return EMPTY
        n = counts.total()
        function = sum(counts[w] for w in FUNCTION_WORDS.intersection(counts))
        coined = sum(1 for t in tokens if "-" in t and _coined(t)) + len(
            {t for t in tokens if len(t) >= 6 and t.isupper() and t.isalpha()})
        return Shape(
            content_words=len(content),
            novelty=len(new) / len(content) if content else 0.0,
            new_names=len(new_names),
            structure=len(_STRUCTURE.findall(text)),
            coinage=coined / n if n else 0.0,
            function_share=function / n if n else 0.0,
            thanks=any(t in lowered for t in _THANKS),
        )


def _coined(word: str) -> bool:
    """A hyphen-chained compound of words of three letters or more ("bloom-symphony")."""
    parts = word.split("-")
    return len(parts) >= 2 and all(len(p) >= 3 and p.isalpha() for p in parts)
