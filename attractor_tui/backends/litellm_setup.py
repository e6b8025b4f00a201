"""Import and configure litellm exactly once, lazily.

litellm fetches a price list from the network at import and may block on
tokenizer downloads unless told otherwise, and it prints to the terminal,
which garbles a TUI. Everything that needs litellm calls `get_litellm()`.
"""

from __future__ import annotations

import logging
import os
from types import ModuleType
from typing import Any, Protocol, cast

from attractor_tui.backends.custom_providers import setup_custom_providers

_litellm: ModuleType | None = None
IN_PROCESS = ("embedded/", "scripted/")
_priced: set[str] = set()
_unpriced: set[str] = set()


class _Switches(Protocol):
    """litellm's module-level switches that mypy cannot see.

    litellm re-exports `set_verbose` from `litellm._logging` without `as`, so
    mypy's no-implicit-reexport hides it, though litellm reads it from there.
    """

    set_verbose: bool


def get_litellm() -> ModuleType:
    """litellm, configured for offline use, quiet, with our providers registered."""
    global _litellm
    if _litellm is not None:
        return _litellm
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("LITELLM_LOG", "CRITICAL")
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    cast(_Switches, litellm).set_verbose = False
    # We log through our own events and compute cost ourselves; litellm's
    # per-call success logging (a thread hop and two price look-ups) is pure cost.
    litellm.disable_streaming_logging = True
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
        logger.setLevel(logging.CRITICAL)

    _skip_unheard_success_logs(litellm)

    from attractor_tui.backends import embedded, scripted

    embedded.register()
    scripted.register()
    _litellm = litellm
    return litellm


def _skip_unheard_success_logs(litellm: ModuleType) -> None:
    """Schedule litellm's async success log, and price its response, only when a
    callback will hear it.

    After every non-streamed call litellm builds a "standard logging payload"
    (the whole request and response walked for base64 to truncate, costs looked
    up again) for callbacks; we register none, so that was ~1 ms of CPU per call
    for nobody (measured on `bench/batch.py`). With any callback registered (a
    Router adds its own for rpm/tpm and cooldowns, a user may add Langfuse, ...)
    litellm logs exactly as before.
    """
    from litellm.litellm_core_utils.litellm_logging import Logging

    original = Logging.claim_async_success_log
    original_cost = Logging.response_cost_calculator

    def heard(self: Any) -> bool:
        return bool(litellm.callbacks or litellm._async_success_callback
                    or litellm.success_callback
                    or getattr(self, "dynamic_async_success_callbacks", None)
                    or getattr(self, "dynamic_success_callbacks", None))

    def claim(self: Any) -> bool:
        return bool(original(self)) if heard(self) else False

    def cost(self: Any, *args: Any, **kwargs: Any) -> float | None:
        # litellm prices every response for its hidden params (~1.5 ms: the price
        # map searched, zero costs diagnosed); the engine prices the turn itself
        # (`engine._cost`), under the model string the user gave
        return original_cost(self, *args, **kwargs) if heard(self) else None

    setattr(Logging, "claim_async_success_log", claim)  # noqa: B010 (mypy: method assignment)
    setattr(Logging, "response_cost_calculator", cost)  # noqa: B010


def price_in_process(model: str) -> None:
    """Give litellm a price entry for every model it cannot price: zero, noted as unpriced.

    Without an entry litellm searches its whole price map for a fallback several
    times per call (measured: 1-2 ms of CPU per call, the largest share of its
    cost for an in-process model or a self-hosted server, e.g. `hosted_vllm/...`).
    Models litellm knows keep their real prices. `unpriced` tells which models
    got the stand-in, so their cost is recorded as unknown, as before.
    """
    if model in _priced:
        return
    _priced.add(model)
    litellm = get_litellm()
    if not model.startswith(IN_PROCESS):
        try:
            litellm.get_model_info(model)
            return
        except Exception:  # ModelNotMappedError and its kin: litellm has no price for it
            pass
    provider = model.split("/", 1)[0] if "/" in model else "openai"
    litellm.register_model({model: {
        "input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
        "litellm_provider": provider, "mode": "chat",
    }})
    _unpriced.add(model)


# ---------------------------------------------------------------- lean path

LEAN_PREFIX = "hosted_vllm/"
"""litellm's own HTTP handler for an OpenAI-compatible server (no OpenAI SDK client)."""
_PLAIN_OPENAI_CONFIGS = ("OpenAIGPTConfig", "OpenAIUnknownModelConfig")
"""litellm's openai configs that map parameters as `hosted_vllm/` does (o-series and
GPT-5 rename `max_tokens` and drop `temperature`: those keep the openai path)."""
_OPENAI_ENV_EXTRAS = ("OPENAI_ORGANIZATION", "OPENAI_PROJECT")
"""Settings the OpenAI SDK client would add as headers; set, the call keeps its path."""
_lean_names: dict[str, bool] = {}


