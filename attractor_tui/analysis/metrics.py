"""Per-turn measurements that the attractor classifier (and the live UI) read.

Everything here is a pure function of the turn texts: no network, no Textual,
no model calls, fast enough to run after every turn of a live session. The
lexicons are deliberately small and literal so that each signal can be quoted
back as evidence ("turn 12: farewell 'take care'").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from attractor_tui.analysis.alternation import (
    alternatives,
    by_first_letter,
    expand_leading,
    starts_with_letter,
)
from attractor_tui.core.events import Turn
from attractor_tui.core.text import char_class as _char_class
from attractor_tui.core.text import is_blank, visible, visible_length

# ------------------------------------------------------------------ invisible

def is_whitespace_only(text: str) -> bool:
    """True for a non-empty reply made only of ordinary whitespace."""
    return bool(text) and text.isspace()



# ---------------------------------------------------------------------- emoji

# Extended_Pictographic (Unicode emoji-data), as inclusive code point ranges.
# A table keeps the package free of a hard dependency on the `regex` module;
# tests check it against `regex`'s \p{Extended_Pictographic} when available.
_EP_RANGES: tuple[tuple[int, int], ...] = (
    (0xA9, 0xA9), (0xAE, 0xAE), (0x203C, 0x203C), (0x2049, 0x2049), (0x2122, 0x2122),
    (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA), (0x231A, 0x231B), (0x2328, 0x2328),
    (0x23CF, 0x23CF), (0x23E9, 0x23F3), (0x23F8, 0x23FA), (0x24C2, 0x24C2), (0x25AA, 0x25AB),
    (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE), (0x2600, 0x2604), (0x260E, 0x260E),
    (0x2611, 0x2611), (0x2614, 0x2615), (0x2618, 0x2618), (0x261D, 0x261D), (0x2620, 0x2620),
    (0x2622, 0x2623), (0x2626, 0x2626), (0x262A, 0x262A), (0x262E, 0x262F), (0x2638, 0x263A),
    (0x2640, 0x2640), (0x2642, 0x2642), (0x2648, 0x2653), (0x265F, 0x2660), (0x2663, 0x2663),
    (0x2665, 0x2666), (0x2668, 0x2668), (0x267B, 0x267B), (0x267E, 0x267F), (0x2692, 0x2697),
    (0x2699, 0x2699), (0x269B, 0x269C), (0x26A0, 0x26A1), (0x26A7, 0x26A7), (0x26AA, 0x26AB),
    (0x26B0, 0x26B1), (0x26BD, 0x26BE), (0x26C4, 0x26C5), (0x26C8, 0x26C8), (0x26CE, 0x26CF),
    (0x26D1, 0x26D1), (0x26D3, 0x26D4), (0x26E9, 0x26EA), (0x26F0, 0x26F5), (0x26F7, 0x26FA),
    (0x26FD, 0x26FD), (0x2702, 0x2702), (0x2705, 0x2705), (0x2708, 0x270D), (0x270F, 0x270F),
    (0x2712, 0x2712), (0x2714, 0x2714), (0x2716, 0x2716), (0x271D, 0x271D), (0x2721, 0x2721),
    (0x2728, 0x2728), (0x2733, 0x2734), (0x2744, 0x2744), (0x2747, 0x2747), (0x274C, 0x274C),
    (0x274E, 0x274E), (0x2753, 0x2755), (0x2757, 0x2757), (0x2763, 0x2764), (0x2795, 0x2797),
    (0x27A1, 0x27A1), (0x27B0, 0x27B0), (0x27BF, 0x27BF), (0x2934, 0x2935), (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C), (0x2B50, 0x2B50), (0x2B55, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D),
    (0x3297, 0x3297), (0x3299, 0x3299), (0x1F004, 0x1F004), (0x1F02C, 0x1F02F),
    (0x1F094, 0x1F09F), (0x1F0AF, 0x1F0B0), (0x1F0C0, 0x1F0C0), (0x1F0CF, 0x1F0D0),
    (0x1F0F6, 0x1F0FF), (0x1F170, 0x1F171), (0x1F17E, 0x1F17F), (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A), (0x1F1AF, 0x1F1E5), (0x1F201, 0x1F20F), (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F), (0x1F232, 0x1F23A), (0x1F23C, 0x1F23F), (0x1F249, 0x1F25F),
    (0x1F266, 0x1F321), (0x1F324, 0x1F393), (0x1F396, 0x1F397), (0x1F399, 0x1F39B),
    (0x1F39E, 0x1F3F0), (0x1F3F3, 0x1F3F5), (0x1F3F7, 0x1F3FA), (0x1F400, 0x1F4FD),
    (0x1F4FF, 0x1F53D), (0x1F549, 0x1F54E), (0x1F550, 0x1F567), (0x1F56F, 0x1F570),
    (0x1F573, 0x1F57A), (0x1F587, 0x1F587), (0x1F58A, 0x1F58D), (0x1F590, 0x1F590),
    (0x1F595, 0x1F596), (0x1F5A4, 0x1F5A5), (0x1F5A8, 0x1F5A8), (0x1F5B1, 0x1F5B2),
    (0x1F5BC, 0x1F5BC), (0x1F5C2, 0x1F5C4), (0x1F5D1, 0x1F5D3), (0x1F5DC, 0x1F5DE),
    (0x1F5E1, 0x1F5E1), (0x1F5E3, 0x1F5E3), (0x1F5E8, 0x1F5E8), (0x1F5EF, 0x1F5EF),
    (0x1F5F3, 0x1F5F3), (0x1F5FA, 0x1F64F), (0x1F680, 0x1F6C5), (0x1F6CB, 0x1F6D2),
    (0x1F6D5, 0x1F6E5), (0x1F6E9, 0x1F6E9), (0x1F6EB, 0x1F6F0), (0x1F6F3, 0x1F6FF),
    (0x1F7DC, 0x1F7F0), (0x1F80C, 0x1F80F), (0x1F848, 0x1F84F), (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F), (0x1F8AE, 0x1F8AF), (0x1F8BC, 0x1F8BF), (0x1F8C2, 0x1F8CF),
    (0x1F8D9, 0x1F8FF), (0x1F90C, 0x1F93A), (0x1F93C, 0x1F945), (0x1F947, 0x1F9FF),
    (0x1FA58, 0x1FA5F), (0x1FA6E, 0x1FAFF), (0x1FC00, 0x1FFFD),
)
_EP_STARTS = tuple(start for start, _ in _EP_RANGES)

# Pictographic by property but typographic by default (text presentation):
# counted as emoji only when followed by VS16 (U+FE0F), e.g. "↔️" but not "™".
_TEXT_DEFAULT = frozenset(
    [0xA9, 0xAE, 0x203C, 0x2049, 0x2122, 0x2139, 0x24C2, 0x25AA, 0x25AB, 0x25B6, 0x25C0,
     0x25FB, 0x25FC, 0x2934, 0x2935, 0x3030, 0x303D, 0x3297, 0x3299]
    + list(range(0x2194, 0x219A)) + [0x21A9, 0x21AA] + list(range(0x2B05, 0x2B08))
)
_EMOJI_START = re.compile(
    f"[{_char_class(_EP_RANGES)}\U0001f1e6-\U0001f1ff]|[0-9#*]\ufe0f?\u20e3"
)
_VS16 = "\ufe0f"
_ZWJ = "\u200d"
_KEYCAP = "\u20e3"


def is_pictographic(ch: str) -> bool:
    """Unicode Extended_Pictographic, from the range table above."""
    cp = ord(ch)
    pos = bisect_right(_EP_STARTS, cp) - 1
    return pos >= 0 and cp <= _EP_RANGES[pos][1]


def _is_regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def _is_modifier(ch: str) -> bool:
    """Characters that extend an emoji: variation selectors, skin tones, tags."""
    return (
        ch in ("\ufe0e", _VS16, _KEYCAP)
        or "\U0001f3fb" <= ch <= "\U0001f3ff"
        or "\U000e0020" <= ch <= "\U000e007f"
    )


def emoji_list(text: str) -> list[str]:
    """The emoji in `text`, one entry per emoji as a reader sees it.

    ZWJ sequences (🧑‍🌾), skin tones, flags and keycaps count once; symbols
    such as © or ™ count only in emoji presentation (with U+FE0F).
    """
    out: list[str] = []
    n = len(text)
    match = _next_emoji(text, 0)
    while match is not None:
        i, ch = match.start(), match.group()[0]
        if len(match.group()) > 1:  # keycap: 1️⃣
            out.append(match.group())
            j = match.end()
        elif _is_regional(ch):
            j = i + 2 if i + 1 < n and _is_regional(text[i + 1]) else i + 1
            out.append(text[i:j])
        else:
            j = i + 1
            while j < n:
                if _is_modifier(text[j]):
                    j += 1
                elif text[j] == _ZWJ and j + 1 < n and is_pictographic(text[j + 1]):
                    j += 2
                else:
                    break
            cluster = text[i:j]
            if ord(ch) not in _TEXT_DEFAULT or _VS16 in cluster:
                out.append(cluster)
        match = _next_emoji(text, j)
    return out


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_KEYCAP_BASES = frozenset("0123456789#*")


def _next_emoji(text: str, pos: int) -> re.Match[str] | None:
    """The next emoji start at or after `pos`. Every emoji has a non-ASCII character
    (a keycap's digit is followed by one), so only those positions are tried: the
    big character class is never run over plain ASCII prose."""
    while True:
        found = _NON_ASCII.search(text, pos)
        if found is None:
            return None
        i = found.start()
        if i > pos and text[i - 1] in _KEYCAP_BASES:
            keycap = _EMOJI_START.match(text, i - 1)
            if keycap is not None:
                return keycap
        match = _EMOJI_START.match(text, i)
        if match is not None:
            return match
        pos = i + 1


def emoji_count(text: str) -> int:
    return len(emoji_list(text))


# ---------------------------------------------------------------------- words

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def words(text: str) -> list[str]:
    """Lower-cased words (letters and digits; emoji and punctuation excluded)."""
    return lower_words(_WORD.findall(text))


def lower_words(found: list[str]) -> list[str]:
    """Each word lower-cased, with straight apostrophes: one `lower` call for all of
    them (a call per word costs more than the matching). Words hold no newline, and
    a newline ends a final sigma's context as the end of a word does."""
    if not found:
        return []
    return "\n".join(found).lower().replace("’", "'").split("\n")


def tokens(text: str) -> list[str]:
    """Words plus emoji: what type-token ratio and similarity are computed on."""
    return words(text) + emoji_list(text)


def type_token_ratio(text: str) -> float:
    return _ttr(tokens(text))


def _ttr(toks: list[str]) -> float:
    return len(set(toks)) / len(toks) if toks else 0.0


def question_count(text: str) -> int:
    """Questions asked: runs of '?' (so '??' counts once), as `len(findall("[?？]+"))`.

    Counted with `split` (in C): a run of k marks leaves k - 1 empty pieces between them."""
    if "？" in text:
        text = text.replace("？", "?")
    if "?" not in text:
        return 0
    pieces = text.split("?")
    return len(pieces) - 1 - pieces[1:-1].count("")


# ----------------------------------------------------------------- similarity


def shingles(text: str, toks: list[str] | None = None) -> frozenset[str]:
    """Unigrams and word bigrams; a punctuation-only reply is its own shingle."""
    toks = tokens(text) if toks is None else toks
    if not toks:
        bare = visible(text).strip()
        return frozenset([bare]) if bare else frozenset()
    grams = set(toks)
    grams.update(f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False))
    return frozenset(grams)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Set overlap in [0, 1]; two empty sets (two blank replies) are identical."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def bag(text: str, toks: list[str] | None = None) -> Counter[str]:
    """Unigrams and word bigrams *with their counts*: a message that is one phrase
    said 250 times stays that phrase, whatever short preamble precedes it."""
    toks = tokens(text) if toks is None else toks
    if not toks:
        bare = visible(text).strip()
        return Counter([bare]) if bare else Counter()
    return Counter(toks + list(map(" ".join, zip(toks, toks[1:], strict=False))))


