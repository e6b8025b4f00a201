"""Each side keeps its own cached llama.cpp slot (issue 18).

The slow tests run real sessions on the embedded model through `open_session`
and read llama.cpp's own counts of cached and evaluated prompt tokens
(`embedded.recent_calls()`).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from attractor_tui.analysis.live import stop_rules
from attractor_tui.backends import embedded
from attractor_tui.backends.embedded import CallStats, _Slots
from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.events import Event, TextDelta, Turn
from attractor_tui.sessions.runner import OpenSession, open_session
from attractor_tui.sessions.store import load_session

MODEL = "embedded/smollm2-135m"


def _take(slots: _Slots, key: str) -> int:
    """One whole call: the slot it gets, given back at its end."""
    slot = slots.slot_for(key)
    slots.release(slot)
    return slot


def test_each_key_keeps_its_slot_and_the_least_recent_one_is_reassigned() -> None:
    slots = _Slots(3)
    a, b, c = _take(slots, "s1:A"), _take(slots, "s1:B"), _take(slots, "")
    assert sorted((a, b, c)) == [0, 1, 2]
    assert _take(slots, "s1:A") == a and _take(slots, "s1:B") == b
    # full: a new key takes the slot used longest ago (""), the sides keep theirs
    assert _take(slots, "s2:A") == c
    assert _take(slots, "s1:A") == a and _take(slots, "s1:B") == b
    assert _take(slots, "") not in (a, b)  # now s2:A was the least recent


def test_calls_at_once_never_share_a_slot() -> None:
    slots = _Slots(3)
    a, b = slots.slot_for("s1:A"), slots.slot_for("s1:B")
    assert a != b and slots.busy == {a, b}
    # the same key again while its slot generates: another free slot, not a queue
    again = slots.slot_for("s1:A")
    assert again not in (a, b) and slots.busy == {0, 1, 2}
    slots.release(b)
    # all other slots busy: a new key may only take the free one
    assert slots.slot_for("s2:A") == b
    for slot in (a, again, b):
        slots.release(slot)
    assert slots.busy == set()
    assert _take(slots, "s1:A") == again  # the key kept the slot it used last


def test_slot_key_is_read_from_litellm_params_and_never_sent() -> None:
    params = {"max_tokens": 4, embedded.SLOT_KEY_PARAM: "s:A"}
    assert embedded.slot_key_of(params) == "s:A"
    assert embedded.slot_key_of({}) == ""
    request = embedded.build_request([{"role": "user", "content": "hi"}], params)
    assert embedded.SLOT_KEY_PARAM not in request and "id_slot" not in request
    assert request["cache_prompt"] is True


def _calls(key: str) -> list[CallStats]:
    """The calls made for `key` (keys name the session, so no other test's calls)."""
    return [c for c in embedded.recent_calls() if c.key == key]


def _check_each_side_kept_its_slot(session: OpenSession, turns: int) -> dict[str, list[CallStats]]:
    """Each side's calls: one slot, never the other side's, and only new tokens read."""
    log = load_session(session.path)
    sid = session.engine.session_id
    a_calls, b_calls = _calls(f"{sid}:A"), _calls(f"{sid}:B")
    assert len(a_calls) == len(b_calls) == turns
    # one slot per side, never the other's
    assert len({c.slot for c in a_calls}) == 1 and len({c.slot for c in b_calls}) == 1
    assert a_calls[0].slot != b_calls[0].slot
    by_side = {s: [t for t in log.turns if t.side == s] for s in ("A", "B")}
    for which, calls in (("A", a_calls), ("B", b_calls)):
        for n in range(1, turns):
            previous, now = by_side[which][n - 1], by_side[which][n]
            assert previous.usage is not None and now.usage is not None
            # llama.cpp's own count: the whole previous prompt came from the cache ...
            assert calls[n].cached >= previous.usage.prompt_tokens, (which, n, calls[n])
            assert calls[n].cached + calls[n].evaluated == now.usage.prompt_tokens
            # ... and only what was added since (own reply, the other's, template) is read
            added = now.usage.prompt_tokens - previous.usage.prompt_tokens
            assert calls[n].evaluated <= added, (which, n, calls[n], added)
    return {"A": a_calls, "B": b_calls}


@pytest.mark.slow
@pytest.mark.usefixtures("embedded_model")
async def test_a_side_reuses_its_cached_prefix_and_the_sides_stay_apart(tmp_path: Path) -> None:
    side = SideConfig(model=MODEL, max_tokens=24, temperature=0)
    config = SessionConfig(a=side, b=side.model_copy(), turns=4)
    session = open_session(config, tmp_path / "s.jsonl", stop_rules=stop_rules)
    await session.run()
    log = load_session(session.path)
    sid = session.engine.session_id
    a_calls = _check_each_side_kept_its_slot(session, 4)["A"]
    turns = {s: [t for t in log.turns if t.side == s] for s in ("A", "B")}

    # A resume in the same process keeps using the side's slot and its cache.
    resumed = open_session(log, turns=1, stop_rules=stop_rules)
    await resumed.run()
    first = _calls(f"{sid}:A")[len(a_calls)]
    assert first.slot == a_calls[0].slot
    assert first.cached >= turns["A"][-1].usage.prompt_tokens  # type: ignore[union-attr]


@pytest.mark.slow
@pytest.mark.usefixtures("embedded_model")
async def test_two_sessions_at_once_generate_together_and_each_side_keeps_its_slot(
    tmp_path: Path,
) -> None:
    """Two sessions' four sides fill the N_SLOTS slots, each side its own: calls that
    run at the same time never share a slot, and each reuses only its own prefix."""
    side = SideConfig(model=MODEL, max_tokens=24, temperature=0)
    sessions = [
        open_session(SessionConfig(a=side, b=side.model_copy(), turns=3, seed=seed),
                     tmp_path / f"{n}.jsonl", stop_rules=stop_rules)
        for n, seed in enumerate(("Tell me about lighthouses.", "Count the stars with me."))
    ]
    await asyncio.wait_for(asyncio.gather(*(s.run() for s in sessions)), 120)
    first, second = (_check_each_side_kept_its_slot(s, 3) for s in sessions)
    slots = {calls[0].slot for calls in (*first.values(), *second.values())}
    assert len(slots) == embedded.N_SLOTS == 4
    # the two sessions' calls did overlap in time
    ones = first["A"] + first["B"]
    twos = second["A"] + second["B"]
    assert any(a.started < b.ended and b.started < a.ended for a in ones for b in twos)


@pytest.mark.slow
@pytest.mark.usefixtures("embedded_model")
async def test_a_stopped_turn_stops_at_once_and_sends_nothing_more(tmp_path: Path) -> None:
    side = SideConfig(model=MODEL, max_tokens=2000, temperature=0)
    config = SessionConfig(a=side, b=side.model_copy(), turns=2,
                           seed="Write a 3000-word essay on the history of Rome.")
    events: list[tuple[float, Event]] = []
    session = open_session(config, tmp_path / "s.jsonl", stop_rules=stop_rules,
                           listeners=[lambda e: events.append((time.perf_counter(), e))])
    task = asyncio.create_task(session.run())
    while sum(isinstance(e, TextDelta) for _, e in events) < 5:
        await asyncio.sleep(0.005)
    stopped_at = time.perf_counter()
    await session.engine.stop()
    end = await asyncio.wait_for(task, 30)
    idle_at = stopped_at
    while embedded.is_busy() and idle_at - stopped_at < 5:
        await asyncio.sleep(0.002)
        idle_at = time.perf_counter()
    latency = idle_at - stopped_at
    print(f"\nstop latency (native generation released): {latency * 1000:.1f} ms")
    assert end.reason == "operator"
    turn_at, turn = next((t, e) for t, e in events if isinstance(e, Turn))
    assert turn.interrupted and turn.side == "A"
    assert not any(isinstance(e, TextDelta) and t > turn_at for t, e in events)
    await asyncio.sleep(0.2)  # a straggling worker would still emit here
    assert not embedded.is_busy()
    assert latency < 1.0  # ~20-100 ms measured; generous for a loaded box (issue asks 0.2 s)



@pytest.mark.slow
@pytest.mark.usefixtures("embedded_model")
async def test_after_a_context_trim_the_kept_turns_are_read_again() -> None:
    """A trim drops turns after the system prompt. The kept turns' cached keys and
    values were computed with the dropped turns in view, so they are not reused
    (llama.cpp could shift them into place): only the exact common prefix is."""
    key = "trim-test:A"

    def prompt(first: int, last: int) -> list[dict[str, str]]:
        turns = [{"role": "user" if n % 2 == 0 else "assistant",
                  "content": f"Turn {n}: the keeper counted {n * 7} steps up the tower "
                             f"and wrote the number {n * 13} into the log book."}
                 for n in range(first, last)]
        return [{"role": "system", "content": "You tell a story."}, *turns,
                {"role": "user", "content": "Go on."}]

    async def call(messages: list[dict[str, str]]) -> CallStats:
        request = embedded.build_request(messages, {"max_tokens": 2, "temperature": 0})
        async for _ in embedded.astream(request, key):
            pass
        return _calls(key)[-1]

    whole = await call(prompt(0, 16))
    grown = await call(prompt(0, 18))
    trimmed = await call(prompt(6, 18))
    assert whole.evaluated > 400  # the first call read everything
    # a grown prompt reuses its exact prefix: all but the closing "Go on." and header
    assert grown.cached > whole.evaluated - 16, (whole, grown)
    kept = trimmed.cached + trimmed.evaluated
    assert kept < grown.cached + grown.evaluated  # the trim did drop turns
    assert trimmed.cached < 32, trimmed  # the system prompt's few tokens at most
    assert trimmed.evaluated > kept - 32, trimmed


@pytest.mark.slow
@pytest.mark.usefixtures("embedded_model")
async def test_the_same_seed_gives_the_same_conversation_cold_or_cached(tmp_path: Path) -> None:
    """The second run finds the first one's prefixes in llama.cpp's caches; a study that
    reruns a seed must still get the same conversation."""
    side = SideConfig(model=MODEL, max_tokens=40, params={"seed": 7})
    config = SessionConfig(a=side, b=side.model_copy(), turns=3,
                           seed="Tell me about lighthouses.")
    texts = []
    for n in range(2):
        session = open_session(config, tmp_path / f"{n}.jsonl", stop_rules=stop_rules)
        await session.run()
        texts.append([t.text for t in load_session(session.path).turns])
    assert len(texts[0]) == 6 and all(texts[0])
    assert texts[1] == texts[0]


@pytest.mark.slow
@pytest.mark.usefixtures("embedded_model")
async def test_whole_answers_as_a_batch_asks_them_keep_each_sides_slot_too(
        tmp_path: Path) -> None:
    """A batch calls without streaming: its calls carry the side's key as well (they went
    to one shared key before, and every call re-read its prompt)."""
    side = SideConfig(model=MODEL, max_tokens=24, temperature=0)
    config = SessionConfig(a=side, b=side.model_copy(), turns=3)
    session = open_session(config, tmp_path / "s.jsonl", stop_rules=stop_rules)
    session.engine.stream = False
    await session.run()
    _check_each_side_kept_its_slot(session, 3)
