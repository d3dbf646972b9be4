"""Minimal pairs (issue #34, item 3): the same episode with one object moved, so that answers flip.

``moves(episode)`` proposes, for each object standing on the floor that nothing stands on, that
stays still during the episode and that the video shows, moves: its box centre mirrored across the
vertical plane through a frame's camera and its viewing direction (what that frame sees on the
left is then on the right, and the other way round) and turned half a turn about +Z.
A move is kept where the object's new footprint lies inside one room, ``CLEARANCE`` from every
other object's. ``moved(episode, move)`` is the episode with the object there in every frame (the
scene's rest pose too), its measured visibility and evidence cleared: the caller renders it and
measures them again. Which answers flip is for the question programs to say, on both renders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Polygon

from synth.core.camera import camera_center
from synth.core.geometry import footprint
from synth.core.rotations import matrix_quaternion, quaternion_matrix, yaw_quaternion
from synth.core.scene import ROOM_ID, Box3D, Episode, ObjectPose

CLEARANCE = 0.05  # metres between a moved object's footprint and any other's, or a wall
FLOOR = 0.02  # metres: a box whose bottom is this close to z = 0 stands on the floor
LEAST_MOVE = 0.5  # metres: a shorter move changes too little to flip an answer


@dataclass(frozen=True)
class Move:
    """One object taken from where it stands to ``position``, turned by ``turn`` radians about +Z."""

    object_id: int
    start: tuple[float, float, float]
    position: tuple[float, float, float]
    turn: float

    def record(self) -> dict:
        """What the pair sample records of the change (``SampleMeta.change``)."""
        return {
            "moved": self.object_id,
            "from": [round(x, 4) for x in self.start],
            "to": [round(x, 4) for x in self.position],
            "turn_deg": round(math.degrees(self.turn), 2),
        }


def moves(episode: Episode) -> list[Move]:
    """The candidate moves of the episode (module docstring), the objects the video shows most
    first, each mirrored across the view of the frames at a quarter, half and three quarters of
    the video; only moves of at least ``LEAST_MOVE``."""
    scene = episode.scene
    below = {o.supported_by for o in scene.objects}
    rooms = [Polygon(r.footprint).buffer(-CLEARANCE) for r in scene.rooms]
    shown = {v.id: sum(v.pixels) for v in episode.visibility}
    n = len(episode.frames)
    planes = [_view_plane(episode.frames[k * n // 4].camera.world_to_camera) for k in (2, 1, 3)]
    footprints = {x.id: footprint(x.box).buffer(CLEARANCE) for x in scene.objects}
    out = []
    for o in sorted(scene.objects, key=lambda o: -shown.get(o.id, 0)):
        poses = {tuple(episode.pose(o.id, f).position) for f in range(n)}
        bottom = o.box.center[2] - o.box.size[2] / 2
        if o.supported_by != ROOM_ID or o.id in below or len(poses) > 1 or not shown.get(o.id) or bottom > FLOOR:
            continue
        start = np.asarray(o.box.center, float)
        others = [fp for i, fp in footprints.items() if i != o.id]
        for eye, normal in filter(None, planes):
            target = start - 2 * float((start - eye) @ normal) * normal
            outline = footprint(_placed(o.box, target, o.box.yaw + math.pi))
            if (
                np.linalg.norm(target - start) >= LEAST_MOVE
                and any(r.contains(outline) for r in rooms)
                and not any(outline.intersects(x) for x in others)
            ):
                out.append(Move(o.id, tuple(float(x) for x in start), tuple(float(x) for x in target), math.pi))
    return out


def _view_plane(world_to_camera) -> tuple[np.ndarray, np.ndarray] | None:
    """A point (the camera) and the unit normal (its right, level) of the vertical plane through a
    camera and its viewing direction; None for a camera looking straight down or up."""
    T = np.asarray(world_to_camera, float)
    normal = np.array([T[0, 0], T[0, 1], 0.0])
    if np.linalg.norm(normal) < 1e-6:
        return None
    return camera_center(T), normal / np.linalg.norm(normal)


def _placed(box: Box3D, position, yaw: float) -> Box3D:
    """``box`` at ``position`` turned to ``yaw`` (upright boxes: the rotation about +Z only)."""
    return Box3D(center=tuple(float(x) for x in position), size=box.size, rotation=yaw_quaternion(yaw))


def moved(episode: Episode, move: Move) -> Episode:
    """The episode with ``move`` applied to its object in every frame and in the scene's rest pose
    (the turn composed with its rotation); visibility, evidence and targets cleared."""
    o = episode.scene.object(move.object_id)
    turn = np.asarray(quaternion_matrix(yaw_quaternion(move.turn)))
    rotation = tuple(float(x) for x in matrix_quaternion(turn @ np.asarray(quaternion_matrix(o.box.rotation))))
    box = Box3D(center=move.position, size=o.box.size, rotation=rotation)
    objects = [x.model_copy(update={"box": box}) if x.id == o.id else x for x in episode.scene.objects]
    frames = [
        f.model_copy(
            update={
                "object_poses": [
                    ObjectPose(id=p.id, position=move.position, rotation=rotation) if p.id == o.id else p
                    for p in f.object_poses
                ]
            }
        )
        for f in episode.frames
    ]
    return episode.model_copy(
        update={
            "scene": episode.scene.model_copy(update={"objects": objects}),
            "frames": frames,
            "visibility": [],
            "evidence": None,
            "targets": [],
        }
    )
