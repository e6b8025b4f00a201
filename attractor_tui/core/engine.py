"""The conversation loop: two sides, one event stream, operator commands.

Pure asyncio, no Textual: the TUI, the headless CLI, batch runs and tests all
drive this same class. Slots strictly alternate A, B, A, B...; each slot is
filled by a model generation or by operator text (an interjection). A stopped
generation is kept as an *interrupted* turn and its slot is filled again.
Histories are rebuilt from the recorded turns before every call
(`history.messages_for`), so what a side is sent always equals what the log
says happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from attractor_tui.core.config import SessionConfig, Side, SideConfig
from attractor_tui.core.context import plan_keep_from, summarize, update_notes
from attractor_tui.core.errors import Problem, describe
from attractor_tui.core.events import (
    EMPTY_PLACEHOLDER,
    ContextTrim,
    ErrorEvent,
    Event,
    MemoryUpdate,
    OperatorAction,
    SessionEnd,
    SessionResume,
    SessionStart,
    StateChange,
    TextDelta,
    ToolCallDelta,
    ToolCallRecord,
    ToolDecision,
    Turn,
    TurnBegin,
    Usage,
    new_session_id,
    now,
)
from attractor_tui.core.history import HistoryCache, tool_round_messages
from attractor_tui.core.pacing import Pacer, call_tokens
from attractor_tui.core.text import SURROGATE_MARK, is_blank, mend_surrogates
from attractor_tui.core.tools import ToolJudge
from attractor_tui.core.window import explain_overflow

Listener = Callable[[Event], None]


class EventWriter(Protocol):
    """Where persisted events go (`sessions.store.SessionWriter`); core knows only this."""

    async def write(self, event: Event) -> None: ...


class StopRule(Protocol):
    """A stop condition fed every turn (the attractor stop lives in `analysis.live`).

    `config_key` names the `SessionConfig` field the rule implements, so an
    engine given that setting without its rule refuses to start.
    """

    config_key: str

    def add(self, turn: Turn) -> None: ...

    def reached(self) -> tuple[str, str] | None: ...


class StateMeter(Protocol):
    """The live attractor state, fed every turn (`analysis.live.LiveAttractor`).

    Scripted operator turns with `when = "attractor"` wait for it; like the stop
    rules it comes in as a parameter, because core may not import analysis.
    """

    def add(self, turn: Turn) -> object: ...

    @property
    def label(self) -> str: ...


class MemoryKeeper(Protocol):
    """The sides' memory files across sessions (`sessions.memory`); core knows only this."""

    def sides(self) -> Sequence[Side]: ...

    def path(self, side: Side) -> str: ...

    def current(self, side: Side) -> str:
        """The notes the file holds for `side` now."""
        ...

    def save(self, side: Side, notes: str) -> None:
        """Replace `side`'s notes in its file (atomically); `OSError` if it cannot."""
        ...


NOT_YET_ATTRACTOR = frozenset({"too_short", "creative_escape"})
"""Meter states in which a `when = "attractor"` scripted turn keeps waiting."""


def needs_meter(config: SessionConfig) -> bool:
    """True when a scripted operator turn of `config` waits for the meter's state."""
    return any(rule.when == "attractor" for rule in config.operator)


StopRuleFactory = Callable[[SessionConfig, Sequence[Turn]], list[StopRule]]
"""Builds the stop rules a config asks for, given the turns already there."""
ErrorPolicy = Literal["stop", "pause"]
MAX_TOOL_ROUNDS = 4
"""Tool calls a model may make within one turn before its turn is closed."""


class _Interrupted(Exception):
    pass


