"""The version of synth's own code: what a run records and a resume checks."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

PACKAGES = ("flows", "sim_adapters", "programs", "storage", "degradations")


@functools.cache
def code_version() -> str:
    """Digest (16 hex digits) of synth's source files (``*.py`` and the library's family files):
    cached renders never outlive a code change, and a dataset says which code wrote it."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in PACKAGES:
        for path in sorted(p for p in (root / package).rglob("*") if p.suffix in (".py", ".yaml")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
