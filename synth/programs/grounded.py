"""Grounded answers (issue #33; ``synth.core.records.GROUNDED``): what a program of a grounded
family may return, its answer text, and the ``Grounding`` an item records.

A program of a ``2d box``, ``2d point``, ``3d box`` or ``3d point`` family returns a list of 4, 2,
9 or 3 finite numbers; a ``cognitive map`` program a dict from category to ``[[column, row]]``.
2D families name their convention with a choice slot valued ``COORDINATES``' keys ("pixel" or
"0-1000 normalized"); 3D answers are in the camera frame of the family's frame slot; maps are on a
``MAP_CELLS`` x ``MAP_CELLS`` grid."""

from __future__ import annotations

import json
import math

from synth.core.grounding import LENGTHS
from synth.core.records import GROUNDED, Convention, Grounding
from synth.core.scene import Episode
from synth.programs.family import Family

COORDINATES: dict[str, Convention] = {"pixel": "pixels", "0-1000 normalized": "0-1000"}
MAP_CELLS = 10


def is_grounded(family: Family) -> bool:
    return family.answer_type in GROUNDED


def valid(family: Family, value) -> bool:
    """Whether ``value`` is an answer of the grounded family's type (module docstring)."""
    if family.answer_type == "cognitive map":
        return (
            isinstance(value, dict)
            and len(value) > 1
            and all(isinstance(k, str) and _cell(v) for k, v in value.items())
        )
    n = LENGTHS[family.answer_type]
    return isinstance(value, list) and len(value) == n and all(_number(x) for x in value)


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _cell(v) -> bool:
    return (
        isinstance(v, list)
        and len(v) == 1
        and isinstance(v[0], list)
        and len(v[0]) == 2
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c < MAP_CELLS for c in v[0])
    )


def text(value) -> str:
    """The answer text: the value as JSON (``[x1, y1, x2, y2]``, ``{"chair": [[3, 7]], ...}``)."""
    return json.dumps(value)


def grounding(family: Family, slots: dict, episode: Episode) -> Grounding:
    """Where an item's coordinates live: the frame slot's frame, the convention its choice slot
    names (2D), the camera frame (3D) or the grid (maps), and the delivered frames' size."""
    frames = [int(slots[s]) for s, kind in family.slots.items() if kind == "frame"]
    if family.answer_type == "cognitive map":
        convention: Convention = "grid"
    elif family.answer_type.startswith("3d"):
        convention = "camera"
    else:
        convention = next((COORDINATES[v] for v in slots.values() if v in COORDINATES), "pixels")
    return Grounding(
        convention=convention,
        frame=frames[0] if frames else None,
        width=episode.width,
        height=episode.height,
        cells=MAP_CELLS if convention == "grid" else 0,
    )
