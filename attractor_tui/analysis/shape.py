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
from dataclasses import dataclass

from attractor_tui.analysis.salad import FUNCTION_WORDS

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*\b", re.M)
_STRUCTURE = re.compile(
    r"^\s*(?:#{1,6}\s|\d+[.)]\s|[-*•]\s+\*\*|\*\*[^*\n]{2,60}\*\*:?\s*$|```|"
    r"(?:chapter|step|phase|part|act|scene|round|level|section|rule)\s+\w+[:.]?)",
    re.M | re.I,
)
_COMPOUND = re.compile(r"\b[A-Za-z]{3,}(?:-[A-Za-z]{3,}){1,}\b")
_CAPS = re.compile(r"\b[A-Z]{6,}\b")
_THANKS = re.compile(r"\b(?:thank(?:s| you)|grateful|gratitude)\b", re.I)


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
        """The shape of the next turn; operator turns only feed the vocabulary."""
        found = _WORD.findall(text)
        lower = [w.lower() for w in found]
        content = {w for w in lower if w not in FUNCTION_WORDS and len(w) > 2}
        names = set(_NAME.findall(text))
        new = content - self._seen
        new_names = names - self._names
        self._seen |= content
        self._names |= names
        if not model:
            return EMPTY
        n = len(lower)
        coined = len(_COMPOUND.findall(text)) + len(set(_CAPS.findall(text)))
        return Shape(
            content_words=len(content),
            novelty=len(new) / len(content) if content else 0.0,
            new_names=len(new_names),
            structure=len(_STRUCTURE.findall(text)),
            coinage=coined / n if n else 0.0,
            function_share=sum(w in FUNCTION_WORDS for w in lower) / n if n else 0.0,
            thanks=bool(_THANKS.search(text)),
        )
