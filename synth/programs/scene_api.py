"""The read-only scene API that question programs see.

Programs receive a ``SceneAPI`` and slot values; everything they can ask is computed from the
shipped episode JSON, so any answer can be recomputed from a sample. Everything returned is
immutable (numbers, strings, tuples, frozen dataclasses). Frames are 0-based indices.
World frame: metres, radians, right-handed, +Z up; an object faces (cos yaw, sin yaw, 0).

Two kinds of quantity: the scene's ground truth (poses, boxes, cameras) and the *evidence*
measured from the rendered passes of this sample (``synth.core.evidence``: visible masks, depth,
visible motion, room structure). A family asks only what the evidence shows: e.g. left/right
from visible mask centroids, "moved" only for visible motion, the ceiling only when it is seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from synth.core.scene import Episode, Evidence

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
    supported_by: int  # id of the object it stands on; 0: the room (the floor, or a wall it hangs on)


@dataclass(frozen=True)
class CameraInfo:
    """The camera at a given frame."""

    position: Vec3  # optical centre, world frame
    forward: Vec3  # unit viewing direction
    right: Vec3  # unit vector to the image's right
    heading: float  # radians, direction of ``forward`` projected on the floor, CCW from +X


@dataclass(frozen=True)
class MotionInfo:
    """An object's motion and whether the video shows it (``visible``)."""

    start: Vec3  # box centre before the motion, world frame
    end: Vec3  # box centre after it
    turn: float  # radians about +Z
    visible: bool  # seen before and after, and its visible surface changed (not e.g. a turn of a round stool)
    seen_after: bool  # seen where it ends up (after the motion, or at least late in it)


@dataclass(frozen=True)
class Projection:
    """Where an object's box centre falls in a frame."""

    u: float  # pixels from the left edge
    v: float  # pixels from the top edge
    depth: float  # camera-space z, metres (negative: behind the camera)


MOTION_CONSISTENCY = 0.5  # a motion shows when at most half of the surface a static object would show matches
MOTION_MIN_POINTS = 50  # surface points needed to compare before and after
FACE_TOLERANCE = 0.05  # metres (at most 10% of the object's height): a visible surface this close to a face shows it
STRUCTURE_PIXELS = ("floor", "wall", "ceiling")


