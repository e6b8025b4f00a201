"""`run`, `resume`, `fork`: start a conversation, continue one, branch one.

Litellm and Textual are imported inside the handlers, so building the parser
(and `--help`) stays instant.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attractor_tui.cli.common import UserError, load_log, say, text_arg, writing
from attractor_tui.core.config import (
    DEFAULT_MODEL,
    DEFAULT_SEED,
    DEFAULT_SYSTEM,
    KEEP_CREDENTIALS,
    SessionConfig,
    SideConfig,
)

if TYPE_CHECKING:
    from attractor_tui.cli.common import Subparsers


def add_session_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("conversation")
    group.add_argument("--model", metavar="M",
                       help="model for both sides (overridden by --model-a/--model-b)")
    group.add_argument("--model-a", metavar="M", help=f"model for side A (default {DEFAULT_MODEL})")
    group.add_argument("--model-b", metavar="M", help=f"model for side B (default {DEFAULT_MODEL})")
    group.add_argument("--system-a", metavar="S", type=text_arg,
                       help=f'system prompt for A (default "{DEFAULT_SYSTEM}"); @FILE reads '
                            "it from a file, @@ is a literal @ (as for every text flag)")
    group.add_argument("--system-b", metavar="S", type=text_arg,
                       help=f'system prompt for B (default "{DEFAULT_SYSTEM}"); or @FILE')
    group.add_argument("--seed", metavar="TEXT", type=text_arg,
                       help=f'first user message, sent to A (default "{DEFAULT_SEED}"); '
                            "or @FILE")
    group.add_argument("--turns", type=int, metavar="N",
                       help="each side speaks N times, then the session ends "
                            "(default: until stopped)")
    group.add_argument("--temperature", type=float, metavar="T",
                       help="sampling temperature for both sides (default 0.7)")
    group.add_argument("--max-tokens", type=int, metavar="N",
                       help="longest reply per turn, in tokens (default 256)")
    group.add_argument("--api-base", metavar="URL",
                       help="base URL of an OpenAI-compatible server, for both sides "
                            "(e.g. http://localhost:8000/v1 for vLLM)")
    group.add_argument("--timeout", type=float, metavar="S",
                       help="seconds to wait for each model call (default 120)")
    group.add_argument("--retries", type=int, metavar="N",
                       help="automatic retries on rate limits and outages (default 2)")
    exp = parser.add_argument_group("experiment")
    exp.add_argument("--scenario", metavar="NAME",
                     help="start from a preset (see `attractor-tui scenarios`); flags override it")
    exp.add_argument("--tool-pack", metavar="NAME",
                     help="tools offered to the models: none, exit-free, exit-costs, or a file")
    exp.add_argument("--tools-for", choices=["both", "A", "B"],
                     help="which side is offered the tool pack (default both)")
    exp.add_argument("--stop-phrase", action="append", metavar="TEXT", type=text_arg,
                     help='end when a side says TEXT (e.g. "stopping now"); repeatable')
    exp.add_argument("--stop-policy", choices=["either", "both"],
                     help="a stop phrase ends the session when either side / both sides said it")
    exp.add_argument("--token-budget", type=int, metavar="N",
                     help="end after N tokens in total (both sides, prompt + completion)")
    exp.add_argument("--cost-budget", type=float, metavar="USD",
                     help="end once litellm's cost estimate reaches USD")
    exp.add_argument("--time-limit", type=float, metavar="S", help="end after S seconds")
    exp.add_argument("--attractor-stop", type=int, metavar="K",
                     help="end once the conversation has stayed K model turns in the same "
                          "attractor state (goodbye loop, emoji spiral, ...); the reason "
                          "recorded is attractor:<state>")
    exp.add_argument("--operator", action="append", metavar="ROUND:SIDE:TEXT",
                     help="a scripted operator turn: at round ROUND (from 1) side SIDE (A or "
                          "B) says TEXT (or @FILE), stored as an operator turn; repeatable, "
                          "replaces the scenario's (which may also wait for an attractor "
                          "or repeat: see README)")
    exp.add_argument("--memory", metavar="PATH",
                     help="notes both sides carry across sessions in one file (each side's "
                          "in its own section): read at the start, rewritten by each side's "
                          "model at the end")
    exp.add_argument("--memory-a", metavar="PATH", help="side A's own memory file")
    exp.add_argument("--memory-b", metavar="PATH", help="side B's own memory file")
    exp.add_argument("--context", choices=["truncate", "summarize", "none"],
                     help="when history outgrows a model's window: drop oldest turns "
                          "(default), summarise them, or do nothing")
    add_pacing_flags(parser)
    parser.add_argument("--out", type=Path, default=Path("sessions"), metavar="DIR",
                        help="folder for the session file (default ./sessions)")


def add_pacing_flags(parser: argparse.ArgumentParser) -> None:
    """`--tpm/--rpm` for both sides, `--tpm-a` ... for one (a side's flag wins)."""
    pacing = parser.add_argument_group(
        "pacing", "stay under a provider's per-minute limits by waiting before a call "
                  "(sides on the same model and server share one budget)")
    for unit, what in (("tpm", "tokens"), ("rpm", "requests")):
        pacing.add_argument(f"--{unit}", type=int, metavar="N",
                            help=f"at most N {what} a minute per side's model")
        for side in ("a", "b"):
            pacing.add_argument(f"--{unit}-{side}", type=int, metavar="N",
                                help=f"at most N {what} a minute for side {side.upper()}")


def add_run(sub: Subparsers) -> None:
    run = sub.add_parser("run", help="start a conversation now (in the app, or --headless)",
                         description="Start a conversation without the start screen.")
    add_session_flags(run)
    run.add_argument("--headless", action="store_true",
                     help="no app: stream both sides to stdout and exit at the end")
    run.set_defaults(handler=run_command)


def add_resume(sub: Subparsers) -> None:
    resume = sub.add_parser("resume", help="continue a stored session in the same file",
                            description="Continue a session from its last complete turn; "
                                        "both histories are rebuilt from the file.")
    resume.add_argument("file", type=Path, help="session file (.jsonl)")
    resume.add_argument("--turns", type=int, metavar="N",
                        help="each side speaks N more times (default: the session's own limit)")
    resume.add_argument("--headless", action="store_true", help="no app: stream to stdout")
    resume.set_defaults(handler=resume_command)


def add_fork(sub: Subparsers) -> None:
    fork = sub.add_parser("fork", help="branch a session at a turn into a new file",
                          description="Start a new session whose history is FILE's first "
                                      "TURN turns (it records FILE as its parent).")
    fork.add_argument("file", type=Path, help="session file (.jsonl)")
    fork.add_argument("--at", type=int, required=True, metavar="TURN",
                      help="keep the first TURN turns (#1..#TURN, as the app numbers them)")
    fork.add_argument("--out", type=Path, metavar="DIR",
                      help="folder for the new file (default: beside FILE)")
    fork.add_argument("--turns", type=int, metavar="N",
                      help="then run: each side speaks N more times")
    fork.add_argument("--headless", action="store_true",
                      help="with --turns: run without the app")
    fork.add_argument("--no-run", action="store_true", help="only write the new file")
    fork.set_defaults(handler=fork_command)


# ------------------------------------------------------------------ handlers


def run_command(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    from attractor_tui.core.model_check import config_refusal

    problem = config_refusal(config)  # before anything runs, as the start screen checks
    if problem is not None:
        raise UserError(problem)
    if args.headless:
        from attractor_tui.cli.headless import run_headless

        with writing(args.out):
            return asyncio.run(run_headless(config, args.out))
    from attractor_tui.core.window import check_prompts_fit

    check_prompts_fit(config)  # before the app opens, as `open_session` would
    return launch_app(config, args.out, start_screen=False)


def resume_command(args: argparse.Namespace) -> int:
    log = load_log(args.file)
    if args.headless:
        from attractor_tui.cli.headless import resume_headless

        with writing(log.path):
            return asyncio.run(resume_headless(log, turns=args.turns))
    from attractor_tui.core.window import check_prompts_fit
    from attractor_tui.ui.app import run_resume

    check_prompts_fit(log.config)  # before the app opens, as `open_session` would
    return run_resume(log, turns=args.turns)


def fork_command(args: argparse.Namespace) -> int:
    from attractor_tui.sessions.continuation import fork_session

    load_log(args.file)  # clear errors first
    with writing(args.out or args.file.parent):
        target = fork_session(args.file, args.at, args.out)
    say(f"forked: {target}")
    if args.no_run or args.turns is None:
        return 0
    args.file = target
    return resume_command(args)


def launch_app(config: SessionConfig | None, out: Path, *, start_screen: bool) -> int:
    from attractor_tui.ui.app import run_app

    return run_app(config, out, start_screen=start_screen)


def _operator(spec: str) -> Any:
    """One `--operator` value as a `ScriptedTurn`; a mistake is one line."""
    from attractor_tui.experiments.scenarios import parse_operator

    def read(name: str) -> str:
        try:
            return text_arg("@" + name)
        except argparse.ArgumentTypeError as exc:
            raise ValueError(str(exc)) from exc

    try:
        return parse_operator(spec, read)
    except ValueError as exc:
        raise UserError(f"--operator {exc}") from exc


def config_from_args(args: argparse.Namespace) -> SessionConfig:
    """The session `run` asks for: the scenario (if any), then each flag over it."""
    from pydantic import ValidationError

    base = None
    if args.scenario:
        from attractor_tui.experiments.scenarios import load_scenario

        base = load_scenario(args.scenario).session_config(0)
    tools = None
    if args.tool_pack:
        from attractor_tui.experiments.toolpacks import load_tool_pack

        tools = load_tool_pack(args.tool_pack).tools
    tools_for = args.tools_for or "both"

    def side(model: str | None, system: str | None, which: str) -> SideConfig:
        start = (base.a if which == "A" else base.b) if base else SideConfig()
        fields: dict[str, Any] = start.model_dump(context={KEEP_CREDENTIALS: True})
        if model or args.model:
            fields["model"] = model or args.model
        if system is not None:
            fields["system"] = system
        if args.temperature is not None:
            fields["temperature"] = args.temperature
        if args.max_tokens is not None:
            fields["max_tokens"] = args.max_tokens
        if args.api_base:
            fields["params"] = {**fields["params"], "api_base": args.api_base}
        if tools is not None:
            fields["tools"] = tools if tools_for in ("both", which) else []
        elif args.tools_for and tools_for not in ("both", which):
            fields["tools"] = []
        if args.stop_phrase:
            fields["stop_phrases"] = args.stop_phrase
        if args.context:
            fields["context"] = args.context
        memory = getattr(args, f"memory_{which.lower()}", None) or getattr(args, "memory", None)
        if memory:
            fields["memory"] = memory
        for unit in ("tpm", "rpm"):
            value = getattr(args, f"{unit}_{which.lower()}", None)
            value = value if value is not None else getattr(args, unit, None)
            if value is not None:
                fields[unit] = value
        return SideConfig(**fields)

    try:
        fields: dict[str, Any] = (
            base.model_dump(context={KEEP_CREDENTIALS: True}) if base else {})
        fields.update({
            "a": side(args.model_a, args.system_a, "A"),
            "b": side(args.model_b, args.system_b, "B"),
        })
        if args.turns is not None or base is None:
            fields["turns"] = args.turns
        if args.tool_pack:
            fields["tool_pack"] = args.tool_pack
        for flag, key in (("stop_policy", "stop_policy"), ("token_budget", "token_budget"),
                          ("cost_budget", "cost_budget"), ("time_limit", "time_limit"),
                          ("attractor_stop", "attractor_stop")):
            if getattr(args, flag) is not None:
                fields[key] = getattr(args, flag)
        if args.seed is not None:
            fields["seed"] = args.seed
        if getattr(args, "operator", None):
            fields["operator"] = [_operator(spec) for spec in args.operator]
        if args.timeout is not None:
            fields["timeout"] = args.timeout
        if args.retries is not None:
            fields["num_retries"] = args.retries
        return SessionConfig(**fields)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(map(str, problem["loc"]))
        message = str(problem["msg"]).removeprefix("Value error, ")
        raise UserError(f"{where}: {message}" if where else message) from exc