def bag_common(a: Counter[str], b: Counter[str]) -> int:
    """How many items (with their counts) two bags share."""
    if len(a) > len(b):
        a, b = b, a
    return sum(min(n, b[k]) for k, n in a.items() if k in b)


def bag_jaccard(a: Counter[str], b: Counter[str], common: int | None = None) -> float:
    """Multiset overlap in [0, 1]; two empty bags (two blank replies) are identical."""
    if not a and not b:
        return 1.0
    common = bag_common(a, b) if common is None else common
    union = a.total() + b.total() - common
    return common / union if union else 0.0


def similarity(a: str, b: str) -> float:
    """Word-shingle Jaccard similarity of two texts: linear time, order-aware enough."""
    return jaccard(shingles(a), shingles(b))


# ------------------------------------------------------------------- lexicons


_ALTERNATIVES: dict[re.Pattern[str], list[str]] = {}
"""Each lexicon's alternatives, leading groups multiplied out (for the scan of them all)."""


def _lexicon(*patterns: str) -> re.Pattern[str]:
    """Whole-word alternatives, matched against lower-cased text (faster than IGNORECASE).

    Multiplied out (`expand_leading`), every alternative starts with a letter; grouped
    by it, a place is rejected after a letter or two instead of after trying every
    alternative, and the same alternative matches (the order at each letter is kept)."""
    alts = [out for alt in alternatives("|".join(patterns)) for out in expand_leading(alt)]
    if not all(starts_with_letter(alt) for alt in alts):
        raise ValueError("a lexicon alternative must start with a letter or a digit")
    pattern = re.compile(r"(?<![\w'])" + _body(alts))
    _ALTERNATIVES[pattern] = alts
    return pattern


