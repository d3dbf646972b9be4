"""Visibility measured from rendered instance masks."""

from __future__ import annotations

import numpy as np

from synth.core.scene import ObjectVisibility


def visibility_table(instance: np.ndarray, object_ids: list[int]) -> list[ObjectVisibility]:
    """Visible pixel count of every object in every frame of (F, H, W) instance maps."""
    size = max(object_ids, default=0) + 1
    counts = np.stack([np.bincount(f.ravel(), minlength=size)[:size] for f in instance])
    return [ObjectVisibility(id=oid, pixels=[int(c) for c in counts[:, oid]]) for oid in object_ids]


def visible_pixels(instance: np.ndarray, object_ids: list[int]) -> dict[int, list[int]]:
    """``visibility_table`` as ``RenderSession.measure_visibility`` returns it: id -> pixels per frame."""
    return {v.id: v.pixels for v in visibility_table(instance, object_ids)}
