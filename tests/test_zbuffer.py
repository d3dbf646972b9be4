"""The software z-buffer (synth.core.zbuffer) agrees with exact ray casting and with Blender."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from synth.backends.procedural.sampler import sample_scene
from synth.backends.zbuffer.renderer import ZBufferRenderer
from synth.core.camera import camera_center, intrinsics, look_at
from synth.core.rotations import yaw_rotation
from synth.core.scene import ROOM_ID, CameraFrame, Frame, VideoSpec, VisibilityRule
from synth.core.zbuffer import NEAR, render_passes
from synth.planning.shoot import shoot
from tests.raycast import first_hits, scene_triangles


def _test_frames(scene, width, height, seed) -> tuple[list[Frame], int]:
    """Two planned frames (a dynamic episode) and a close-up 0.2 m over the object part with
    the largest top, looking ahead and down across it, so that this part's triangles straddle
    the near plane; also the id of that part's object."""
    rng = np.random.default_rng(seed)
    video = VideoSpec(frames=2, width=width, height=height)
    frames = shoot(ZBufferRenderer(), scene, video, VisibilityRule(), rng, dynamic=True)[0].frames
    obj, part = max(((o, p) for o in scene.objects for p in o.parts), key=lambda op: op[1].size[0] * op[1].size[1])
    R = yaw_rotation(obj.box.yaw)
    top = R @ (np.asarray(part.center) + [0.0, 0.0, part.size[2] / 2]) + obj.box.center
    eye, target = top + [0.0, 0.0, 0.2], top + R @ [1.0, 0.0, -0.5]
    return [*frames, _frame(frames[0].camera.K, look_at(eye, target), frames[0].object_poses)], obj.id


def _frame(K, T, poses=()) -> Frame:
    tup = lambda m: tuple(tuple(float(x) for x in row) for row in m)  # noqa: E731
    return Frame(index=0, time=0.0, camera=CameraFrame(K=tup(K), world_to_camera=tup(T)), object_poses=list(poses))


def _ray_cast(scene, frame, width, height):
    """Exact planar depth and ids for every pixel centre."""
    K, T = np.asarray(frame.camera.K), np.asarray(frame.camera.world_to_camera)
    u, v = np.meshgrid(np.arange(width), np.arange(height))
    rays = np.column_stack([u.ravel(), v.ravel(), np.ones(u.size)]) @ np.linalg.inv(K).T
    rays /= np.linalg.norm(rays, axis=1, keepdims=True)  # unit rays, camera frame: z = cos(angle to axis)
    tris, ids = scene_triangles(scene, frame)
    t, hit = first_hits(camera_center(T), rays @ T[:3, :3], tris, ids)
    return (t * rays[:, 2]).reshape(height, width), hit.reshape(height, width)


@pytest.mark.parametrize("seed", [1, 3])
def test_matches_exact_ray_casting(seed):
    W, H = 80, 60
    scene = sample_scene(seed)
    frames, close_id = _test_frames(scene, W, H, seed)
    tris, ids = scene_triangles(scene, frames[2])
    T = np.asarray(frames[2].camera.world_to_camera)
    z = (tris @ T[:3, :3].T + T[:3, 3])[..., 2]
    assert ((z.min(axis=1) < NEAR) & (z.max(axis=1) > NEAR) & (ids == close_id)).any()
    depth, inst = render_passes(scene, frames, W, H)
    assert depth.shape == inst.shape == (3, H, W) and depth.dtype == np.float32 and inst.dtype == np.uint16
    for f, frame in enumerate(frames):
        ray_z, ray_id = _ray_cast(scene, frame, W, H)
        assert (ray_id >= 0).all()
        agree = (inst[f] == ray_id).mean()
        assert agree >= 0.99, f"frame {f}: ids agree on {agree:.2%} of pixels"
        assert len(np.unique(inst[f])) > 2 or f == 2, "the frame should show some objects"
        err = np.abs(depth[f] - ray_z)
        assert np.median(err) < 1e-3, np.median(err)
        assert np.percentile(err[inst[f] == ray_id], 99) < 1e-3