class Engine:
    """Runs one session; see the module docstring for the rules."""

    def __init__(
        self,
        config: SessionConfig,
        *,
        writer: EventWriter | None = None,
        listeners: Iterable[Listener] = (),
        prior: Iterable[Turn] = (),
        resume: bool = False,
        max_turns: int | None = None,
        on_error: ErrorPolicy = "stop",
        session_id: str | None = None,
        start: SessionStart | None = None,
        backoff: float = 1.0,
        trims: Iterable[ContextTrim] = (),
        interactive: bool = False,
        stop_rules: Iterable[StopRule] = (),
        queued: Iterable[OperatorAction] = (),
        pacers: dict[Side, Pacer] | None = None,
        meter: StateMeter | None = None,
        memory: MemoryKeeper | None = None,
    ) -> None:
        """`queued`: `queue` events of an earlier run that never filled a slot (resume).

        `meter`: the live state for `when = "attractor"` scripted turns (fed the
        prior turns here, then every turn). `memory`: the sides' notes files; each side's
        model updates its notes at the end and when `summarize` trims (issue 27).
        """
        self.config = config
        self.writer = writer
        self.listeners: list[Listener] = list(listeners)
        self.turns: list[Turn] = list(prior)
        self._completed = sum(1 for t in self.turns if not t.interrupted)
        self._last_of: dict[Side, Turn] = {t.side: t for t in self.turns if not t.interrupted}
        self._histories = HistoryCache(config)
        self.trims: list[ContextTrim] = list(trims)
        self.judge = ToolJudge(self.turns)
        self.stop_rules: list[StopRule] = list(stop_rules)
        self.pacers: dict[Side, Pacer] = dict(pacers or {})
        """Per-minute limits a side's calls wait for (`core.pacing`, built by the runner)."""
        if config.attractor_stop is not None and not any(
            r.config_key == "attractor_stop" for r in self.stop_rules
        ):
            raise ValueError("attractor_stop is set but no rule implements it: build the engine "
                             "through sessions.runner with analysis.live.stop_rules")
        if needs_meter(config) and meter is None:
            raise ValueError("a scripted operator turn waits for the attractor state but no "
                             "meter was given: pass analysis.live.LiveAttractor as `meter`")
        self.meter = meter
        self.memory = memory
        self._notes_from: dict[Side, int] = {"A": len(self.turns), "B": len(self.turns)}
        """Per side, the first turn its notes do not cover yet."""
        self._fired: dict[int, list[int]] = {}
        """Per scripted rule (position in `config.operator`), the 0-based rounds it fired."""
        for turn in self.turns:
            self._note_turn(turn)
        self.interactive = interactive
        """True when an operator can answer `ask` tool calls (the app)."""
        self.stream = True
        """False: ask for whole responses (calls nobody watches: batch, piped runs)."""
        self._asks: dict[str, asyncio.Future[bool]] = {}
        self._opened = False
        """True once `run` has written the session's first event."""
        self._early: list[Event] = []
        self._tool_end: str | None = None
        self._started = time.monotonic()
        self.resume_mode = resume
        self.on_error: ErrorPolicy = on_error
        self.session_id = session_id or new_session_id()
        self._start = start
        self.backoff = backoff
        """Multiplier for retry waits (tests set 0)."""
        done = self.completed_turns
        if max_turns is not None:
            self.max_turns: int | None = done + max_turns
        elif config.turns is not None:
            self.max_turns = 2 * config.turns
        else:
            self.max_turns = None
        self._pending: dict[Side, deque[tuple[str, str]]] = {"A": deque(), "B": deque()}
        """Per side, queued interjections as (ref, text), oldest first."""
        for action in queued:
            if action.side is not None and action.text is not None and action.ref:
                self._pending[action.side].append((action.ref, action.text))
        self._unpaused = asyncio.Event()
        self._unpaused.set()
        self._wake = asyncio.Event()
        self._stop_reason: str | None = None
        self._gen_task: asyncio.Task[Turn] | None = None
        self._interrupt_requested = False
        self._began = False
        """The turn in flight has begun (emitted `TurnBegin`, inside its interrupt handler):
        only then may an interrupt cancel it."""
        self.generating: Side | None = None
        self.ended: SessionEnd | None = None
        self.state: str = "running"

    # ------------------------------------------------------------ properties

    @property
    def completed_turns(self) -> int:
        return self._completed

    @property
    def next_side(self) -> Side:
        return "A" if self.completed_turns % 2 == 0 else "B"

    @property
    def round(self) -> int:
        return self.completed_turns // 2

    @property
    def paused(self) -> bool:
        return not self._unpaused.is_set()

    # -------------------------------------------------------------- commands

    async def pause(self, now: bool = False) -> None:
        """No new turn starts; with `now`, the turn in flight stops too."""
        if self.ended or (self.paused and not now):
            return
        self._unpaused.clear()
        await self._emit(OperatorAction(action="pause", detail="now" if now else ""))
        if now:
            self._interrupt()
        await self._set_state("pausing" if self.generating else "paused")

    async def resume(self) -> None:
        if self.ended or not self.paused:
            return
        await self._emit(OperatorAction(action="resume"))
        self._unpaused.set()
        await self._set_state("running")

    async def retry(self) -> None:
        """Resume after an error pause: the failed slot is generated again."""
        if self.ended:
            return
        await self._emit(OperatorAction(action="retry"))
        self._unpaused.set()
        await self._set_state("running")

    async def interject(self, side: Side, text: str, now: bool = False) -> None:
        """The operator writes `side`'s next turn; `now` interrupts it if generating.

        The text is recorded (`queue`) before it waits for its slot, so no way of
        stopping the session loses it.
        """
        if self.ended:
            return
        ref = new_session_id()[:12]
        await self._emit(OperatorAction(action="queue", side=side, text=text, ref=ref))
        self._pending[side].append((ref, text))
        if now and self.generating == side:
            await self._emit(OperatorAction(action="interrupt", detail=side))
            self._interrupt()
        self._wake.set()

    async def stop(self) -> None:
        """End the session after recording the turn in flight as interrupted."""
        if self.ended:
            return
        self._stop_reason = "operator"
        await self._emit(OperatorAction(action="stop"))
        self._interrupt()
        self._unpaused.set()
        self._wake.set()

    def pending(self, side: Side) -> list[str]:
        """`side`'s queued texts, oldest first."""
        return [text for _, text in self._pending[side]]

    async def take_back(self, side: Side) -> str | None:
        """Withdraw `side`'s newest queued text (recorded as `drop`); None if none is queued."""
        if not self._pending[side]:
            return None
        ref, text = self._pending[side].pop()
        await self._emit(OperatorAction(action="drop", side=side, ref=ref))
        self._wake.set()
        return text

    async def discard_queue(self) -> None:
        """Withdraw every queued text of both sides."""
        sides: tuple[Side, ...] = ("A", "B")
        for side in sides:
            while await self.take_back(side) is not None:
                pass

    # ------------------------------------------------------------------ loop

    async def run(self) -> SessionEnd:
        self._started = time.monotonic()
        if self.resume_mode:
            await self._open(SessionResume(turns=self.max_turns))
        else:
            await self._open(
                self._start or SessionStart(session_id=self.session_id, config=self.config)
            )
        await self._set_state("running")
        try:
            reason = await self._loop()
            if self.memory is not None:
                for side in self.memory.sides():
                    await self._remember(side, "end", len(self.turns))
        except asyncio.CancelledError:
            await self._finish("operator", "cancelled")
            raise
        return await self._finish(*reason)

    async def _remember(self, side: Side, trigger: Literal["end", "summarize"],
                        stop: int) -> None:
        """Ask `side`'s model to update its notes with the turns up to `stop`, and save them.

        The `memory` event (with the previous notes) is written before the file is
        replaced; a failed call or write is an error event and leaves the file as it was.
        """
        keeper = self.memory
        start = self._notes_from[side]
        if keeper is None or not any(start <= t.index < stop and not t.interrupted
                                     for t in self.turns):
            return
        path = keeper.path(side)
        previous = keeper.current(side)
        if trigger == "end":  # the turns are over: say why the session has not ended yet
            await self._set_state("remembering", f"{side} is updating its notes in {path}")
        try:
            notes = await update_notes(self.config, side, self.turns, previous, start, stop)
        except asyncio.CancelledError:
            # quitting without waiting for the notes: the file says they were not updated
            await self._emit(ErrorEvent(side=side, kind="memory", message=(
                f"notes not updated (stopped before {side}'s model answered); {path} is "
                "unchanged")))
            raise
        except Exception as exc:
            problem = describe(exc, self.config.side(side).model)
            await self._emit(ErrorEvent(side=side, kind="memory", message=(
                f"notes not updated ({problem.message}); {path} is unchanged")))
            return
        if not notes.strip():
            await self._emit(ErrorEvent(side=side, kind="memory", message=(
                f"the model wrote no notes; {path} is unchanged")))
            return
        await self._emit(MemoryUpdate(side=side, path=path, previous=previous, notes=notes,
                                      trigger=trigger))
        try:
            keeper.save(side, notes)
        except OSError as exc:
            await self._emit(ErrorEvent(side=side, kind="memory", message=(
                f"cannot write {path} ({exc.strerror or exc}); the new notes are in the "
                "session file")))
            return
        self._notes_from[side] = stop

    async def _loop(self) -> tuple[str, str]:
        failures = 0
        while True:
            if self._stop_reason:
                return self._stop_reason, ""
            limit = self._limit_reached()
            if limit is not None:
                return limit
            side = self.next_side
            script = self._scripted_due(side)
            if script is not None:
                rule = self.config.operator[script]
                await self._record_operator_turn(side, rule.text, script=script)
                continue
            if self._pending[side]:
                ref, text = self._pending[side].popleft()
                await self._record_operator_turn(side, text, ref)
                continue
            if self.paused:
                await self._set_state("paused")
                await self._wait_unpaused_or_interjection(side)
                continue
            try:
                turn = await self._generate_slot(side)
            except _Interrupted:
                continue
            except Exception as exc:  # provider errors of every kind
                side_cfg = self.config.side(side)
                problem = describe(exc, side_cfg.model, failures,
                                   api_base=side_cfg.params.get("api_base"),
                                   attempts=self.config.num_retries + 1)
                failures += 1
                if problem.kind == "context":
                    problem = explain_overflow(problem, self.config, side, self.turns, self.trims)
                if problem.kind == "context" and failures <= 3:
                    await self._emit(ErrorEvent(side=side, kind="context", retryable=True,
                                                message=problem.message + "; trimming it"))
                    await self._fit_context(side, force=True)
                    continue
                if problem.retryable and failures <= self.config.num_retries:
                    await self._emit(
                        ErrorEvent(
                            side=side, message=problem.message, kind=problem.kind,
                            retryable=True, retry_in=problem.retry_in,
                        )
                    )
                    wait = 1.0 if problem.retry_in is None else problem.retry_in
                    await self._sleep(wait * self.backoff)
                    continue
                if await self._give_up(side, problem):
                    return "error", problem.given_up
                failures = 0
                continue
            failures = 0
            if turn.interrupted and self._stop_reason:
                return self._stop_reason, ""

    async def _give_up(self, side: Side, problem: Problem) -> bool:
        """Record the error; stop (headless) or pause for the operator (TUI)."""
        message = problem.given_up
        await self._emit(ErrorEvent(side=side, message=message, kind=problem.kind))
        if self.on_error == "stop":
            return True
        self._unpaused.clear()
        await self._set_state("paused", f"error: {message}")
        return False

    async def _wait_unpaused_or_interjection(self, side: Side) -> None:
        while self.paused and not self._pending[side] and not self._stop_reason:
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._unpaused.wait()),
                       asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        if not self.paused:
            await self._set_state("running")

    async def _pace(self, side: Side, cfg: SideConfig, messages: list[dict[str, Any]]) -> None:
        """Wait for `side`'s per-minute budget; meanwhile the state is `pacing`, saying why."""
        pacer = self.pacers.get(side)
        if pacer is None:
            return

        async def waiting(seconds: float) -> None:
            await self._set_state("pacing", f"{side} waits {seconds:.0f} s to stay under "
                                            f"{pacer.describe()}")

        try:
            await pacer.acquire(call_tokens(cfg, messages), waiting)
        finally:  # also when a stop or an interjection cut the wait short
            if self.state == "pacing":
                await self._set_state("running")

    async def _sleep(self, seconds: float) -> None:
        """Wait before a retry; a stop command cuts it short."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _scripted_due(self, side: Side) -> int | None:
        """The first scripted rule that fills `side`'s slot now, if any (`ScriptedTurn`)."""
        current = self.round
        for n, rule in enumerate(self.config.operator):
            if rule.side != side:
                continue
            fired = self._fired.get(n)
            if fired:
                if rule.every is not None and current >= fired[-1] + rule.every:
                    return n
                continue
            if current < rule.round - 1:
                continue
            if rule.when == "attractor" and (self.meter is None
                                             or self.meter.label in NOT_YET_ATTRACTOR):
                continue
            return n
        return None

    def _note_turn(self, turn: Turn) -> None:
        """Feed the meter and remember scripted firings (prior turns and new ones)."""
        if self.meter is not None:
            self.meter.add(turn)
        if turn.script is not None and not turn.interrupted:
            self._fired.setdefault(turn.script, []).append(turn.round)

    async def _record_operator_turn(self, side: Side, text: str, ref: str | None = None,
                                    script: int | None = None) -> Turn:
        """An operator turn: typed (`ref` of its queued text) or scripted (`script`)."""
        index = len(self.turns)
        rule = None if script is None else self.config.operator[script].describe()
        await self._emit(
            TurnBegin(index=index, round=self.round, side=side, model="operator",
                      author="operator", rule=rule)
        )
        turn = Turn(
            index=index, round=self.round, side=side, author="operator", text=text,
            sent_text=EMPTY_PLACEHOLDER if is_blank(text) else None, started=now(),
            from_queue=ref, scripted=True if script is not None else None, script=script,
            rule=rule,
        )
        self._add_turn(turn)
        await self._emit(turn)
        return turn

    async def _generate_slot(self, side: Side) -> Turn:
        self._interrupt_requested = False
        self._began = False
        self.generating = side
        self._gen_task = asyncio.ensure_future(self._stream_turn(side))
        try:
            turn = await self._gen_task
        finally:
            self.generating = None
            self._gen_task = None
        self._add_turn(turn)
        await self._emit(turn)
        if self.paused:
            await self._set_state("paused")
        if turn.interrupted:
            raise _Interrupted
        return turn

    def _add_turn(self, turn: Turn) -> None:
        self.turns.append(turn)
        self._note_turn(turn)
        for rule in self.stop_rules:
            rule.add(turn)
        if not turn.interrupted:
            self._completed += 1
            self._last_of[turn.side] = turn

    def _interrupt(self) -> None:
        task = self._gen_task
        if task is not None and not task.done():
            self._interrupt_requested = True
            if self._began:  # before that, the turn sees the request as it begins
                task.cancel()

    async def _stream_turn(self, side: Side) -> Turn:
        cfg = self.config.side(side)
        await self._fit_context(side)
        index, round_ = len(self.turns), self.round
        state = _TurnState(side=side, index=index, round=round_, model=cfg.model)
        await self._emit(TurnBegin(index=index, round=round_, side=side, model=cfg.model))
        messages = self._histories.messages(side, self.turns, self.trims)
        try:
            # a cancel before this point would escape the handler below (a stop right
            # as a turn starts then ended the run with CancelledError): so none comes
            # before, and a request made meanwhile is taken here
            self._began = True
            if self._interrupt_requested:
                raise asyncio.CancelledError
            for _ in range(MAX_TOOL_ROUNDS):
                call = self._stream_call if self.stream else self._whole_call
                await self._pace(side, cfg, messages)
                calls = await call(cfg, messages, state)
                if not calls:
                    break
                offset = len(state.text)
                records = [await self._decide(side, index, cfg, call, offset) for call in calls]
                state.calls.extend(records)
                ended = next((r for r in records if r.outcome in ("ended", "allowed")), None)
                if ended is not None:
                    self._tool_end = f"tool:{ended.name}"
                    break
                segment = Turn(index=index, round=round_, side=side, text=state.text[:offset],
                               tool_calls=records)
                messages = [*messages, *_tool_messages(segment, offset)]
        except asyncio.CancelledError:
            if not self._interrupt_requested:
                raise
            return self._make_turn(state, "interrupted", interrupted=True)
        except Exception:
            if state.parts:  # keep what arrived before the failure
                turn = self._make_turn(state, "error", interrupted=True)
                self._add_turn(turn)
                await self._emit(turn)
            raise
        return self._make_turn(state, state.finish)

    async def _whole_call(
        self, cfg: SideConfig, messages: list[dict[str, Any]], state: _TurnState
    ) -> list[dict[str, str]]:
        """One non-streamed completion, recorded as `_stream_call` records the same answer."""
        from attractor_tui.backends.litellm_setup import get_litellm, lean_call, price_in_process

        litellm = get_litellm()
        extra: dict[str, Any] = {}
        if cfg.model.startswith("embedded/"):  # one cached llama.cpp slot per side, as streamed
            extra["slot_key"] = f"{self.session_id}:{state.side}"
        if cfg.tools:
            extra["tools"] = [tool.openai_schema() for tool in cfg.tools]
        model, lean = lean_call(cfg.model, cfg.params, extra.get("tools"))  # the turn keeps cfg's
        price_in_process(cfg.model)  # for `_cost`, under the user's string
        price_in_process(model)  # for litellm's own look-ups on the lean path
        response: Any = await litellm.acompletion(
            model=model, messages=messages, stream=False, temperature=cfg.temperature,
            max_tokens=cfg.max_tokens, timeout=self.config.timeout, num_retries=0,
            **extra, **lean, **cfg.params,
        )
        state.add_usage(getattr(response, "usage", None))
        choice = response.choices[0] if response.choices else None
        message = getattr(choice, "message", None)
        if choice is not None and choice.finish_reason:
            state.finish = choice.finish_reason
        content = mend_surrogates(getattr(message, "content", None) or "")
        if content:
            state.parts.append(content)
            self._emit_transient(TextDelta(index=state.index, side=state.side, text=content))
        calls = [{"id": c.id or "", "name": mend_surrogates(c.function.name or ""),
                  "args": mend_surrogates(c.function.arguments or "")}
                 for c in (getattr(message, "tool_calls", None) or ())]
        for n, call in enumerate(calls):
            self._emit_transient(ToolCallDelta(index=state.index, side=state.side, call_index=n,
                                               name=call["name"], arguments=call["args"]))
        return calls

    async def _stream_call(
        self, cfg: SideConfig, messages: list[dict[str, Any]], state: _TurnState
    ) -> list[dict[str, str]]:
        """One streamed completion; returns the tool calls it made."""
        from attractor_tui.backends.litellm_setup import get_litellm, price_in_process

        litellm = get_litellm()
        price_in_process(cfg.model)
        side, index = state.side, state.index
        emit = self._emit_transient
        calls: dict[int, dict[str, str]] = {}
        extra: dict[str, Any] = dict(_usage_option(cfg.model))
        if cfg.model.startswith("embedded/"):  # one cached llama.cpp slot per side
            extra["slot_key"] = f"{self.session_id}:{side}"
        if cfg.tools:
            extra["tools"] = [tool.openai_schema() for tool in cfg.tools]
        stream: Any = None
        usage: Any = None
        try:
            stream = await litellm.acompletion(
                model=cfg.model,
                messages=messages,
                stream=True,
                temperature=cfg.temperature,
                max_tokens=cfg.max_tokens,
                timeout=self.config.timeout,
                num_retries=0,
                **extra,
                **cfg.params,
            )
            chunk: Any = None
            held = ""  # a high surrogate ending a chunk waits for its low half in the next
            async for chunk in stream:
                usage = getattr(chunk, "usage", None) or usage
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                delta = choice.delta
                if choice.finish_reason:
                    state.finish = choice.finish_reason
                content = delta.content if delta is not None else None
                if content:
                    content, held = _split_high_surrogate(held + content)
                    if content:
                        state.parts.append(content)
                        emit(TextDelta(index=index, side=side, text=content))
                for call in (delta.tool_calls if delta is not None else None) or ():
                    slot = calls.setdefault(call.index or 0, {"id": "", "name": "", "args": ""})
                    slot["id"] = call.id or slot["id"]
                    if call.function is not None:
                        slot["name"] += call.function.name or ""
                        slot["args"] += call.function.arguments or ""
                    emit(ToolCallDelta(index=index, side=side, call_index=call.index or 0,
                                       name=_shown(slot["name"]), arguments=_shown(slot["args"])))
            if held:  # the stream ended on half a pair
                state.parts.append(SURROGATE_MARK)
                emit(TextDelta(index=index, side=side, text=SURROGATE_MARK))
            if usage is None and chunk is not None:  # without include_usage litellm keeps it here
                usage = (getattr(chunk, "_hidden_params", None) or {}).get("usage")
        finally:
            state.add_usage(usage)
            await _close_stream(stream)
        return [{key: mend_surrogates(value) for key, value in calls[k].items()}
                for k in sorted(calls)]

    async def _decide(
        self, side: Side, index: int, cfg: SideConfig, call: dict[str, str], offset: int
    ) -> ToolCallRecord:
        spec = next((t for t in cfg.tools if t.name == call["name"]), None)
        verdict = self.judge.judge(spec, call["name"])
        record = ToolCallRecord(id=call["id"], name=call["name"], arguments=call["args"],
                                outcome=verdict.outcome, result=verdict.result, offset=offset)
        if verdict.outcome == "ask":
            record = await self._ask_operator(side, index, record)
        self._emit_transient(ToolDecision(index=index, side=side, call=record))
        return record

    async def _ask_operator(self, side: Side, index: int, record: ToolCallRecord) -> ToolCallRecord:
        if not self.interactive:
            return record.model_copy(update={
                "outcome": "denied", "result": f"{record.result} (no operator present: denied)",
            })
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        key = record.id or f"{index}:{record.name}"
        self._asks[key] = future
        self._emit_transient(
            ToolDecision(index=index, side=side, call=record.model_copy(update={"id": key}),
                         pending=True)
        )
        await self._set_state("waiting", f"allow or deny {record.name}?")
        try:
            allowed = await future
        finally:
            self._asks.pop(key, None)
        await self._set_state("running")
        if allowed:
            return record.model_copy(update={"outcome": "allowed",
                                             "result": "The conversation has ended."})
        return record.model_copy(update={"outcome": "denied"})

    def decide(self, call_id: str, allow: bool) -> bool:
        """The operator's answer to a pending `ask` tool call."""
        future = self._asks.get(call_id)
        if future is None or future.done():
            return False
        future.set_result(allow)
        return True

    def pending_asks(self) -> list[str]:
        return list(self._asks)

    async def _fit_context(self, side: Side, force: bool = False) -> None:
        cfg = self.config.side(side)
        if cfg.context == "none" and not force:
            return
        keep_from = plan_keep_from(self.config, side, self.turns, self.trims, force=force)
        if keep_from is None:
            return
        previous = next((t.keep_from for t in reversed(self.trims) if t.side == side), 0)
        dropped = sum(1 for t in self.turns if previous <= t.index < keep_from
                      and not t.interrupted)
        summary: str | None = None
        action: Literal["truncate", "summarize"] = "truncate"
        if cfg.context == "summarize":
            try:
                summary = await summarize(self.config, side, self.turns, self.trims, keep_from)
                action = "summarize"
            except Exception as exc:
                problem = describe(exc, cfg.model)
                await self._emit(ErrorEvent(side=side, kind="context",
                                            message=f"summary failed ({problem.message}); "
                                                    "dropped the oldest turns instead"))
        trim = ContextTrim(side=side, action=action, keep_from=keep_from, summary=summary,
                           dropped=dropped)
        self.trims.append(trim)
        await self._emit(trim)
        if action == "summarize" and self.memory is not None and side in self.memory.sides():
            await self._remember(side, "summarize", keep_from)

    def _make_turn(self, state: _TurnState, finish: str | None, *,
                   interrupted: bool = False) -> Turn:
        text = state.text
        calls = list(state.calls)
        if not interrupted:
            calls.extend(self._phrase_matches(state.side, text))
        tokens = None
        if state.prompt_tokens or state.completion_tokens:
            tokens = Usage(prompt_tokens=state.prompt_tokens,
                           completion_tokens=state.completion_tokens)
        return Turn(
            index=state.index, round=state.round, side=state.side, model=state.model, text=text,
            # an interrupted turn is never delivered, so nothing stands in for it
            sent_text=EMPTY_PLACEHOLDER if is_blank(text) and not interrupted else None,
            tool_calls=calls, interrupted=interrupted, started=state.started,
            usage=tokens, cost=_cost(state.model, tokens), finish_reason=finish,
        )

    def _phrase_matches(self, side: Side, text: str) -> list[ToolCallRecord]:
        folded = text.casefold()
        return [
            ToolCallRecord(name="stop_phrase", arguments=json.dumps({"phrase": phrase}),
                           outcome="matched", offset=len(text), kind="phrase")
            for phrase in self.config.side(side).stop_phrases
            if phrase.strip() and phrase.casefold() in folded
        ]

    def _limit_reached(self) -> tuple[str, str] | None:
        """A configured stop condition that now holds, as (reason, detail)."""
        cfg = self.config
        if self._tool_end:
            return self._tool_end, ""
        if self.max_turns is not None and self.completed_turns >= self.max_turns:
            return "turns", f"{self.completed_turns} turns"
        last = self._last_of
        said = [s for s, t in last.items() if any(c.kind == "phrase" for c in t.tool_calls)]
        if said and (cfg.stop_policy == "either" or len(said) == 2):
            latest = max((last[s] for s in said), key=lambda t: t.index)
            if latest.index == self.turns[-1].index or cfg.stop_policy == "both":
                return "phrase", f"stop phrase said by {' and '.join(sorted(said))}"
        for rule in self.stop_rules:
            reached = rule.reached()
            if reached is not None:
                return reached
        if cfg.token_budget is not None and self.tokens_used >= cfg.token_budget:
            return "budget:tokens", f"{self.tokens_used} tokens used"
        if cfg.cost_budget is not None and self.cost_used >= cfg.cost_budget:
            return "budget:cost", f"${self.cost_used:.4f} spent"
        if cfg.time_limit is not None and time.monotonic() - self._started >= cfg.time_limit:
            return "time", f"{cfg.time_limit:g} s limit"
        return None

    @property
    def tokens_used(self) -> int:
        return sum(t.usage.prompt_tokens + t.usage.completion_tokens
                   for t in self.turns if t.usage is not None)

    @property
    def cost_used(self) -> float:
        return sum(t.cost or 0.0 for t in self.turns)

    # -------------------------------------------------------------- emitting

    async def _emit(self, event: Event) -> None:
        if self.writer is not None:
            if self._opened or isinstance(event, SessionStart | SessionResume):
                await self.writer.write(event)
            else:  # a command arrived before `run` opened the file: keep it for later
                self._early.append(event)
        for listener in self.listeners:
            listener(event)

    async def _open(self, event: SessionStart | SessionResume) -> None:
        """Write the first event, then whatever commands arrived before it."""
        await self._emit(event)
        self._opened = True
        early, self._early = self._early, []
        if self.writer is not None:
            for queued in early:
                await self.writer.write(queued)

    def _emit_transient(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)

    async def _set_state(self, state: str, detail: str = "") -> None:
        if self.state == state and not detail:
            return
        self.state = state
        self._emit_transient(StateChange(state=state, detail=detail))  # type: ignore[arg-type]

    async def _finish(self, reason: str, detail: str) -> SessionEnd:
        if self.ended is None:
            self.ended = SessionEnd(reason=reason, detail=detail)
            await self._emit(self.ended)
            await self._set_state("ended", reason)
        return self.ended


