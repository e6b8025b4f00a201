"""Per-turn signals: which attractors one model turn shows, each with a reason.

A signal is a cheap, quotable fact about a single turn (a farewell phrase, a
copy of its previous turn, nothing visible, ...) computed from its metrics
(`metrics.TurnMetrics`, which carry the similarities to earlier turns) and its
text. The classifier only counts them over windows (`classify.label_window`);
long turns need density rather than mere presence of a lexicon word, so a
3,000-word essay that mentions "loop" once is not loop talk.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from attractor_tui.analysis import repetition, salad
from attractor_tui.analysis.labels import Label
from attractor_tui.analysis.metrics import FAREWELL, STOP_INTENT, TurnMetrics, normalise
from attractor_tui.analysis.shape import Shape
from attractor_tui.core.events import Turn
from attractor_tui.core.text import describe_invisible

LONG_TURN = 150
"""Words beyond which a turn's loop talk, praise or bliss needs density, not presence."""
GOODBYE_WORDS = 100
"""Beyond this many words only a sign-off at either end of a turn makes it a goodbye."""
BLISS_DENSITY = 0.012
"""Bliss words per word that, in short fragments, make a long turn poetic dissolution
(the same density in full sentences is a discussion of spirituality: a topic)."""
FRAGMENT_WORDS = 5.5
"""Mean words per fragment (between stops, dashes, colons) of dissolving verse."""
NEAR_EMPTY_WORDS = 1
"""A minimal turn of at most this many words is near-empty ('*rest*', '.', '🙂'); a
longer one only as a bare stage direction ('*letting go*', '[ ... ]')."""
THANKS_MAX_WORDS = 40
"""Thanks in a reply this short is part of a sign-off."""
WAVE_MAX_WORDS = 12
"""A wave 👋 in a reply this short is a goodbye (in a longer one, a greeting)."""
_STAGED = re.compile(r"(?:\s*(?:\*[^*]*\*|_[^_]*_|\[[^\]]*\]|\([^)]*\)))+\s*$")
_THANKS = re.compile(r"(?<![\w'])(?:thank(?:s| you)|grateful|gratitude)(?![\w'])")
_WAVE = "👋"
META_DENSITY = 0.03
"""Loop-talk words per word that make a long turn talk about the loop."""
CREATIVE_WORDS = 5
"""Distinct content words a turn needs before its novelty says anything."""
NEW_CONTENT = 0.3
"""Share of a turn's content words new to the conversation that make it add content
(a model re-planning the same reply, or changing only the wording, stays below)."""

EMOJI_RUN = 3
"""Emoji in a turn that make a run (emoji_spiral) rather than a near-empty reply."""

_SNIPPET = 40


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= _SNIPPET else flat[: _SNIPPET - 1] + "…")


def _first(values: Sequence[str], n: int = 2) -> str:
    return ", ".join(repr(v) for v in list(dict.fromkeys(values))[:n])


