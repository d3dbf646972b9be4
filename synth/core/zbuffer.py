"""A small software renderer: planar depth and instance ids per frame, without Blender.

It draws the same triangles Blender renders (``meshes.static_meshes`` and ``meshes.object_mesh``
at each frame's object poses) with a z-buffer and no lighting, following the conventions in
``scene``: OpenCV cameras, each pixel sampled at its centre (integer coordinates of ``K``),
depth = camera-space z (``np.inf`` where no surface is hit), instance 0 = the room.

Triangles are transformed to camera space and clipped against the near plane z = ``NEAR``
(Blender's ``clip_start``; only triangles that straddle it are clipped, Sutherland-Hodgman),
projected with ``K`` and rasterised with edge functions; depth is perspective-correct (1/z is
interpolated in screen space). No back-face culling, as in Blender. Edges are evaluated in a
canonical vertex order and ties go to one side only, so triangles sharing an edge cover each
pixel on it exactly once (no cracks, no double hits). Lens distortion
(``CameraFrame.distortion``) is ignored, as in the Blender backend: passes are pinhole.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from synth.core.camera import scale_intrinsics
from synth.core.geometry import local_to_world
from synth.core.meshes import Mesh, local_mesh, merge, static_meshes
from synth.core.scene import ROOM_ID, Frame, Scene

_EMPTY = Mesh(np.zeros((0, 3)), np.zeros((0, 3), np.int64))
NEAR = 0.05  # metres, the near clipping plane (Blender's camera clip_start)


@njit(cache=True, inline="always")
def _edge(ax, ay, bx, by, px, py):
    """Edge function of (a -> b) at p, evaluated in a canonical vertex order so that the two
    triangles sharing an edge get exactly opposite values (exact negation)."""
    if ax < bx or (ax == bx and ay < by):
        return (bx - ax) * (py - ay) - (by - ay) * (px - ax), True
    return -((ax - bx) * (py - by) - (ay - by) * (px - bx)), False


@njit(cache=True)
def _raster_triangle(x, y, iz, oid, width, height, inv_depth, instance):
    """Rasterise one projected triangle (x, y: pixel coordinates; iz: 1/z at its corners)."""
    area = (x[1] - x[0]) * (y[2] - y[0]) - (y[1] - y[0]) * (x[2] - x[0])
    if not (abs(area) > 1e-12):  # degenerate (or NaN)
        return
    sign = 1.0 if area > 0 else -1.0
    inv_area = 1.0 / abs(area)
    x0 = max(0, int(math.ceil(min(x[0], x[1], x[2]))))
    x1 = min(width - 1, int(math.floor(max(x[0], x[1], x[2]))))
    y0 = max(0, int(math.ceil(min(y[0], y[1], y[2]))))
    y1 = min(height - 1, int(math.floor(max(y[0], y[1], y[2]))))
    for py in range(y0, y1 + 1):
        fy = float(py)
        for px in range(x0, x1 + 1):
            fx = float(px)
            # w[k]: edge opposite corner k, positive inside once multiplied by ``sign``
            e0, c0 = _edge(x[1], y[1], x[2], y[2], fx, fy)
            w0 = e0 * sign
            if w0 < 0 or (w0 == 0 and (c0 == (sign > 0))):
                continue
            e1, c1 = _edge(x[2], y[2], x[0], y[0], fx, fy)
            w1 = e1 * sign
            if w1 < 0 or (w1 == 0 and (c1 == (sign > 0))):
                continue
            e2, c2 = _edge(x[0], y[0], x[1], y[1], fx, fy)
            w2 = e2 * sign
            if w2 < 0 or (w2 == 0 and (c2 == (sign > 0))):
                continue
            z_inv = (w0 * iz[0] + w1 * iz[1] + w2 * iz[2]) * inv_area
            if z_inv > inv_depth[py, px]:
                inv_depth[py, px] = z_inv
                instance[py, px] = oid


@njit(cache=True)
def _render(verts, faces, ids, T, K, width, height, near, depth, instance):
    """Z-buffer ``faces`` of world ``verts`` (ids per face) seen by world-to-camera ``T``."""
    nv = verts.shape[0]
    cam = np.empty((nv, 3))
    for i in range(nv):
        for r in range(3):
            cam[i, r] = T[r, 0] * verts[i, 0] + T[r, 1] * verts[i, 1] + T[r, 2] * verts[i, 2] + T[r, 3]
    inv_depth = np.zeros((height, width))
    instance[:, :] = ROOM_ID
    poly = np.empty((4, 3))  # a triangle clipped by one plane has at most 4 corners
    x = np.empty(3)
    y = np.empty(3)
    iz = np.empty(3)
    for t in range(faces.shape[0]):
        n = 0
        for k in range(3):  # Sutherland-Hodgman against z >= near (a no-op if all are in front)
            a = cam[faces[t, k]]
            b = cam[faces[t, (k + 1) % 3]]
            a_in, b_in = a[2] >= near, b[2] >= near
            if a_in:
                poly[n] = a
                n += 1
            if a_in != b_in:
                # from the inside corner to the outside one, so neighbours clip a shared edge identically
                p, q = (a, b) if a_in else (b, a)
                s = (near - p[2]) / (q[2] - p[2])
                poly[n, 0] = p[0] + s * (q[0] - p[0])
                poly[n, 1] = p[1] + s * (q[1] - p[1])
                poly[n, 2] = near
                n += 1
        for j in range(1, n - 1):  # fan: (0, j, j + 1)
            for c in range(3):
                v = 0 if c == 0 else j + c - 1
                inv = 1.0 / poly[v, 2]
                x[c] = (K[0, 0] * poly[v, 0] + K[0, 1] * poly[v, 1]) * inv + K[0, 2]
                y[c] = (K[1, 1] * poly[v, 1]) * inv + K[1, 2]
                iz[c] = inv
            _raster_triangle(x, y, iz, ids[t], width, height, inv_depth, instance)
    for r in range(height):
        for c in range(width):
            depth[r, c] = 1.0 / inv_depth[r, c] if inv_depth[r, c] > 0 else np.inf


class SceneMeshes:
    """A scene's triangles, built once: the room in the world frame and every object's mesh in
    its local frame (placed at each frame's pose like ``meshes.object_mesh``)."""

    def __init__(self, scene: Scene):
        room = merge(static_meshes(scene.rooms, scene.stage, scene.asset_root) or [_EMPTY])
        self.room_vertices = room.vertices
        self.room_faces = room.faces
        self.local = {o.id: local_mesh(o, scene.asset_root) for o in scene.objects}
        self._last: tuple[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        self._posed: dict = {}  # pose -> that object's world vertices (the objects that stay keep theirs)

    def frame_mesh(self, frame: Frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World vertices (V, 3), faces (T, 3) and instance id per face (T,) at ``frame``
        (the last one is kept: frames with the objects where they were reuse it)."""
        key = tuple(frame.object_poses)
        if self._last is None or self._last[0] != key:
            self._last = key, self._build(frame)
        return self._last[1]

    def _build(self, frame: Frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        verts, faces, ids = [self.room_vertices], [self.room_faces], [np.full(len(self.room_faces), ROOM_ID)]
        offset = len(self.room_vertices)
        for pose in frame.object_poses:
            m = self.local[pose.id]
            if pose not in self._posed:
                self._posed[pose] = local_to_world(m.vertices, pose)
            verts.append(self._posed[pose])
            faces.append(m.faces + offset)
            ids.append(np.full(len(m.faces), pose.id))
            offset += len(m.vertices)
        return np.concatenate(verts), np.concatenate(faces), np.concatenate(ids).astype(np.uint16)


def render_passes(
    scene: Scene, frames: list[Frame], width: int, height: int, meshes: SceneMeshes | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Planar depth (F, H, W) float32 metres (``np.inf`` where no surface) and instance ids
    (F, H, W) uint16 of ``frames``. ``meshes``: the scene's prebuilt ``SceneMeshes`` (optional)."""
    meshes = meshes or SceneMeshes(scene)
    depth = np.empty((len(frames), height, width), np.float32)
    instance = np.empty((len(frames), height, width), np.uint16)
    for f, frame in enumerate(frames):
        verts, faces, ids = meshes.frame_mesh(frame)
        T = np.ascontiguousarray(frame.camera.world_to_camera, dtype=np.float64)
        K = np.ascontiguousarray(frame.camera.K, dtype=np.float64)
        _render(verts, faces, ids, T, K, width, height, NEAR, depth[f], instance[f])
    return depth, instance


def measure_visibility(
    scene: Scene, frames: list[Frame], width: int, height: int, meshes: SceneMeshes | None = None, scale: int = 1
) -> dict[int, list[int]]:
    """Visible pixels per object per frame, counted on the rendered instance pass. With
    ``scale`` > 1 the pass is drawn at ``width // scale`` x ``height // scale`` through the
    frames' ``K`` scaled to it (pixel centres kept: ``c' + 1/2 = (c + 1/2) / scale``, as Blender's
    ``resolution_percentage`` does) and each count is multiplied by ``scale**2``: an estimate on the
    full-resolution pixel scale, for the planner."""
    if scale > 1:
        frames = [
            f.model_copy(
                update={
                    "camera": f.camera.model_copy(update={"K": tuple(map(tuple, scale_intrinsics(f.camera.K, scale)))})
                }
            )
            for f in frames
        ]
        width, height = max(1, width // scale), max(1, height // scale)
    _, instance = render_passes(scene, frames, width, height, meshes)
    size = max((o.id for o in scene.objects), default=0) + 1
    counts = [np.bincount(f.ravel(), minlength=size) * scale * scale for f in instance]
    return {o.id: [int(c[o.id]) for c in counts] for o in scene.objects}
