"""The procedural scene source's settings (``RunConfig.source`` with ``simulator: procedural``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synth.core.plugin import SourceSettings

ASSET_VARIANTS = 4  # Infinigen assets per category unless told otherwise


class ProceduralSource(SourceSettings):
    """Sampled furnished rooms, one per seed (``synth.backends.procedural.sampler``)."""

    simulator: Literal["procedural"] = "procedural"
    assets: Literal["primitives", "infinigen"] = Field(
        "infinigen",
        description="furniture of the procedural scenes: synth's primitive parts, or Infinigen's procedural meshes "
        "and materials (needs .venv-infinigen: infra/bootstrap.sh --infinigen; generated once, cached)",
    )
    asset_variants: int = Field(
        ASSET_VARIANTS, ge=1, le=64, description="Infinigen assets per category (--assets infinigen)"
    )

    @classmethod
    def not_mine(cls, options: list[str]) -> str:
        flags = ", ".join(f"--{o.replace('_', '-')}" for o in options)
        verb = "names" if len(options) == 1 else "name"
        return f"{flags} {verb} scenes of a simulator; procedural scenes are sampled"
