"""Evidence audit: is every shipped answer one a viewer of *that* video could give?

The auditor recomputes each question family's answer from the sample's ground-truth passes --
the instance masks and depth in ``gt.npz`` (and, for degraded variants, the delivered video) --
and the cameras. It is written separately from ``programs/`` and imports nothing from it
(``tests/test_audit.py`` checks): it never reads the programs' shipped evidence, nor object box
centres or sizes, nor the room's declared height or footprint. Object poses are read only to know
in which frames an object is at rest (to pool its surface points) and, for sizes only, to add
up the views of an object that moved; positions, extents, heights and distances come from
back-projected surface points:

- image-space relations from the masks (centroids, border cuts) and median depths;
- sizes from the extent of the visible surface (world z-range; the minimum-area rectangle of the
  floor-plane points), centres as the middle of the visible surface's world bounds, surface
  distances between surface point clouds (KD-tree);
- motion: an object moved visibly when its surface seen in the first half of the video,
  re-projected unmoved into the second half, does not land on its own mask at matching depth
  (checked for every object);
- room: floor/ceiling from room pixels at the claimed height, the floor area as the filled
  outline of the wall points seen;
- degraded variants: an object counts as seen in a frame only where the delivered frame still
  shows it against its surroundings (its contrast and structure against the clean video's,
  measured here with its own statistic, see ``discernible``).

``audit_dataset(root)`` returns one :class:`Finding` per item; ``synth verify --evidence``
prints the disagreements and exits non-zero if there is any.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.core.scene import ROOM_ID, Episode
from synth.storage.dataset import iter_samples, read_manifest
from synth.storage.media import decode_gt, decode_mp4

FLOOR_WORDS = "the floor"
ROBUST = (0.5, 99.5)  # percentiles of surface points taken as their extent (mixed pixels at mask edges)
DEPTH_MATCH = 0.05  # metres
DEPTH_SHARE = 0.02  # of the distance: depth agreement far from the camera
SURFACE_TOLERANCE = 0.06  # metres: contact between a surface and what stands on it
VOXEL = 0.02  # metres: surface point clouds are thinned to one point per voxel
FLOOR_CELL = 0.05  # metres: floor-plan raster for the floor area
SIDE_MARGIN = 0.05  # share of the image width between two centroids a viewer tells apart
GAP_CLOSING = 0.3  # metres: wall gaps up to twice this are bridged (furniture in front of a wall)


@dataclass(frozen=True)
class Finding:
    key: str  # sample key
    item: str  # question id
    family: str
    shipped: str
    audited: str | None  # the auditor's answer (None: the video does not support one)
    agrees: bool
    why: str = ""

    def line(self) -> str:
        return (
            f"{self.key}/{self.item} [{self.family}]: shipped {self.shipped!r}, "
            f"video shows {self.audited if self.audited is not None else 'no answer'!s}; {self.why}"
        )


def _lens(k, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brown-Conrady (OpenCV order k1, k2, p1, p2, k3) distortion of normalised coordinates."""
    if k is None:
        return x, y
    k1, k2, p1, p2, k3 = k
    r2 = x * x + y * y
    radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
    return x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x), y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y