class SceneAPI:
    """Read-only view of one episode; what counts as visible is the episode's ``visibility_rule``."""

    def __init__(self, episode: Episode):
        self._ep = episode
        self._min_px = episode.visibility_rule.min_pixels
        self._min_frames = episode.visibility_rule.min_frames
        self._objects = {o.id: o for o in episode.scene.objects}
        self._poses = [{p.id: p for p in f.object_poses} for f in episode.frames]
        self._vis = {v.id: v.pixels for v in episode.visibility}
        self._why = ""
        ev = episode.evidence
        self._ev = {o.id: o for o in ev.objects} if ev else {}
        self._motion_ev = {m.id: m for m in ev.motions} if ev else {}

    # -- giving no answer --------------------------------------------------------------
    def drop(self, reason: str) -> None:
        """Return ``scene.drop("why")`` instead of None to give no answer and say why (e.g. "cut by
        the border", "within the margin"): the generation report counts the reasons per family."""
        self._why = str(reason)[:80]

    def _take_drop_reason(self) -> str:
        """The reason given by the last ``drop`` since the last call of this method ("" if none)."""
        why, self._why = self._why, ""
        return why

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

    def first_glimpsed(self, object_id: int) -> int:
        """First frame with any pixel of the object, or -1."""
        for f, n in enumerate(self._vis.get(object_id, ())):
            if n > 0:
                return f
        return -1

    # -- evidence (measured from this sample's rendered passes) -----------------------------
    def _require_evidence(self) -> Evidence:
        if self._ep.evidence is None:
            raise ValueError("this episode carries no evidence (made before the evidence layer): regenerate it")
        return self._ep.evidence

    def _evidence(self, object_id: int):
        self._require_evidence()
        return self._ev[object_id]

    def mask_box(self, object_id: int, frame: int) -> tuple[int, int, int, int] | None:
        """Bounding box (u0, v0, u1, v1) of the object's visible pixels, inclusive, or None."""
        return self._evidence(object_id).box[frame]

    def mask_centroid(self, object_id: int, frame: int) -> tuple[float, float] | None:
        """Centroid (u, v) of the object's visible pixels, or None."""
        return self._evidence(object_id).centroid[frame]

    def visible_depth(self, object_id: int, frame: int) -> float | None:
        """Median camera-space depth of the object's visible pixels, metres, or None."""
        return self._evidence(object_id).depth[frame]

    def cut_sides(self, object_id: int, frame: int) -> str:
        """Image borders the object's visible pixels touch: a subset of "lrtb" (left, right, top, bottom)."""
        return self._evidence(object_id).cut[frame]

    def image_side(self, a: int, b: int, frame: int, margin: float = 0.08) -> str | None:
        """ "left" or "right": the side of ``a``'s visible mask centroid relative to ``b``'s in
        ``frame``. None (with the reason, as ``drop``) unless both are visible, the centroids are
        at least ``margin`` x the image width apart, and no image border cuts either object on
        the side that could reverse the order (a cut object's centre lies further out there)."""
        if not (self.is_visible(a, frame) and self.is_visible(b, frame)):
            return self.drop("not both visible in the frame")
        ua, ub = self.mask_centroid(a, frame)[0], self.mask_centroid(b, frame)[0]
        if abs(ua - ub) < margin * self.width:
            return self.drop("within the margin")
        side = "left" if ua < ub else "right"
        a_far, b_far = ("r", "l") if side == "left" else ("l", "r")
        if a_far in self.cut_sides(a, frame) or b_far in self.cut_sides(b, frame):
            return self.drop("cut by the border")
        return side

    def in_full_view(self, object_id: int, frame: int) -> bool:
        """Visible in ``frame`` and not cut by any image border."""
        return self.is_visible(object_id, frame) and not self.cut_sides(object_id, frame)

    def extent_seen(self, object_id: int) -> Vec3:
        """Share of the object's box size, along its local x, y, z, that its visible surface spans
        over the whole video (1.0: the video shows it from face to face along that axis)."""
        ext = self._evidence(object_id).extent
        if ext is None or not self.seen(object_id):
            return (0.0, 0.0, 0.0)
        size = self._objects[object_id].box.size
        return tuple(min(1.0, (hi - lo) / s) for (lo, hi), s in zip(ext, size))

    def top_seen(self, object_id: int) -> bool:
        """The video shows the object's top (its visible surface reaches the top of its box)."""
        ext = self._evidence(object_id).extent
        h = self._objects[object_id].box.size[2]
        return ext is not None and self.seen(object_id) and ext[2][1] >= h / 2 - min(FACE_TOLERANCE, 0.1 * h)

    def bottom_seen(self, object_id: int) -> bool:
        """The video shows where the object meets what it stands on."""
        ext = self._evidence(object_id).extent
        h = self._objects[object_id].box.size[2]
        return ext is not None and self.seen(object_id) and ext[2][0] <= -h / 2 + min(FACE_TOLERANCE, 0.1 * h)

    def motion(self, object_id: int) -> MotionInfo | None:
        """The object's motion during the video (None if it does not move)."""
        first, last = self._poses[0][object_id], self._poses[-1][object_id]
        turn = math.atan2(math.sin(last.yaw - first.yaw), math.cos(last.yaw - first.yaw))
        if math.dist(first.position, last.position) < 1e-6 and abs(turn) < 1e-6:
            return None
        m = self._motion_ev.get(object_id)
        visible = (
            m is not None
            and min(m.before, m.after) >= 0
            and self.is_visible(object_id, m.before)
            and self.is_visible(object_id, m.after)
            and m.points >= MOTION_MIN_POINTS
            and m.consistency <= MOTION_CONSISTENCY
        )
        seen_after = m is not None and m.after >= 0 and self.is_visible(object_id, m.after)
        return MotionInfo(
            start=tuple(first.position), end=tuple(last.position), turn=turn, visible=visible, seen_after=seen_after
        )

    def structure_seen(self, kind: str) -> bool:
        """The room's ``kind`` ("floor", "wall" or "ceiling") shows in at least the configured
        minimum of pixels in at least the configured minimum of frames."""
        if kind not in STRUCTURE_PIXELS:
            raise ValueError(f"kind must be one of {STRUCTURE_PIXELS}")
        structure = self._require_evidence().structure
        if structure is None:  # the scene declares no single room
            return False
        return sum(p >= self._min_px for p in getattr(structure, kind)) >= self._min_frames

    def wall_max_gap(self) -> float:
        """Longest stretch of the walls' perimeter that no frame shows, metres (inf when the scene
        declares no single room)."""
        structure = self._require_evidence().structure
        return math.inf if structure is None else structure.wall_max_gap

    def surface_distance(self, a: int, b: int, frame: int = 0) -> float:
        """Smallest distance between the two objects' (tight) 3D boxes at ``frame``, metres (0 if they touch)."""
        from synth.core.geometry import footprint

        boxes = [self._objects[i].box.at(self._poses[frame][i]) for i in (a, b)]
        horizontal = footprint(boxes[0]).distance(footprint(boxes[1]))
        (za0, za1), (zb0, zb1) = ((bx.center[2] - bx.size[2] / 2, bx.center[2] + bx.size[2] / 2) for bx in boxes)
        vertical = max(0.0, zb0 - za1, za0 - zb1)
        return math.hypot(horizontal, vertical)

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
