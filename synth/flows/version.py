"""The version of synth's own code: what a run records and a resume checks."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path


@functools.cache
def code_version() -> str:
    """Digest (16 hex digits) of the whole ``synth`` package's source files (``*.py`` and the
    family files, ``*.yaml``): cached renders never outlive a code change, and a dataset says
    which code wrote it."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".yaml") and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root.parent).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
