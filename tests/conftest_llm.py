"""Fixtures for the LLM compile tests (import them into a test module; not a conftest.py).

- ``llm_server`` (import ``llm_server_fixture``): a real llama.cpp server (xllamacpp) on
  127.0.0.1 with the Qwen2.5-Coder-0.5B model that infra/llm_model.py assembles from PyPI
  packages and checks against its pinned sha256.
  Start and stop both have deadlines, so the suite cannot hang on a server that does not come up.
- ``FaultServer``: a small real HTTP server on 127.0.0.1 that answers from a script (errors,
  garbage, delays, canned chat replies) and records every request: for the error paths only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.llm_model import ModelError, ensure_model
from infra.llm_server import LocalServer, ServerError

MODEL = "qwen2.5-coder-0.5b"
STARTUP_TIMEOUT = 120.0  # a loaded 2-core machine takes ~1-10 s


@pytest.fixture(scope="session", name="llm_server")
def llm_server_fixture() -> Iterator[LocalServer]:
    """The local OpenAI-compatible server with the 0.5B coder model (fails, never hangs, if it cannot start)."""
    try:
        import xllamacpp  # noqa: F401
    except ImportError:
        pytest.fail("xllamacpp is not installed: pip install xllamacpp (the LLM tests need a real local server)")
    try:
        path = ensure_model(MODEL)
    except ModelError as e:
        pytest.fail(f"cannot assemble the test model: {e}")
    server = LocalServer(path, alias=MODEL, startup_timeout=STARTUP_TIMEOUT, stop_timeout=5)
    try:
        server.start()
    except ServerError as e:
        pytest.fail(f"the local LLM server did not start: {e}")
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------------
# fault injection


def chat_body(text: str, finish_reason: str = "stop") -> bytes:
    """An OpenAI chat completion reply carrying ``text``."""
    return json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "model": "scripted",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}
            ],
            "usage": {},
        }
    ).encode()


@dataclass
class Reply:
    """One scripted answer: HTTP status, body, headers, and a delay before answering."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    echo_auth: bool = False  # put the request's Authorization header into the body (redaction test)


class FaultServer:
    """A real HTTP server on 127.0.0.1 answering POST /v1/chat/completions from a script.

    The last reply repeats once the script is used up. ``requests`` holds (headers, JSON body).
    """

    def __init__(self, script: list[Reply]):
        self.script = list(script)
        self.requests: list[tuple[dict[str, str], dict]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer._lock:
                    outer.requests.append((dict(self.headers), json.loads(raw or b"{}")))
                    reply = outer.script[min(len(outer.requests), len(outer.script)) - 1]
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body
                if reply.echo_auth:
                    body += f" (received Authorization: {self.headers.get('Authorization')})".encode()
                try:
                    self.send_response(reply.status)
                    for k, v in {"Content-Type": "application/json", **reply.headers}.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args):  # quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
