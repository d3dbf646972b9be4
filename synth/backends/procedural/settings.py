"""The procedural source's settings (``RunConfig.source`` with ``simulator: procedural``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from synth.core.plugin import SourceSettings

ASSET_VARIANTS = 4  # Infinigen assets per category unless told otherwise
MIN_ROOMS, MAX_ROOMS = 3, 8  # rooms of a house
MIN_OBJECTS, MAX_OBJECTS = 8, 25  # objects of a sampled room, unless told otherwise
OBJECTS_BOUNDS = (4, 40)  # the most and least --min-objects / --max-objects may ask of one room


def check_rooms(rooms: int | None, max_rooms: int = MAX_ROOMS) -> None:
    """``ValueError`` (one line) unless ``rooms`` is None (drawn per seed, 3 to ``max_rooms``)
    or 3-8 and at most ``max_rooms``, itself 3-8."""
    if not MIN_ROOMS <= max_rooms <= MAX_ROOMS:
        raise ValueError(f"--max-rooms is {MIN_ROOMS} to {MAX_ROOMS}, not {max_rooms}")
    if rooms is not None and not MIN_ROOMS <= rooms <= MAX_ROOMS:
        raise ValueError(f"a house has {MIN_ROOMS} to {MAX_ROOMS} rooms, not {rooms}")
    if rooms is not None and rooms > max_rooms:
        raise ValueError(f"--rooms {rooms} is more than --max-rooms {max_rooms}")


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
        None,
        description=f"rooms of a house, {MIN_ROOMS}-{MAX_ROOMS} (--layout house); none: drawn per seed, "
        f"{MIN_ROOMS} to --max-rooms",
    )
    max_rooms: int = Field(
        MAX_ROOMS,
        ge=MIN_ROOMS,
        le=MAX_ROOMS,
        description=f"most rooms of a house drawn per seed, {MIN_ROOMS}-{MAX_ROOMS} (--layout house without --rooms)",
    )

    min_objects: int = Field(
        MIN_OBJECTS,
        ge=OBJECTS_BOUNDS[0],
        le=OBJECTS_BOUNDS[1],
        description=f"fewest objects a sampled room holds (--layout room; {OBJECTS_BOUNDS[0]}-{OBJECTS_BOUNDS[1]})",
    )
    max_objects: int = Field(
        MAX_OBJECTS,
        ge=OBJECTS_BOUNDS[0],
        le=OBJECTS_BOUNDS[1],
        description=f"most objects a sampled room holds (--layout room; {OBJECTS_BOUNDS[0]}-{OBJECTS_BOUNDS[1]}), "
        "drawn per seed between the two",
    )

    @model_validator(mode="after")
    def _rooms(self) -> ProceduralSource:
        if self.min_objects > self.max_objects:
            raise ValueError(f"--min-objects {self.min_objects} is more than --max-objects {self.max_objects}")
        if (self.min_objects, self.max_objects) != (MIN_OBJECTS, MAX_OBJECTS) and self.layout != "room":
            raise ValueError("--min-objects and --max-objects apply to --layout room")
        if self.rooms is not None and self.layout != "house":
            raise ValueError("--rooms applies to --layout house")
        if self.max_rooms != MAX_ROOMS and self.layout != "house":
            raise ValueError("--max-rooms applies to --layout house")
        check_rooms(self.rooms, self.max_rooms)
        return self

    @classmethod
    def not_mine(cls, options: list[str]) -> str:
        flags = ", ".join(f"--{o.replace('_', '-')}" for o in options)
        verb = "names" if len(options) == 1 else "name"
        return f"{flags} {verb} scenes of a simulator; procedural scenes are sampled"
