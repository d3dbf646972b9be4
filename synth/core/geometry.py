"""Rigid-body geometry of posed objects shared by backends, planners and programs: local <->
world frames and floor-plane footprints (numpy, shapely). Rotations are in
``synth.core.rotations``, the camera in ``synth.core.camera``."""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Polygon

from synth.core.rotations import quaternion_matrix, yaw_rotation
from synth.core.scene import Box3D, Doorway, Pose, Room


def rotation(pose: Pose | Box3D) -> np.ndarray:
    """3x3 local-to-world rotation of a pose or box (about +Z only for upright ones)."""
    return yaw_rotation(pose.yaw) if pose.upright else quaternion_matrix(pose.rotation)


def local_to_world(points: np.ndarray, pose: Pose) -> np.ndarray:
    """Map (N, 3) points from an object's local frame to the world frame."""
    return points @ rotation(pose).T + np.asarray(pose.position)


def world_to_local(points: np.ndarray, pose: Pose) -> np.ndarray:
    """Map (N, 3) world points into an object's local frame (inverse of :func:`local_to_world`)."""
    return (points - np.asarray(pose.position)) @ rotation(pose)


def footprint(box: Box3D) -> Polygon:
    """The box's floor-plane outline: its rectangle when upright, else the convex hull of its
    corners seen from above."""
    if not box.upright:
        return Polygon([c[:2] for c in box.corners()]).convex_hull
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    hx, hy = box.size[0] / 2, box.size[1] / 2
    pts = [
        (box.center[0] + c * x - s * y, box.center[1] + s * x + c * y)
        for x, y in ((-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy))
    ]
    return Polygon(pts)


LEAF_THICKNESS = 0.04  # metres, a door leaf


