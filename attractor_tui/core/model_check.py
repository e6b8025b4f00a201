"""Model strings checked before anything runs: the CLI and the start screen ask here.

A typo otherwise reaches litellm as a request and comes back as its long
"LLM Provider NOT provided" text (twice, cut in a URL), or a bare name is
taken for an OpenAI model and asks for `OPENAI_API_KEY`. Instead: one line
naming what is wrong, with the closest names litellm and our own providers
know (`difflib`), e.g. "unknown provider `foo`; did you mean `embedded/smollm2-135m`?".
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from attractor_tui.backends.litellm_setup import IN_PROCESS, get_litellm
from attractor_tui.core.config import SIDES
from attractor_tui.core.secrets import strip_url

if TYPE_CHECKING:
    from attractor_tui.core.config import SessionConfig, Side

LOCAL = "embedded/smollm2-135m"
"""What to suggest when nothing is close: it runs here, with no key and no network."""
MATCHES = 3
CUTOFF = 0.7
"""difflib's similarity a model name must reach to be suggested (`smollm2`: 0.74)."""


def model_problem(model: str, api_base: str | None = None) -> str | None:
    """Why `model` cannot be called (with `api_base`, if given), as one line; None if it can."""
    model = model.strip()
    if model.startswith(IN_PROCESS):
        return _in_process_problem(model, api_base)
    litellm = get_litellm()
    try:
        litellm.get_llm_provider(model=model, api_base=api_base or None)
    except Exception:
        if api_base and "/" not in model:  # a model on the user's own server
            return (f"unknown provider for `{model}` at {strip_url(api_base)}; did you mean "
                    f"`hosted_vllm/{model}` or `openai/{model}`?")
        return _unknown(model, litellm)
    return None


def config_model_problem(config: SessionConfig) -> tuple[Side, str] | None:
    """(side, one line) for the first side whose model cannot be called, or None.

    An API base on an in-process side is refused only when no side can use it:
    `--api-base` is given for both, so `--model-a hosted_vllm/x --model-b
    embedded/smollm2-135m --api-base URL` means A's server.
    """
    bases = {side: _api_base(config, side) for side in SIDES}
    used = {bases[s] for s in SIDES if not config.side(s).model.strip().startswith(IN_PROCESS)}
    for side in SIDES:
        api_base = bases[side]
        model = config.side(side).model
        if model.strip().startswith(IN_PROCESS) and api_base in used:
            api_base = None  # the other side's server
        problem = model_problem(model, api_base)
        if problem is not None:
            return side, problem
    return None


def _api_base(config: SessionConfig, side: Side) -> str | None:
    value = config.side(side).params.get("api_base")
    return value if isinstance(value, str) and value else None


def config_refusal(config: SessionConfig) -> str | None:
    """The one line a command refuses `config` with (naming the side when models differ)."""
    found = config_model_problem(config)
    if found is None:
        return None
    side, problem = found
    return problem if config.a.model == config.b.model else f"model {side}: {problem}"


def _in_process_problem(model: str, api_base: str | None) -> str | None:
    if api_base:
        return (f"--api-base does not apply to {model} (it runs in this process, with no "
                "server); for a model behind that server name it --model hosted_vllm/NAME "
                "or openai/NAME")
    get_litellm()  # registers the embedded provider
    from attractor_tui.backends import embedded

    if model.startswith(f"{embedded.PROVIDER}/") and model != embedded.MODEL:
        return f"unknown embedded model `{model}`; did you mean `{embedded.MODEL}`?"
    return None


def _providers(litellm: object) -> list[str]:
    """Every provider litellm routes to, ours (registered as custom providers) included."""
    names = [getattr(p, "value", str(p)) for p in getattr(litellm, "provider_list", [])]
    names += [str(p.get("provider")) for p in getattr(litellm, "custom_provider_map", [])]
    return sorted(set(names))


def _unknown(model: str, litellm: object) -> str:
    provider, slash, name = model.partition("/")
    if slash and provider not in _providers(litellm):
        close = difflib.get_close_matches(provider, _providers(litellm), n=MATCHES)
        guesses = [f"{p}/{name}" for p in close] or [LOCAL]
        return f"unknown provider `{provider}`; did you mean {_either(guesses)}?"
    guesses = _close_models(model, litellm)
    if guesses:
        return f"unknown model `{model}`; did you mean {_either(guesses)}?"
    return (f"litellm knows no provider for {model!r}: type provider/model, e.g. "
            "openai/gpt-4o-mini, anthropic/claude-sonnet-4-5, ollama/llama3, "
            f"hosted_vllm/NAME (with an API base) or {LOCAL} (local, no key)")


def _close_models(model: str, litellm: object) -> list[str]:
    """Known model strings close to `model`, matched whole or by the name after the provider
    (`smollm2` finds `embedded/smollm2-135m`)."""
    known = [LOCAL, *sorted((str(m) for m in getattr(litellm, "model_list", [])),
                            key=lambda m: (m.count("/"), len(m), m))]
    by_name: dict[str, str] = {}  # the plainest spelling of each name wins
    for full in known:
        by_name.setdefault(full.rpartition("/")[2], full)
        by_name.setdefault(full, full)
    close = difflib.get_close_matches(model, list(by_name), n=MATCHES, cutoff=CUTOFF)
    return list(dict.fromkeys(by_name[c] for c in close))


def _either(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