def _pinhole(k, xd: np.ndarray, yd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`_lens` (Newton-free fixed point, as OpenCV's undistortPoints)."""
    if k is None:
        return xd, yd
    x, y = xd.copy(), yd.copy()
    for _ in range(40):
        dx, dy = _lens(k, x, y)
        x, y = x + (xd - dx), y + (yd - dy)
    return x, y


def _wrap(a: float) -> float:
    return math.atan2(math.sin(a), math.cos(a))


class View:
    """One sample's passes, read the auditor's way."""

    def __init__(
        self,
        episode: Episode,
        depth: np.ndarray,
        instance: np.ndarray,
        min_px: int,
        min_frames: int,
        shown: np.ndarray | None = None,
        strict: bool = False,
    ):
        self.ep, self.depth, self.inst = episode, depth, instance
        self.min_px, self.min_frames = min_px, min_frames
        self.n, self.h, self.w = instance.shape
        ids = [o.id for o in episode.scene.objects]
        size = max(ids, default=0) + 1
        counts = np.stack([np.bincount(f.ravel(), minlength=size)[:size] for f in instance])
        if shown is not None:  # degraded: only where the delivered frame shows the object
            full = np.ones((self.n, size))
            full[:, : min(size, shown.shape[1])] = shown[:, :size]
            # strict: only where it plainly shows; else wherever it can be made out at all
            counts = counts * (full >= (1.0 if strict else 0.5))
        if strict:  # plainly seen: clearly above the pixel threshold too
            counts = np.where(counts >= PLAIN_PIXELS * min_px, counts, 0)
        self.px = counts
        self.by_description = {o.description: o.id for o in episode.scene.objects}
        self.category = {o.id: o.category for o in episode.scene.objects}
        self._cache: dict = {}

    # -- masks ---------------------------------------------------------------------------
    def visible(self, o: int, f: int) -> bool:
        return self.px[f, o] >= self.min_px

    def seen(self, o: int) -> bool:
        return int((self.px[:, o] >= self.min_px).sum()) >= self.min_frames

    def first(self, o: int, threshold: int) -> int:
        hits = np.nonzero(self.px[:, o] >= threshold)[0]
        return int(hits[0]) if len(hits) else -1

    def centroid_u(self, o: int, f: int) -> float:
        return float(np.nonzero(self.inst[f] == o)[1].mean())

    def cut(self, o: int, f: int) -> str:
        m = self.inst[f] == o
        return "".join(
            s for s, hit in zip("lr", (m[:, 0].any(), m[:, -1].any())) if hit
        )  # left/right borders only: what can reverse a left/right order

    def median_depth(self, o: int, f: int) -> float:
        z = self.depth[f][self.inst[f] == o]
        z = z[np.isfinite(z)]
        return float(np.median(z)) if len(z) else math.inf

    # -- cameras and points ----------------------------------------------------------------
    def camera(self, f: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cam = self.ep.frames[f].camera
        T = np.asarray(cam.world_to_camera, float)
        return np.asarray(cam.K, float), T[:3, :3], T[:3, 3]

    def position(self, f: int) -> np.ndarray:
        _, R, t = self.camera(f)
        return -R.T @ t

    def heading(self, f: int) -> float:
        _, R, _ = self.camera(f)
        return math.atan2(R[2, 1], R[2, 0])

    def world(self, f: int, mask: np.ndarray) -> np.ndarray:
        vs, us = np.nonzero(mask & np.isfinite(self.depth[f]))
        z = self.depth[f][vs, us].astype(float)
        K, R, t = self.camera(f)
        x, y = _pinhole(self.ep.frames[f].camera.distortion, (us - K[0, 2]) / K[0, 0], (vs - K[1, 2]) / K[1, 1])
        cam = np.stack([x * z, y * z, z], 1)
        return (cam - t) @ R

    def pixels(self, f: int, cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel (u, v) of camera-space points in frame ``f`` (through its lens distortion, if any)."""
        K, _, _ = self.camera(f)
        x, y = _lens(self.ep.frames[f].camera.distortion, cam[:, 0] / cam[:, 2], cam[:, 1] / cam[:, 2])
        return K[0, 0] * x + K[0, 2], K[1, 1] * y + K[1, 2]

    def _at_rest(self, o: int, f: int) -> list[int]:
        """Frames in which the object is where it is at frame ``f`` (poses read only for this)."""
        ref = self.ep.pose(o, f)
        return [
            g
            for g in range(self.n)
            if math.dist(self.ep.pose(o, g).position, ref.position) < 1e-4
            and abs(self.ep.pose(o, g).yaw - ref.yaw) < 1e-4
        ]

    def points(self, o: int, f: int = 0, thin: bool = True) -> np.ndarray:
        """World surface points of the object, from every frame that shows it where it is at ``f``
        (``thin``: one point per 2 cm voxel)."""
        key = ("pts", o, tuple(self._at_rest(o, f)), thin)
        if key not in self._cache:
            frames = [g for g in key[2] if self.px[g, o] > 0]
            pts = [self.world(g, self.inst[g] == o) for g in frames]
            pts = np.concatenate(pts) if pts else np.zeros((0, 3))
            if len(pts) and thin:
                _, keep = np.unique(np.floor(pts / VOXEL).astype(np.int64), axis=0, return_index=True)
                pts = pts[np.sort(keep)]
            self._cache[key] = pts
        return self._cache[key]

    def body_points(self, o: int) -> np.ndarray:
        """The object's surface points from every frame, each frame's brought into the object's
        own frame by its pose then (so a moved object's views add up; for sizes only)."""
        out = []
        for g in range(self.n):
            if self.px[g, o] > 0:
                pose = self.ep.pose(o, g)
                c, s = math.cos(pose.yaw), math.sin(pose.yaw)
                d = self.world(g, self.inst[g] == o) - np.asarray(pose.position)
                out.append(np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1], d[:, 2]], 1))
        return np.concatenate(out) if out else np.zeros((0, 3))

    def bounds(self, o: int, f: int = 0) -> tuple[np.ndarray, np.ndarray] | None:
        pts = self.points(o, f, thin=False)
        if len(pts) < 10:
            return None
        lo, hi = np.percentile(pts, ROBUST, axis=0)
        return lo, hi

    def centre(self, o: int, f: int = 0) -> np.ndarray | None:
        b = self.bounds(o, f)
        return None if b is None else (b[0] + b[1]) / 2

    def room_points(self, stride: int = 2) -> list[np.ndarray]:
        if "room" not in self._cache:
            out = []
            for f in range(self.n):
                m = np.zeros((self.h, self.w), bool)
                m[::stride, ::stride] = True
                out.append(self.world(f, m & (self.inst[f] == ROOM_ID)))
            self._cache["room"] = out
        return self._cache["room"]


# -- the families, as a viewer would answer them ------------------------------------------------
def _side(view: View, a: int, b: int, f: int) -> str | None:
    if not (view.visible(a, f) and view.visible(b, f)):
        return None
    ua, ub = view.centroid_u(a, f), view.centroid_u(b, f)
    if abs(ua - ub) < SIDE_MARGIN * view.w:
        return None
    side = "left" if ua < ub else "right"
    a_far, b_far = ("r", "l") if side == "left" else ("l", "r")
    if a_far in view.cut(a, f) or b_far in view.cut(b, f):
        return None
    return side


def _static_share(view: View, o: int, src: int, dst: int) -> float | None:
    """Share of the object's surface seen in ``src`` that, kept where it was, lands on the
    object at matching depth in ``dst`` (points hidden there behind anything are left out)."""
    pts = view.world(src, view.inst[src] == o)
    _, R, t = view.camera(dst)
    cam = pts @ R.T + t
    cam = cam[cam[:, 2] > 1e-3]
    u, v = (np.round(x).astype(int) for x in view.pixels(dst, cam))
    z = cam[:, 2]
    inside = (u >= 0) & (u < view.w) & (v >= 0) & (v < view.h)
    u, v, z = u[inside], v[inside], z[inside]
    d = view.depth[dst][v, u]
    tol = np.maximum(DEPTH_MATCH, DEPTH_SHARE * z)  # a pixel spans more depth far away and at grazing angles
    shown = d >= z - tol
    if shown.sum() < 50:
        return None
    match = np.zeros(len(z), bool)
    for du in (-1, 0, 1):  # within a pixel: rounding must not unseat thin parts (legs, poles)
        for dv in (-1, 0, 1):
            uu, vv = np.clip(u + du, 0, view.w - 1), np.clip(v + dv, 0, view.h - 1)
            match |= (view.inst[dst][vv, uu] == o) & (np.abs(view.depth[dst][vv, uu] - z) <= tol)
    return float((match & shown).sum() / shown.sum())


def _moved_visibly(view: View, o: int) -> bool | None:
    """Whether the object's surface seen early in the video, kept where it was, fails to land on
    its own mask later, or the other way round. Early: the first frame that shows it and the one
    that shows most of it in the first half; late: the last one and the one showing most of it in
    the second half (no motion metadata is read). None: not seen early and late."""
    shows = [f for f in range(view.n) if view.visible(o, f)]
    half = view.n // 2
    early = {
        f
        for f in (shows[:1] + [max((g for g in shows if g < half), key=lambda g: view.px[g, o], default=-1)])
        if f >= 0
    }
    late = {
        f
        for f in (shows[-1:] + [max((g for g in shows if g >= half), key=lambda g: view.px[g, o], default=-1)])
        if f >= 0
    }
    shares = [
        x
        for e in early
        for f in late
        if e < f
        for x in (_static_share(view, o, e, f), _static_share(view, o, f, e))
        if x is not None
    ]
    if not shares:
        return None
    return min(shares) <= 0.5


def _rectangle_sides(points: np.ndarray) -> tuple[float, float]:
    from shapely import MultiPoint

    rect = MultiPoint(points[:, :2]).minimum_rotated_rectangle
    xy = np.asarray(rect.exterior.coords)[:3]
    return float(np.linalg.norm(xy[1] - xy[0])), float(np.linalg.norm(xy[2] - xy[1]))


def _floor_area(view: View) -> float:
    from scipy import ndimage

    pts = np.concatenate(view.room_points())
    if len(pts) == 0:
        return 0.0
    top = np.percentile(pts[:, 2], 99.9)
    walls = pts[(pts[:, 2] > 0.3) & (pts[:, 2] < top - 0.1)]
    if len(walls) == 0:
        return 0.0
    lo = walls[:, :2].min(0) - 1.0
    ij = np.floor((walls[:, :2] - lo) / FLOOR_CELL).astype(int)
    grid = np.zeros(ij.max(0) + 3, bool)
    grid[ij[:, 0], ij[:, 1]] = True
    r = int(round(GAP_CLOSING / FLOOR_CELL))
    disk = np.hypot(*np.mgrid[-r : r + 1, -r : r + 1]) <= r
    closed = ndimage.binary_closing(np.pad(grid, r), structure=disk)
    return float(ndimage.binary_fill_holes(closed).sum()) * FLOOR_CELL**2


def _structure_seen(view: View, level: float, above: bool) -> bool:
    frames = 0
    for pts in view.room_points():
        hit = (pts[:, 2] >= level - 0.03) if above else (pts[:, 2] <= level + 0.03)
        frames += int(hit.sum()) * 4 >= view.min_px
    return frames >= view.min_frames


def _in_heading(d: np.ndarray, heading: float) -> tuple[float, float]:
    """A displacement's components (ahead, to the left) for a viewer facing ``heading``."""
    c, s = math.cos(heading), math.sin(heading)
    return float(d[0] * c + d[1] * s), float(-d[0] * s + d[1] * c)


def _heading_side(origin: np.ndarray, heading: float, target: np.ndarray) -> float:
    """Degrees from ``heading`` to ``target`` seen from ``origin`` (positive: to the left)."""
    bearing = math.atan2(target[1] - origin[1], target[0] - origin[0])
    return math.degrees(_wrap(bearing - heading))


def answer(view: View, family: str, slots: dict, shipped: dict):
    """The auditor's answer for one item: a str (options, yes/no), an int id (objects; 0 = the
    floor), a float (numbers: the measured value), or None where the video supports no answer."""
    a, b, c = slots.get("a"), slots.get("b"), slots.get("c")
    last = view.n - 1
    if family == "relative_direction_lr":
        return _side(view, a, b, slots["frame"])
    if family == "where_when_appeared":
        f = view.first(b, view.min_px)
        if f < 0 or view.first(b, 1) < f - 1:
            return None
        return _side(view, a, b, f)
    if family == "relative_depth":
        f = slots["frame"]
        if not (view.visible(a, f) and view.visible(b, f)):
            return None
        da, db = view.median_depth(a, f), view.median_depth(b, f)
        return None if abs(da - db) < 0.1 * min(da, db) else (a if da < db else b)
    if family == "first_appearance":
        firsts = sorted((view.first(o, view.min_px), o) for o in (a, b, c) if view.first(o, view.min_px) >= 0)
        if not firsts:
            return None
        f, winner = firsts[0]
        if any(0 <= view.first(o, 1) <= f for o in (a, b, c) if o != winner):
            return None
        return winner
    if family == "object_count":
        same = [o.id for o in view.ep.scene.objects if o.category == slots["category"]]
        if any(view.px[:, o].any() and not view.seen(o) for o in same):
            return None
        return float(sum(view.seen(o) for o in same))
    if family == "which_object_moved":
        moved = [o.id for o in view.ep.scene.objects if _moved_visibly(view, o.id)]
        return moved[0] if len(moved) == 1 else None
    if family == "object_movement":
        m = next((m for m in view.ep.motions if m.id == a), None)
        if m is None or not _moved_visibly(view, a):
            return None
        start, end = view.centre(a, 0), view.centre(a, last)
        if start is None or end is None:
            return None
        away, left = _in_heading(end - start, view.heading(0))
        if abs(away) >= abs(left):
            return "away from the camera" if away > 0 else "toward the camera"
        return "to the left" if left > 0 else "to the right"
    if family == "object_height":
        pts = view.body_points(a)
        return None if len(pts) < 10 else float(np.subtract(*np.percentile(pts[:, 2], ROBUST[::-1])))
    if family == "object_longest_side":
        pts = view.body_points(a)
        if len(pts) < 10:
            return None
        lo, hi = np.percentile(pts[:, 2], ROBUST)
        return 100.0 * max(*_rectangle_sides(pts), hi - lo)
    if family == "metric_distance":
        ca, cb = view.centre(a), view.centre(b)
        return None if ca is None or cb is None else float(np.linalg.norm(ca - cb))
    if family == "taller_than":
        ba, bb = view.bounds(a), view.bounds(b)
        if ba is None or bb is None:
            return None
        return "yes" if ba[1][2] > bb[1][2] else "no"
    if family == "relative_vertical":
        ba, bb = view.bounds(a), view.bounds(b)
        if ba is None or bb is None:
            return None
        if ba[0][2] > bb[1][2]:
            return "above"
        if ba[1][2] < bb[0][2]:
            return "below"
        return None
    if family == "support":
        ba = view.bounds(a)
        if ba is None:
            return None
        if ba[0][2] <= SURFACE_TOLERANCE:
            return 0
        under = [
            (_resting_share(view.points(a), view.points(o.id)), o.id)
            for o in view.ep.scene.objects
            if o.id != a and view.seen(o.id) and (bo := view.bounds(o.id)) is not None
            and abs(bo[1][2] - ba[0][2]) <= SURFACE_TOLERANCE
        ]  # fmt: skip
        best = max(under, default=(0.0, None))
        return best[1] if best[0] > 0 else None
    if family == "closest_object":
        from scipy.spatial import cKDTree

        pa = view.points(a)
        if len(pa) < 10:
            return None
        tree = cKDTree(pa)
        ranked = sorted(
            (float(tree.query(view.points(o.id))[0].min()), o.id)
            for o in view.ep.scene.objects
            if o.id != a and view.seen(o.id) and len(view.points(o.id)) >= 10
        )
        return ranked[0][1] if ranked else None
    if family in ("allocentric_side", "goal_aiming", "action_distance", "action_side"):
        at = 0 if family == "allocentric_side" else last
        centres = {o: view.centre(o, at) for o in (a, b, c) if o is not None}
        if any(v is None for v in centres.values()):
            return None
        if family == "allocentric_side":
            ang = _heading_side(centres[a], math.atan2(*(centres[b] - centres[a])[1::-1]), centres[c])
            return "left" if ang > 0 else "right"
        pos, h = view.position(last), view.heading(last)
        if family == "goal_aiming":
            ang = _heading_side(pos, h, centres[a])
            return "straight ahead" if abs(ang) < 15 else ("turn left" if ang > 0 else "turn right")
        if family == "action_distance":
            way = h + {"forward": 0.0, "backward": math.pi, "left": math.pi / 2, "right": -math.pi / 2}[slots["move"]]
            moved = pos[:2] + np.array([math.cos(way), math.sin(way)])
            before = np.linalg.norm(centres[a][:2] - pos[:2])
            after = np.linalg.norm(centres[a][:2] - moved)
            return "closer" if after < before else "farther"
        turned = h + (math.pi / 2 if slots["turn"] == "left" else -math.pi / 2)
        return "in front" if abs(_heading_side(pos, turned, centres[a])) < 90 else "behind"
    if family in ("camera_turn_direction", "camera_rotation_angle"):
        turn = math.degrees(_wrap(view.heading(last) - view.heading(0)))
        if family == "camera_rotation_angle":
            return abs(turn)
        return "left" if turn > 0 else "right"
    if family == "camera_translation":
        return float(np.linalg.norm(view.position(last) - view.position(0)))
    if family == "ego_movement":
        ahead, left = _in_heading(view.position(last) - view.position(0), view.heading(0))
        if abs(ahead) >= abs(left):
            return "forward" if ahead > 0 else "backward"
        return "left" if left > 0 else "right"
    if family == "room_ceiling_height":
        claimed = shipped.get("value") or 0.0
        tops = np.concatenate(view.room_points())[:, 2]
        if not (_structure_seen(view, claimed, above=True) and _structure_seen(view, 0.0, above=False)):
            return None
        return float(np.percentile(tops, 99.9)) if len(tops) else None
    if family == "room_floor_area":
        return _floor_area(view)
    raise KeyError(f"the auditor has no definition for family {family!r}")


def _resting_share(top: np.ndarray, under: np.ndarray) -> float:
    """Share of ``top``'s lowest points that stand over the floor-plan outline of ``under``'s
    visible top surface (3 cm slack)."""
    from shapely import MultiPoint, contains_xy

    low = top[top[:, 2] <= np.percentile(top[:, 2], 5) + 0.02]
    surface = under[under[:, 2] >= np.percentile(under[:, 2], ROBUST[1]) - 0.03]
    if len(surface) < 3 or not len(low):
        return 0.0
    outline = MultiPoint(surface[:, :2]).convex_hull.buffer(0.03)
    return float(contains_xy(outline, low[:, 0], low[:, 1]).mean())


def _as_text(view: View, value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)):
        return FLOOR_WORDS if value == 0 else view.ep.scene.object(int(value)).description
    return f"{value:.3g}"


def audit_item(view: View, key: str, item: dict, plain: View | None = None) -> Finding:
    """One item against the video: an answer must be what ``view`` shows; an abstention is wrong
    only where ``plain`` (the same sample counting only what plainly shows; default ``view``)
    shows every object it names and the answer."""
    family, slots = item["family"], dict(item["slots"])
    shipped = item["answer"]
    if item.get("abstain"):
        view = plain or view
        named = [v for k, v in slots.items() if k in ("a", "b", "c")]
        if not all(view.seen(o) for o in named):
            return Finding(key, item["id"], family, shipped, None, True, "a named object is not seen")
        value = answer(view, family, slots, item)
        text = _as_text(view, value)
        choices = item.get("choices") or []
        if text is not None and item["answer_type"] != "number" and (not choices or text in choices):
            return Finding(key, item["id"], family, shipped, text, False, "abstains, but the video shows the answer")
        return Finding(key, item["id"], family, shipped, text, True, "abstention")
    value = answer(view, family, slots, item)
    if family == "object_count" and plain is not None and not item.get("abstain"):
        # objects the auditor leaves undecided may or may not count: any count in between agrees
        low = answer(plain, family, slots, item)
        if low is not None and value is not None and min(low, value) <= float(item["value"]) <= max(low, value):
            value = float(item["value"])
        elif value is None:
            value = low
    text = _as_text(view, value)
    named = [v for k, v in slots.items() if k in ("a", "b", "c")]
    if not all(view.seen(o) for o in named):
        return Finding(key, item["id"], family, shipped, text, False, "names an object the video does not show")
    if value is None:
        return Finding(key, item["id"], family, shipped, None, False, "the video supports no answer")
    if item["answer_type"] == "number":
        truth = float(item["value"])
        tol = max(float(item.get("tolerance") or 0.0) * abs(truth), 1e-9 if float(value).is_integer() else 0.0)
        ok = abs(float(value) - truth) <= tol + 1e-9
        return Finding(key, item["id"], family, shipped, text, ok, "" if ok else f"measured {value:.3g}")
    ok = text == shipped
    return Finding(key, item["id"], family, shipped, text, ok, "" if ok else "different answer")


@dataclass(frozen=True)
class Clean:
    """What the clean sample of an episode shows: pixels per frame and object, answered items."""

    pixels: np.ndarray  # (F, max id + 1)
    answered: frozenset[str]


def _counts(instance: np.ndarray) -> np.ndarray:
    size = int(instance.max(initial=0)) + 1
    return np.stack([np.bincount(f.ravel(), minlength=size) for f in instance])


def audit_sample(meta: dict, gt: bytes, shown: np.ndarray | None = None, clean: Clean | None = None) -> list[Finding]:
    """Findings for every question of one sample (``meta``: its JSON; ``gt``: its gt.npz bytes;
    for a degraded variant ``shown``, :func:`discernible` of its delivered frames, and ``clean``,
    what its clean sample shows). A variant's abstention is wrong only where the clean video
    answered it, the variant plainly shows every object it names wherever the clean video shows
    it (at least 90% of its pixels: nothing was hidden), and the variant shows the answer."""
    episode = Episode.model_validate(meta["episode"])
    depth, instance = decode_gt(gt)
    px, frames = episode.visibility_rule.min_pixels, episode.visibility_rule.min_frames
    view = View(episode, depth, instance, px, frames, shown)
    if shown is None:
        return [audit_item(view, meta["key"], q) for q in meta["questions"]]
    plain = View(episode, depth, instance, px, frames, shown, strict=True)
    out = []
    for q in meta["questions"]:
        found = audit_item(view, meta["key"], q, plain)
        if q.get("abstain") and not found.agrees and clean is not None:
            named = [v for k, v in q["slots"].items() if k in ("a", "b", "c")]
            hidden = q["id"] not in clean.answered or any(_less_shown(plain, clean.pixels, o) for o in named)
            if hidden:
                found = Finding(found.key, found.item, found.family, found.shipped, found.audited, True, "less shown")
        out.append(found)
    return out


def _less_shown(plain: View, clean: np.ndarray, o: int) -> bool:
    """Some frame that shows the object in the clean video shows less of it plainly here."""
    ref = clean[:, o] if o < clean.shape[1] else np.zeros(plain.n)
    here = plain.px[:, o] if o < plain.px.shape[1] else np.zeros(plain.n)
    return bool(((ref >= plain.min_px) & (here < 0.9 * ref)).any())


def audit_dataset(root: Path) -> list[Finding]:
    """Findings for every item of a finished dataset directory."""
    root = Path(root)
    read_manifest(root)
    clean_video: dict[int, bytes] = {}
    clean: dict[int, Clean] = {}
    pending = []
    findings: list[Finding] = []
    for s in iter_samples(root):
        meta = json.loads(s.files["json"])
        if meta.get("variant", "clean") == "clean":
            clean_video[meta["index"]] = s.files["mp4"]
            answered = frozenset(q["id"] for q in meta["questions"] if not q.get("abstain"))
            clean[meta["index"]] = Clean(_counts(decode_gt(s.files["gt.npz"])[1]), answered)
            findings += audit_sample(meta, s.files["gt.npz"])
        else:
            pending.append((meta, s.files))
    for meta, files in pending:
        shown = None
        if meta["index"] in clean_video:
            _, instance = decode_gt(files["gt.npz"])
            shown = discernible(decode_mp4(files["mp4"]), decode_mp4(clean_video[meta["index"]]), instance, meta)
        findings += audit_sample(meta, files["gt.npz"], shown, clean.get(meta["index"]))
    return findings


PLAIN_PIXELS = 1.5  # x the visible-pixel threshold: clearly above it, not at its edge
PLAIN_CONTRAST = 8.0  # luminance levels (of 255) between an object and its surroundings: plainly there
FAINT_CONTRAST = 2.0  # below this it cannot be made out
PLAIN_KEPT = 0.5  # share of its clean contrast the delivered frame keeps (fog lowers it: then undecided)
PLAIN_ROSE = 30.0  # contrast x sqrt(pixels) / noise: far above Rose's detection threshold (~5)
FAINT_ROSE = 5.0
PLAIN_STRUCTURE = 0.7  # correlation of the object and its ring with the clean video's: its shape is kept
FAINT_STRUCTURE = 0.3
RING = 3  # pixels around the mask that count as its surroundings


def discernible(delivered: np.ndarray, clean: np.ndarray, instance: np.ndarray, meta: dict) -> np.ndarray:
    """(F, max id + 1): 1 where the delivered frame plainly shows the object, 0 where it cannot be
    made out, 0.5 in between (the auditor does not decide there). Measured on the decoded videos
    (3x3 mean) in the colour channel where the object stands out most in the clean video: its
    contrast against a ring of its surroundings, the share of its clean contrast that is kept,
    the correlation of the object and its ring with the clean video's, and Rose's SNR (contrast x
    sqrt(pixels) / the noise the delivered frame adds). Degradations that move pixels (lens
    distortion) are not compared to the clean video: every object counts as shown."""
    from scipy import ndimage

    n = instance.shape[0]
    size = int(instance.max(initial=0)) + 1
    shown = np.ones((n, size))
    if (meta.get("degradation") or {}).get("type") == "lens_distortion":
        return shown
    for f in range(n):
        d, c = delivered[f].astype(float), clean[f].astype(float)
        d3, c3 = (ndimage.uniform_filter(x, (3, 3, 1)) for x in (d, c))
        boxes = ndimage.find_objects(instance[f].astype(np.int64))
        for o, box in enumerate(boxes, start=1):
            if box is None:
                continue
            ys, xs = (slice(max(0, b.start - RING - 2), b.stop + RING + 2) for b in box)
            mask = instance[f][ys, xs] == o
            ring = ndimage.binary_dilation(mask, iterations=RING) & ~mask
            if not ring.any():
                continue
            near = mask | ring
            # the colour channel in which the object stands out most in the clean video
            k = int(np.abs(c3[ys, xs][mask].mean(0) - c3[ys, xs][ring].mean(0)).argmax())
            dk, ck = d3[ys, xs, k], c3[ys, xs, k]
            contrast_d = abs(dk[mask].mean() - dk[ring].mean())
            contrast_c = abs(ck[mask].mean() - ck[ring].mean())
            pd, pc = dk[near], ck[near]
            r = float(np.corrcoef(pd, pc)[0, 1]) if pd.std() > 1e-6 and pc.std() > 1e-6 else 1.0
            # per-pixel noise: high frequencies the delivered frame has beyond the clean one's
            hd, hc = (x[ys, xs, k] - ndimage.uniform_filter(x[ys, xs, k], 3) for x in (d, c))
            noise = np.sqrt(max(float(hd[near].var() - hc[near].var()), 0.0) * 9 / 8)
            rose = contrast_d * np.sqrt(mask.sum()) / max(noise, 1.0)  # Rose's SNR of the object's mean
            if contrast_c < PLAIN_CONTRAST:  # hard to see in the clean video too: no judgement here
                shown[f, o] = 0.5
                continue
            kept = contrast_d / contrast_c
            pattern = float(np.sqrt(((dk[mask] - dk[ring].mean()) ** 2).mean()))  # its outline and inner detail too
            # cannot be made out: no contrast left, or neither its shape nor its mean stands out of the noise
            if max(contrast_d, pattern) < FAINT_CONTRAST or (r < FAINT_STRUCTURE and rose < FAINT_ROSE):
                shown[f, o] = 0.0
            elif contrast_d < PLAIN_CONTRAST or kept < PLAIN_KEPT or r < PLAIN_STRUCTURE or rose < PLAIN_ROSE:
                shown[f, o] = 0.5
    return shown


def agreement(findings: list[Finding]) -> dict[str, tuple[int, int]]:
    """Per family: (items the video supports, items)."""
    total, ok = Counter(), Counter()
    for f in findings:
        total[f.family] += 1
        ok[f.family] += f.agrees
    return {k: (ok[k], total[k]) for k in sorted(total)}