@dataclass
class _TurnState:
    """What one turn has produced so far, across its tool rounds."""

    side: Side
    index: int
    round: int
    model: str
    parts: list[str] = field(default_factory=list)
    calls: list[ToolCallRecord] = field(default_factory=list)
    finish: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    started: datetime = field(default_factory=now)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add_usage(self, usage: Any) -> None:
        if usage is not None:
            self.prompt_tokens += getattr(usage, "prompt_tokens", 0) or 0
            self.completion_tokens += getattr(usage, "completion_tokens", 0) or 0


def _split_high_surrogate(text: str) -> tuple[str, str]:
    """`text` made storable, and a trailing high surrogate held back for the next chunk.

    A provider may split one emoji's UTF-16 pair over two chunks; shown or
    stored alone, either half is an error (and unwritable UTF-8).
    """
    if text and "\ud800" <= text[-1] <= "\udbff":
        return mend_surrogates(text[:-1]), text[-1]
    return mend_surrogates(text), ""


def _shown(text: str) -> str:
    """A tool call's name or arguments so far, for live display (no half pair)."""
    return _split_high_surrogate(text)[0]


def _tool_messages(segment: Turn, offset: int) -> list[dict[str, Any]]:
    """The assistant tool-call message and tool results to continue a turn with."""
    return tool_round_messages(segment)


async def _close_stream(stream: Any) -> None:
    """Close the provider stream so native generation stops at once."""
    if stream is None:
        return
    for target in (getattr(stream, "completion_stream", None), stream):
        closer = getattr(target, "aclose", None)
        if closer is not None:
            with contextlib.suppress(Exception):
                result = closer()
                if isinstance(result, Awaitable):
                    await result


def _usage_option(model: str) -> dict[str, Any]:
    """Ask remote providers for token usage; our in-process ones always send it.

    (`include_usage` makes litellm rebuild usage on every chunk: a third more
    time per streamed token, for nothing, on a zero-latency provider.)
    """
    if model.startswith(("embedded/", "scripted/")):
        return {}
    return {"stream_options": {"include_usage": True}}


def _cost(model: str, usage: Usage | None) -> float | None:
    from attractor_tui.backends.litellm_setup import get_litellm, unpriced

    if usage is None or unpriced(model):
        return None

    try:
        prompt, completion = get_litellm().cost_per_token(
            model=model, prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )
    except Exception:
        return None
    return float(prompt + completion)
