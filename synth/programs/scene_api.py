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
from typing import TYPE_CHECKING

from synth.core.scene import Episode, Evidence

if TYPE_CHECKING:
    from synth.core.meshes import MeshCache

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


@dataclass(frozen=True)
class RoomShown:
    """What the video shows of one room of the scene (``SceneAPI.rooms_shown``)."""

    index: int  # in the scene's rooms
    function: str  # "kitchen", ... ("" when the source does not say)
    frames: int  # frames showing at least the visibility rule's minimum of its floor, wall and ceiling pixels
    floor_seen: bool
    wall_max_gap: float  # metres of its wall perimeter in the longest stretch no frame shows
    area: float  # floor area, square metres
    neighbours: tuple[int, ...] = ()  # the rooms a doorway joins it to (indices in the scene's rooms)


def _box_gap(a, b) -> float:
    """Smallest distance between two boxes (``Box3D``, upright or nearly: their floor-plane
    outlines and height ranges), metres; 0 where they touch or overlap."""
    from synth.core.geometry import footprint

    horizontal = footprint(a).distance(footprint(b))
    (za0, za1), (zb0, zb1) = ((bx.center[2] - bx.size[2] / 2, bx.center[2] + bx.size[2] / 2) for bx in (a, b))
    return math.hypot(horizontal, max(0.0, zb0 - za1, za0 - zb1))


# ``SceneAPI.walk`` (VSI-Bench's route planning)
WALK_CLEARANCE = 0.25  # metres a walk keeps from walls and furniture
WALK_CELL = 0.1  # metres: the walking grid
WALK_REACH = 0.3  # metres beyond WALK_CLEARANCE from an object's footprint where a walk starts or ends beside it
WALK_DETOUR, WALK_SLACK = 1.3, 0.5  # a walk is at most 1.3 times the distance between the centres + 0.5 m
MOTION_CONSISTENCY = 0.5  # a motion shows when at most half of the surface a static object would show matches
MOTION_MIN_POINTS = 50  # surface points needed to compare before and after
FACE_TOLERANCE = 0.05  # metres (at most 10% of the object's height): a visible surface this close to a face shows it
STRUCTURE_PIXELS = ("floor", "wall", "ceiling")
CLEAR_PIXELS = 4  # x the visibility rule's minimum of pixels: an object clearly visible in a frame shows at least this
CLEAR_OCCLUSION = 0.0  # ... and none of its outline beside something in front (a hidden thin part is a sliver)


