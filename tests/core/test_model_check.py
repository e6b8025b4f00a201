"""Model strings are checked before anything runs, with close matches (issue 25, items 3, 4).

`core.model_check` is the one checker: the CLI (`run`, `batch`) and the start
screen ask it, so a typo is one line naming the nearest names litellm and our
own providers know, and a flag that cannot apply is refused with the fix.
"""

from __future__ import annotations

import pytest

from attractor_tui.core.config import SessionConfig, SideConfig
from attractor_tui.core.model_check import config_model_problem, config_refusal, model_problem


def test_an_unknown_provider_is_one_line_with_the_local_model_as_the_fallback() -> None:
    assert model_problem("foo/bar") == (
        "unknown provider `foo`; did you mean `embedded/smollm2-135m`?")


def test_a_misspelt_provider_suggests_the_close_ones_with_the_same_model() -> None:
    problem = model_problem("opena/gpt-4o")
    assert problem is not None and problem.startswith("unknown provider `opena`; did you mean ")
    assert "`openai/gpt-4o`" in problem and "\n" not in problem


def test_a_bare_name_of_ours_is_found_and_asks_for_no_key() -> None:
    # litellm takes an unknown bare name for an OpenAI model and asks for OPENAI_API_KEY
    assert model_problem("smollm2") == (
        "unknown model `smollm2`; did you mean `embedded/smollm2-135m`?")


@pytest.mark.parametrize(("model", "close"), [("gpt 4", "`gpt-4`"), ("gpt4o", "`gpt-4o`")])
def test_a_misspelt_model_suggests_litellms_names(model: str, close: str) -> None:
    problem = model_problem(model)
    assert problem is not None and problem.startswith(f"unknown model `{model}`; did you mean ")
    assert close in problem


def test_an_unknown_embedded_model_names_the_one_there_is() -> None:
    assert model_problem("embedded/smollm3") == (
        "unknown embedded model `embedded/smollm3`; did you mean `embedded/smollm2-135m`?")


def test_a_bare_name_on_a_server_suggests_the_prefixes_that_reach_it() -> None:
    problem = model_problem("mymodel", "http://user:pw@127.0.0.1:8000/v1")
    assert problem == ("unknown provider for `mymodel` at http://127.0.0.1:8000/v1; did you "
                       "mean `hosted_vllm/mymodel` or `openai/mymodel`?")


def test_an_api_base_the_model_cannot_use_is_refused_with_the_fix() -> None:
    problem = model_problem("embedded/smollm2-135m", "http://127.0.0.1:8000/v1")
    assert problem is not None and problem.startswith(
        "--api-base does not apply to embedded/smollm2-135m")
    assert "--model hosted_vllm/NAME or openai/NAME" in problem


def config(model_a: str, model_b: str, api_base: str | None = None) -> SessionConfig:
    params = {"api_base": api_base} if api_base else {}
    return SessionConfig(a=SideConfig(model=model_a, params=params),
                         b=SideConfig(model=model_b, params=params))


def test_a_config_names_the_side_only_when_the_models_differ() -> None:
    assert config_refusal(config("foo/x", "foo/x")) == (
        "unknown provider `foo`; did you mean `embedded/smollm2-135m`?")
    assert config_refusal(config("embedded/smollm2-135m", "foo/x")) == (
        "model B: unknown provider `foo`; did you mean `embedded/smollm2-135m`?")
    assert config_model_problem(config("scripted/echo", "scripted/echo")) is None


def test_an_api_base_for_both_sides_is_kept_when_one_side_uses_it() -> None:
    base = "http://127.0.0.1:8000/v1"
    assert config_refusal(config("hosted_vllm/x", "embedded/smollm2-135m", base)) is None
    refusal = config_refusal(config("embedded/smollm2-135m", "embedded/smollm2-135m", base))
    assert refusal is not None and refusal.startswith("--api-base does not apply")
