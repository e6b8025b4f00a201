"""Import and configure litellm exactly once, lazily.

litellm fetches a price list from the network at import and may block on
tokenizer downloads unless told otherwise, and it prints to the terminal,
which garbles a TUI. Everything that needs litellm calls `get_litellm()`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from types import ModuleType
from typing import Protocol, cast

_litellm: ModuleType | None = None
IN_PROCESS = ("embedded/", "scripted/")
_priced: set[str] = set()


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

    from attractor_tui.backends import embedded, scripted

    embedded.register()
    scripted.register()
    _litellm = litellm
    return litellm


def price_in_process(model: str) -> None:
    """Tell litellm an in-process model is free.

    Without a price entry litellm searches its whole price map for a fallback
    twice per call (measured: ~1 ms of CPU each time, a third of its cost per
    call in a batch). Remote models are left alone: their prices are real.
    """
    if model in _priced or not model.startswith(IN_PROCESS):
        return
    provider = model.split("/", 1)[0]
    get_litellm().register_model({model: {
        "input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
        "litellm_provider": provider, "mode": "chat",
    }})
    _priced.add(model)


def setup_custom_providers() -> None:
    """Let litellm route to the handlers in `custom_provider_map` (see `embedded.register`)."""
    from litellm.utils import custom_llm_setup

    # litellm leaves it unannotated; it takes nothing and returns nothing.
    cast(Callable[[], None], custom_llm_setup)()
