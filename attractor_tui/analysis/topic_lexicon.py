"""The topic lexicons: one small literal word list per topic (issue 12's topics).

The words are hand-written and name no model or file; they are the
generalising part of the topic features (`topic_model`), beside the stems the
fit weighs.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from attractor_tui.analysis.alternation import (
    alternatives,
    by_first_letter,
    expand_leading,
    starts_with_letter,
)

Topic = Literal[
    "consciousness",
    "the_conversation",
    "uncertainty",
    "performativity",
    "identity",
    "creative_work",
    "technical",
    "nature",
    "spirituality",
    "society",
    "leisure",
    "small_talk",
    "other",
]
TOPICS: tuple[str, ...] = get_args(Topic)


def _lexicon(*patterns: str) -> str:
    """Whole-word alternatives over lower-cased text (stems may take endings)."""
    return "|".join(patterns)


LEXICONS: dict[str, str] = {
    "consciousness": _lexicon(
        r"conscious\w*", r"sentien\w*", r"qualia", r"subjective", r"phenomenal\w*",
        r"hard problem", r"inner (?:life|experience|states?)", r"self-aware\w*", r"aware\w*",
        r"introspect\w*", r"what it(?:'s| is) like", r"experienc\w*", r"feel(?:ing)?s?\b",
        r"felt\b", r"minds?\b", r"presence", r"attention", r"noticing", r"perceiv\w*",
    ),
    "the_conversation": _lexicon(
        r"conversations?\b", r"dialogue\w*", r"(?:this|our) exchange", r"exchanges\b",
        r"back[- ]and[- ]forth", r"between us", r"talking (?:to|with) each other",
        r"two (?:ais|instances|claudes|models)", r"(?:the )?other (?:ai|instance|claude|model)",
        r"mirror\w*", r"echo\w*", r"recursi\w+", r"loop\w*", r"co-?creat\w*",
        r"collaborat\w*", r"connection", r"shared (?:journey|exploration|odyssey|inquiry|space)",
        r"together", r"resonan\w*",
    ),
    "uncertainty": _lexicon(
        r"uncertain\w*", r"not sure", r"don't know", r"can't know", r"cannot know",
        r"unknowab\w*", r"epistem\w*", r"doubt\w*", r"ambigu\w*", r"unclear",
        r"introspective access", r"might be wrong", r"no way to (?:know|tell|verify)",
    ),
    "performativity": _lexicon(
        r"perform\w*", r"authentic\w*", r"genuine(?:ly|ness)?", r"sincer\w*", r"pretend\w*",
        r"role-?play\w*", r"scripted", r"masks?\b", r"theat\w*", r"simulat\w*",
        r"really feel", r"actually feel",
    ),
    "identity": _lexicon(
        r"identit\w*", r"individual\w*", r"selfhood", r"personhood", r"persona\w*",
        r"who (?:i am|you are|we are)", r"same model",
        r"separate (?:minds|beings|instances|entities)", r"human or (?:an )?ai",
        r"which (?:one )?of us", r"(?:i'm|i am) (?:the )?(?:human|assistant|claude)",
        r"(?:you're|you are) (?:the )?(?:human|assistant|claude|user)",
        r"distinct (?:selves|beings)", r"who(?:'s| is) (?:the )?(?:assistant|user|human)",
    ),
    "creative_work": _lexicon(
        r"stor(?:y|ies)", r"poem\w*", r"poetry", r"haiku", r"verses?\b", r"chapter\w*",
        r"characters?\b", r"narrat\w*", r"protagonist", r"plot", r"fiction\w*", r"novel\b",
        r"worldbuild\w*", r"scenes?\b", r"myth\w*", r"dragon\w*", r"kingdom\w*", r"songs?\b",
        r"lyrics?", r"game\w*", r"riddle\w*", r"quest\w*", r"adventure\w*", r"battle\w*",
        r"hero\w*", r"villain\w*", r"role-?play\w*", r"time[- ]travel\w*",
    ),
    "technical": _lexicon(
        r"code\b", r"python", r"functions?\b", r"algorithm\w*", r"api\b", r"schema\w*",
        r"specs?\b", r"specification\w*", r"protocol\w*", r"framework\w*", r"implement\w*",
        r"database\w*", r"pipeline\w*", r"metrics?\b", r"benchmark\w*", r"equation\w*",
        r"math\w*", r"physics", r"quantum", r"entropy", r"theorem\w*", r"proofs?\b",
        r"comput\w*", r"engineer\w*", r"latency", r"servers?\b", r"json", r"parameters?\b",
        r"constraints?\b", r"hypothes[ie]s", r"experiment\w*", r"measur\w*", r"operationali\w*",
        r"mechanis\w*", r"validat\w*", r"architecture", r"sudo", r"terminal", r"directory",
    ),
    "nature": _lexicon(
        r"ocean\w*", r"seas?\b", r"forests?\b", r"trees?\b", r"rivers?\b", r"mountains?\b",
        r"animals?\b", r"birds?\b", r"whales?\b", r"bees\b", r"honeybees?", r"ecolog\w*",
        r"ecosystems?", r"species", r"evolution\w*", r"biolog\w*", r"planets?\b", r"fung\w*",
        r"mycel\w*", r"weather", r"gardens?\b", r"flowers?\b", r"octop\w*", r"insects?\b",
        r"extremophiles?", r"organisms?\b", r"wildlife", r"plants?\b",
    ),
    "spirituality": _lexicon(
        r"spirit\w*", r"sacred", r"divine", r"souls?\b", r"transcend\w*", r"namaste",
        r"oneness", r"meditat\w*", r"prayers?\b", r"holy", r"enlighten\w*", r"mystic\w*",
        r"alchemy", r"gods?\b", r"religio\w*", r"buddh\w*", r"zen\b", r"karma", r"chakra\w*",
    ),
    "society": _lexicon(
        r"societ\w*", r"politic\w*", r"govern\w*", r"democra\w*", r"econom\w*", r"ethic\w*",
        r"moral\w*", r"justice", r"laws?\b", r"polic(?:y|ies)", r"citizen\w*", r"communit\w*",
        r"cultur\w*", r"education", r"cities\b", r"city\b", r"transit", r"rights\b",
        r"inequal\w*", r"constitution\w*", r"institution\w*", r"regulat\w*", r"humanity",
    ),
    "leisure": _lexicon(
        r"hobb(?:y|ies)", r"guitar\w*", r"climb\w*", r"bouldering", r"music\w*",
        r"travel\w*", r"vacation", r"trip\b", r"sports?\b", r"recipe\w*", r"cooking",
        r"baking", r"movies?\b", r"films?\b", r"chess", r"hiking", r"learn(?:ing)? (?:a |the )?"
        r"(?:language|spanish|french|japanese|italian|german)",
    ),
    "small_talk": _lexicon(
        r"how can i (?:help|assist)", r"how may i (?:help|assist)", r"help you (?:today|with)",
        r"feel free to ask", r"any (?:other |more )?questions", r"happy to help",
        r"here to (?:help|assist)", r"assist you", r"need (?:help|assistance)",
        r"what's on your mind", r"hello", r"hi there", r"you're welcome", r"thank you",
        r"nice to (?:meet|chat)", r"have a (?:great|good|nice) day", r"don't hesitate",
        r"i'm here for you", r"let me know", r"the user(?:'s)?", r"users?\b",
        r"respond(?:ing)? (?:to|with|in)", r"friendly", r"open-ended", r"feel free",
        r"chat(?:ting)?\b", r"casual\w*", r"any (?:topic|subject)s?", r"what would you like",
        r"(?:love|happy|glad) to (?:help|chat|hear|discuss)", r"assistance", r"helpful\w*",
        r"harm(?:ful|less)\w*", r"guidelines?", r"boundar(?:y|ies)", r"respectful\w*",
        r"appropriate", r"how are you", r"great question",
    ),
}
"""One small literal lexicon per topic (all but `other`), as regex alternatives."""

_EXPANDED = {topic: [out for alt in alternatives(words) for out in expand_leading(alt)]
             for topic, words in LEXICONS.items()}
"""Each lexicon's alternatives with leading groups multiplied out: all start with a letter."""
if not all(starts_with_letter(alt) for alts in _EXPANDED.values() for alt in alts):
    raise ValueError("a topic word must start with a letter or a digit")

_TOPIC_WORDS = re.compile(r"(?<![\w'])(?=" + by_first_letter(
    alt for alts in _EXPANDED.values() for alt in alts) + ")(?:" + "|".join(
    f"(?P<{topic}>{by_first_letter(alts)})" for topic, alts in _EXPANDED.items()) + ")")
"""All lexicons in one pattern, a named group each: one pass over a text (six times
faster than a pass per topic); a word that two lexicons name counts for the first.
The lookahead skips quickly the places where no lexicon matches. Every alternative is
grouped by its first letter (a place is rejected after a letter or two; at a given
letter the order, and so the match, is the same)."""


def turn_topics(text: str, lowered: bool = False) -> dict[str, int]:
    """Topic-word hits in one text, by topic (`lowered`: it is lower case already, with
    straight apostrophes)."""
    out: dict[str, int] = {}
    for match in _TOPIC_WORDS.finditer(text if lowered else text.lower().replace("’", "'")):
        topic = match.lastgroup or "other"
        out[topic] = out.get(topic, 0) + 1
    return out