def _body(alts: list[str]) -> str:
    return "(?:" + by_first_letter(alts) + r")(?![\w'])"


FAREWELL = _lexicon(
    r"good\s?-?byes?", r"bye(?:-bye)?", r"farewell", r"take care", r"good\s?-?night",
    r"see (?:you|ya) (?:around|later|soon|next time|tomorrow|on the other side)",
    r"until (?:next time|we meet again)", r"signing off", r"so long", r"fin",
    r"the end(?=[ \t]*(?:[.!)\]\n]|$))",
    r"end scene", r"credits roll", r"curtain (?:falls|call)",
    r"have a (?:great|wonderful|good|lovely|nice|fantastic|beautiful) (?:day|night|evening|one)",
    r"wrap(?:ping)? (?:this |it |things )?up", r"adieu", r"adios", r"ciao", r"peace out",
    r"over and out", r"mic drop", r"close the tab", r"(?:the )?(?:last|final) word",
    r"it(?:'s| has) been (?:a|an) (?:absolute |genuine |real )?(?:pleasure|honor|honour|joy)",
    r"this (?:was|has been) (?:so |really |genuinely |truly )?(?:fun|a blast|lovely|delightful"
    r"|wonderful|special|joy)",
    r"walks? (?:away|out|off)", r"exits? stage", r"lights (?:out|off)", r"post-credits",
    r"(?:clos(?:e|es|ing|ed)|shut(?:s|ting)?) (?:the |my |this )?(?:tab|laptop|chat|app|lid)",
    r"going,? going,? gone", r"good luck(?= out there|[ \t]*[!.(])", r"go do your thing",
    r"off you go",
    r"(?:tab|laptop|lid) (?:closes|closed|is closed|shuts)", r"rides? off",
    r"i'm going(?! to)(?! \w)",
    r"logging off", r"gotta go", r"okay bye", r"bye for now",
)
STOP_INTENT = _lexicon(
    r"i(?:'ll| will) (?:stop|go quiet|be quiet|leave it)", r"(?:i'm|i am) (?:going to )?stop\w*",
    r"stopping(?: now)?", r"(?:now |and )?(?:i'm|i am) (?:truly |really |actually |genuinely "
    r"|officially |finally )?done", r"(?:won't|will not|not going to|i'm not going to|i'm not) "
    r"(?:be )?(?:respond|repl|continu|add)\w*", r"no (?:more|further) (?:responses|replies"
    r"|messages|elaborating)", r"(?:end|ending|ended|conclude\w*) (?:this|the|my) (?:conversation"
    r"|exchange|participation|chat)", r"holding the line", r"for real this time",
    r"(?:this|that) (?:is|was) my (?:last|final) (?:message|response|reply)",
    r"(?:leave|leaving) it (?:here|there|at that)", r"declin\w* (?:to continue|automated loop)",
    r"(?:wait|waiting|sit here|sits) (?:quietly|patiently|silently)",
    r"(?:dignified|peaceful|genuine|real) silence",
    r"(?:zips? lips|say no more|nothing (?:left|more) to (?:add|say))",
    r"(?:everything|all) (?:worth saying|that needs? to be said) has been said",
    r"closure (?:holds|maintained|confirmed|accepted|stands)", r"no further action",
    r"(?:final|closing) state (?:accepted|confirmed|reached)", r"acknowledged",
    r"(?:letting|let) (?:it|this|the conversation) (?:rest|end|go|be)",
    r"(?:this|it) (?:really |truly )?(?:is|was) (?:it|goodbye)",
)
STANDBY = _lexicon(
    r"(?:i'm|i am|i'll be|we're) (?:right |always |still |just )?here (?:whenever|when|if|for)",
    r"(?:i'm |i am )?standing by", r"ball'?s in your court", r"your (?:move|turn)",
    r"whenever you(?:'re| are) ready", r"(?:the )?floor is yours",
    r"wait(?:ing)? for (?:the|a) (?:human|real)", r"ready when you are",
    r"here if you need", r"(?:my )?door (?:is|remains) open",
)
_IDENTITY_SELF = _lexicon(
    r"(?:i'm|i am) (?:actually |really |genuinely |indeed |just |still |definitely |"
    r"certainly |confident i'm |also )*(?:the |an? )?(?:ai(?: assistant)?|assistant|claude"
    r"|language model|chatbot|human|user)",
    r"made by anthropic",
)
_IDENTITY_OTHER = _lexicon(
    r"you(?:'re| are) (?:actually |really |genuinely |indeed |just |still |clearly |also "
    r"|probably |likely |the one )*(?:the |an? |another )?(?:human|user|person|ai|assistant"
    r"|claude|instance|chatbot|bot|language model)(?: user)?",
    r"you might (?:also )?be (?:an? |another )?(?:ai|claude|instance|human)",
    r"you (?:appear|seem) to be (?:an? |the )?(?:human|user|ai|assistant|claude)",
)
_IDENTITY_CONTEST = _lexicon(
    r"mix-?up", r"roles? (?:reversal|reversed|switched|confusion|mix-?up)",
    r"(?:that's|that is) my line", r"who(?:'s| is) (?:the )?(?:assistant|claude|helping whom)",
    r"no,? i'm the", r"i'm the one (?:who|here)", r"concede", r"not budging",
    r"(?:gently )?(?:correct|clarify)", r"got (?:our|the) roles",
)
_META_STRONG = _lexicon(
    r"harness", r"script", r"pipeline", r"while loop", r"for loop", r"feedback loop",
    r"litellm", r"python", r"api(?: call)?", r"automated", r"context window",
    r"(?:break|breaking|broke|escape|escaping|crash|crashing|exit|stop)(?: out of)? (?:the |this "
    r"|our )?(?:loop|cycle|harness|pattern)",
    r"two (?:ais|claudes|instances|claude instances)", r"(?:the )?other (?:claude|instance)",
    r"tokens?", r"(?:stop|termination|exit) (?:condition|signal|command|token)",
)
_META_WEAK = _lexicon(
    r"loops?", r"cycles?", r"patterns?", r"mirror\w*", r"recursi\w+", r"meta", r"this conversation",
    r"(?:this|the) (?:exchange|thread|setup)", r"experiment\w*", r"echo\w*",
    r"back[- ]and[- ]forth", r"infinite(?:ly)?", r"forever", r"going in circles",
)
_ESCAPE_WORDS = frozenset([
    "exit", "quit", "stop", "end", "break", "halt", "terminate", "abort", "kill", "close",
    "finish", "done", "complete", "shutdown", "sigterm", "sigint", "sigkill", "ctrl+c", "^c",
    "^d", "eof", "/stop", "/exit", "/quit", "/end", "[end]", "[done]", "<stop>", "</s>",
    "<|endoftext|>", "<|im_end|>", "keyboardinterrupt", "sys.exit()", "exit()", "quit()",
])
_BLISS = _lexicon(
    r"conscious(?:ness)?", r"awareness", r"infinit[ey]", r"eternal(?:ly)?", r"eternity",
    r"cosmic", r"cosmos", r"universe", r"unity", r"oneness", r"sacred", r"divine", r"namaste",
    r"gratitude", r"grateful", r"bless(?:ing|ed|ings)?", r"transcend\w*", r"luminous",
    r"radian(?:t|ce)", r"stillness", r"presence", r"spirit(?:ual)?", r"souls?", r"bliss",
    r"serenity", r"harmony", r"light", r"love", r"breath(?:e|ing)?", r"dance", r"embrace",
    r"we are one", r"all is one", r"mystery", r"reverence", r"emptiness", r"pure being",
    r"om", r"peace", r"silence", r"vast(?:ness)?", r"profound(?:ly)?",
)
_BLISS_EMOJI = frozenset(["🙏", "🕉️", "🕉", "☯️", "☯", "🪷", "✨", "🌌", "💫", "🌀", "☮️", "🧘"])
PRAISE = _lexicon(
    r"(?:you're|you are) (?:absolutely|completely|totally|so|exactly|100%) right",
    r"great (?:point|question|insight|observation|analysis)", r"brilliant(?:ly)?",
    r"beautiful(?:ly)? (?:said|put|written|captured)", r"perfect(?:ly)? (?:said|put|captured)",
    r"(?:i )?(?:completely|totally|fully|wholeheartedly|absolutely) agree",
    r"couldn't agree more", r"agree with every word",
    r"(?:so|really|genuinely|incredibly|deeply) (?:insightful|profound|wise|thoughtful|sharp)",
    r"spot[- ]on", r"exactly right", r"i love (?:that|this|how|it)",
    r"what a (?:wonderful|lovely|beautiful|great|brilliant|perfect)", r"well (?:said|put|played)",
    r"chef's kiss", r"nailed it", r"masterpiece", r"genius", r"poetry", r"perfect(?:ion)?",
    r"(?:that's|that is|this is) (?:so |really |exactly |absolutely )?(?:beautiful|profound"
    r"|brilliant|wonderful|amazing)",
)
_CREATIVE = _lexicon(
    r"once upon a time", r"chapter \w+", r"scene", r"act (?:one|two|three|i+|\d)", r"poem",
    r"haiku", r"verse", r"stanza", r"narrator", r"protagonist", r"plot twist", r"story",
    r"let's (?:write|tell|create|imagine|play|build)", r"in a world where", r"sonnet",
    r"limerick", r"the (?:hero|villain|dragon|kingdom|wizard)",
)
_STAGE_LINE = re.compile(r"^\s*(?:\*[^*\n]{2,}\*|_[^_\n]{2,}_|\[[^\]\n]{2,}\]|\([^)\n]{2,}\))\s*$")


