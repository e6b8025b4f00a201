"""Per-minute limits (`tpm`, `rpm`): wait before a call instead of meeting a 429.

A long system prompt is sent again with every turn, so a provider's
tokens-per-minute limit is reached after a few turns. The engine awaits
`Pacer.acquire` before each call. The pacer keeps the calls of the last 60
seconds (a rolling minute rather than a refilling bucket: a bucket that starts
full lets through up to twice its size within one minute, which a provider
counting a rolling minute refuses; whatever keeps to the rolling minute also
keeps to a bucket of that size).

A call's tokens are estimated before it is made, as `core.context` estimates
them (3 characters a token, pessimistic: no tokenizer runs per turn) plus its
`max_tokens`, which providers such as OpenAI count against the limit up front.
Sides on the same model and server share one pacer: the provider counts both
against one limit.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from attractor_tui.core.config import SIDES, SessionConfig, Side, SideConfig
from attractor_tui.core.context import estimate_tokens

MINUTE = 60.0


class Clock(Protocol):
    """Where the pacer reads time and waits (tests pass `tests.support.builders.FakeClock`)."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The real clock."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Pacer:
    """The calls of the last minute to one model on one server, against `tpm` and `rpm`."""

    def __init__(self, tpm: int | None = None, rpm: int | None = None,
                 clock: Clock | None = None) -> None:
        self.tpm, self.rpm = tpm, rpm
        self.clock: Clock = clock or MonotonicClock()
        self._calls: deque[tuple[float, int]] = deque()
        """(when, tokens) of each call made within the last minute, oldest first."""

    def wait_for(self, tokens: int) -> float:
        """Seconds until a call of `tokens` keeps to both limits (0: it may go now).

        A call larger than the whole `tpm` waits until the minute is empty, then goes.
        """
        now = self.clock.now()
        while self._calls and self._calls[0][0] <= now - MINUTE:
            self._calls.popleft()
        until = now
        if self.rpm is not None and len(self._calls) >= self.rpm:
            until = max(until, self._calls[len(self._calls) - self.rpm][0] + MINUTE)
        if self.tpm is not None:
            used = sum(n for _, n in self._calls)
            for when, n in self._calls:  # oldest first: wait until enough have aged out
                if used + tokens <= self.tpm:
                    break
                used -= n
                until = max(until, when + MINUTE)
        return max(0.0, until - now)

    async def acquire(self, tokens: int,
                      on_wait: Callable[[float], Awaitable[None]] | None = None) -> bool:
        """Wait until a call of `tokens` may go, then count it; True if it had to wait."""
        waited = False
        while (wait := self.wait_for(tokens)) > 0:
            waited = True
            if on_wait is not None:
                await on_wait(wait)
            await self.clock.sleep(wait)
        self._calls.append((self.clock.now(), tokens))
        return waited

    def describe(self) -> str:
        """The limits, e.g. `20,000 tokens/min`, for the status line."""
        parts = [f"{self.tpm:,} tokens/min" if self.tpm else "",
                 f"{self.rpm:,} calls/min" if self.rpm else ""]
        return " and ".join(p for p in parts if p)


def call_tokens(cfg: SideConfig, messages: Sequence[dict[str, Any]]) -> int:
    """What a call counts against `tpm`: its messages (estimated) and its `max_tokens`."""
    return estimate_tokens(messages) + cfg.max_tokens


def pacers_for(config: SessionConfig, clock: Clock | None = None) -> dict[Side, Pacer]:
    """A pacer for each side with a limit; sides on one model and server share one.

    A shared pacer keeps to the tighter of the two sides' limits (a side without
    one still counts: the provider counts its calls too).
    """
    def key(cfg: SideConfig) -> tuple[str, str]:
        return cfg.model, str(cfg.params.get("api_base") or "")

    clock = clock or MonotonicClock()
    pacers: dict[Side, Pacer] = {}
    a, b = config.a, config.b
    if key(a) == key(b) and any(v is not None for v in (a.tpm, a.rpm, b.tpm, b.rpm)):
        shared = Pacer(_tighter(a.tpm, b.tpm), _tighter(a.rpm, b.rpm), clock)
        return {"A": shared, "B": shared}
    for side in SIDES:
        cfg = config.side(side)
        if cfg.tpm is not None or cfg.rpm is not None:
            pacers[side] = Pacer(cfg.tpm, cfg.rpm, clock)
    return pacers


def _tighter(x: int | None, y: int | None) -> int | None:
    return y if x is None else x if y is None else min(x, y)