def wall_frame(room: Room, wall: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wall ``wall`` of ``room`` (footprint edge from corner ``wall`` to ``wall + 1``): its first
    corner (2,), its unit direction (2,) and the unit normal into the room (2,; the footprint is
    counter-clockwise, so the room is on the left)."""
    a = np.asarray(room.footprint[wall], float)
    b = np.asarray(room.footprint[(wall + 1) % len(room.footprint)], float)
    along = (b - a) / np.linalg.norm(b - a)
    return a, along, np.array([-along[1], along[0]])


def door_leaf(room: Room, doorway: Doorway) -> Box3D | None:
    """The box of the door leaf ``room`` hangs in ``doorway`` (None where it hangs none). The
    hinge axis stands on the room's wall face at the opening's ``hinge`` end; closed, the leaf
    fills the opening, its face flush with the wall; opened by ``doorway.angle`` it swings into
    the room. Its local +X (the box's depth, ``LEAF_THICKNESS``) is the leaf's normal, pointing
    out of the room when closed; size = (thickness, opening width - 1 cm, height - 1 cm)."""
    if doorway.door == "none":
        return None
    a, along, inward = wall_frame(room, doorway.wall)
    theta = doorway.angle
    if doorway.hinge == "left":
        hinge = a + along * (doorway.center - doorway.width / 2)
        u = math.cos(theta) * along + math.sin(theta) * inward
        normal = np.array([u[1], -u[0]])
    else:
        hinge = a + along * (doorway.center + doorway.width / 2)
        u = -math.cos(theta) * along + math.sin(theta) * inward
        normal = np.array([-u[1], u[0]])
    width, height = doorway.width - 0.01, doorway.height - 0.01
    c = hinge + u * (doorway.width / 2) + normal * (LEAF_THICKNESS / 2)
    return Box3D(
        center=(float(c[0]), float(c[1]), height / 2),
        size=(LEAF_THICKNESS, width, height),
        yaw=math.atan2(normal[1], normal[0]),
    )


def door_swing(room: Room, doorway: Doorway) -> Polygon | None:
    """The floor area the leaf ``room`` hangs in ``doorway`` sweeps from closed to wide open
    (a quarter disc on the room's side), which a house keeps clear; None where it hangs none."""
    if doorway.door == "none":
        return None
    a, along, inward = wall_frame(room, doorway.wall)
    sign = 1.0 if doorway.hinge == "left" else -1.0
    hinge = a + along * (doorway.center - sign * doorway.width / 2)
    arc = [
        hinge + doorway.width * (math.cos(t) * sign * along + math.sin(t) * inward)
        for t in np.linspace(0.0, math.pi / 2, 12)
    ]
    return Polygon([tuple(hinge), *(tuple(p) for p in arc)]).buffer(0.02)


def room_of(rooms: list[Room], xy: np.ndarray, reach: float) -> np.ndarray:
    """Index in ``rooms`` of the room each floor-plane point (N, 2) belongs to: the room whose
    footprint holds it, else the one whose footprint is nearest within ``reach`` metres (a
    point in a wall or a doorway between two rooms), else -1. Shape (N,), int."""
    import shapely

    xy = np.asarray(xy, float).reshape(-1, 2)
    best = np.full(len(xy), np.inf)
    out = np.full(len(xy), -1, dtype=int)
    for k, room in enumerate(rooms):
        poly = Polygon(room.footprint)
        d = shapely.distance(poly, shapely.points(xy)) if len(xy) else np.zeros(0)
        take = (d <= reach) & (d < best)
        best[take], out[take] = d[take], k
    return out


def grid_graph(free: np.ndarray, cell: float):
    """The 8-connected graph of a 2D raster's True cells (``free``, (H, W) bool) for shortest
    walks: a sparse (H*W, H*W) CSR matrix over flat (row-major) cell indices, each edge weighted by
    the distance between the two cells' centres (``cell`` metres per cell side)."""
    from scipy.sparse import coo_matrix

    (h, w), (ii, jj) = free.shape, np.nonzero(free)
    rows, cols, weights = [], [], []
    for di, dj in ((0, 1), (1, 0), (1, 1), (1, -1)):
        i2, j2 = ii + di, jj + dj
        ok = (i2 < h) & (j2 >= 0) & (j2 < w)
        ok[ok] = free[i2[ok], j2[ok]]
        rows.append(ii[ok] * w + jj[ok])
        cols.append(i2[ok] * w + j2[ok])
        weights.append(np.full(int(ok.sum()), cell * math.hypot(di, dj)))
    r, c, wt = (np.concatenate(v) for v in (rows, cols, weights))
    return coo_matrix((np.r_[wt, wt], (np.r_[r, c], np.r_[c, r])), shape=(h * w, h * w)).tocsr()


def closest_distance(tree, a: np.ndarray, b: np.ndarray, probes: int = 256) -> float:
    """The smallest distance between point sets ``a`` (N, 3) and ``b`` (M, 3), metres: exactly
    ``tree.query(b)[0].min()`` for ``tree`` a ``scipy.spatial.cKDTree`` over ``a``, at a fraction of
    its cost. Up to ``probes`` points of ``b`` give an upper bound ``u`` first; only the points of
    ``b`` within ``u`` of ``a``'s bounding box can come closer, and only they are queried, with
    ``u`` as the search bound (the nearest neighbour's distance is computed as the plain query
    computes it). ``ValueError`` on an empty ``b``."""
    if len(b) == 0:
        raise ValueError("closest_distance: no points in b")
    step = max(1, len(b) // probes)
    bound = float(tree.query(b[::step])[0].min())
    lo, hi = a.min(axis=0), a.max(axis=0)
    outside = np.maximum(np.maximum(lo - b, b - hi), 0.0)
    near = b[np.einsum("ij,ij->i", outside, outside) <= bound * bound * (1 + 1e-9) + 1e-18]
    return float(tree.query(near, distance_upper_bound=bound * (1 + 1e-9) + 1e-12)[0].min())


def voxel_firsts(points: np.ndarray, size: float) -> np.ndarray:
    """Indices of the first of ``points`` (N, 3) in each cube of side ``size`` (a grid through
    the origin), in increasing order: ``np.unique(np.floor(points / size), axis=0,
    return_index=True)``'s set, from one integer per cube (its row-major index in the points'
    bounding grid) instead of sorting rows."""
    if len(points) == 0:
        return np.zeros(0, np.int64)
    cells = np.floor(points / size).astype(np.int64)
    cells -= cells.min(axis=0)
    span = cells.max(axis=0) + 1
    key = (cells[:, 0] * span[1] + cells[:, 1]) * span[2] + cells[:, 2]
    return np.sort(np.unique(key, return_index=True)[1])
