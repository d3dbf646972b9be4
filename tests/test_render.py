"""Real Blender renders agree with the scene geometry (ids, depth, camera matrices)."""

from __future__ import annotations

import numpy as np
import pytest

from sim_adapters.blender_backend import BlenderRenderer, BlenderSettings
from sim_adapters.geometry import camera_center, project, to_camera
from sim_adapters.meshes import object_mesh, sample_surface
from sim_adapters.planner import plan_episode
from sim_adapters.procedural import sample_scene
from tests.raycast import first_hits, scene_triangles

W, H = 320, 240


@pytest.fixture(scope="module")
def renderer():
    r = BlenderRenderer(BlenderSettings(quality="draft"))
    yield r
    r.close()


def _render(renderer: BlenderRenderer, seed: int, quality: str, n_frames: int = 2):
    renderer.settings = BlenderSettings(quality=quality, samples=4)
    scene = sample_scene(seed)
    renderer.load(scene, W, H)
    plan = plan_episode(
        scene, n_frames, W, H, 8.0, np.random.default_rng(seed), renderer.measure_visibility, dynamic=True
    )
    return scene, plan.frames, renderer.render(scene, plan.frames)


def _check_surface_points(scene, frame, depth, inst, rng):
    """Sample points on object surfaces; keep the ones a ray through their pixel centre hits
    first (i.e. visible); the instance map there must be the object and the depth the
    point's camera-space z within 1%."""
    tris, ids = scene_triangles(scene, frame)
    cam = frame.camera
    K, T = np.asarray(cam.K), np.asarray(cam.world_to_camera)
    eye = camera_center(T)
    checked = agree_id = agree_depth = 0
    for pose in frame.object_poses:
        pts, _ = sample_surface(object_mesh(scene.object(pose.id), pose), 150, rng)
        uv, z = project(cam, pts)
        px = np.round(uv).astype(int)
        inside = (z > 0.1) & (px[:, 0] >= 0) & (px[:, 0] < W) & (px[:, 1] >= 0) & (px[:, 1] < H)
        if not inside.any():
            continue
        pts, px, z = pts[inside], px[inside], z[inside]
        rays_cam = np.column_stack([px, np.ones(len(px))]) @ np.linalg.inv(K).T
        dirs = rays_cam @ T[:3, :3]  # camera -> world rotation is R^T: row-vector form
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        t, hit_id = first_hits(eye, dirs, tris, ids)
        hit_z = to_camera(cam, eye + dirs * t[:, None])[:, 2]
        visible = (hit_id == pose.id) & (np.abs(hit_z - z) < 0.01 * z)
        for (u, v), zz in zip(px[visible], z[visible]):
            checked += 1
            agree_id += inst[v, u] == pose.id
            agree_depth += abs(depth[v, u] - zz) <= 0.01 * zz
    return checked, agree_id, agree_depth


@pytest.mark.parametrize("quality", ["draft", "photoreal"])
def test_ids_and_depth_match_geometry(renderer, quality):
    rng = np.random.default_rng(0)
    total = ids_ok = depth_ok = 0
    for seed in (1, 2):
        scene, frames, buf = _render(renderer, seed, quality)
        assert buf.rgb.shape == (2, H, W, 3) and buf.rgb.dtype == np.uint8
        assert buf.rgb.std() > 10, "frames should not be blank"
        for f, frame in enumerate(frames):
            n, a, d = _check_surface_points(scene, frame, buf.depth[f], buf.instance[f], rng)
            total, ids_ok, depth_ok = total + n, ids_ok + a, depth_ok + d
    assert total > 300, f"too few visible surface points checked ({total})"
    assert ids_ok / total >= 0.99, f"instance ids agree on {ids_ok}/{total} points"
    assert depth_ok / total >= 0.99, f"depth within 1% on {depth_ok}/{total} points"


def test_projected_box_corners_bound_the_mask(renderer):
    scene, frames, buf = _render(renderer, 3, "draft", n_frames=3)
    checked = 0
    for f, frame in enumerate(frames):
        for pose in frame.object_poses:
            ys, xs = np.nonzero(buf.instance[f] == pose.id)
            if len(xs) == 0:
                continue
            box = scene.object(pose.id).box.at(pose)
            uv, z = project(frame.camera, np.asarray(box.corners()))
            if (z <= 0.05).any():
                continue
            assert uv[:, 0].min() - 1 <= xs.min() and xs.max() <= uv[:, 0].max() + 1, pose.id
            assert uv[:, 1].min() - 1 <= ys.min() and ys.max() <= uv[:, 1].max() + 1, pose.id
            checked += 1
    assert checked >= 3


def test_unknown_ids_never_appear(renderer):
    scene, _, buf = _render(renderer, 4, "draft")
    valid = {0} | {o.id for o in scene.objects}
    assert set(np.unique(buf.instance).tolist()) <= valid
    assert np.isfinite(buf.depth).all(), "a closed room leaves no background pixels"