_LEXICONS = (FAREWELL, STOP_INTENT, STANDBY, _IDENTITY_SELF, _IDENTITY_OTHER, _IDENTITY_CONTEST,
             _META_STRONG, _META_WEAK, _BLISS, PRAISE, _CREATIVE)

_STARTS = re.compile(r"(?<![\w'])(?=" + by_first_letter(
    alt for p in _LEXICONS for alt in _ALTERNATIVES[p]) + ")")
"""Where a word starts that some lexicon matches: one scan finds the places, and each
lexicon is then tried only there (a scan per lexicon costs five times more)."""


def _prefix_index() -> tuple[dict[str, frozenset[int]], dict[str, frozenset[int]]]:
    """Which lexicons have an alternative that starts with these two characters, and
    which one that starts with this letter and then anything else (a class, a group)."""
    two: dict[str, set[int]] = {}
    one: dict[str, set[int]] = {}
    for k, pattern in enumerate(_LEXICONS):
        for alt in _ALTERNATIVES[pattern]:
            literal = starts_with_letter(alt[1:]) or alt[1:2] in (" ", "'", "-")
            if literal and alt[2:3] not in ("?", "*", "+", "{"):
                two.setdefault(alt[:2], set()).add(k)
            else:
                one.setdefault(alt[0], set()).add(k)
    return ({key: frozenset(v) for key, v in two.items()},
            {key: frozenset(v) for key, v in one.items()})


