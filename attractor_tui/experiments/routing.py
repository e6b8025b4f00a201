"""`batch --router FILE`: a LiteLLM Router configuration, read and checked.

The file is what LiteLLM's proxy and Router take (YAML or JSON):

    model_list:
      - model_name: llama            # the name runs use: --model llama
        litellm_params: {model: hosted_vllm/meta-llama/..., api_base: http://gpu1:8000/v1,
                         rpm: 600}
      - model_name: llama            # a second deployment of the same name
        litellm_params: {model: hosted_vllm/meta-llama/..., api_base: http://gpu2:8000/v1}
    router_settings:                 # any litellm.Router argument
      routing_strategy: simple-shuffle
      num_retries: 2
      fallbacks: [{llama: [backup]}]

Keys belong in the environment: `api_key: os.environ/MY_KEY` (the Router reads
it there); a literal key in the file is refused, as in session files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from attractor_tui.core.config import is_secret_param

ROUTER_SETTINGS = "router_settings"


class RouterConfigError(Exception):
    """The router file cannot be used; the message names the file and what to fix."""


def load_router_config(path: Path | str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`(model_list, router_settings)` from `path`, checked enough to fail before any call."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RouterConfigError(f"cannot read router config {path}: {exc.strerror}") from exc
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml  # type: ignore[import-untyped]  # litellm's own dependency

            data = yaml.safe_load(text)
    except Exception as exc:  # yaml.YAMLError, json.JSONDecodeError
        raise RouterConfigError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}"
                                f" ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("model_list"), list) \
            or not data["model_list"]:
        raise RouterConfigError(f"{path}: needs a non-empty `model_list` (LiteLLM's format)")
    models: list[dict[str, Any]] = []
    for n, entry in enumerate(data["model_list"], 1):
        params = entry.get("litellm_params") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not entry.get("model_name") \
                or not isinstance(params, dict) or not params.get("model"):
            raise RouterConfigError(f"{path}: model_list entry {n} needs `model_name` and "
                                    "`litellm_params.model`")
        for key, value in params.items():
            if is_secret_param(key) and not str(value).startswith("os.environ/"):
                raise RouterConfigError(f"{path}: model_list entry {n}: put `{key}` in the "
                                        f"environment and write `{key}: os.environ/NAME`")
        models.append(entry)
    settings = data.get(ROUTER_SETTINGS) or {}
    if not isinstance(settings, dict):
        raise RouterConfigError(f"{path}: `{ROUTER_SETTINGS}` must be a mapping")
    return models, settings


def model_names(models: list[dict[str, Any]]) -> list[str]:
    """The names runs may use, in file order, once each."""
    return list(dict.fromkeys(str(m["model_name"]) for m in models))
