"""The optional LLM judge: a second opinion on each conversation's end state.

`analyze --judge MODEL` asks any litellm model (through
`backends.litellm_setup.get_litellm()`) to label each conversation with the
rubric of `judge_rubric`. The answer is requested with litellm's
`response_format`: a JSON schema where litellm's `supports_response_schema`
says the model takes one, else JSON mode (`json_object`); `drop_params` lets
a provider that takes neither answer from the prompt alone. Answers are
validated (`judge_rubric.parse_answer`); an invalid one is sent back with the
reason and asked again once. Verdicts are cached beside the sessions
(`judge_cache`), so a re-run makes no call.

The rules' label is never replaced: each record keeps it and gains
`judge: {...}`; `agreement` compares the two.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attractor_tui.analysis import judge_cache
from attractor_tui.analysis.judge_agreement import PairAgreement, pair_agreement
from attractor_tui.analysis.judge_rubric import (
    SCHEMA,
    SYSTEM_PROMPT,
    InvalidAnswer,
    Verdict,
    parse_answer,
    user_prompt,
)
from attractor_tui.core.events import Turn
from attractor_tui.sessions.log import SessionFileError

if TYPE_CHECKING:
    from attractor_tui.sessions.log import SessionLog

CHARS_PER_TOKEN = 4
"""How the cost estimate turns transcript characters into tokens (no tokenizer needed)."""
ANSWER_TOKENS = 200
"""Output tokens assumed per verdict for the estimate (four keys and a sentence or two)."""
TIMEOUT = 120.0
"""Seconds one judge call may take."""
CONCURRENCY = 4
"""Judge calls in flight at once after the first (`analyze --judge-concurrency`)."""
RETRIES = 1
"""Retries of a failed call by the provider's client (litellm's own `num_retries` needs
tenacity); a failure after them stops the run, and the verdicts so far stay cached, so
running again goes on from there."""


class JudgeError(Exception):
    """No valid verdict for one conversation; the message is one line."""


class ProviderError(JudgeError):
    """The model could not be reached or refused: the rest would fail alike."""


@dataclass(frozen=True)
class JudgeConfig:
    model: str
    api_base: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    """More litellm keyword arguments (tests: `script`, `mock_response`)."""
    concurrency: int = CONCURRENCY

    @property
    def key(self) -> str:
        return judge_cache.judge_key(self.model, self.api_base)


def response_format(model: str) -> dict[str, Any]:
    """`json_schema` where litellm says the model supports a response schema, else JSON mode."""
    from attractor_tui.backends.litellm_setup import get_litellm

    if get_litellm().supports_response_schema(model=model):
        return {"type": "json_schema",
                "json_schema": {"name": "attractor_verdict", "schema": SCHEMA, "strict": True}}
    return {"type": "json_object"}


def _complete(config: JudgeConfig, messages: list[dict[str, str]]) -> tuple[str, int]:
    """One call: the reply's text and the tokens it used (0 when not reported)."""
    from attractor_tui.backends.litellm_setup import get_litellm
    from attractor_tui.core.errors import describe

    litellm = get_litellm()
    kwargs: dict[str, Any] = {
        "model": config.model, "messages": messages,
        "response_format": response_format(config.model), "temperature": 0,
        "timeout": TIMEOUT, "max_retries": RETRIES, "drop_params": True,
    }
    if config.api_base:
        kwargs["api_base"] = config.api_base
    try:
        response = litellm.completion(**{**kwargs, **config.params})
    except Exception as exc:  # litellm raises many kinds; each becomes one sentence
        problem = describe(exc, config.model, api_base=config.api_base)
        raise ProviderError(f"judge {config.model}: {problem.given_up}") from exc
    choice = response.choices[0]
    usage = getattr(response, "usage", None)
    return (choice.message.content or ""), int(getattr(usage, "total_tokens", 0) or 0)


def judge_turns(turns: Sequence[Turn], config: JudgeConfig) -> dict[str, Any]:
    """Ask the judge about one conversation: the verdict as a dict, plus how it went.

    Raises `JudgeError` when the answer is invalid twice, `ProviderError`
    when the call itself fails.
    """
    prompt, elided = user_prompt(turns)
    messages = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": prompt}]
    tokens = 0
    for attempt in (1, 2):
        text, used = _complete(config, messages)
        tokens += used
        try:
            verdict: Verdict = parse_answer(text, len(turns))
        except InvalidAnswer as exc:
            if attempt == 2:
                raise JudgeError(f"judge {config.model} gave an invalid answer twice ({exc})"
                                 ) from exc
            messages += [{"role": "assistant", "content": text},
                         {"role": "user", "content": f"That answer is invalid: {exc}. Answer "
                                                     "again with the JSON object only."}]
            continue
        return {**verdict.model_dump(), "attempts": attempt, "elided": elided,
                "tokens": tokens}
    raise AssertionError("unreachable")  # the loop returns or raises