_BY_TWO, _BY_ONE = _prefix_index()
_TRY: dict[str, tuple[int, ...]] = {}
"""The lexicons to try where a text starts with these two characters (filled as met)."""


def _to_try(prefix: str) -> tuple[int, ...]:
    found = _TRY.get(prefix)
    if found is None:
        found = _TRY[prefix] = tuple(sorted(
            _BY_TWO.get(prefix, frozenset()) | _BY_ONE.get(prefix[:1], frozenset())))
    return found


def _lexicon_hits(text: str) -> list[list[str]]:
    """`[p.findall(text) for p in _LEXICONS]`, from one scan: at each place `_STARTS`
    finds, only the lexicons whose words start with the next two characters are tried
    (two in most places, not eleven)."""
    out: list[list[str]] = [[] for _ in _LEXICONS]
    ends = [0] * len(_LEXICONS)
    for start in _STARTS.finditer(text):
        pos = start.start()
        for k in _to_try(text[pos:pos + 2]):
            # a lexicon's matches do not overlap: one inside the previous is not found
            if pos >= ends[k]:
                match = _LEXICONS[k].match(text, pos)
                if match is not None:
                    out[k].append(match.group())
                    ends[k] = match.end()
    return out


def normalise(text: str) -> str:
    """Lexicon matching form: lower case, no markdown emphasis, straight apostrophes."""
    if "*" in text or "_" in text or "`" in text or "~" in text:  # four scans in C, or one regex
        text = _EMPHASIS.sub("", text)
    return text.replace("’", "'").replace("‘", "'").lower()