def test_closed_room_has_no_holes_near_walls():
    """Cameras right in front of walls and in corners (floor, walls and ceiling straddle the
    near plane): every pixel sees the room, and a wall seen head-on is at its planar distance."""
    W, H = 160, 120
    for seed in (1, 3):  # an L-shaped and a rectangular room
        scene = sample_scene(seed).model_copy(update={"objects": []})
        room = scene.room
        K = intrinsics(W, H, math.radians(70))
        poly = np.asarray(room.footprint)
        frames, dist = [], []
        for i in range(len(poly)):
            a, b = poly[i], poly[(i + 1) % len(poly)]
            d = (b - a) / np.linalg.norm(b - a)
            inward = np.array([-d[1], d[0]])
            mid = (a + b) / 2
            for gap, z, down in ((0.1, 1.4, 0.0), (0.06, 0.3, 0.8), (0.08, room.height - 0.1, -0.5)):
                eye = np.array([*(mid + inward * gap), z])
                target = np.array([*(mid - inward), z - down])
                frames.append(_frame(K, look_at(eye, target)))
                dist.append(gap if down == 0.0 else None)
            # the corner at b: 0.1 m from both walls, looking into it
            c = poly[(i + 2) % len(poly)]
            e = (c - b) / np.linalg.norm(c - b)
            eye = np.array([*(b + 0.1 * inward + 0.1 * np.array([-e[1], e[0]])), 1.2])
            assert Polygon(poly).contains(Point(eye[:2]))
            frames.append(_frame(K, look_at(eye, np.array([*b, 1.0]))))
            dist.append(None)
        depth, inst = render_passes(scene, frames, W, H)
        assert np.isfinite(depth).all(), f"holes in {np.flatnonzero(~np.isfinite(depth).all(axis=(1, 2)))}"
        assert (depth >= NEAR - 1e-6).all() and (inst == ROOM_ID).all()
        for f, gap in enumerate(dist):
            if gap is not None:  # the wall faces the camera: flat depth around the image centre
                centre = depth[f, H // 2 - 10 : H // 2 + 10, W // 2 - 10 : W // 2 + 10]
                np.testing.assert_allclose(centre, gap, atol=1e-5)


def test_matches_blender_draft():
    from synth.backends.registry import open_renderer, renderer_settings

    W, H = 160, 120
    renderer = open_renderer(renderer_settings("blender", quality="draft"))
    try:
        ious, depth_err, checked = [], [], 0
        for seed in (2, 4):
            scene = sample_scene(seed)
            frames, _ = _test_frames(scene, W, H, seed)
            buf = renderer.open(scene, VideoSpec(frames=len(frames), width=W, height=H)).render(frames)
            depth, inst = render_passes(scene, frames, W, H)
            assert np.isfinite(buf.depth).all() and np.isfinite(depth).all()
            for f in range(len(frames)):
                both = inst[f] == buf.instance[f]
                depth_err.append(np.median(np.abs(depth[f] - buf.depth[f])[both]))
                for oid in np.unique(buf.instance[f]):
                    a, b = inst[f] == oid, buf.instance[f] == oid
                    if oid == ROOM_ID or min(a.sum(), b.sum()) < 200:
                        continue
                    iou = (a & b).sum() / (a | b).sum()
                    ious.append(iou)
                    assert iou >= 0.95, f"seed {seed} frame {f} object {oid}: mask IoU {iou:.3f}"
                    checked += 1
        assert checked >= 4, checked
        assert max(depth_err) < 5e-3, depth_err
    finally:
        renderer.close()


def test_objects_out_of_view_are_skipped_without_changing_a_pixel(monkeypatch):
    """The frustum test on object boxes only skips objects that draw nothing: frames from
    cameras all around a room (some right against objects, some facing away from all of them)
    come out the same with every object drawn, and some objects were skipped."""
    import synth.core.zbuffer as zb

    scene = sample_scene(5)
    rng = np.random.default_rng(5)
    K = intrinsics(40, 30, math.radians(70))
    centres = np.array([o.box.center for o in scene.objects])
    lo, hi = centres.min(axis=0), centres.max(axis=0)
    frames = []
    for _ in range(24):
        eye = rng.uniform(lo, hi) + [0.0, 0.0, rng.uniform(0.2, 1.2)]
        frames.append(_frame(K, look_at(eye, eye + rng.normal(size=3))))
    poses = [f.object_poses for f in shoot(ZBufferRenderer(), scene, VideoSpec(frames=1, width=40, height=30),
                                            VisibilityRule(), rng, dynamic=False)[0].frames][0]  # fmt: skip
    frames = [f.model_copy(update={"object_poses": poses}) for f in frames]
    skipped = []
    culled = zb._out_of_view
    monkeypatch.setattr(zb, "_out_of_view", lambda *a: skipped.append(culled(*a)) or skipped[-1])
    depth, inst = render_passes(scene, frames, 40, 30)
    monkeypatch.setattr(zb, "_out_of_view", lambda *a: False)
    all_depth, all_inst = render_passes(scene, frames, 40, 30)
    assert np.array_equal(depth, all_depth) and np.array_equal(inst, all_inst)
    assert 0 < sum(skipped) < len(skipped)
    assert len(np.unique(inst)) > 3


def test_welded_meshes_keep_their_triangles_and_the_cache_keeps_the_last_ones(tmp_path):
    """``welded``: the same triangles, corner for corner, from fewer vertices (a glTF export
    repeats vertices); ``MeshCache``: one welded mesh per geometry, the least recently used
    dropped beyond its size."""
    import trimesh

    from synth.core.meshes import MeshCache, local_mesh, welded
    from synth.core.scene import MeshAsset

    scene = sample_scene(4)
    obj = max(scene.objects, key=lambda o: len(local_mesh(o).faces))
    mesh = local_mesh(obj)
    seams = trimesh.Trimesh(
        mesh.triangles().reshape(-1, 3), np.arange(3 * len(mesh.faces)).reshape(-1, 3), process=False
    )
    seams.export(tmp_path / "a.glb")
    asset = obj.model_copy(update={"parts": [], "mesh": MeshAsset(uri="a.glb")})
    once = welded(local_mesh(asset, str(tmp_path)))
    assert np.array_equal(once.triangles(), local_mesh(asset, str(tmp_path)).triangles())
    assert len(once.vertices) < len(mesh.faces) * 3 and len(once.vertices) == len(np.unique(mesh.vertices, axis=0))
    cache = MeshCache(size=2)
    first = cache.local(asset, str(tmp_path))
    assert cache.local(asset, str(tmp_path)) is first
    for other in scene.objects[:3]:
        cache.local(other)
    assert cache.local(asset, str(tmp_path)) is not first  # dropped, read again
