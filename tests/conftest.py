from __future__ import annotations

import bpy  # noqa: F401  (imported first on purpose: worker pools must survive a parent with bpy loaded)
import pytest

from flows.config import RunConfig
from flows.run import run


def tiny_config(**overrides) -> RunConfig:
    """A small, fast configuration: draft renders, few frames, low resolution."""
    base = dict(
        episodes=3, seed=5, frames=6, width=160, height=120, quality="draft", samples_per_shard=2, min_pixels=20
    )
    return RunConfig.from_options(**{**base, **overrides})


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """One finished tiny dataset shared by read-only tests."""
    out = tmp_path_factory.mktemp("tiny") / "ds"
    manifest = run(tiny_config(), out)
    return out, manifest
