"""Model replies on disk, so that a second compile of the same families sends no request.

Entries live under ``<cache dir>/<model>/<api version>/<prompt hash>.json``; the prompt hash
covers the messages, temperature, token limit, seed and ``COMPILER_VERSION``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from synth.programs.prompting import COMPILER_VERSION


class ReplyCache:
    """Model replies on disk, keyed by (prompt hash, model, API version)."""

    def __init__(self, directory: str | Path, model: str, api: str):
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model)[:80] or "model"
        self.dir = Path(directory) / slug / api

    def get(self, prompt_hash: str) -> dict | None:
        try:
            return json.loads((self.dir / f"{prompt_hash}.json").read_text())
        except (OSError, ValueError):
            return None

    def put(self, prompt_hash: str, entry: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".{prompt_hash}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(entry, indent=1))
        os.replace(tmp, self.dir / f"{prompt_hash}.json")


def prompt_hash(messages: list[dict[str, str]], temperature: float, max_tokens: int, seed: int | None) -> str:
    """sha256 hex digest of a request and ``COMPILER_VERSION``: the key of its cached reply."""
    payload = {"compiler": COMPILER_VERSION, "messages": messages, "t": temperature, "max": max_tokens, "seed": seed}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/synth/compile`` (``~/.cache`` without XDG_CACHE_HOME)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "synth" / "compile"
