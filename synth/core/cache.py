"""Where synth keeps machine-local files it can rebuild: ``$SYNTH_CACHE``, else
``~/.cache/synth``. Below it: ``infinigen/`` (generated assets), ``staging/`` (runs bound for
object storage), ``datasets/`` (datasets fetched from object storage)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The cache folder, read from the environment at each call (tests and workers set it)."""
    return Path(os.environ.get("SYNTH_CACHE") or Path.home() / ".cache" / "synth")
