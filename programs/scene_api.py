"""The read-only scene API that question programs see.

Programs receive a ``SceneAPI`` and slot values (object ids); everything they can ask is
computed from the shipped episode JSON, so any answer can be recomputed from a sample.
Returned values are immutable (tuples, frozen dataclasses, numbers, strings).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim_adapters.scene import Episode

Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class ObjectInfo:
    """An object at a given frame."""

    id: int
    category: str
    description: str
    color: str
    material: str
    center: Vec3  # box centre, metres, world frame (+Z up)
    size: Vec3  # (depth, width, height) in metres
    yaw: float  # radians, the object faces (cos yaw, sin yaw, 0)
    supported_by: int  # id of the supporting object, 0 = floor


class SceneAPI:
    """Read-only view of one episode."""

    def __init__(self, episode: Episode, min_visible_pixels: int = 1):
        self._ep = episode
        self._min_px = min_visible_pixels

    @property
    def num_frames(self) -> int:
        return len(self._ep.frames)

    def objects(self, frame: int = 0) -> tuple[ObjectInfo, ...]:
        """All objects, with their pose at ``frame``."""
        return tuple(self.object(o.id, frame) for o in self._ep.scene.objects)

    def object(self, object_id: int, frame: int = 0) -> ObjectInfo:
        """One object by id, with its pose at ``frame``."""
        o = self._ep.scene.object(object_id)
        pose = self._ep.pose(object_id, frame)
        return ObjectInfo(
            id=o.id,
            category=o.category,
            description=o.description,
            color=o.material.color_name,
            material=o.material.material_name,
            center=tuple(pose.position),
            size=tuple(o.box.size),
            yaw=pose.yaw,
            supported_by=o.supported_by,
        )

    def visible_pixels(self, object_id: int, frame: int) -> int:
        """Pixels of the object in the rendered frame (from the instance mask)."""
        return self._ep.visible_pixels(object_id)[frame]

    def is_visible(self, object_id: int, frame: int) -> bool:
        return self.visible_pixels(object_id, frame) >= self._min_px

    def camera_position(self, frame: int) -> Vec3:
        """Camera centre in the world frame at ``frame``."""
        T = self._ep.frames[frame].camera.world_to_camera
        R = [row[:3] for row in T[:3]]
        t = [row[3] for row in T[:3]]
        return tuple(-sum(R[r][c] * t[r] for r in range(3)) for c in range(3))  # type: ignore[return-value]

    def room_size(self) -> Vec3:
        """Bounding extents of the floor (x, y) and the ceiling height, metres."""
        xs = [p[0] for p in self._ep.scene.room.footprint]
        ys = [p[1] for p in self._ep.scene.room.footprint]
        return (max(xs) - min(xs), max(ys) - min(ys), self._ep.scene.room.height)


def distance(a: Vec3, b: Vec3) -> float:
    """Euclidean distance between two points, metres."""
    return math.dist(a, b)
