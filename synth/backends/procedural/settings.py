"""The procedural source's settings (``RunConfig.source`` with ``simulator: procedural``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from synth.core.plugin import SourceSettings

ASSET_VARIANTS = 4  # Infinigen assets per category unless told otherwise
MIN_ROOMS, MAX_ROOMS = 3, 8  # rooms of a house


def check_rooms(rooms: int | None) -> None:
    """``ValueError`` (one line) unless ``rooms`` is None (drawn per seed) or 3-8."""
    if rooms is not None and not MIN_ROOMS <= rooms <= MAX_ROOMS:
        raise ValueError(f"a house has {MIN_ROOMS} to {MAX_ROOMS} rooms, not {rooms}")


class ProceduralSource(SourceSettings):
    """Sampled furnished scenes, one per seed: a room (``synth.backends.procedural.sampler``)
    or a house of several rooms (``synth.backends.procedural.house``)."""

    simulator: Literal["procedural"] = "procedural"
    assets: Literal["primitives", "infinigen"] = Field(
        "infinigen",
        description="furniture of the procedural scenes: synth's primitive parts, or Infinigen's procedural meshes "
        "and materials (needs .venv-infinigen: infra/bootstrap.sh --infinigen; generated once, cached)",
    )
    asset_variants: int = Field(
        ASSET_VARIANTS, ge=1, le=64, description="Infinigen assets per category (--assets infinigen)"
    )
    layout: Literal["room", "house"] = Field(
        "room", description="one furnished room per scene, or a house of 3-8 furnished rooms connected by doorways"
    )
    rooms: int | None = Field(
        None, description=f"rooms of a house, {MIN_ROOMS}-{MAX_ROOMS} (--layout house); none: drawn per seed"
    )

    @model_validator(mode="after")
    def _rooms(self) -> ProceduralSource:
        if self.rooms is not None and self.layout != "house":
            raise ValueError("--rooms applies to --layout house")
        check_rooms(self.rooms)
        return self

    @classmethod
    def not_mine(cls, options: list[str]) -> str:
        flags = ", ".join(f"--{o.replace('_', '-')}" for o in options)
        verb = "names" if len(options) == 1 else "name"
        return f"{flags} {verb} scenes of a simulator; procedural scenes are sampled"
