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
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from synth.core.camera import scale_intrinsics
from synth.core.geometry import local_to_world
from synth.core.meshes import Mesh, MeshCache, merge, static_meshes, welded
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def _draw(verts, faces, oid, T, K, width, height, near, inv_depth, instance):
    """Z-buffer ``faces`` of world ``verts`` (all of instance ``oid``) seen by world-to-camera
    ``T`` into ``inv_depth`` (1/z, 0 where nothing yet) and ``instance``. Corners in front of the
    near plane are projected once per vertex; a triangle with all three there whose pixel box
    holds no pixel centre of the image (most of a detailed mesh's, far off) is skipped before any
    other work: it would draw nothing."""
    nv = verts.shape[0]
    cam = np.empty((nv, 3))
    px = np.empty(nv)
    py = np.empty(nv)
    pz = np.empty(nv)
    for i in range(nv):
        for r in range(3):
            cam[i, r] = T[r, 0] * verts[i, 0] + T[r, 1] * verts[i, 1] + T[r, 2] * verts[i, 2] + T[r, 3]
        if cam[i, 2] >= near:
            inv = 1.0 / cam[i, 2]
            px[i] = (K[0, 0] * cam[i, 0] + K[0, 1] * cam[i, 1]) * inv + K[0, 2]
            py[i] = (K[1, 1] * cam[i, 1]) * inv + K[1, 2]
            pz[i] = inv
    poly = np.empty((4, 3))  # a triangle clipped by one plane has at most 4 corners
    x = np.empty(3)
    y = np.empty(3)
    iz = np.empty(3)
    for t in range(faces.shape[0]):
        a, b, c = faces[t, 0], faces[t, 1], faces[t, 2]
        if cam[a, 2] >= near and cam[b, 2] >= near and cam[c, 2] >= near:
            if max(0, math.ceil(min(px[a], px[b], px[c]))) > min(width - 1, math.floor(max(px[a], px[b], px[c]))):
                continue
            if max(0, math.ceil(min(py[a], py[b], py[c]))) > min(height - 1, math.floor(max(py[a], py[b], py[c]))):
                continue
            x[0], x[1], x[2] = px[a], px[b], px[c]
            y[0], y[1], y[2] = py[a], py[b], py[c]
            iz[0], iz[1], iz[2] = pz[a], pz[b], pz[c]
            _raster_triangle(x, y, iz, oid, width, height, inv_depth, instance)
            continue
        n = 0
        for k in range(3):  # Sutherland-Hodgman against z >= near
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
            _raster_triangle(x, y, iz, oid, width, height, inv_depth, instance)


def _out_of_view(corners: np.ndarray, T: np.ndarray, K: np.ndarray, width: int, height: int) -> bool:
    """Whether nothing in the world box of ``corners`` (8, 3) can reach a pixel centre: all eight
    behind the near plane, or beyond one image edge by half a pixel. Each test is a half-space
    of camera space (through the camera centre for the edges), which holds the box's corners only
    if it holds the whole box and every point a near-plane clip makes of its triangles."""
    cam = corners @ T[:3, :3].T + T[:3, 3]
    X, Y, Z = cam[:, 0], cam[:, 1], cam[:, 2]
    u = K[0, 0] * X + K[0, 1] * Y + K[0, 2] * Z  # x pixel * Z
    v = K[1, 1] * Y + K[1, 2] * Z
    return bool(
        (Z < NEAR).all()
        or (u < -0.5 * Z).all()
        or (u > (width - 0.5) * Z).all()
        or (v < -0.5 * Z).all()
        or (v > (height - 0.5) * Z).all()
    )


class SceneMeshes:
    """A scene's triangles, built once: the room in the world frame and every object's mesh in
    its local frame (placed at each frame's pose like ``meshes.object_mesh``)."""

    def __init__(self, scene: Scene, cache: MeshCache | None = None):
        """``cache``: where objects' meshes are kept from one scene to the next (default: none)."""
        room = welded(merge(static_meshes(scene.rooms, scene.stage, scene.asset_root) or [_EMPTY]))
        self.room = room.vertices, room.faces, _box_corners(room.vertices)
        cache = cache or MeshCache(size=0)
        self.local = {o.id: cache.local(o, scene.asset_root) for o in scene.objects}
        self._posed: dict = {}  # pose -> that object's world vertices and box (the objects that stay keep theirs)

    def parts(self, frame: Frame) -> list[tuple[np.ndarray, np.ndarray, int, np.ndarray]]:
        """What ``frame`` shows, in drawing order: the room, then each object as its pose lists
        them, as (world vertices (V, 3), faces (T, 3), instance id, corners of their box (8, 3))."""
        out = [(*self.room[:2], ROOM_ID, self.room[2])]
        for pose in frame.object_poses:
            m = self.local[pose.id]
            if pose not in self._posed:
                world = local_to_world(m.vertices, pose)
                self._posed[pose] = world, _box_corners(world)
            world, corners = self._posed[pose]
            out.append((world, m.faces, pose.id, corners))
        return out


def _box_corners(vertices: np.ndarray) -> np.ndarray:
    """The eight corners (8, 3) of the axis-aligned box around ``vertices`` (V, 3); zeros for none."""
    if len(vertices) == 0:
        return np.zeros((8, 3))
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


def render_passes(
    scene: Scene, frames: list[Frame], width: int, height: int, meshes: SceneMeshes | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Planar depth (F, H, W) float32 metres (``np.inf`` where no surface) and instance ids
    (F, H, W) uint16 of ``frames``. ``meshes``: the scene's prebuilt ``SceneMeshes`` (optional).
    Objects wholly out of a frame's view are not drawn (``_out_of_view``); frames are drawn on
    as many threads as there are cores (the drawing releases the GIL)."""
    meshes = meshes or SceneMeshes(scene)
    depth = np.empty((len(frames), height, width), np.float32)
    instance = np.full((len(frames), height, width), ROOM_ID, np.uint16)

    def draw(f: int) -> None:
        T = np.ascontiguousarray(frames[f].camera.world_to_camera, dtype=np.float64)
        K = np.ascontiguousarray(frames[f].camera.K, dtype=np.float64)
        inv_depth = np.zeros((height, width))
        for verts, faces, oid, corners in meshes.parts(frames[f]):
            if len(faces) and not _out_of_view(corners, T, K, width, height):
                _draw(verts, faces, oid, T, K, width, height, NEAR, inv_depth, instance[f])
        with np.errstate(divide="ignore"):
            depth[f] = np.where(inv_depth > 0, 1.0 / inv_depth, np.inf)

    threads = min(len(frames), os.cpu_count() or 1)
    if threads > 1:
        with ThreadPoolExecutor(threads, thread_name_prefix="zbuffer") as pool:
            list(pool.map(draw, range(len(frames))))
    else:
        for f in range(len(frames)):
            draw(f)
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