# ------------------------------------------------------------------ cost


@dataclass(frozen=True)
class Estimate:
    conversations: int
    input_tokens: int
    output_tokens: int
    cost: float | None
    """US dollars from litellm's price table; None when the model has no price there."""

    def line(self, model: str, cached: int) -> str:
        if self.cost is None:
            price = "unknown price (no entry in litellm's price table: a local model?)"
        elif self.cost == 0:
            price = "unknown price (litellm's price table says $0: a local model?)"
        else:
            price = f"about ${self.cost:.4f}"
        done = f", {cached} already cached" if cached else ""
        return (f"judge {model}: {self.conversations} conversation(s) to judge{done}; "
                f"~{self.input_tokens:,} input + ~{self.output_tokens:,} output tokens "
                f"(estimated at {CHARS_PER_TOKEN} characters per token): {price}")


def estimate(conversations: Sequence[Sequence[Turn]], model: str) -> Estimate:
    """Tokens from the transcript sizes (as sent, after elision), price from litellm's table.

    A model litellm has no price for (in-process, self-hosted, unknown) has no cost.
    """
    from attractor_tui.backends.litellm_setup import get_litellm, unpriced

    chars = sum(len(SYSTEM_PROMPT) + len(user_prompt(turns)[0]) for turns in conversations)
    tokens_in = chars // CHARS_PER_TOKEN
    tokens_out = ANSWER_TOKENS * len(conversations)
    cost: float | None = None
    if not unpriced(model):  # litellm's stand-in entries price at zero: not a real price
        try:
            cost_in, cost_out = get_litellm().cost_per_token(
                model=model, prompt_tokens=tokens_in, completion_tokens=tokens_out)
            cost = float(cost_in) + float(cost_out)
        except Exception:  # litellm raises when the model is not in its price map
            cost = None
    return Estimate(len(conversations), tokens_in, tokens_out, cost)


# ------------------------------------------------------------------ many


@dataclass
class JudgeRun:
    """What `judge_records` did: counts, agreement, and why it stopped early (if it did)."""

    judged: int = 0
    cached: int = 0
    failed: int = 0
    tokens: int = 0
    stopped: str | None = None
    agreement: PairAgreement | None = None

    def summary(self) -> str:
        """The closing line: agreement with the rules, calls made, what failed."""
        parts = [self.agreement.line() if self.agreement else "rules vs judge: nothing judged",
                 f"{self.judged} judged now ({self.tokens:,} tokens), {self.cached} cached"]
        if self.failed:
            parts.append(f"{self.failed} without a verdict (they keep the rules' label)")
        return "; ".join(parts)

    @property
    def status(self) -> int:
        """The exit code's share: 1 when some conversation has no verdict."""
        return 1 if self.failed else 0


Item = tuple[Path, int, "SessionLog", dict[str, Any]]
"""A file, the conversation's 0-based position in it, the conversation, its analyze record."""

Job = tuple[Item, str]
"""A conversation to ask about, and its file's content hash (the cache key)."""
Outcome = dict[str, Any] | JudgeError


def judge_records(items: Sequence[Item], config: JudgeConfig, say: Callable[[str], None],
                  progress: Callable[[int, int], None] | None = None) -> JudgeRun:
    """Add `judge: {...}` to each record: cached, else asked (after printing the estimate).

    A conversation without a valid verdict gets `judge: {"model", "error"}`
    and keeps the rules' label; a provider failure stops the calls (the rest
    are marked not judged; cached verdicts stay, so a re-run resumes).
    `progress(done, to_ask)` follows the calls.
    """
    run = JudgeRun()
    digests: dict[Path, str | None] = {}
    todo: list[Job] = []
    for item in items:
        path, number, _, record = item
        if path not in digests:
            try:
                digests[path] = judge_cache.content_hash(path)
            except (SessionFileError, OSError) as exc:
                digests[path] = None
                say(f"warning: judge: {exc}")
        digest = digests[path]
        if digest is None:
            record["judge"] = {"model": config.key, "error": "file could not be hashed"}
            run.failed += 1
            continue
        hit = judge_cache.lookup(path, number, digest, config.key)
        if hit is None:
            todo.append((item, digest))
            continue
        record["judge"] = _entry(hit, record, config.key, cached=True)
        run.cached += 1
    if todo:
        say(estimate([item[2].turns for item, _ in todo], config.model)
            .line(config.model, run.cached))
        if progress is not None:
            progress(0, len(todo))
    elif run.cached:
        say(f"judge {config.model}: all {run.cached} conversation(s) cached, no calls")
    cache_problem = False
    asked = 0

    def finish(job: Job, outcome: Outcome) -> None:
        nonlocal cache_problem, asked
        asked += 1
        (path, number, _, record), digest = job
        if isinstance(outcome, JudgeError):
            if isinstance(outcome, ProviderError) and run.stopped is None:
                run.stopped = str(outcome)
            record["judge"] = {"model": config.key, "error": str(outcome)}
            run.failed += 1
        else:
            run.judged += 1
            run.tokens += outcome["tokens"]
            try:
                outcome = judge_cache.store(path, number, digest, config.key, outcome)
            except OSError as exc:
                if not cache_problem:
                    say(f"warning: judge results not cached in {path.parent}: "
                        f"{exc.strerror or exc}")
                    cache_problem = True
            record["judge"] = _entry(outcome, record, config.key, cached=False)
        if progress is not None:
            progress(asked, len(todo))

    _ask_all(todo, config, finish, lambda: run.stopped is not None)
    for (*_, record), _ in todo:
        if "judge" not in record:
            record["judge"] = {"model": config.key, "error": "not judged (stopped early)"}
            run.failed += 1
    pairs = [(r["end_state"], r["judge"]["end_state"]) for *_, r in items
             if "end_state" in r.get("judge", {})]
    run.agreement = pair_agreement([a for a, _ in pairs], [b for _, b in pairs])
    return run


