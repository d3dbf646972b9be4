"""Visibility measured from rendered instance masks."""

from __future__ import annotations

import numpy as np


def visibility_table(instance: np.ndarray, object_ids: list[int]) -> dict[int, list[int]]:
    """Visible pixel count of every object in every frame of (F, H, W) instance maps."""
    size = max(object_ids, default=0) + 1
    counts = np.stack([np.bincount(f.ravel(), minlength=size)[:size] for f in instance])
    return {oid: [int(c) for c in counts[:, oid]] for oid in object_ids}
