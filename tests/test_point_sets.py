"""Point-set helpers of synth.core.geometry against the plain computations they replace."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from synth.core.geometry import closest_distance, voxel_firsts


def test_closest_distance_is_the_plain_query_bit_for_bit():
    """Far apart, touching, one inside the other, a single point, flat sets: the same float as
    querying every point of b against a's tree."""
    rng = np.random.default_rng(0)
    for k in range(120):
        a = rng.normal(size=(int(rng.integers(1, 4000)), 3)) * rng.uniform(0.01, 1.0, 3)
        b = rng.normal(size=(int(rng.integers(1, 4000)), 3)) * rng.uniform(0.01, 1.0, 3)
        b += rng.uniform(-3, 3, 3) * (k % 3 > 0)  # every third pair overlaps
        if k % 10 == 0:
            a[:, 2] = 0.5  # a flat set: its box has no depth
        tree = cKDTree(a)
        assert closest_distance(tree, a, b) == float(tree.query(b)[0].min())
    with pytest.raises(ValueError):
        closest_distance(cKDTree(a), a, np.zeros((0, 3)))


def test_voxel_firsts_are_np_unique_rows_first_indices():
    rng = np.random.default_rng(1)
    for _ in range(30):
        points = rng.normal(size=(int(rng.integers(1, 20000)), 3)) * rng.uniform(0.005, 2.0)
        _, first = np.unique(np.floor(points / 0.005).astype(np.int64), axis=0, return_index=True)
        np.testing.assert_array_equal(voxel_firsts(points, 0.005), np.sort(first))
    assert voxel_firsts(np.zeros((0, 3)), 0.005).size == 0
