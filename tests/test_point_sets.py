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


def test_scene_api_mesh_distance_is_the_plain_one_from_cached_meshes():
    """``SceneAPI.mesh_distance`` with a ``MeshCache`` kept from scene to scene (the sandbox's):
    the smallest distance between the two objects' surface samples and vertices as read from
    their files, unwelded, posed at the frame, bit for bit."""
    from synth.backends.registry import open_renderer, renderer_settings, scene_source
    from synth.core.geometry import local_to_world
    from synth.core.meshes import MeshCache, local_mesh, surface_samples
    from synth.core.scene import VideoSpec, VisibilityRule
    from synth.planning.shoot import shoot
    from synth.programs.scene_api import SceneAPI

    renderer = open_renderer(renderer_settings("zbuffer"))
    cache = MeshCache(size=4)
    for seed in (2, 7):
        scene = scene_source("procedural", assets="primitives")(seed)
        video = VideoSpec(frames=4, width=80, height=60, fps=4.0)
        episode, _ = shoot(renderer, scene, video, VisibilityRule(min_pixels=5), np.random.default_rng(0), dynamic=True)
        api = SceneAPI(episode, None, cache)
        poses = {p.id: p for p in episode.frames[-1].object_poses}

        def points(obj, root=scene.asset_root, poses=poses):
            local = np.concatenate([surface_samples(obj, root), local_mesh(obj, root).vertices])
            return local_to_world(local, poses[obj.id])

        a, *others = scene.objects
        for b in others:
            plain = float(cKDTree(points(a)).query(points(b))[0].min())
            assert api.mesh_distance(a.id, b.id, frame=len(episode.frames) - 1) == plain
    renderer.close()
