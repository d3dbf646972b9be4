"""The read-only scene API that question programs see.

Programs receive a ``SceneAPI`` and slot values; everything they can ask is computed from the
shipped episode JSON, so any answer can be recomputed from a sample. Everything returned is
immutable (numbers, strings, tuples, frozen dataclasses). Frames are 0-based indices.
World frame: metres, radians, right-handed, +Z up; an object faces (cos yaw, sin yaw, 0).
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
    description: str  # e.g. "red wooden chair"
    color: str
    material: str
    center: Vec3  # box centre, world frame
    size: Vec3  # (depth along its facing direction, width, height), metres
    yaw: float  # radians
    supported_by: int  # id of the object it stands on, 0 = the floor


@dataclass(frozen=True)
class CameraInfo:
    """The camera at a given frame."""

    position: Vec3  # optical centre, world frame
    forward: Vec3  # unit viewing direction
    right: Vec3  # unit vector to the image's right
    heading: float  # radians, direction of ``forward`` projected on the floor, CCW from +X


@dataclass(frozen=True)
class Projection:
    """Where an object's box centre falls in a frame."""

    u: float  # pixels from the left edge
    v: float  # pixels from the top edge
    depth: float  # camera-space z, metres (negative: behind the camera)


class SceneAPI:
    """Read-only view of one episode."""

    def __init__(self, episode: Episode, min_visible_pixels: int = 1, min_visible_frames: int = 1):
        self._ep = episode
        self._min_px = min_visible_pixels
        self._min_frames = min_visible_frames
        self._objects = {o.id: o for o in episode.scene.objects}
        self._poses = [{p.id: p for p in f.object_poses} for f in episode.frames]
        self._vis = {v.id: v.pixels for v in episode.visibility}

    # -- video ------------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return len(self._ep.frames)

    @property
    def width(self) -> int:
        return self._ep.width

    @property
    def height(self) -> int:
        return self._ep.height

    # -- objects ----------------------------------------------------------------------
    def object_ids(self) -> tuple[int, ...]:
        return tuple(self._objects)

    def objects(self, frame: int = 0) -> tuple[ObjectInfo, ...]:
        """All objects, posed as at ``frame``."""
        return tuple(self.object(i, frame) for i in self._objects)

    def object(self, object_id: int, frame: int = 0) -> ObjectInfo:
        """One object by id, posed as at ``frame``."""
        o = self._objects[object_id]
        pose = self._poses[frame][object_id]
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

    # -- visibility (measured from the rendered instance masks) ---------------------------
    def visible_pixels(self, object_id: int, frame: int) -> int:
        return self._vis.get(object_id, [0] * self.num_frames)[frame]

    def is_visible(self, object_id: int, frame: int) -> bool:
        """At least the configured minimum of pixels of the object in that frame."""
        return self.visible_pixels(object_id, frame) >= self._min_px

    def seen(self, object_id: int) -> bool:
        """Visible in at least the configured minimum number of frames."""
        return sum(self.is_visible(object_id, f) for f in range(self.num_frames)) >= self._min_frames

    def glimpsed(self, object_id: int) -> bool:
        """Some pixels of the object appear in some frame (possibly too few to be seen)."""
        return any(self._vis.get(object_id, ()))

    def first_seen(self, object_id: int) -> int:
        """First frame in which the object is visible, or -1."""
        for f in range(self.num_frames):
            if self.is_visible(object_id, f):
                return f
        return -1

    # -- camera ------------------------------------------------------------------------
    def camera(self, frame: int) -> CameraInfo:
        T = self._ep.frames[frame].camera.world_to_camera
        R = [row[:3] for row in T[:3]]
        t = [row[3] for row in T[:3]]
        pos = tuple(-sum(R[r][c] * t[r] for r in range(3)) for c in range(3))
        right, forward = tuple(R[0]), tuple(R[2])
        return CameraInfo(position=pos, forward=forward, right=right, heading=math.atan2(forward[1], forward[0]))

    def project(self, object_id: int, frame: int) -> Projection:
        """Pixel position and depth of the object's box centre in ``frame``."""
        cam = self._ep.frames[frame].camera
        T, K = cam.world_to_camera, cam.K
        p = self._poses[frame][object_id].position
        x, y, z = (sum(T[r][c] * p[c] for c in range(3)) + T[r][3] for r in range(3))
        if abs(z) < 1e-9:
            z = 1e-9
        return Projection(u=K[0][0] * x / z + K[0][2], v=K[1][1] * y / z + K[1][2], depth=z)

    # -- room -------------------------------------------------------------------------
    def room_footprint(self) -> tuple[tuple[float, float], ...]:
        """Floor polygon, counter-clockwise, metres."""
        return tuple(tuple(p) for p in self._ep.scene.room.footprint)

    def room_height(self) -> float:
        return self._ep.scene.room.height
