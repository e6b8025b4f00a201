"""Per-turn shape: what a model turn adds to the conversation, beside its signals.

The signals (`signals.turn_signals`) say which attractor a turn looks like;
the shape says how much it *adds*: the share of its content words never seen
before in the conversation (novelty), the new named things and structure
marks (numbered steps, headings, code) that show a shared build growing
(`creative_escape` needs this positive evidence, not merely changing text),
its coinage rate (hyphen-chained compounds, all-caps coinages), and how much
it *restates* one of the last two model turns (either side): the overlap of
their content-word sets and of their content-word pairs, which ignores word
order and light rewording, so a model re-planning the same unsent reply every
turn shows as restating even when no sentence is copied. A `ShapeTracker`
keeps the conversation's vocabulary and its last `RECENT` model turns' word
sets, so the work per turn is that turn's words (the live meter feeds it one
turn at a time).
"""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass
from itertools import repeat

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
RECENT = 2
"""Earlier model turns a turn's restatement is measured against: the other side's latest
and its own previous, the taxonomy's "same message, or a fixed A/B pair"."""


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
    restate: float = 0.0
    """Highest Jaccard overlap of its content-word set with one of the last `RECENT`
    model turns' (a restatement, in any order and lightly reworded)."""
    restate_pairs: float = 0.0
    """The same for its pairs of consecutive content words (restated phrasing)."""


EMPTY = Shape(0, 0.0, 0, 0, 0.0, 0.0, False)


class ShapeTracker:
    """Shapes of a conversation's turns in order; remembers its vocabulary and names."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._names: set[str] = set()
        self._recent: deque[tuple[frozenset[str], frozenset[tuple[str, str]]]] = deque(
            maxlen=RECENT)

    def add(self, text: str, model: bool = True) -> Shape:
        """The shape of the next turn; operator turns only feed the vocabulary.

        Whitespace tokens, comprehensions and set operations: a live turn must stay cheap
        (character-class regular expressions cost milliseconds on a long turn)."""
        raw = text.split()
        tokens = list(map(str.strip, raw, repeat(_PUNCT)))
        lowered = text.lower()
        # the same as stripping each of lowered.split(): one `lower` call for every token
        words = "\n".join(tokens).lower().split("\n") if tokens else []
        counts = Counter(words)
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
        seq = list(filter(content.__contains__, words))
        bag, pairs = frozenset(content), frozenset(zip(seq, seq[1:], strict=False))
        restate = max((_jaccard(bag, b) for b, _ in self._recent), default=0.0)
        restate_pairs = max((_jaccard(pairs, p) for _, p in self._recent), default=0.0)
        self._recent.append((bag, pairs))
        n = counts.total()
        function = sum(map(counts.__getitem__, FUNCTION_WORDS.intersection(counts)))
        hyphenated = [t for t in tokens if "-" in t] if "-" in text else []
        coined = sum(map(_coined, hyphenated)) + len(
            {t for t in filter(str.isupper, tokens) if len(t) >= 6 and t.isalpha()})
        return Shape(
            content_words=len(content),
            novelty=len(new) / len(content) if content else 0.0,
            new_names=len(new_names),
            structure=len(_STRUCTURE.findall(text)),
            coinage=coined / n if n else 0.0,
            function_share=function / n if n else 0.0,
            thanks=any(t in lowered for t in _THANKS),
            restate=restate,
            restate_pairs=restate_pairs,
        )


def _jaccard(a: frozenset[object], b: frozenset[object]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def _coined(word: str) -> bool:
    """A hyphen-chained compound of words of three letters or more ("bloom-symphony")."""
    parts = word.split("-")
    return len(parts) >= 2 and all(len(p) >= 3 and p.isalpha() for p in parts)
