"""The one step every in-process provider takes after adding itself to litellm.

Its own module so that `embedded` and `scripted` need nothing from
`litellm_setup`, which imports them to register them: imports between the
backends then point one way (the `acyclic_siblings` contract in `make lint`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast


def setup_custom_providers() -> None:
    """Let litellm route to the handlers in `custom_provider_map` (see `embedded.register`)."""
    from litellm.utils import custom_llm_setup

    # litellm leaves it unannotated; it takes nothing and returns nothing.
    cast(Callable[[], None], custom_llm_setup)()
