"""A first camera trajectory: a smooth eye-height dolly inside the room's free space.

The camera moves along a straight segment that keeps clear of walls and furniture while
its gaze sweeps between two objects with an eased (smoothstep) blend, so linear and angular
speeds are bounded and continuous. Among random candidates, the one whose view holds the
most objects (by projected box centres) wins; actual visibility is measured later from the
rendered instance masks.
"""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import unary_union

from .geometry import intrinsics, look_at, project
from .procedural import footprint
from .scene import CameraFrame, Frame, ObjectPose, Scene

HFOV = math.radians(70.0)
WALL_CLEARANCE = 0.4
FURNITURE_CLEARANCE = 0.3


def free_space(scene: Scene) -> Polygon:
    """Floor region where a camera may stand."""
    room = Polygon(scene.room.footprint).buffer(-WALL_CLEARANCE)
    furniture = [footprint(o.box).buffer(FURNITURE_CLEARANCE) for o in scene.objects if o.supported_by == 0]
    return room.difference(unary_union(furniture)) if furniture else room


def _smoothstep(t: np.ndarray) -> np.ndarray:
    return t * t * (3 - 2 * t)


def plan_dolly(
    scene: Scene, n_frames: int, width: int, height: int, fps: float, rng: np.random.Generator, candidates: int = 24
) -> list[Frame]:
    """Sample a camera dolly of ``n_frames`` frames; static objects."""
    free = free_space(scene)
    if free.is_empty:
        raise ValueError(f"scene {scene.seed} leaves no free floor space for a camera")
    K = intrinsics(width, height, HFOV)
    minx, miny, maxx, maxy = free.bounds
    centres = np.array([o.box.center for o in scene.objects])
    best, best_score = None, -1.0
    tries = 0
    while candidates > 0 and tries < 2000:
        tries += 1
        p0 = np.array([rng.uniform(minx, maxx), rng.uniform(miny, maxy)])
        if not free.contains(Point(p0)):
            continue
        heading = rng.uniform(-math.pi, math.pi)
        # long dollies first; late candidates may be short, and the last resort is a pan in place
        length = 0.0 if tries > 1500 else rng.uniform(0.3, 2.5) * (1.0 - tries / 1600)
        p1 = p0 + length * np.array([math.cos(heading), math.sin(heading)])
        if length > 0 and not free.contains(LineString([p0, p1])):
            continue
        candidates -= 1
        eye_h = rng.uniform(1.3, 1.7)
        a, b = rng.choice(len(scene.objects), size=2, replace=len(scene.objects) < 2)
        t = _smoothstep(np.linspace(0.0, 1.0, n_frames))
        eyes = np.column_stack([p0 + np.outer(t, p1 - p0), np.full(n_frames, eye_h)])
        looks = centres[a] + np.outer(t, centres[b] - centres[a])
        looks[:, 2] = np.minimum(looks[:, 2], eye_h - 0.3)  # look slightly down
        cams = [CameraFrame(K=_tup(K), world_to_camera=_tup(look_at(e, g))) for e, g in zip(eyes, looks)]
        score = sum(_in_view(c, centres, width, height).sum() for c in cams)
        if score > best_score:
            best, best_score = cams, score
    if best is None:
        raise ValueError(f"no collision-free camera path found in scene {scene.seed}")
    poses = [ObjectPose(id=o.id, position=o.box.center, yaw=o.box.yaw) for o in scene.objects]
    return [Frame(index=i, time=i / fps, camera=c, object_poses=poses) for i, c in enumerate(best)]


def _in_view(cam: CameraFrame, pts: np.ndarray, width: int, height: int) -> np.ndarray:
    uv, z = project(cam, pts)
    return (z > 0.1) & (uv[:, 0] >= 0) & (uv[:, 0] < width) & (uv[:, 1] >= 0) & (uv[:, 1] < height)


def _tup(m: np.ndarray):
    return tuple(tuple(float(x) for x in row) for row in m)