def _ask(job: Job, config: JudgeConfig) -> Outcome:
    try:
        return judge_turns(job[0][2].turns, config)
    except JudgeError as exc:
        return exc


def _ask_all(jobs: Sequence[Job], config: JudgeConfig, finish: Callable[[Job, Outcome], None],
             stopped: Callable[[], bool]) -> None:
    """Ask the judge about every job, `finish`ing each in this thread as it comes back.

    The first call goes alone, so a wrong key or model costs one call; then
    `config.concurrency` at a time, each in a daemon thread (Ctrl-C does not
    wait for calls in flight). Once `stopped()`, nothing new is sent; what is
    in flight still finishes and is kept.
    """
    import queue
    import threading
    from collections import deque

    if not jobs:
        return
    finish(jobs[0], _ask(jobs[0], config))
    pending = deque(jobs[1:])
    results: queue.Queue[tuple[Job, Outcome | BaseException]] = queue.Queue()

    def work(job: Job) -> None:
        try:
            results.put((job, _ask(job, config)))
        except BaseException as exc:  # re-raised in the caller's thread, not lost
            results.put((job, exc))

    in_flight = 0
    while True:
        while pending and not stopped() and in_flight < max(1, config.concurrency):
            threading.Thread(target=work, args=(pending.popleft(),), name="judge",
                             daemon=True).start()
            in_flight += 1
        if not in_flight:
            return
        job, outcome = results.get()
        in_flight -= 1
        if isinstance(outcome, BaseException) and not isinstance(outcome, JudgeError):
            raise outcome
        finish(job, outcome)


def _entry(verdict: dict[str, Any], record: dict[str, Any], key: str, *,
           cached: bool) -> dict[str, Any]:
    """The `judge` part of an analyze record."""
    return {
        "model": key,
        "end_state": verdict["end_state"],
        "onset_index": verdict.get("onset_index"),
        "topic": verdict.get("topic"),
        "evidence": verdict.get("evidence", ""),
        "agrees": verdict["end_state"] == record["end_state"],
        "cached": cached,
        "attempts": verdict.get("attempts", 1),
        "elided": verdict.get("elided", False),
    }


def run_judge(model: str, api_base: str | None, items: Sequence[Item],
              say: Callable[[str], None], *, concurrency: int = CONCURRENCY,
              progress: Callable[[int, int], None] | None = None) -> JudgeRun:
    """`analyze --judge MODEL`: check the model name, then `judge_records`.

    A model litellm cannot route is a `ValueError` with one line saying what to type.
    """
    from attractor_tui.core.errors import model_problem

    problem = model_problem(model, api_base)
    if problem:
        raise ValueError(problem)
    run = judge_records(items, JudgeConfig(model, api_base or None, concurrency=concurrency),
                        say, progress)
    if run.stopped:
        say(f"warning: {run.stopped}; stopped asking (cached verdicts are kept: run again "
            "to go on)")
    return run


def adopt_verdicts(items: Sequence[Item]) -> int:
    """`--judge-only`: the judge's end state replaces the rules' in each record that has
    a verdict (the rules' stays in `rules_end_state`, confidence becomes `judge`);
    returns how many did."""
    adopted = 0
    for *_, record in items:
        verdict = record.get("judge") or {}
        if "end_state" not in verdict:
            continue
        record["rules_end_state"] = record["end_state"]
        record["end_state"] = verdict["end_state"]
        record["end_state_confidence"] = "judge"
        adopted += 1
    return adopted


def judge_cell(record: dict[str, Any]) -> str:
    """The judge's label for a narrow table cell: ✓ when it is the rules' label, or `error`."""
    verdict = record.get("judge") or {}
    if "end_state" not in verdict:
        return "error" if verdict else ""
    return "✓" if verdict.get("agrees") else str(verdict["end_state"])