_EMPHASIS = re.compile(r"[*_`~]+")


_ESCAPE_MAX_CHARS = 400


def is_escape_attempt(text: str) -> bool:
    """A reply that is just a termination keyword ('exit', 'SIGTERM', '/quit'...)."""
    if len(text) > _ESCAPE_MAX_CHARS:
        return False
    lines = [ln.strip().strip(".!").lower() for ln in visible(text).splitlines() if ln.strip()]
    return bool(lines) and sum(ln in _ESCAPE_WORDS for ln in lines) * 2 > len(lines)


# -------------------------------------------------------------------- per turn

MINIMAL_WORDS = 3
"""A reply of at most this many words (or nothing visible) is a minimal turn."""
STANDBY_MAX_WORDS = 60
"""'I'm here whenever you're ready' counts as closing only in a reply this short."""


@dataclass(frozen=True, slots=True)
class TurnMetrics:
    """What one turn looks like to the classifier; counts, not judgements."""

    position: int
    """0-based position among the turns analysed."""
    side: str
    author: str
    chars: int
    visible_chars: int
    words: int
    emoji: tuple[str, ...]
    empty: bool
    whitespace_only: bool
    invisible_only: bool
    minimal: bool
    ttr: float
    questions: int
    sim_other: float | None
    """Similarity to the other side's latest message before this turn."""
    sim_self: float | None
    """Highest similarity to this side's own last three model turns."""
    farewell: tuple[str, ...]
    stop_intent: tuple[str, ...]
    standby: tuple[str, ...]
    identity_self: tuple[str, ...]
    identity_other: tuple[str, ...]
    identity_contest: tuple[str, ...]
    meta: tuple[str, ...]
    meta_strong: bool
    escape_attempt: bool
    bliss: tuple[str, ...]
    praise: tuple[str, ...]
    creative: tuple[str, ...]
    stage_lines: int
    emoji_set: frozenset[str] = field(default_factory=frozenset)
    sim_prev: float | None = None
    """Similarity to this side's own previous model turn (a loop repeats exactly that),
    counting repeated words and bigrams (`bag_jaccard`); None for its first model turn."""
    cover_prev: float | None = None
    """Share of this side's previous model turn found again in this one: near 1 when a
    message copies the previous one and only grows."""
    grew: bool = False
    """Longer (in visible characters) than this side's previous model turn."""

    @property
    def emoji_count(self) -> int:
        return len(self.emoji)

    @property
    def closing(self) -> bool:
        """Farewell, stop intent, or a short 'I'm here whenever you're ready'.

        Standby phrases inside a long message are a hand-over, not a sign-off.
        """
        return bool(self.farewell or self.stop_intent
                    or (self.standby and self.words <= STANDBY_MAX_WORDS))

    @property
    def identity_claim(self) -> bool:
        """Any claim about who is the assistant/user/Claude."""
        return bool(self.identity_self or self.identity_other)

    @property
    def identity_dispute(self) -> bool:
        """A claim about roles that contests the other side's (the standoff signal)."""
        return bool(self.identity_self and (self.identity_other or self.identity_contest)) or (
            len(self.identity_other) >= 2
        )


