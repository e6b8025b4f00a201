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
import unicodedata
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal

from .config import SessionConfig, Side
from .errors import Problem, describe
from .events import (
    EMPTY_PLACEHOLDER,
    ErrorEvent,
    Event,
    OperatorAction,
    SessionEnd,
    SessionResume,
    SessionStart,
    StateChange,
    TextDelta,
    ToolCallDelta,
    ToolCallRecord,
    Turn,
    TurnBegin,
    Usage,
    now,
)
from .history import messages_for
from .store import SessionWriter, new_session_id

Listener = Callable[[Event], None]
ErrorPolicy = Literal["stop", "pause"]
_EXTRA_BLANKS = {"\u3164", "\u115f", "\u1160", "\uffa0", "\u2800"}


def is_blank(text: str) -> bool:
    """True for text a reader would see as nothing (also zero-width characters)."""
    return all(
        ch.isspace() or ch in _EXTRA_BLANKS or unicodedata.category(ch) in ("Cf", "Cc", "Zs")
        for ch in text
    )


class _Interrupted(Exception):
    pass


class Engine:
    """Runs one session; see the module docstring for the rules."""

    def __init__(
        self,
        config: SessionConfig,
        *,
        writer: SessionWriter | None = None,
        listeners: Iterable[Listener] = (),
        prior: Iterable[Turn] = (),
        resume: bool = False,
        max_turns: int | None = None,
        on_error: ErrorPolicy = "stop",
        session_id: str | None = None,
        start: SessionStart | None = None,
        backoff: float = 1.0,
    ) -> None:
        self.config = config
        self.writer = writer
        self.listeners: list[Listener] = list(listeners)
        self.turns: list[Turn] = list(prior)
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
        self._pending: dict[Side, deque[str]] = {"A": deque(), "B": deque()}
        self._unpaused = asyncio.Event()
        self._unpaused.set()
        self._wake = asyncio.Event()
        self._stop_reason: str | None = None
        self._gen_task: asyncio.Task[Turn] | None = None
        self._interrupt_requested = False
        self.generating: Side | None = None
        self.ended: SessionEnd | None = None
        self.state: str = "running"

    # ------------------------------------------------------------ properties

    @property
    def completed_turns(self) -> int:
        return sum(1 for t in self.turns if not t.interrupted)

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
        """The operator writes `side`'s next turn; `now` interrupts it if generating."""
        if self.ended:
            return
        self._pending[side].append(text)
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
        return list(self._pending[side])

    # ------------------------------------------------------------------ loop

    async def run(self) -> SessionEnd:
        if self.resume_mode:
            await self._emit(SessionResume(turns=self.max_turns))
        else:
            await self._emit(
                self._start or SessionStart(session_id=self.session_id, config=self.config)
            )
        await self._set_state("running")
        try:
            reason = await self._loop()
        except asyncio.CancelledError:
            await self._finish("operator", "cancelled")
            raise
        return await self._finish(*reason)

    async def _loop(self) -> tuple[str, str]:
        failures = 0
        while True:
            if self._stop_reason:
                return self._stop_reason, ""
            if self.max_turns is not None and self.completed_turns >= self.max_turns:
                return "turns", f"{self.completed_turns} turns"
            side = self.next_side
            if self._pending[side]:
                await self._record_operator_turn(side, self._pending[side].popleft())
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
                problem = describe(exc, self.config.side(side).model, failures)
                failures += 1
                if problem.retryable and failures <= self.config.num_retries:
                    await self._emit(
                        ErrorEvent(
                            side=side, message=problem.message, kind=problem.kind,
                            retryable=True, retry_in=problem.retry_in,
                        )
                    )
                    await self._sleep((problem.retry_in or 1.0) * self.backoff)
                    continue
                if await self._give_up(side, problem):
                    return "error", problem.message
                failures = 0
                continue
            failures = 0
            if turn.interrupted and self._stop_reason:
                return self._stop_reason, ""

    async def _give_up(self, side: Side, problem: Problem) -> bool:
        """Record the error; stop (headless) or pause for the operator (TUI)."""
        message = problem.message
        if problem.kind == "rate_limit":
            message = "rate limited; retries used up"
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

    async def _sleep(self, seconds: float) -> None:
        """Wait before a retry; a stop command cuts it short."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _record_operator_turn(self, side: Side, text: str) -> Turn:
        index = len(self.turns)
        await self._emit(
            TurnBegin(index=index, round=self.round, side=side, model="operator",
                      author="operator")
        )
        turn = Turn(
            index=index, round=self.round, side=side, author="operator", text=text,
            sent_text=EMPTY_PLACEHOLDER if is_blank(text) else None, started=now(),
        )
        self.turns.append(turn)
        await self._emit(turn)
        return turn

    async def _generate_slot(self, side: Side) -> Turn:
        self._interrupt_requested = False
        self.generating = side
        self._gen_task = asyncio.ensure_future(self._stream_turn(side))
        try:
            turn = await self._gen_task
        finally:
            self.generating = None
            self._gen_task = None
        self.turns.append(turn)
        await self._emit(turn)
        if self.paused:
            await self._set_state("paused")
        if turn.interrupted:
            raise _Interrupted
        return turn

    def _interrupt(self) -> None:
        task = self._gen_task
        if task is not None and not task.done():
            self._interrupt_requested = True
            task.cancel()

    async def _stream_turn(self, side: Side) -> Turn:
        from .backends.litellm_setup import get_litellm

        cfg = self.config.side(side)
        index, round_ = len(self.turns), self.round
        started = now()
        await self._emit(TurnBegin(index=index, round=round_, side=side, model=cfg.model))
        messages = messages_for(self.config, side, self.turns)
        litellm = get_litellm()
        parts: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        usage: Any = None
        finish: str | None = None
        stream: Any = None
        emit = self._emit_transient
        try:
            stream = await litellm.acompletion(
                model=cfg.model,
                messages=messages,
                stream=True,
                temperature=cfg.temperature,
                max_tokens=cfg.max_tokens,
                timeout=self.config.timeout,
                num_retries=0,
                stream_options={"include_usage": True},
                **cfg.params,
            )
            async for chunk in stream:
                usage = getattr(chunk, "usage", None) or usage
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                delta = choice.delta
                if choice.finish_reason:
                    finish = choice.finish_reason
                content = delta.content if delta is not None else None
                if content:
                    parts.append(content)
                    emit(TextDelta(index=index, side=side, text=content))
                for call in (delta.tool_calls if delta is not None else None) or ():
                    slot = calls.setdefault(call.index or 0, {"id": "", "name": "", "args": ""})
                    slot["id"] = call.id or slot["id"]
                    if call.function is not None:
                        slot["name"] += call.function.name or ""
                        slot["args"] += call.function.arguments or ""
                    emit(ToolCallDelta(index=index, side=side, call_index=call.index or 0,
                                       name=slot["name"], arguments=slot["args"]))
        except asyncio.CancelledError:
            if not self._interrupt_requested:
                raise
            return self._make_turn(side, index, round_, cfg.model, parts, calls, started,
                                   usage, "interrupted", interrupted=True)
        except Exception:
            if parts:  # keep what arrived before the failure
                turn = self._make_turn(side, index, round_, cfg.model, parts, calls, started,
                                       usage, "error", interrupted=True)
                self.turns.append(turn)
                await self._emit(turn)
            raise
        finally:
            await _close_stream(stream)
        return self._make_turn(side, index, round_, cfg.model, parts, calls, started, usage,
                               finish)

    def _make_turn(
        self, side: Side, index: int, round_: int, model: str, parts: list[str],
        calls: dict[int, dict[str, str]], started: Any, usage: Any, finish: str | None,
        *, interrupted: bool = False,
    ) -> Turn:
        text = "".join(parts)
        records = [
            ToolCallRecord(id=c["id"], name=c["name"], arguments=c["args"])
            for _, c in sorted(calls.items())
        ]
        tokens = None
        if usage is not None:
            tokens = Usage(
                prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            )
        return Turn(
            index=index, round=round_, side=side, model=model, text=text,
            sent_text=EMPTY_PLACEHOLDER if is_blank(text) else None,
            tool_calls=records, interrupted=interrupted, started=started,
            usage=tokens, cost=_cost(model, tokens), finish_reason=finish,
        )

    # -------------------------------------------------------------- emitting

    async def _emit(self, event: Event) -> None:
        if self.writer is not None:
            await self.writer.write(event)
        for listener in self.listeners:
            listener(event)

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


def _cost(model: str, usage: Usage | None) -> float | None:
    if usage is None or model.startswith(("embedded/", "scripted/")):
        return None
    from .backends.litellm_setup import get_litellm

    try:
        prompt, completion = get_litellm().cost_per_token(
            model=model, prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )
    except Exception:
        return None
    return float(prompt + completion)
