"""The scene/episode JSON round-trips losslessly; geometry helpers follow the conventions."""

from __future__ import annotations

import math

import numpy as np

from sim_adapters.geometry import camera_center, intrinsics, look_at, project
from sim_adapters.procedural import sample_scene
from sim_adapters.scene import CameraFrame, Episode, Scene
from sim_adapters.trajectory import plan_dolly
from sim_adapters.visibility import visibility_table


def test_scene_and_episode_json_round_trip():
    scene = sample_scene(11)
    assert Scene.model_validate_json(scene.model_dump_json()) == scene
    frames = plan_dolly(scene, 5, 64, 48, 8.0, np.random.default_rng(0))
    inst = np.random.default_rng(1).integers(0, len(scene.objects) + 1, (5, 48, 64)).astype(np.uint16)
    ep = Episode(
        scene=scene,
        width=64,
        height=48,
        fps=8.0,
        frames=frames,
        visibility=visibility_table(inst, [o.id for o in scene.objects]),
    )
    text = ep.model_dump_json()
    back = Episode.model_validate_json(text)
    assert back == ep and back.model_dump_json() == text
    assert sum(sum(v.pixels) for v in ep.visibility) == int((inst > 0).sum())


def test_opencv_camera_convention():
    K = intrinsics(320, 240, math.radians(90))
    assert np.isclose(K[0, 0], 160.0) and np.isclose(K[0, 2], 159.5)
    T = look_at(np.array([0.0, 0.0, 1.5]), np.array([3.0, 0.0, 1.5]))  # looking along +X
    cam = CameraFrame(K=tuple(map(tuple, K)), world_to_camera=tuple(map(tuple, T)))
    assert np.allclose(camera_center(T), [0, 0, 1.5])
    uv, z = project(cam, np.array([[3.0, 0.0, 1.5], [3.0, -1.0, 1.5], [3.0, 0.0, 2.5]]))
    assert np.allclose(z, 3.0)
    assert np.allclose(uv[0], [159.5, 119.5])  # straight ahead: image centre
    assert uv[1, 0] > uv[0, 0]  # world -Y is to the right when looking along +X
    assert uv[2, 1] < uv[0, 1]  # world +Z is up in the image


def test_camera_path_is_smooth_and_collision_free():
    from shapely.geometry import Point

    from sim_adapters.trajectory import free_space

    for seed in range(10):
        scene = sample_scene(seed)
        frames = plan_dolly(scene, 16, 320, 240, 8.0, np.random.default_rng(seed))
        eyes = np.array([camera_center(np.asarray(f.camera.world_to_camera)) for f in frames])
        free = free_space(scene)
        assert all(free.buffer(1e-6).contains(Point(e[:2])) for e in eyes)
        assert np.all((eyes[:, 2] > 1.2) & (eyes[:, 2] < 1.8))
        steps = np.linalg.norm(np.diff(eyes, axis=0), axis=1)
        assert steps.max() < 0.3  # m per frame
        assert np.abs(np.diff(steps)).max() < 0.05  # no jerks