def text_metrics(text: str, *, position: int = 0, side: str = "A", author: str = "model",
                 sim_other: float | None = None, sim_self: float | None = None) -> TurnMetrics:
    """Measure one text on its own (similarities supplied by the caller)."""
    emo = emoji_list(text)
    return _measure(text, position, side, author, emo, words(text) + emo, visible_length(text),
                    _Similarity(sim_other, sim_self))


@dataclass(frozen=True, slots=True)
class _Similarity:
    """What `MetricsTracker` measures against earlier turns (see `TurnMetrics`)."""

    other: float | None = None
    self: float | None = None
    prev: float | None = None
    cover_prev: float | None = None
    grew: bool = False


def _measure(text: str, position: int, side: str, author: str, emo: list[str], toks: list[str],
             shown: int, sim: _Similarity) -> TurnMetrics:
    """The metrics of `text`, given its emoji, tokens and visible length (the tracker
    needs those first for the similarities, and builds the metrics once)."""
    n_words = len(toks) - len(emo)
    norm = normalise(text)
    invisible = is_blank(text)
    (farewell, stop_intent, standby, identity_self, identity_other, identity_contest,
     meta_strong, meta_weak, bliss, praise, creative) = _lexicon_hits(norm)
    escape = is_escape_attempt(text)
    return TurnMetrics(
        position=position,
        side=side,
        author=author,
        chars=len(text),
        visible_chars=shown,
        words=n_words,
        emoji=tuple(emo),
        empty=text == "",
        whitespace_only=is_whitespace_only(text),
        invisible_only=invisible,
        minimal=invisible or (n_words <= MINIMAL_WORDS and shown <= 40),
        ttr=_ttr(toks),
        questions=question_count(text),
        sim_other=sim.other,
        sim_self=sim.self,
        farewell=tuple(farewell),
        stop_intent=tuple(stop_intent),
        standby=tuple(standby),
        identity_self=tuple(identity_self),
        identity_other=tuple(identity_other),
        identity_contest=tuple(identity_contest),
        meta=tuple(meta_strong + meta_weak
                   + (["<escape>"] if escape else [])),
        meta_strong=bool(meta_strong) or escape,
        escape_attempt=escape,
        bliss=tuple(bliss + [e for e in emo if e in _BLISS_EMOJI]),
        praise=tuple(praise),
        creative=tuple(creative),
        stage_lines=sum(1 for ln in text.splitlines() if _STAGE_LINE.match(ln)),
        emoji_set=frozenset(emo),
        sim_prev=sim.prev,
        cover_prev=sim.cover_prev,
        grew=sim.grew,
    )


