"""STAND-IN for a vision-language model server, for tests only: NOT a model.

No vision model can run on this machine, so ``synth eval --base-url`` is tested against this
OpenAI-compatible HTTP server that answers ``POST /v1/chat/completions`` from a fixed table
(question prompt -> reply). It checks what a real server would need (the model name, image parts
before the question) and records every request, so tests can assert what synth sent; it can fail
the first requests with HTTP 503 to exercise the client's retries.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandInVisionServer:
    """``with StandInVisionServer(table) as server: server.base_url`` (a ``/v1`` URL)."""

    def __init__(self, table: dict[str, str], model: str = "standin-vision", fail_first: int = 0):
        self.table, self.model, self.fail_first = table, model, fail_first
        self.requests: list[dict] = []  # every request body that got an answer
        self.failed = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _reply(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    if server.failed < server.fail_first:
                        server.failed += 1
                        return self._reply(503, {"error": {"message": "stand-in: warming up"}})
                if self.path != "/v1/chat/completions" or body.get("model") != server.model:
                    return self._reply(404, {"error": {"message": f"stand-in: no model {body.get('model')!r}"}})
                parts = body["messages"][-1]["content"]
                images = [p for p in parts if p.get("type") == "image_url"]
                question = parts[-1]["text"] if parts and parts[-1].get("type") == "text" else ""
                if not images or not all(p["image_url"]["url"].startswith("data:image/jpeg;base64,") for p in images):
                    return self._reply(400, {"error": {"message": "stand-in: no frames in the message"}})
                with server._lock:
                    server.requests.append(body)
                answer = server.table.get(question, "I do not know")
                self._reply(
                    200,
                    {
                        "id": "standin",
                        "object": "chat.completion",
                        "model": server.model,
                        "choices": [
                            {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
                        ],
                        "usage": {},
                    },
                )

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def __enter__(self) -> StandInVisionServer:
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._http.shutdown()
        self._http.server_close()
