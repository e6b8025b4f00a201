"""No secret from the environment or from `--api-base` reaches a file or the terminal.

A real OpenAI-compatible stub on 127.0.0.1 answers every call with a 400
whose body echoes what a careless provider would: the Authorization header,
the request path (with the `?api_key=` the user put in `--api-base`), and
keys of other shapes (`gsk_...`, `vllm-token-...`, one with no shape at all).
Then headless, export (every format), report and batch run through the real
command line, and every byte they wrote or printed is searched for each secret.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from attractor_tui.cli.parser import main
from attractor_tui.experiments.launch import batch_command
from attractor_tui.sessions.store import load_session

SECRETS = {
    "OPENAI_API_KEY": "plainvalue4711openai",  # no known shape: only the env rule finds it
    "GROQ_API_KEY": "gsk_9fQ2mZ7xLw3vR8tY1uB6nC4k",
    "MY_SERVICE_TOKEN": "vllm-token-5d8e2a9c1f7b",
    "LAB_PROXY_PASSWORD": "Tr0ub4dor&3horse",
}
QUERY_SECRET = "abc123secret"
USER_INFO = "alice:s3cr3tpass"


class _Echo(ThreadingHTTPServer):
    seen: list[dict[str, str]]


class _Handler(BaseHTTPRequestHandler):
    server: _Echo

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.server.seen.append({"path": self.path, "auth": self.headers.get("authorization", "")})
        message = (f"Incorrect API key provided: {self.headers.get('authorization')} for "
                   f"{self.path}; also tried {SECRETS['GROQ_API_KEY']}, "
                   f"{SECRETS['MY_SERVICE_TOKEN']} and {SECRETS['LAB_PROXY_PASSWORD']}")
        body = json.dumps({"error": {"message": message, "type": "invalid_request_error"}})
        self.send_response(400)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Echo]:
    srv = _Echo(("127.0.0.1", 0), _Handler)
    srv.seen = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def leaks(text: str) -> list[str]:
    """Every secret (or its user-info) found in `text`."""
    found = [name for name, value in SECRETS.items() if value in text]
    found += [s for s in (QUERY_SECRET, USER_INFO, "s3cr3tpass") if s in text]
    return found


def files_under(folder: Path) -> Iterator[Path]:
    yield from (p for p in sorted(folder.rglob("*")) if p.is_file())


@pytest.mark.usefixtures("secret_env")
def test_nothing_secret_is_stored_or_shown(server: _Echo, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    port = server.server_port
    with_query = f"http://127.0.0.1:{port}/v1?api_key={QUERY_SECRET}&tier=free"
    with_user = f"http://{USER_INFO}@127.0.0.1:{port}/v1?api_key={QUERY_SECRET}"
    out = tmp_path / "sessions"
    codes = [
        main(["run", "--headless", "--turns", "1", "--model", "openai/x", "--retries", "0",
              "--api-base", api_base, "--out", str(out)])
        for api_base in (with_query, with_user)
    ]
    assert codes == [1, 1]  # both end in an error, and say so
    # the call went to the URL the user gave, query and key included
    assert any(QUERY_SECRET in seen["path"] for seen in server.seen), server.seen
    assert any(SECRETS["OPENAI_API_KEY"] in seen["auth"] for seen in server.seen)

    sessions = sorted(out.glob("*.jsonl"))
    assert len(sessions) == 2
    exports = tmp_path / "exports"
    exports.mkdir()
    for session in sessions:
        for fmt in ("json", "md", "html", "txt"):
            assert main(["export", str(session), "-f", fmt,
                         "-o", str(exports / f"{session.stem}.{fmt}")]) == 0
            assert main(["export", str(session), "-f", fmt]) == 0
    # both runs failed before a model turn: no results, the reasons said (without secrets)
    for fmt in ("md", "html", "json"):
        assert main(["report", str(out), "-f", fmt, "-o", str(tmp_path / f"report.{fmt}")]) == 1
    assert main(["report", str(out), "-f", "rich"]) == 1
    # (the call API for this one: `batch` has no --retries, and a refused connection retries)
    assert batch_command(scenario="hello-there", runs=2, turns=1, model_a="openai/x",
                         model_b="openai/x", concurrency=2, out=tmp_path / "batch",
                         api_base=with_user, overrides={"num_retries": 0}, run_retries=0) == 1
    assert main(["batch", "--runs", "1", "--turns", "1", "--model", "openai/x",
                 "--api-base", with_query, "--out", str(tmp_path / "batch2")]) == 1
    assert main(["analyze", "--json", str(out)]) == 1  # every run failed: no results
    printed = capsys.readouterr()
    assert "no results in" in printed.err and "left out: 2 failed runs" in printed.err

    written = {path: path.read_text(encoding="utf-8") for path in files_under(tmp_path)}
    assert any(p.name == "batch.json" for p in written)
    for path, text in written.items():
        assert not leaks(text), f"{path} holds {leaks(text)}"
    assert not leaks(printed.out), leaks(printed.out)
    assert not leaks(printed.err), leaks(printed.err)

    # what was stored is still useful: where the server is, and what went wrong
    logs = [load_session(session) for session in sessions]
    assert sorted(log.config.a.params["api_base"] for log in logs) == [
        f"http://127.0.0.1:{port}/v1", f"http://127.0.0.1:{port}/v1?tier=free"]
    assert any("Incorrect API key provided" in e.message and "[redacted]" in e.message
               for log in logs for e in log.errors)
    manifest = json.loads((tmp_path / "batch" / "batch.json").read_text(encoding="utf-8"))
    assert manifest["spec"]["api_base"] == f"http://127.0.0.1:{port}/v1"


@pytest.mark.usefixtures("secret_env")
def test_resumed_batch_matches_its_stripped_spec(server: _Echo, tmp_path: Path) -> None:
    """The manifest holds the stripped URL, so rerunning the same command still resumes it."""
    api_base = f"http://127.0.0.1:{server.server_port}/v1?api_key={QUERY_SECRET}"
    args = ["batch", "--runs", "1", "--turns", "1", "--model", "openai/x",
            "--api-base", api_base, "--out", str(tmp_path / "b")]
    assert main(args) == 1
    assert main(args) == 1  # an error run again, not "holds a batch with other settings"
