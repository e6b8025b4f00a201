"""`batch --router FILE`: calls through `litellm.Router`, with fallbacks (issue 15 item 4)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from attractor_tui.experiments.batch import run_file
from attractor_tui.experiments.launch import batch_command
from attractor_tui.experiments.routing import RouterConfigError, load_router_config
from attractor_tui.sessions.store import load_session
from tests.support.hostile_server import REPLY, HostileServer, serve


@pytest.fixture
def second() -> Iterator[HostileServer]:
    server = serve()
    try:
        yield server
    finally:
        server.stop()


def router_yaml(path: Path, failing: HostileServer, working: HostileServer) -> Path:
    path.write_text(f"""
model_list:
  - model_name: primary
    litellm_params:
      model: openai/server-error
      api_base: {failing.api_base}
      api_key: os.environ/OPENAI_API_KEY
      rpm: 1000
  - model_name: backup
    litellm_params:
      model: openai/ok
      api_base: {working.api_base}
      api_key: os.environ/OPENAI_API_KEY
router_settings:
  num_retries: 0
  fallbacks:
    - primary: [backup]
""", encoding="utf-8")
    return path


def test_calls_fall_back_and_both_servers_see_traffic(
    tmp_path: Path, hostile: HostileServer, second: HostileServer
) -> None:
    config = router_yaml(tmp_path / "router.yaml", failing=hostile, working=second)
    out = tmp_path / "batch"
    buffer = StringIO()
    code = batch_command("hello-there", runs=2, turns=1, model_a="primary", model_b="primary",
                         concurrency=2, out=out, router=config, workers=1,
                         overrides={"num_retries": 0}, run_retries=0,
                         console=Console(file=buffer, width=200))
    assert code == 0, buffer.getvalue()
    assert hostile.calls and set(hostile.calls) == {"server-error"}
    assert len(second.calls) == 4 and set(second.calls) == {"ok"}
    for i in range(2):
        log = load_session(run_file(out, i, 2))
        assert log.config.a.model == "router/primary"
        assert [t.text for t in log.turns] == [REPLY, REPLY]
        assert all(t.usage is not None for t in log.turns)


def test_json_config_and_unknown_model_name(tmp_path: Path, hostile: HostileServer) -> None:
    path = tmp_path / "router.json"
    path.write_text(json.dumps({"model_list": [
        {"model_name": "one", "litellm_params": {"model": "openai/ok",
                                                 "api_base": hostile.api_base}}]}))
    models, settings = load_router_config(path)
    assert [m["model_name"] for m in models] == ["one"] and settings == {}
    buffer = StringIO()
    code = batch_command("hello-there", runs=1, turns=1, model_a="nope", model_b="nope",
                         concurrency=1, out=tmp_path / "b", router=path,
                         console=Console(file=buffer, width=200))
    assert code == 2 and "'nope' is not in" in buffer.getvalue() and "one" in buffer.getvalue()


@pytest.mark.parametrize(("text", "message"), [
    ("model_list: []", "non-empty `model_list`"),
    ("model_list: [{model_name: x}]", "needs `model_name` and `litellm_params.model`"),
    ("model_list: [{model_name: x, litellm_params: {model: openai/x, api_key: sk-live-1}}]",
     "os.environ/NAME"),
    ("model_list: [oops", "not valid YAML"),
])
def test_bad_router_files_are_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "router.yaml"
    path.write_text(text)
    with pytest.raises(RouterConfigError, match="router.yaml") as caught:
        load_router_config(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
