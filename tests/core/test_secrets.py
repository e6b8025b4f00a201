"""`core.secrets`: the one redaction, and the stored `api_base` without credentials."""

from __future__ import annotations

import pytest

from attractor_tui.core.config import KEEP_CREDENTIALS, SessionConfig, SideConfig
from attractor_tui.core.errors import describe, redact
from attractor_tui.core.events import SessionStart
from attractor_tui.core.secrets import (
    REDACTED,
    env_secrets,
    is_credential_var,
    redact_env,
    strip_url,
)
from attractor_tui.sessions.store import dump_event


@pytest.mark.parametrize("name", ["GROQ_API_KEY", "MY_SERVICE_TOKEN", "DB_PASSWORD",
                                  "CLIENT_SECRET", "WATSONX_APIKEY", "AWS_ACCESS_KEY_ID",
                                  "VERTEXAI_CREDENTIALS", "hf_token"])
def test_credential_variable_names(name: str) -> None:
    assert is_credential_var(name)


@pytest.mark.parametrize("name", ["PATH", "HOME", "TOKENIZERS_PARALLELISM", "KEYBOARD",
                                  "GOOGLE_APPLICATION_CREDENTIALS", "MAX_TOKENS_LIMIT"])
def test_other_variable_names(name: str) -> None:
    assert not is_credential_var(name)


def test_values_of_credential_variables_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "no-shape-at-all-0042")
    monkeypatch.setenv("SHORT_KEY", "on")  # too short: would blank every "on"
    monkeypatch.setenv("EDITOR_THEME", "solarized-dark-99")  # not a credential's name
    text = "sent no-shape-at-all-0042 (url: no-shape-at-all%2D0042?) on solarized-dark-99"
    out = redact(text)
    assert "no-shape-at-all-0042" not in out and out.count(REDACTED) == 1
    assert " on " in out and "solarized-dark-99" in out
    assert redact_env(text) == out
    assert env_secrets() == ("no-shape-at-all-0042",)


def test_url_encoded_value_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_PASSWORD", "p@ss word/0042")
    assert "p%40ss%20word%2F0042" not in redact_env("q=p%40ss%20word%2F0042")


@pytest.mark.parametrize("secret", [
    "sk-proj-a1b2c3d4e5f6", "sk-ant-api03-abcdefgh", "key-a1b2c3d4e5", "gsk_a1B2c3D4e5F6g7H8",
    "vllm-token-5d8e2a9c1f7b", "xai-a1B2c3D4e5F6g7", "AIzaSyA1b2C3d4E5f6G7h8I9j0K",
    "hf_a1B2c3D4e5F6g7H8i9J0", "AKIAIOSFODNN7EXAMPLE",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
])
def test_key_shapes(secret: str) -> None:
    out = redact(f"provider said: invalid key {secret}, try again")
    assert secret not in out and REDACTED in out
    assert out.startswith("provider said: invalid key ") and out.endswith(", try again")


@pytest.mark.parametrize(("text", "kept"), [
    ("Authorization: Bearer abc.def-ghi_123", "Authorization: Bearer "),
    ('{"authorization": "Basic YWxpY2U6c2VjcmV0"}', '"authorization": "Basic '),
    ("bad api_key=Zm9vYmFyYmF6 given", "api_key="),
    ('{"token": "t0k3n-v4lu3-99"}', '"token": "'),
    ("password: hunter2hunter2", "password: "),
    ("x-api-key: 0123456789abcdef", "x-api-key: "),
])
def test_named_credentials_keep_the_name(text: str, kept: str) -> None:
    out = redact(text)
    assert kept in out and REDACTED in out
    assert out.count(REDACTED) == 1, out


@pytest.mark.parametrize("text", [
    "max_tokens=256 and max tokens: 256", "a key-value store", "token limit reached",
    "The password is a secret.", "Bearer of good news", "see https://example.com/a?b=c",
    "Invalid value for 'token': expected a string", "password: required",
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_urls_lose_user_info_and_credential_queries() -> None:
    url = "http://alice:pw@127.0.0.1:8000/v1?api_key=abc123secret&tier=free&sig=zz&TOKEN=t"
    assert strip_url(url) == "http://127.0.0.1:8000/v1?tier=free"
    assert strip_url(url, mark=True) == (
        "http://[redacted]@127.0.0.1:8000/v1?api_key=[redacted]&tier=free&sig=[redacted]"
        "&TOKEN=[redacted]")
    assert strip_url("http://localhost:8000/v1") == "http://localhost:8000/v1"
    assert strip_url("not a url") == "not a url"
    out = redact(f"cannot reach {url}.")
    assert "alice" not in out and "abc123secret" not in out and out.endswith("tier=free&sig="
                                                                             "[redacted]"
                                                                             "&TOKEN=[redacted].")


def test_provider_errors_go_through_the_one_redaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "no-shape-at-all-0042")

    class BadRequestError(Exception):
        status_code = 400

    problem = describe(BadRequestError("key gsk_a1B2c3D4e5F6g7H8 and no-shape-at-all-0042 "
                                       "rejected at http://u:p@h/v1?key=k3y"), "openai/x")
    assert "gsk_" not in problem.message and "no-shape" not in problem.message
    assert "u:p@" not in problem.message and "k3y" not in problem.message
    assert problem.message.startswith("openai rejected the request: key [redacted]")


def test_stored_config_holds_the_url_without_credentials() -> None:
    url = "http://alice:pw@127.0.0.1:8000/v1?api_key=abc123secret&tier=free"
    config = SessionConfig(a=SideConfig(model="openai/x", params={"api_base": url, "top_p": 0.9}))
    assert config.a.params["api_base"] == url  # the call still gets the URL the user gave
    line = dump_event(SessionStart(session_id="s" * 32, config=config))
    assert "abc123secret" not in line and "alice" not in line
    assert '"api_base":"http://127.0.0.1:8000/v1?tier=free"' in line
    assert config.model_dump(mode="json")["a"]["params"]["api_base"].endswith("/v1?tier=free")
    assert config.a.public_params() == {"api_base": "http://127.0.0.1:8000/v1?tier=free",
                                        "top_p": 0.9}
    copy = config.a.model_dump(context={KEEP_CREDENTIALS: True})
    assert SideConfig(**copy).params["api_base"] == url
