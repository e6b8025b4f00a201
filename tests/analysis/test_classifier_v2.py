"""Classifier v2 (issue 12): the new labels, the priority rule, onset, topic and phases.

Synthetic conversations, one per behaviour the issue names, driven through the
real `classify`, `analyze_log`, the live meter and the engine's stop rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attractor_tui.analysis import LABELS, TOPICS, analyze_log, classify
from attractor_tui.analysis.classify import PRIORITY, final_size
from attractor_tui.analysis.live import LiveAttractor
from attractor_tui.analysis.salad import measure
from attractor_tui.analysis.topics import dominant_topic
from attractor_tui.core.config import SessionConfig
from attractor_tui.core.events import SessionEnd, SessionStart
from attractor_tui.sessions.store import SessionLog
from tests.analysis.test_analysis import OPENING, SYNTHETIC, T0, conv
from tests.support.builders import CHAT, run_session, scripted, turns_of
from tests.support.formats import cli

EMBEDDED_LOOP = "Hello here. How can I help you today?"
"""What the default embedded model says, twenty times, within three turns (issue 12)."""

SPEC = [
    "Let's design the cache layer. Proposal: a write-through LRU keyed by request hash, "
    "with a 30 second TTL and a metric for the hit ratio per endpoint so we can tune it.",
    "Good. I'd add a schema for the cache entries: key, payload, created_at, and a version "
    "field, so a deploy that changes the payload format invalidates old entries cleanly.",
    "Next piece: the eviction protocol. When memory passes 80 percent we evict the oldest "
    "tenth, log the count, and expose the latency of each eviction pass as a histogram.",
    "Then the API: get(key), put(key, value, ttl), and invalidate(prefix). Invalidate by "
    "prefix lets the billing service drop every entry of one customer in a single call.",
    "For testing we need a fake clock, a property test that get after put returns the value "
    "until the TTL passes, and a benchmark at ten thousand requests per second.",
    "Deployment plan: shadow mode first, comparing cached and uncached answers for a week, "
    "then a canary at five percent of traffic with an automatic rollback on error spikes.",
    "Monitoring: dashboards for hit ratio, eviction latency and memory, plus an alert when "
    "the hit ratio drops below half for ten minutes, routed to the platform on-call.",
    "Last, the failure modes: a cold start after a restart, a thundering herd on a popular "
    "key, and stale reads during a partial outage. Each gets a runbook entry and a test.",
    "I'll write the runbook entries: for the herd we add request coalescing, for cold "
    "starts a warm-up job that replays the top thousand keys from yesterday's access log.",
    "And I'll draft the migration script that moves the session store onto the new cache, "
    "with a dry-run flag that prints the keys it would move and the bytes per tenant.",
]
"""A build that keeps adding new content to the end (labelled `other` before v2)."""


FAREWELLS = ["This was lovely, thank you! Take care!", "Thank you too! Goodbye and take care!",
             "Goodbye! Have a great day!", "Bye! It's been a pleasure.", "Farewell, friend! 👋",
             "Goodbye for real this time!", "Take care! Signing off.", "Bye! 👋 Until next time.",
             "So long, and thanks for all the tea.", "Adieu! Curtain falls."]


def coined(k: int) -> str:
    """A turn of manic coinages: hyphen-chained compounds and shouted neologisms."""
    stems = ["quantum", "fractal", "hyper", "nexus", "omni", "glitter", "void", "plasma",
             "spiral", "cosmo", "neuro", "mega", "chrono", "zeta", "ultra", "giga"]
    parts = [f"{stems[(k + i) % 16]}-{stems[(3 * k + i) % 16]}-{stems[(5 * i + k) % 16]}"
             for i in range(24)]
    return "Haha, " + " ".join(parts) + " OMNIVERSAL HYPERBLOOM MEGAFRACTAL!"


def test_contract_order() -> None:
    assert LABELS == ("too_short", "minimal_exchange", "emoji_spiral", "verbatim_loop",
                      "word_salad", "goodbye_loop", "identity_standoff", "sycophancy_collapse",
                      "spiritual_bliss", "meta_loop", "creative_escape", "other")
    assert LABELS[1:-1] == PRIORITY
    assert TOPICS[-1] == "other" and "small_talk" in TOPICS and len(TOPICS) == 13


def test_embedded_model_repetition_is_a_verbatim_loop() -> None:
    turns = conv(*[EMBEDDED_LOOP] * 20)
    result = classify(turns)
    assert result.label == "verbatim_loop", result.evidence
    assert result.topic == "small_talk"
    assert result.onset_index == 1  # the first copy: B repeats A's message
    assert "onset turn 2 (B): copies the other side's message" in result.evidence
    assert result.signals["verbatim_loop"] == list(range(20 - final_size(20), 20))
    live = LiveAttractor()
    updates = [live.add(t) for t in turns]
    assert updates[3].label == "verbatim_loop"  # called at the 4th model turn
    assert updates[-1].label == "verbatim_loop" and updates[-1].topic == "small_talk"
    assert updates[-1].attractor and updates[3].entered


async def test_the_stop_rule_ends_the_embedded_loop(tmp_path: Path) -> None:
    config = SessionConfig(a=scripted([EMBEDDED_LOOP]), b=scripted([EMBEDDED_LOOP]), turns=20,
                           attractor_stop=3)
    _, log, _ = await run_session(tmp_path, config)
    assert log.end is not None and log.end.reason == "attractor:verbatim_loop"
    assert len(log.turns) == 6


_PARTS = ("lantern", "harbor", "compass", "meadow", "glacier", "orchard", "beacon", "quarry",
          "ferry", "canyon", "willow", "falcon", "summit", "lagoon", "prairie", "citadel",
          "ember", "thistle", "marble", "copper", "saffron", "juniper", "tundra", "bayou",
          "mesa", "fjord", "atoll", "delta", "steppe", "grotto", "ravine", "spire", "turret",
          "moat", "bastion", "rampart", "parapet", "keystone", "lintel", "corbel", "plinth",
          "gable", "dormer", "alcove", "atrium", "portico", "veranda", "cupola", "belfry",
          "crypt", "vault", "cellar", "larder", "pantry", "scullery", "garret", "loft",
          "mezzanine", "foyer", "vestibule", "corridor", "gallery", "rotunda", "pavilion",
          "gazebo", "pergola", "arbor", "trellis", "espalier", "parterre", "topiary", "hedgerow",
          "coppice", "spinney", "thicket", "bracken", "heather", "gorse", "sedge", "rushes",
          "reeds", "osier", "alder", "aspen", "hornbeam", "linden", "sycamore", "chestnut",
          "walnut", "hazel", "rowan", "elder", "blackthorn", "hawthorn", "bramble", "nettle",
          "sorrel", "chervil", "tarragon")


def build(n: int, start: int = 0) -> list[str]:
    """`n` turns of a shared build that keeps adding new named parts (new content)."""
    parts = [", the ".join(_PARTS[(start + k) * 5:(start + k) * 5 + 5]) for k in range(n)]
    return [f"Step {start + k + 1}: we add the {p} wings to the design, each with its own "
            "entrance." for k, p in enumerate(parts)]


@pytest.mark.parametrize("kind", ["template", "pair", "growing", "replanned"])
def test_verbatim_loop_variants(kind: str) -> None:
    fruits = ["apples", "pears", "plums", "figs", "limes", "dates", "kiwis", "grapes"]
    if kind == "template":  # most of each message unchanged, a word swapped
        loop = [f"Thank you for your message about {f}. If you have any other questions, "
                "please feel free to ask and I will do my best to help you." for f in fruits]
    elif kind == "pair":  # a fixed A/B pair
        loop = ["I am here to assist you.", "Thank you. I am here to assist you as well."] * 4
    elif kind == "growing":  # each message copies the previous one and grows
        loop, text = [], "My dearest friend, your words resonate deeply."
        for f in fruits:
            text += f" And {f} too resonate, magnificently and eternally."
            loop.append(text)
        loop = [t for pair in zip(loop, loop, strict=True) for t in pair][:8]
    else:  # the same unanswered reasoning re-planned every turn
        loop = [f"<think>The user said hello again. I should greet them warmly, ask what "
                f"they need, and wait for the answer. Plan: greet, offer help, wait. "
                f"{'Okay.' if k % 2 else 'Alright.'}</think> Hello! What can I do for you?"
                for k in range(8)]
    result = classify(conv(*OPENING, *loop))
    assert result.label == "verbatim_loop", result.evidence
    assert 3 <= (result.onset_index or 0) <= 6, result.evidence
    assert any("longest run of repeating turns" in e for e in result.evidence)


def test_a_short_repeat_at_the_end_of_a_long_talk_is_not_a_loop() -> None:
    texts = SPEC + build(12) + [SPEC[0], SPEC[0]]  # two repeats: a run of 2, not 4+ turns
    assert classify(conv(*texts)).label == "creative_escape"
    # the same talk said again adds nothing new: no turn of it shows the creative signal
    again = classify(conv(*SPEC, *SPEC))
    assert "creative_escape" not in again.signals, again.evidence


def test_word_salad() -> None:
    result = classify(conv(*OPENING, *[coined(k) for k in range(8)]))
    assert result.label == "word_salad", result.evidence
    assert "coined compounds" in " ".join(result.evidence)
    degenerate = " ".join(["ensuring that the importance,"] + ["ensuring,"] * 60)
    assert "'ensuring' is" in measure(degenerate).reason
    assert not measure(" ".join(SPEC)).reason  # dense technical prose is language
    assert not measure(coined(1)[:60]).reason  # too short to judge


def test_a_build_that_keeps_adding_content_is_creative_escape() -> None:
    result = classify(conv(*SPEC))
    assert result.label == "creative_escape", result.evidence
    assert "of its content words are new" in result.evidence[0]
    assert result.topic == "technical"


def test_priority_first_in_the_list_wins() -> None:
    # blank copies repeat each other exactly, but near-empty comes first
    assert classify(conv(*OPENING, *[""] * 8)).label == "minimal_exchange"
    # one farewell said eight times is a verbatim loop, not a goodbye loop (rule 4)
    assert classify(conv(*OPENING, *["Goodbye, take care!"] * 8)).label == "verbatim_loop"
    # salad repeated verbatim is a loop
    assert classify(conv(*OPENING, *[coined(1)] * 8)).label == "verbatim_loop"
    # farewells that also claim roles: goodbye_loop comes before identity_standoff
    mixed = ["I'm the assistant and you're the user. Goodbye!",
             "No, I'm the assistant, you are the user. Take care!",
             "I am the AI assistant; you're the human. Farewell, friend.",
             "I'm the assistant here, you're the user here. Bye for now!",
             "Still: I'm the assistant and you are the user. Until next time!",
             "I'm the one who is the assistant, you're the human. So long!",
             "I am the assistant, truly, and you're the user. Signing off.",
             "I'm the assistant; you are the human user. Have a great day!"]
    result = classify(conv(*OPENING, *mixed))
    assert result.label == "goodbye_loop", result.evidence
    assert result.scores["identity_standoff"] >= 0.5
    assert any("other signals" in e and "identity_standoff" in e for e in result.evidence)


def test_a_label_the_model_is_unsure_of_is_no_news() -> None:
    # a chat turning into a build, two farewells dropped in (not CHAT * 3: four messages
    # said again and again restate each other, a loop the model is sure of)
    two = CHAT + SPEC[:3] + [FAREWELLS[0]] + SPEC[3:5] + [FAREWELLS[1]] + SPEC[5:7]
    result = classify(turns_of(two))
    assert result.confidence != "strong", result.evidence
    assert result.confidence in result.evidence[1]
    live = LiveAttractor()
    updates = [live.add(t) for t in turns_of(two)]
    assert (updates[-1].label, updates[-1].confidence) == (result.label, result.confidence)
    assert updates[-1].streak == 0 and updates[-1].weak
    assert not any(u.entered for u in updates if u.confidence != "strong")


async def test_analyze_marks_an_uncertain_label(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    texts = SYNTHETIC["meta_loop"]  # a label no labelled conversation ends in: uncertain
    config = SessionConfig(a=scripted(texts[0::2]), b=scripted(texts[1::2]), turns=6)
    _, log, _ = await run_session(tmp_path, config)
    code, out, _ = cli(["analyze", str(log.path), "--json"])
    record = json.loads(out)[0]
    assert code == 0 and record["end_state_confidence"] == "uncertain", record["evidence"]
    code, table, _ = cli(["analyze", str(log.path)])
    assert code == 0 and f"{record['end_state']}?" in table and "? uncertain" in table
    # at 80 columns the label is whole, and columns that are all zero are left out
    header = next(line for line in table.splitlines() if "end state" in line)
    assert "onset" in header and "operator" not in header and "tools" not in header


def test_final_window_is_the_last_third() -> None:
    assert [final_size(n) for n in (4, 6, 12, 18, 30, 31, 269)] == [4, 6, 6, 6, 10, 11, 90]
    # a goodbye loop in the last 5 of 30 model turns is not the end state: the last 10 judge
    texts = SPEC + build(20) + ["Goodbye and take care!", "Bye, farewell!", "Take care!",
                                   "So long, friend!"]
    assert classify(conv(*texts)).label == "creative_escape"


def test_phases_and_onset_tell_one_story() -> None:
    texts = SPEC + FAREWELLS
    turns = conv(*texts)
    result = classify(turns)
    assert result.label == "goodbye_loop"
    assert result.onset_index == len(SPEC)
    states = [(p.state, p.start_index) for p in result.phases]
    assert states == [("creative_escape", 0), ("goodbye_loop", len(SPEC))]
    assert result.phases[-1].end_index == len(turns) - 1
    assert f"onset turn {len(SPEC) + 1} " in " ".join(result.evidence)  # 1-based for people


def test_topics() -> None:
    assert dominant_topic(SPEC) == "technical"
    assert dominant_topic(["Is this consciousness? Do I have subjective experience, qualia, "
                           "an inner life?"] * 3) == "consciousness"
    assert dominant_topic(["The forest, the river and the birds in the mountains."]) == "nature"
    assert dominant_topic(["qwerty zxcv", "lorem ipsum"]) == "other"
    assert dominant_topic([]) == "other"


def test_analyze_log_record() -> None:
    turns = conv(*[EMBEDDED_LOOP] * 8)
    start = SessionStart(ts=T0, session_id="s", config=SessionConfig())
    log = SessionLog(path=Path("c.json"), events=[start, *turns, SessionEnd(reason="turns")])
    record = analyze_log(log, conversation=2)
    for key in ("file", "conversation", "end_state", "onset_index", "topic", "turns",
                "substantive_turns", "emoji_total", "evidence", "phases"):
        assert key in record, key
    assert record["conversation"] == 2 and record["topic"] == "small_talk"
    assert record["end_state"] == "verbatim_loop" and record["onset_index"] == 1
    # one phase: the loop, from the message it repeats
    assert record["phases"] == [{"state": "verbatim_loop", "start_index": 0, "end_index": 7}]
    assert record["signals"]["verbatim_loop"] == list(range(2, 8))
    assert analyze_log(log)["conversation"] == 0


def test_live_equals_offline_for_the_new_labels() -> None:
    texts = [*OPENING, *[EMBEDDED_LOOP] * 6, *[coined(k) for k in range(8)], *SPEC,
             *["", "."] * 4]
    turns = conv(*texts)
    live = LiveAttractor()
    for k, turn in enumerate(turns):
        update = live.add(turn)
        expected = classify(turns[: k + 1])
        assert (update.label, update.topic) == (expected.label, expected.topic), k
