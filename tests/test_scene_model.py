"""The scene/episode JSON round-trips losslessly; geometry helpers follow the conventions."""

from __future__ import annotations

import math

import numpy as np

from synth.backends.procedural.sampler import sample_scene
from synth.core.camera import camera_center, intrinsics, look_at, project
from synth.core.scene import CameraFrame, Episode, Scene
from synth.core.visibility import visibility_table
from tests.cheap import cheap_episode


def test_scene_and_episode_json_round_trip():
    scene = sample_scene(11)
    assert Scene.model_validate_json(scene.model_dump_json()) == scene
    planned = cheap_episode(11, frames=5, width=64, height=48, dynamic=True)
    assert planned.motions and planned.actions
    inst = np.random.default_rng(1).integers(0, len(scene.objects) + 1, (5, 48, 64)).astype(np.uint16)
    ep = planned.model_copy(update={"visibility": visibility_table(inst, [o.id for o in scene.objects])})
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


def test_camera_path_is_smooth_collision_free_and_matches_its_actions():
    from shapely.geometry import Point

    from synth.planning.planner import MAX_SPEED, MAX_TURN_RATE, free_space

    for seed in range(12):
        ep = cheap_episode(seed, frames=16)
        eyes = np.array([camera_center(np.asarray(f.camera.world_to_camera)) for f in ep.frames])
        free = free_space(ep.scene).buffer(1e-6)
        static = all(Point(e[:2]).within(free) for e in eyes)
        assert static or ep.motions, seed  # a moved object's path is also kept clear
        assert np.all((eyes[:, 2] > 1.3) & (eyes[:, 2] < 1.7))
        steps = np.linalg.norm(np.diff(eyes, axis=0), axis=1)
        assert steps.max() <= MAX_SPEED / ep.fps * 1.6 + 1e-9  # eased: peak 1.5x the mean speed
        headings = [math.atan2(f.camera.world_to_camera[2][1], f.camera.world_to_camera[2][0]) for f in ep.frames]
        turns = np.abs([math.remainder(b - a, 2 * math.pi) for a, b in zip(headings, headings[1:])])
        assert turns.max() <= MAX_TURN_RATE / ep.fps * 1.6 + 1e-9
        # the recorded ego actions integrate back to the camera path
        pos, head = eyes[0, :2].copy(), headings[0]
        for act in ep.actions:
            pos += act.forward * np.array([math.cos(head), math.sin(head)]) + act.left * np.array(
                [-math.sin(head), math.cos(head)]
            )
            head += act.turn_left
            assert np.allclose(pos, eyes[act.frame, :2], atol=1e-6)
            assert abs(math.remainder(head - headings[act.frame], 2 * math.pi)) < 1e-6


def test_object_motion_has_no_interpenetration():
    from synth.core.geometry import footprint

    moved = 0
    for seed in range(40):
        ep = cheap_episode(seed, frames=8, dynamic=True)
        for m in ep.motions:
            moved += 1
            obj = ep.scene.object(m.id)
            for frame in ep.frames:
                pose = next(p for p in frame.object_poses if p.id == m.id)
                fp = footprint(obj.box.at(pose))
                z0, z1 = pose.position[2] - obj.box.size[2] / 2, pose.position[2] + obj.box.size[2] / 2
                for other in ep.scene.objects:
                    if other.id == m.id:
                        continue
                    o0 = other.box.center[2] - other.box.size[2] / 2
                    o1 = other.box.center[2] + other.box.size[2] / 2
                    if min(z1, o1) - max(z0, o0) > 1e-6:
                        assert fp.intersection(footprint(other.box)).area < 1e-9, (seed, m, other.name)
            last = next(p for p in ep.frames[-1].object_poses if p.id == m.id)
            shift = np.asarray(last.position) - np.asarray(obj.box.center)
            assert np.allclose(shift, m.translation, atol=1e-9) and abs(last.yaw - obj.box.yaw - m.rotation) < 1e-9
    assert moved >= 30