def lean_call(model: str, params: dict[str, Any],
              tools: list[dict[str, Any]] | None = None) -> tuple[str, dict[str, Any]]:
    """The model string and extra keywords for one *non-streamed* call, on litellm's
    leanest path when that changes nothing but CPU.

    `openai/NAME` with an `api_base` (vLLM, SGLang, llama.cpp's server, Ollama, a
    LiteLLM proxy) goes through the OpenAI SDK client, about 2.5x the CPU of
    litellm's own HTTP handler that `hosted_vllm/NAME` uses for the same request.
    Measured against a stub server (tests/core/test_lean_path.py), both give the
    same text, tool calls, usage, finish reason, error kinds and `Retry-After`;
    the one difference, a server's JSON error body left unparsed, `core.errors`
    unwraps. So such a call is sent as `hosted_vllm/NAME` with the OpenAI key,
    unless something would differ: no `OPENAI_API_KEY` (the openai path's own
    "no key" error stays), an org/project header the SDK would add, a model whose
    openai parameters litellm maps specially (o-series, GPT-5), or tool schemas
    with `additionalProperties`/`strict` (hosted_vllm strips them). Streamed
    calls keep the openai path: its stream reader refuses a malformed SSE line
    that litellm's own reader skips. The session file keeps the user's string.
    """
    if not model.startswith("openai/") or not params.get("api_base"):
        return model, {}
    key = os.environ.get("OPENAI_API_KEY")
    if not key or any(os.environ.get(name) for name in _OPENAI_ENV_EXTRAS):
        return model, {}
    if tools and _has_strict_schema(tools):
        return model, {}
    name = model.removeprefix("openai/")
    plain = _lean_names.get(name)
    if plain is None:
        get_litellm()
        from litellm import LlmProviders, ProviderConfigManager

        config = ProviderConfigManager.get_provider_chat_config(model=name,
                                                                provider=LlmProviders.OPENAI)
        plain = _lean_names[name] = type(config).__name__ in _PLAIN_OPENAI_CONFIGS
    if not plain:
        return model, {}
    return LEAN_PREFIX + name, {"api_key": key}


def _has_strict_schema(value: Any) -> bool:
    if isinstance(value, dict):
        return ("additionalProperties" in value or "strict" in value
                or any(_has_strict_schema(v) for v in value.values()))
    if isinstance(value, list):
        return any(_has_strict_schema(v) for v in value)
    return False


def unpriced(model: str) -> bool:
    """True for a model whose cost is unknown (in-process, or not in litellm's price table)."""
    return model.startswith(IN_PROCESS) or model in _unpriced


# ------------------------------------------------------------------- router

ROUTER_PREFIX = "router/"
"""Models named `router/<model_name>` go through the active `litellm.Router`."""
_router: Any = None


def use_router(model_list: list[dict[str, Any]], settings: dict[str, Any]) -> list[str]:
    """Send `router/<name>` calls through a `litellm.Router` built from a proxy-style config.

    The Router does what it exists for (several deployments or keys per model
    name, rpm/tpm limits, fallbacks, retries, cooldowns); the engine keeps
    calling `acompletion` as for any model. Each `router/<name>` is priced as
    its first deployment when litellm knows that model. Returns the model names.
    """
    global _router
    litellm = get_litellm()
    from litellm import Router

    _router = Router(model_list=model_list, **settings)
    _register_router_provider()
    names: list[str] = []
    for entry in model_list:
        name = str(entry["model_name"])
        if name in names:
            continue
        names.append(name)
        target = str(entry.get("litellm_params", {}).get("model", ""))
        try:
            info = litellm.get_model_info(target)
        except Exception:  # unknown deployment model: the cost stays unknown
            continue
        litellm.register_model({ROUTER_PREFIX + name: {
            "input_cost_per_token": info.get("input_cost_per_token") or 0.0,
            "output_cost_per_token": info.get("output_cost_per_token") or 0.0,
            "litellm_provider": "router", "mode": "chat",
        }})
        _priced.add(ROUTER_PREFIX + name)
    return names


def _register_router_provider() -> None:
    get_litellm()
    import litellm
    from litellm.llms.custom_llm import CustomLLM

    if any(p.get("provider") == "router" for p in litellm.custom_provider_map):
        return

    class RouterLLM(CustomLLM):
        """`router/<name>`: the call handed to the active Router, answered whole."""

        async def acompletion(
            self, model: str, messages: list[Any], *args: Any, **kwargs: Any
        ) -> Any:
            if _router is None:
                raise RuntimeError("no LiteLLM Router is configured (batch --router FILE)")
            params = {k: v for k, v in (kwargs.get("optional_params") or {}).items()
                      if k not in ("stream", "stream_options")}
            name = model.removeprefix(ROUTER_PREFIX)
            return await _router.acompletion(model=name, messages=messages,
                                             timeout=kwargs.get("timeout"), **params)

    litellm.custom_provider_map = [
        *litellm.custom_provider_map, {"provider": "router", "custom_handler": RouterLLM()},
    ]
    setup_custom_providers()