class SceneAPI:
    """Read-only view of one episode; what counts as visible is the episode's ``visibility_rule``."""

    def __init__(self, episode: Episode, surfaces: dict | None = None, meshes: MeshCache | None = None):
        """``surfaces``: where the objects' surface points, their KD-trees and the mesh distances
        are kept (they depend on the scene and the poses alone): pass the same dict to the APIs of
        views of one scene (the video reordered, cut, degraded) to measure each once. ``meshes``:
        where the objects' meshes are kept from scene to scene (a sandbox worker's; default: one
        mesh, the last read), each read once for its surface points and vertices."""
        from synth.core.meshes import MeshCache

        self._ep = episode
        self._meshes = meshes if meshes is not None else MeshCache(size=1)
        self._min_px = episode.visibility_rule.min_pixels
        self._min_frames = episode.visibility_rule.min_frames
        self._objects = {o.id: o for o in episode.scene.objects}
        self._poses = [{p.id: p for p in f.object_poses} for f in episode.frames]
        self._vis = {v.id: v.pixels for v in episode.visibility}
        self._why = ""
        self._margin: float | None = None
        # object id -> local surface points; (id, pose) -> world points and KD-tree;
        # ("distance", (id, pose), (id, pose)) -> mesh_distance
        self._samples: dict = {} if surfaces is None else surfaces
        self._seen_answers: dict[int, bool] = {}  # object id -> seen()
        self._walks: dict = {}  # "grid"; ("beside", id): its cells; ("from", id): walks from it; (a, b): walk()
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

    def margin(self, measured: float, threshold: float) -> bool:
        """Whether ``measured`` reaches the family's ``threshold`` (same unit, threshold > 0): ask
        ``if not scene.margin(gap, 0.3): return scene.drop("within the margin")``. The item's
        difficulty margin is measured / threshold, the smallest over the calls (issue #32)."""
        if not threshold > 0:
            raise ValueError(f"margin: threshold must be > 0, got {threshold!r}")
        ratio = float(measured) / float(threshold)
        self._margin = ratio if self._margin is None else min(self._margin, ratio)
        return ratio >= 1.0

    def _take_margin(self) -> float | None:
        """The margin ``margin`` recorded since the last call of this method (None if none)."""
        m, self._margin = self._margin, None
        return m

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
        if object_id not in self._seen_answers:  # the library asks it of every object, often
            self._seen_answers[object_id] = (
                sum(self.is_visible(object_id, f) for f in range(self.num_frames)) >= self._min_frames
            )
        return self._seen_answers[object_id]

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
        the side that could reverse the order (a cut object's centre lies further out there). The
        pixel separation is recorded as a ``margin``."""
        if not (self.is_visible(a, frame) and self.is_visible(b, frame)):
            return self.drop("not both visible in the frame")
        ua, ub = self.mask_centroid(a, frame)[0], self.mask_centroid(b, frame)[0]
        if not self.margin(abs(ua - ub), margin * self.width):
            return self.drop("within the margin")
        side = "left" if ua < ub else "right"
        a_far, b_far = ("r", "l") if side == "left" else ("l", "r")
        if a_far in self.cut_sides(a, frame) or b_far in self.cut_sides(b, frame):
            return self.drop("cut by the border")
        return side

    def in_full_view(self, object_id: int, frame: int) -> bool:
        """Visible in ``frame`` and not cut by any image border."""
        return self.is_visible(object_id, frame) and not self.cut_sides(object_id, frame)

    # -- grounding (issue #33) -------------------------------------------------------------
    def occluded_share(self, object_id: int, frame: int) -> float | None:
        """Share of the outline of the object's visible mask in ``frame`` that borders a nearer
        surface (something in front hides it there), or None where no pixel of it shows."""
        return self._grounding_evidence(object_id).occluded[frame]

    def inner_point(self, object_id: int, frame: int) -> tuple[float, float, float] | None:
        """The visible pixel of the object in ``frame`` farthest from its mask's outline: (x, y),
        its centre with pixel i spanning [i, i + 1), and r, its distance from the outline, pixels
        (a disc of radius r about it lies on the object); None where no pixel of it shows."""
        found = self._grounding_evidence(object_id).inner[frame]
        return None if found is None else (found[0] + 0.5, found[1] + 0.5, found[2])

    def clearly_visible(self, object_id: int, frame: int) -> bool:
        """Its whole outline shows in ``frame``: visible, at least ``CLEAR_PIXELS`` x the visibility
        rule's minimum of pixels, uncut by the image border, and at most ``CLEAR_OCCLUSION`` of its
        mask's outline next to something in front of it."""
        share = self.occluded_share(object_id, frame)
        return (
            self.in_full_view(object_id, frame)
            and self.visible_pixels(object_id, frame) >= CLEAR_PIXELS * self._min_px
            and share is not None
            and share <= CLEAR_OCCLUSION
        )

    def camera_box(self, object_id: int, frame: int) -> tuple[float, ...]:
        """The object's tight 3D box in the camera frame of ``frame`` (x right, y down, z forward,
        metres): (x, y, z, l, w, h, roll, pitch, yaw): its centre, its size along its front, left
        and up axes, and the rotation Rz(yaw) Ry(pitch) Rx(roll) of those axes into the camera's,
        radians (a 9-DoF box)."""
        import numpy as np

        from synth.core.camera import to_camera
        from synth.core.rotations import matrix_euler

        pose = self._poses[frame][object_id]
        T = np.asarray(self._ep.frames[frame].camera.world_to_camera, float)
        centre = to_camera(T, np.asarray([pose.position], float))[0]
        turned = T[:3, :3] @ np.asarray(pose.matrix(), float)
        return (*map(float, centre), *self._objects[object_id].box.size, *matrix_euler(turned))

    def _grounding_evidence(self, object_id: int):
        found = self._evidence(object_id)
        if found.occluded is None or found.inner is None:
            raise ValueError("this episode's evidence predates grounded answers (issue 33): regenerate it")
        return found

    def extent_seen(self, object_id: int) -> Vec3:
        """Share of the object's box size, along its local x, y, z, that its visible surface spans
        over the whole video (1.0: the video shows it from face to face along that axis)."""
        ext = self._evidence(object_id).extent
        if ext is None or not self.seen(object_id):
            return (0.0, 0.0, 0.0)
        size = self._objects[object_id].box.size
        return tuple(min(1.0, (hi - lo) / s) for (lo, hi), s in zip(ext, size))

    def surface_seen(self, object_id: int) -> float:
        """Share of the object's surface (its mesh, by area) the video shows, 0-1."""
        from synth.core.evidence import surface_seen_mask  # numpy and shapely: not in every sandbox worker's budget

        mask = surface_seen_mask(self._evidence(object_id))
        return 0.0 if mask is None else float(mask.mean())

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
        return _box_gap(*(self._objects[i].box.at(self._poses[frame][i]) for i in (a, b)))

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

    # -- VSI-Bench directions, routes and rooms (issue #28) -----------------------------------
    def centre_uncertainty(self, object_id: int) -> float:
        """How far (metres, in the floor plane) the centre of what the video shows of the object
        can lie from its box centre: the unseen share of its box along its local x and y
        (``extent_seen``), halved and combined; half the box's diagonal when it is not seen. A
        direction measured from centres within this of the true ones is off by at most
        asin(sum of the two uncertainties / distance)."""
        sx, sy, _ = self.extent_seen(object_id)
        dx, dy, _ = self._objects[object_id].box.size
        return math.hypot((1.0 - sx) * dx, (1.0 - sy) * dy) / 2

    def standing_turn(self, a: int, b: int, c: int) -> tuple[float, float] | None:
        """VSI-Bench's relative direction, "standing by ``a``, facing ``b``": the turn (degrees,
        -180..180, counter-clockwise seen from above, so positive is to the left) from the
        direction a -> b to the direction a -> c, floor plane, box centres; and its margin
        (degrees): 10 plus the most the unseen parts of the three objects could turn the two
        directions (``centre_uncertainty``). None, with the reason given to ``drop``, where an
        object moves, b or c stands within 1 m of a, or so little of them is seen that a centre
        could lie half their distance off."""
        if any(self.motion(o) is not None for o in (a, b, c)):
            return self.drop("moves")
        pa, pb, pc = (self.object(o).center for o in (a, b, c))
        ra, rb, rc = (self.centre_uncertainty(o) for o in (a, b, c))
        fx, fy = pb[0] - pa[0], pb[1] - pa[1]
        tx, ty = pc[0] - pa[0], pc[1] - pa[1]
        to_b, to_c = math.hypot(fx, fy), math.hypot(tx, ty)
        if to_b < 1.0 or to_c < 1.0:
            return self.drop("too close")
        if (ra + rb) / to_b > 0.5 or (ra + rc) / to_c > 0.5:
            return self.drop("too little of it seen")
        margin = 10 + math.degrees(math.asin((ra + rb) / to_b) + math.asin((ra + rc) / to_c))
        return math.degrees(math.atan2(fx * ty - fy * tx, fx * tx + fy * ty)), margin

    # walk: the shortest walk from beside object a to beside b on the free floor (the rooms and the
    # doorways a walker gets through, WALK_CLEARANCE from walls, door leaves and every piece of
    # furniture or hung thing: synth.planning.tour.tour_free_space) on a WALK_CELL grid, 8-connected;
    # beside an object: a free cell within WALK_REACH of its footprint grown by WALK_CLEARANCE. It
    # counts where it is at most WALK_DETOUR times the distance between the box centres plus
    # WALK_SLACK (0 for objects side by side). Boxes as the scene places them (before any motion).
    # Kept out of the docstring: the compiler's prompt is the docstrings, within a small model's context.
    def walk(self, a: int, b: int) -> float | None:
        """Metres of the shortest walk on the free floor from beside object ``a`` to beside ``b``
        (VSI-Bench's "go forward until"), where it is nearly straight; None otherwise."""
        key = (min(a, b), max(a, b))
        if key not in self._walks:
            starts = [self._beside(o) for o in key]
            if not all(len(c) for c in starts):
                self._walks[key] = None
            else:
                length = float(self._walk_from(key[0])[starts[1]].min())
                centres = [self._objects[o].box.center for o in key]
                straight = math.dist(centres[0][:2], centres[1][:2])
                ok = length <= WALK_DETOUR * straight + WALK_SLACK
                self._walks[key] = length if ok else None
        return self._walks[key]

    def _walk_grid(self):
        """The free floor as grid cells (bool raster), their 8-connected graph (CSR, metres) over
        flat cell indices, and the cells' centres (N, 2) (cached)."""
        if "grid" not in self._walks:
            import numpy as np
            import shapely

            from synth.core.geometry import grid_graph
            from synth.planning.tour import passages, tour_free_space

            scene = self._ep.scene
            free = tour_free_space(scene, passages(scene), WALK_CLEARANCE)
            x0, y0, x1, y1 = free.bounds if not free.is_empty else (0.0, 0.0, 0.0, 0.0)
            gx, gy = np.meshgrid(np.arange(x0, x1 + WALK_CELL, WALK_CELL), np.arange(y0, y1 + WALK_CELL, WALK_CELL))
            grid = shapely.contains_xy(free, gx, gy)
            graph = grid_graph(grid, WALK_CELL)
            self._walks["grid"] = (grid, graph, np.stack([gx.ravel(), gy.ravel()], 1))
        return self._walks["grid"]

    def _walk_from(self, object_id: int):
        """Metres of the shortest walk from beside the object to every grid cell (cached)."""
        from scipy.sparse.csgraph import dijkstra

        if ("from", object_id) not in self._walks:
            _, graph, _ = self._walk_grid()
            self._walks[("from", object_id)] = dijkstra(graph, indices=self._beside(object_id), min_only=True)
        return self._walks[("from", object_id)]

    def _beside(self, object_id: int):
        """Flat indices of the free cells within ``WALK_REACH`` of the object's footprint (cached)."""
        import numpy as np
        import shapely

        from synth.core.geometry import footprint

        if ("beside", object_id) not in self._walks:
            grid, _, xy = self._walk_grid()
            near = footprint(self._objects[object_id].box).buffer(WALK_CLEARANCE + WALK_REACH)
            self._walks[("beside", object_id)] = np.flatnonzero(
                grid.ravel() & shapely.contains_xy(near, xy[:, 0], xy[:, 1])
            )
        return self._walks[("beside", object_id)]

    def room_holding(self, object_id: int, frame: int = 0) -> tuple[int, float]:
        """The room whose footprint holds the object's box centre at ``frame`` (index in the
        scene's rooms, as ``rooms_shown``; -1: none, e.g. in a doorway) and how far inside it
        the centre is, metres (0 for -1)."""
        from shapely.geometry import Point, Polygon

        centre = Point(self._poses[frame][object_id].position[:2])
        for k, room in enumerate(self._ep.scene.rooms):
            outline = Polygon(room.footprint)
            if outline.contains(centre):
                return k, float(outline.exterior.distance(centre))
        return -1, 0.0

    # -- VSI-Bench measurement (issue #28) ----------------------------------------------------
    @property
    def fps(self) -> float:
        """Frames per second of the video (frame ``i`` shows at ``i / fps`` seconds)."""
        return self._ep.fps

    def category_first_seen(self, category: str) -> int:
        """First frame in which some object of the category is visible (``is_visible``), or -1."""
        firsts = [self.first_seen(o.id) for o in self._ep.scene.objects if o.category == category]
        return min((f for f in firsts if f >= 0), default=-1)

    def category_first_glimpsed(self, category: str) -> int:
        """First frame with any pixel of some object of the category, or -1."""
        firsts = [self.first_glimpsed(o.id) for o in self._ep.scene.objects if o.category == category]
        return min((f for f in firsts if f >= 0), default=-1)

    def mesh_distance(self, a: int, b: int, frame: int = 0) -> float:
        """Distance between the closest points of the two objects' surfaces as rendered (their
        meshes, posed as at ``frame``), metres: the smallest distance between ``SURFACE_SAMPLES``
        points spread evenly (by area, a fixed draw per object) over each surface and its
        vertices, so within about half the points' spacing (1-3 cm for furniture) of the exact one."""
        from synth.core.geometry import closest_distance

        poses = self._poses[frame]
        key = ("distance", *sorted((i, tuple(poses[i].position), tuple(poses[i].rotation)) for i in (a, b)))
        if key not in self._samples:  # symmetric: the smallest distance over all pairs of points
            self._samples[key] = closest_distance(*self._surface_samples(a, frame), self._surface_samples(b, frame)[1])
        return self._samples[key]

    def _surface_samples(self, object_id: int, frame: int):
        """A KD-tree over points on the object's surface posed as at ``frame``, and the points
        (N, 3), world frame (cached per pose: the scene is read-only)."""
        from scipy.spatial import cKDTree

        from synth.core.geometry import local_to_world

        pose = self._poses[frame][object_id]
        key = (object_id, tuple(pose.position), tuple(pose.rotation))
        if key not in self._samples:
            world = local_to_world(self._local_samples(object_id), pose)
            self._samples[key] = (cKDTree(world), world)
        return self._samples[key]

    def _local_samples(self, object_id: int):
        """The object's fixed surface samples (``synth.core.meshes.surface_samples``) followed by
        its mesh's distinct vertices, (N, 3), in its own frame (cached)."""
        import numpy as np

        from synth.core.meshes import surface_samples

        if object_id not in self._samples:
            obj, root = self._objects[object_id], self._ep.scene.asset_root
            points = surface_samples(obj, root, self._meshes)  # the welded mesh: the same triangles and points
            self._samples[object_id] = np.concatenate([points, self._meshes.local(obj, root).vertices])
        return self._samples[object_id]

    # seen_mesh_distance: metres between the surface samples of each object that a visible pixel's
    # surface point comes within 2 cm of in some frame (ObjectEvidence.surface_seen), posed as at
    # ``frame``; at least mesh_distance up to the samples' spacing; when the two agree, the video
    # shows the closest points (a floor lamp whose base the bed hides does not count: its shade and
    # pole do, farther off). Kept out of the docstring: the compiler's prompt is the docstrings.
    def seen_mesh_distance(self, a: int, b: int, frame: int = 0) -> float:
        """``mesh_distance`` between the surface parts the video shows; inf if either shows none."""
        from scipy.spatial import cKDTree

        from synth.core.evidence import surface_seen_mask
        from synth.core.geometry import closest_distance, local_to_world
        from synth.core.meshes import SURFACE_SAMPLES

        parts = []
        for i in (a, b):
            seen = surface_seen_mask(self._evidence(i))
            if seen is None or not seen.any():
                return math.inf
            local = self._local_samples(i)[:SURFACE_SAMPLES][seen]
            parts.append(local_to_world(local, self._poses[frame][i]))
        return closest_distance(cKDTree(parts[0]), parts[0], parts[1])

    def seen_surface_distance(self, a: int, b: int, frame: int = 0) -> float:
        """``surface_distance`` between the parts of the two boxes the video shows: each object's
        box cut down to the extent of its visible surface over the video (``ObjectEvidence.extent``,
        in its own frame), posed as at ``frame``; metres, inf when either has no visible surface.
        It is at least ``surface_distance``; when the two agree, what the video shows of each
        object reaches the closest points."""
        import numpy as np

        from synth.core.geometry import local_to_world
        from synth.core.scene import Box3D

        boxes = []
        for i in (a, b):
            ext = self._evidence(i).extent
            if ext is None:
                return math.inf
            pose = self._poses[frame][i]
            mid = local_to_world(np.array([[(lo + hi) / 2 for lo, hi in ext]]), pose)[0]
            size = tuple(max(hi - lo, 1e-4) for lo, hi in ext)
            boxes.append(Box3D(center=tuple(float(x) for x in mid), size=size, rotation=pose.rotation))
        return _box_gap(*boxes)

    def rooms_shown(self) -> tuple[RoomShown, ...]:
        """Per room of the scene (index in the scene's rooms), what the video shows of it: its
        frames that show its structure (floor, walls, ceiling: at least the visibility rule's
        minimum of pixels), whether its floor is seen (``structure_seen``'s rule), the longest
        stretch of its walls no frame shows, its floor area and the rooms a doorway joins it to; ()
        when the scene declares no rooms."""
        from shapely.geometry import Polygon

        ev = self._require_evidence()
        joined = [(i, j) for i, j, _, _ in self._ep.scene.connections()]
        structures = [ev.structure] if ev.structure is not None else list(ev.rooms)
        out = []
        for s in structures:
            room = self._ep.scene.rooms[s.room]
            shown = [f + w + c >= self._min_px for f, w, c in zip(s.floor, s.wall, s.ceiling)]
            out.append(
                RoomShown(
                    index=s.room,
                    function=room.function,
                    frames=sum(shown),
                    floor_seen=sum(p >= self._min_px for p in s.floor) >= self._min_frames,
                    wall_max_gap=s.wall_max_gap,
                    area=Polygon(room.footprint).area,
                    neighbours=tuple(
                        sorted({j for i, j in joined if i == s.room} | {i for i, j in joined if j == s.room})
                    ),
                )
            )
        return tuple(out)


def prefix_episode(episode: Episode, query_frame: int) -> Episode:
    """The episode as its frames 0..``query_frame`` (inclusive) show it: what a streaming question
    (``QA.query_frame``) is answered from (``view_episode`` of those frames). ValueError for a
    frame outside the video."""
    n = len(episode.frames)
    if not 0 <= query_frame < n:
        raise ValueError(f"query frame {query_frame} is outside the video's {n} frames")
    return episode if query_frame == n - 1 else view_episode(episode, list(range(query_frame + 1)))


def view_episode(episode: Episode, frames: list[int]) -> Episode:
    """The episode as a video of its ``frames`` (indices, in the order given) shows it: a prefix
    (streaming questions), the frames reversed or shuffled, one frame alone (issue #34's order
    and single-frame checks); a program sees it through ``SceneAPI`` as any episode.

    Every per-frame quantity (frames, renumbered and retimed; visible pixels; the evidence's masks,
    depths, room pixels and camera rooms) is taken at those frames; a motion's compared frames are
    renumbered where both are shown. Where the frames are all of the video (reordered), what the
    evidence holds over the whole video stays; otherwise it is withheld rather than guessed: each
    object's visible extent and seen surface samples (None), a room's wall coverage (0, its longest
    unseen stretch the whole perimeter), a motion whose compared frames are not both shown (not
    seen). Ego actions (between consecutive frames) are kept for a prefix only."""
    k = len(frames)
    where = {f: i for i, f in enumerate(frames)}
    whole = sorted(frames) == list(range(len(episode.frames)))
    prefix = frames == list(range(k))
    fps = episode.video.fps
    update: dict = {
        "frames": [
            episode.frames[f] if prefix else episode.frames[f].model_copy(update={"index": i, "time": i / fps})
            for i, f in enumerate(frames)
        ],
        "video": episode.video.model_copy(update={"frames": k}),
        "visibility": [v.model_copy(update={"pixels": [v.pixels[f] for f in frames]}) for v in episode.visibility],
        "actions": [a for a in episode.actions if a.frame < k] if prefix else [],
    }
    ev = episode.evidence
    if ev is not None:
        cut = ("box", "centroid", "depth", "cut", "occluded", "inner")
        rooms = episode.scene.rooms

        def structure(s):
            picked = {c: [getattr(s, c)[f] for f in frames] for c in ("floor", "wall", "ceiling")}
            if whole:
                return s.model_copy(update=picked)
            ring = rooms[s.room].footprint if s.room < len(rooms) else []
            perimeter = sum(math.dist(p, q) for p, q in zip(ring, [*ring[1:], *ring[:1]]))
            return s.model_copy(update={**picked, "wall_coverage": 0.0, "wall_max_gap": round(perimeter, 3)})

        def motion(m):
            before, after = (-1 if f < 0 else where.get(f) for f in (m.before, m.after))
            if before is not None and after is not None:
                return m.model_copy(update={"before": before, "after": after})
            lost = {"after": -1, "consistency": 1.0, "shift_px": 0.0, "points": 0}
            return m.model_copy(update={"before": -1 if before is None else before, **lost})

        withheld = {} if whole else {"extent": None, "surface_seen": None}
        update["evidence"] = ev.model_copy(
            update={
                "objects": [
                    o.model_copy(
                        update={
                            **{c: [getattr(o, c)[f] for f in frames] for c in cut if getattr(o, c) is not None},
                            **withheld,
                        }
                    )
                    for o in ev.objects
                ],
                "motions": [motion(m) for m in ev.motions],
                "structure": None if ev.structure is None else structure(ev.structure),
                "rooms": [structure(s) for s in ev.rooms],
                "camera_room": [ev.camera_room[f] for f in frames],
            }
        )
    return episode.model_copy(update=update)
