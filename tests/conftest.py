"""Shared fixtures: offline litellm, no keys, user config in a temp dir."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.hostile_server import hostile, hostile_server  # noqa: F401 (fixtures)

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_ADMIN_KEY", "ANTHROPIC_AUTH_TOKEN")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))



EMBEDDED_GROUP = "embedded"
"""The xdist group of every `slow` test: one worker runs them all, one after another."""


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put every `slow` test (the real embedded model) in one xdist group.

    `make test` runs three workers with `--dist loadgroup`: the group goes to one
    of them, which loads llama.cpp once (`embedded_model`), while the others run
    the rest; two workers loading and generating at once would fight over the
    same two cores. Without xdist the mark does nothing.
    """
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(pytest.mark.xdist_group(EMBEDDED_GROUP))


@pytest.fixture(scope="session")
def embedded_model() -> ModuleType:
    """The embedded backend with its model loaded: once per test process, for every slow test.

    A missing model fails (it does not skip): `make install` provides it, and a
    slow lane that skipped itself would prove nothing.
    """
    from attractor_tui.backends import embedded

    try:
        embedded.load()
    except embedded.EmbeddedBackendError as exc:
        pytest.fail(f"embedded model not installed: {exc}")
    return embedded
