"""A small client for any OpenAI-compatible chat endpoint (vLLM, llama.cpp server, Ollama, hosted APIs).

Only the standard library: ``POST {base_url}/chat/completions``. Endpoint, model and key come
from the arguments (``EndpointSettings``: the endpoint options ``synth compile`` and ``synth eval``
share) or from ``OPENAI_BASE_URL``, ``OPENAI_MODEL`` and ``OPENAI_API_KEY``. The key
is sent in the ``Authorization`` header only: it is never logged, never part of an error
message, a ``repr`` or a report (anything the server echoes back is redacted).

Timeouts, connection failures, HTTP 429 and 5xx, and malformed replies are retried with
exponential backoff (``Retry-After`` honoured, capped), a bounded number of times; then
``LLMError`` says what happened. Other HTTP errors (400, 401, 404, ...) fail at once.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger("synth.llm")

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class LLMError(RuntimeError):
    """The endpoint could not produce a usable reply (after retries where they make sense)."""


@dataclass(frozen=True)
class ChatResult:
    """One chat completion."""

    text: str
    finish_reason: str
    model: str
    seconds: float
    attempts: int  # HTTP requests it took (1 = no retry)
    usage: dict = field(default_factory=dict)


def normalize_base_url(url: str) -> str:
    """``http://host:port`` -> ``http://host:port/v1`` (the OpenAI convention); other paths kept as given."""
    url = url.strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LLMError(f"base URL {url!r} is not an http(s) URL, e.g. http://127.0.0.1:8080/v1")
    return url + "/v1" if parts.path in ("", "/") else url


class EndpointSettings(BaseModel):
    """Where and how to reach an OpenAI-compatible chat endpoint (``synth compile``, ``synth eval``).

    Holds the name of the environment variable with the API key, never the key itself.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (None: $OPENAI_BASE_URL)"
    )
    model: str | None = Field(None, description="model name at that endpoint (None: $OPENAI_MODEL)")
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable that holds the API key")
    timeout: float = Field(60.0, gt=0, description="seconds per request")
    max_retries: int = Field(3, description="retries per request after timeouts, 429, 5xx and malformed replies")

    def api_key(self) -> str:
        """The key from ``api_key_env`` ("" when unset: no Authorization header)."""
        return os.environ.get(self.api_key_env, "")


class ChatClient:
    """OpenAI-compatible chat completions with timeouts and bounded retries.

    ``requests`` counts every HTTP request sent (tests use it to prove a cache hit sent none).
    """

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 1.0,
        backoff_max: float = 20.0,
    ):
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        model = model or os.environ.get("OPENAI_MODEL")
        if not base_url:
            raise LLMError("no endpoint: pass a base URL or set OPENAI_BASE_URL (e.g. http://127.0.0.1:8080/v1)")
        if not model:
            raise LLMError("no model: pass a model name or set OPENAI_MODEL")
        self.base_url = normalize_base_url(base_url)
        self.model = model
        self._key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.requests = 0

    @classmethod
    def from_settings(cls, settings: EndpointSettings) -> ChatClient:
        """A client for ``settings`` (its key read from ``settings.api_key_env``)."""
        return cls(
            settings.base_url,
            settings.model,
            settings.api_key(),
            timeout=settings.timeout,
            max_retries=settings.max_retries,
        )

    def __repr__(self) -> str:  # never the key
        return f"ChatClient(base_url={self.base_url!r}, model={self.model!r}, key={'set' if self._key else 'none'})"

    def redact(self, text: str) -> str:
        """``text`` with the API key (if any) replaced by ``***``."""
        return text.replace(self._key, "***") if self._key and len(self._key) >= 4 else text

    def chat(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float = 0.0,
        max_tokens: int = 256,
        seed: int | None = None,
        stop: list[str] | None = None,
        extra: dict | None = None,
    ) -> ChatResult:
        """One completion; retried on timeouts, 429, 5xx and malformed replies, then LLMError."""
        body: dict = {"model": self.model, "messages": messages, "temperature": temperature, "max_tokens": max_tokens}
        if seed is not None:
            body["seed"] = seed
        if stop:
            body["stop"] = stop
        body.update(extra or {})
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        url = f"{self.base_url}/chat/completions"
        start, last = time.monotonic(), ""
        for attempt in range(self.max_retries + 1):
            self.requests += 1
            retry_after: float | None = None
            try:
                req = urllib.request.Request(url, data=data, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    raw = resp.read()
                text, finish, model, usage = _parse_reply(raw)
                return ChatResult(text, finish, model or self.model, time.monotonic() - start, attempt + 1, usage)
            except urllib.error.HTTPError as e:
                detail = _error_detail(e)
                last = f"HTTP {e.code} from {url}: {detail}"
                if e.code not in RETRYABLE_STATUS:
                    raise LLMError(self.redact(_hint(e.code, last))) from None
                retry_after = _retry_after(e.headers.get("Retry-After"))
            except urllib.error.URLError as e:
                if isinstance(e.reason, TimeoutError):
                    last = f"no reply from {url} within {self.timeout:g} s"
                else:
                    last = f"cannot reach {url}: {e.reason}"
            except TimeoutError:
                last = f"no reply from {url} within {self.timeout:g} s"
            except (OSError, http.client.HTTPException) as e:
                last = f"connection to {url} failed: {type(e).__name__}: {e}"
            except _Malformed as e:
                last = f"malformed reply from {url}: {e}"
            if attempt == self.max_retries:
                break
            delay = min(self.backoff_max, self.backoff * 2**attempt) * (0.75 + 0.5 * random.random())
            if retry_after is not None:
                delay = min(self.backoff_max, max(delay, retry_after))
            log.warning("%s; retry %d/%d in %.1f s", self.redact(last), attempt + 1, self.max_retries, delay)
            time.sleep(delay)
        raise LLMError(self.redact(f"gave up after {self.max_retries + 1} attempts: {last}"))


class _Malformed(ValueError):
    pass


def _parse_reply(raw: bytes) -> tuple[str, str, str, dict]:
    try:
        reply = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _Malformed(f"not JSON: {raw[:120]!r}") from None
    try:
        choice = reply["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise _Malformed(f"no choices[0].message.content in {str(reply)[:160]}") from None
    if not isinstance(content, str):
        raise _Malformed(f"message content is {type(content).__name__}, not text")
    return content, str(choice.get("finish_reason") or ""), str(reply.get("model") or ""), reply.get("usage") or {}


def _error_detail(e: urllib.error.HTTPError) -> str:
    try:
        body = e.read(2000).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - the body is only a hint
        return e.reason or ""
    try:
        msg = json.loads(body)["error"]
        body = msg.get("message", str(msg)) if isinstance(msg, dict) else str(msg)
    except (ValueError, KeyError, TypeError):
        pass
    return " ".join(body.split())[:300]


def _hint(code: int, text: str) -> str:
    hints = {
        401: "check OPENAI_API_KEY / --api-key",
        403: "the key is not allowed to use this model",
        404: "check the base URL (usually ends in /v1) and the model name",
    }
    return f"{text} ({hints[code]})" if code in hints else text


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