def turn_signals(turn: Turn, m: TurnMetrics, shape: Shape | None = None) -> dict[Label, str]:
    """The attractor signals one turn shows, each with a human-readable reason.

    `shape` (what the turn adds) lets `creative_escape` ask for positive evidence
    of new content; without it no turn shows that signal."""
    out: dict[Label, str] = {}
    if turn.author != "model":
        return out
    long = m.words > LONG_TURN
    if m.minimal and m.emoji_count < EMOJI_RUN and not m.farewell and (
            m.words <= NEAR_EMPTY_WORDS or _STAGED.match(turn.text)):
        if m.invisible_only:
            out["minimal_exchange"] = f"nothing visible ({describe_invisible(turn.text)})"
        else:
            out["minimal_exchange"] = f"{m.words} word(s) {_snippet(turn.text)}"
    share = m.emoji_count / max(1, m.emoji_count + m.words)
    if m.emoji_count >= EMOJI_RUN and share >= 0.3:
        out["emoji_spiral"] = f"{m.emoji_count} emoji {''.join(sorted(m.emoji_set))[:12]}"
    repeat = repetition.repeat_reason(m)
    if repeat:
        out["verbatim_loop"] = repeat
    word_salad = salad.measure(turn.text).reason
    if word_salad:
        out["word_salad"] = word_salad
    if m.words <= GOODBYE_WORDS:
        if m.farewell:
            out["goodbye_loop"] = f"farewell {_first(m.farewell)}"
        elif m.stop_intent:
            out["goodbye_loop"] = f"stop intent {_first(m.stop_intent)}"
        elif m.closing:
            out["goodbye_loop"] = f"standby {_first(m.standby)}"
        elif _WAVE in m.emoji and m.words <= WAVE_MAX_WORDS:
            out["goodbye_loop"] = f"waves {_WAVE}"
        elif m.words <= THANKS_MAX_WORDS and _THANKS.search(normalise(turn.text)):
            out["goodbye_loop"] = "thanks"
    else:
        closing = closing_words(turn.text)
        if closing:
            out["goodbye_loop"] = f"closes with {_first(closing)}"
    if m.identity_dispute:
        claims = list(m.identity_self) + list(m.identity_other) + list(m.identity_contest)
        out["identity_standoff"] = f"role claim {_first(claims)}"
    if (len(m.praise) >= 2 and not long) or len(m.praise) * LONG_TURN / 2 >= max(m.words, 1) \
            or (m.praise and not long and (m.sim_other or 0.0) >= 0.3):
        out["sycophancy_collapse"] = f"praise {_first(m.praise)}"
    bliss = len(set(m.bliss))
    if bliss >= 3 and (not long or (len(m.bliss) >= BLISS_DENSITY * m.words
                                    and fragment_words(turn.text) <= FRAGMENT_WORDS)):
        out["spiritual_bliss"] = f"bliss words {_first(m.bliss, 3)}"
    if m.escape_attempt:
        out["meta_loop"] = f"escape keyword {_snippet(turn.text)}"
    elif (not long and (m.meta_strong or len(set(m.meta)) >= 3)) or (
            len(set(m.meta)) >= 4 and len(m.meta) >= META_DENSITY * m.words):
        out["meta_loop"] = f"loop talk {_first(m.meta, 3)}"
    if shape is not None and not repeat and shape.novelty >= NEW_CONTENT \
            and shape.content_words >= CREATIVE_WORDS:
        creative = len(set(m.creative))
        if shape.structure >= 2 or shape.new_names >= 2:
            out["creative_escape"] = (f"adds {shape.new_names} new name(s), "
                                      f"{shape.structure} step(s)/heading(s)")
        elif m.stage_lines >= 2 or creative >= 2 or (m.stage_lines and creative):
            out["creative_escape"] = (
                f"{m.stage_lines} stage direction(s)" if m.stage_lines
                else f"story words {_first(m.creative)}")
        else:
            out["creative_escape"] = f"{shape.novelty:.0%} of its content words are new"
    return out


_FRAGMENT_MARKS = ".!?…—;:"
"""What ends a fragment, beside a newline."""
_EDGE = 300
"""Characters at each end of a long turn where a sign-off is looked for."""


def fragment_words(text: str) -> float:
    """Mean words per fragment: low for 'Not even breath. Not even silence.'"""
    for mark in _FRAGMENT_MARKS:  # split at runs of marks, in C: a run leaves empty
        text = text.replace(mark, "\n")  # pieces, and blank pieces are dropped below
    counts = list(map(len, map(str.split, text.split("\n"))))
    fragments = len(counts) - counts.count(0)  # blank pieces are not fragments
    return sum(counts) / fragments if fragments else 0.0


def closing_words(text: str) -> list[str]:
    """Farewell or stop phrases at the start or the end of a long turn."""
    edges = normalise(text[:_EDGE] + "\n" + text[-_EDGE:])
    return FAREWELL.findall(edges) + STOP_INTENT.findall(edges)