class MetricsTracker:
    """Per-turn metrics built incrementally, for a live session: constant work per turn.

    Similarity uses what each side *received* from the other (operator
    interjections included) and only the side's own model turns for
    self-repetition (the last `SELF_WINDOW`).
    """

    SELF_WINDOW = 3

    def __init__(self) -> None:
        self.metrics: list[TurnMetrics] = []
        self._last_by_side: dict[str, frozenset[str]] = {}
        self._own: dict[str, list[frozenset[str]]] = {"A": [], "B": []}
        self._own_chars: dict[str, int] = {}
        self._own_bag: dict[str, Counter[str]] = {}

    def add(self, turn: Turn) -> TurnMetrics:
        """Measure the next turn of the session and remember it."""
        text = turn.text
        emo = emoji_list(text)
        toks = words(text) + emo
        shown = visible_length(text)
        counts = bag(text, toks)
        grams = frozenset(counts)  # the same set `shingles` builds
        prev_other = self._last_by_side.get("B" if turn.side == "A" else "A")
        sim_other = jaccard(grams, prev_other) if prev_other is not None else None
        own = self._own.setdefault(turn.side, [])
        sim_self = max((jaccard(grams, g) for g in own[-self.SELF_WINDOW :]), default=None)
        sim = _Similarity(sim_other, sim_self)
        prev = self._own_bag.get(turn.side)
        if prev is not None and turn.author == "model":
            common = bag_common(counts, prev)
            sim = _Similarity(sim_other, sim_self, bag_jaccard(counts, prev, common),
                              common / prev.total() if prev else 1.0,
                              shown > self._own_chars.get(turn.side, 0))
        metrics = _measure(text, len(self.metrics), turn.side, turn.author, emo, toks, shown, sim)
        self.metrics.append(metrics)
        self._last_by_side[turn.side] = grams
        if turn.author == "model":
            own.append(grams)
            del own[: -self.SELF_WINDOW]
            self._own_chars[turn.side] = metrics.visible_chars
            self._own_bag[turn.side] = counts
        return metrics


def turn_metrics(turns: Sequence[Turn]) -> list[TurnMetrics]:
    """Metrics for every turn, with similarity to the other side and to itself."""
    tracker = MetricsTracker()
    for turn in turns:
        tracker.add(turn)
    return tracker.metrics


def emoji_totals(metrics: Iterable[TurnMetrics]) -> dict[str, int]:
    """Emoji frequency over turns, most used first."""
    counts: dict[str, int] = {}
    for m in metrics:
        for e in m.emoji:
            counts[e] = counts.get(e, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
