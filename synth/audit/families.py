"""The question families as a viewer of the video would answer them: one auditor per family, and
:data:`AUDITORS`, the table from family name to auditor that :func:`answer` looks up.

An auditor takes the sample's :class:`~synth.audit.view.View`, the item's slots (object ids ``a``,
``b``, ``c``; ``frame``, ``category``, ``move``, ``turn`` where the family has them) and the
shipped item (as JSON), and returns a str (options, yes/no), an int id (objects; 0 = the floor),
a float (numbers: the measured value, in metres, square metres, centimetres or degrees as the
family asks), coordinates for grounded answers (a list; a dict for cognitive maps, issue #33), or
None where the video supports no answer."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
from scipy.spatial import cKDTree

from synth.audit.measures import (
    ROOM_CELL,
    floor_area,
    heading_side,
    image_side,
    in_heading,
    moved_visibly,
    rectangle_sides,
    resting_share,
    room_regions,
    structure_seen,
    walk_exists,
    wrap_angle,
)
from synth.audit.view import ROBUST, View

SURFACE_TOLERANCE = 0.06  # metres: contact between a surface and what stands on it
MIN_HEIGHT = 0.10  # metres: a flatter object's height is not read to 10% (the family asks from 0.12 m)

Answer = str | int | float | list | dict | None
Auditor = Callable[[View, dict, dict], Answer]


def relative_direction_lr(view: View, slots: dict, shipped: dict) -> Answer:
    return image_side(view, slots.get("a"), slots.get("b"), slots["frame"])


def where_when_appeared(view: View, slots: dict, shipped: dict) -> Answer:
    a, b = slots.get("a"), slots.get("b")
    f = view.first(b, view.min_px)
    if f < 0 or view.first(b, 1) < f - 1:
        return None
    return image_side(view, a, b, f)


def relative_depth(view: View, slots: dict, shipped: dict) -> Answer:
    a, b = slots.get("a"), slots.get("b")
    f = slots["frame"]
    if not (view.visible(a, f) and view.visible(b, f)):
        return None
    da, db = view.median_depth(a, f), view.median_depth(b, f)
    return None if abs(da - db) < 0.1 * min(da, db) else (a if da < db else b)


def first_appearance(view: View, slots: dict, shipped: dict) -> Answer:
    a, b, c = slots.get("a"), slots.get("b"), slots.get("c")
    firsts = sorted((view.first(o, view.min_px), o) for o in (a, b, c) if view.first(o, view.min_px) >= 0)
    if not firsts:
        return None
    f, winner = firsts[0]
    if any(0 <= view.first(o, 1) <= f for o in (a, b, c) if o != winner):
        return None
    return winner


def object_count(view: View, slots: dict, shipped: dict) -> Answer:
    same = [o.id for o in view.ep.scene.objects if o.category == slots["category"]]
    if any(view.px[:, o].any() and not view.seen(o) for o in same):
        return None
    return float(sum(view.seen(o) for o in same))


def which_object_moved(view: View, slots: dict, shipped: dict) -> Answer:
    moved = [o.id for o in view.ep.scene.objects if moved_visibly(view, o.id)]
    return moved[0] if len(moved) == 1 else None


def object_movement(view: View, slots: dict, shipped: dict) -> Answer:
    a = slots.get("a")
    m = next((m for m in view.ep.motions if m.id == a), None)
    if m is None or not moved_visibly(view, a):
        return None
    start, end = view.centre(a, 0), view.centre(a, view.n - 1)
    if start is None or end is None:
        return None
    away, left = in_heading(end - start, view.heading(0))
    if abs(away) >= abs(left):
        return "away from the camera" if away > 0 else "toward the camera"
    return "to the left" if left > 0 else "to the right"


def object_height(view: View, slots: dict, shipped: dict) -> Answer:
    pts = view.body_points(slots.get("a"))
    if len(pts) < 10:
        return None
    height = float(np.subtract(*np.percentile(pts[:, 2], ROBUST[::-1])))
    return None if height < MIN_HEIGHT else height


def object_longest_side(view: View, slots: dict, shipped: dict) -> Answer:
    pts = view.body_points(slots.get("a"))
    if len(pts) < 10:
        return None
    lo, hi = np.percentile(pts[:, 2], ROBUST)
    return 100.0 * max(*rectangle_sides(pts), hi - lo)


def metric_distance(view: View, slots: dict, shipped: dict) -> Answer:
    ca, cb = view.centre(slots.get("a")), view.centre(slots.get("b"))
    return None if ca is None or cb is None else float(np.linalg.norm(ca - cb))


def taller_than(view: View, slots: dict, shipped: dict) -> Answer:
    ba, bb = view.bounds(slots.get("a")), view.bounds(slots.get("b"))
    if ba is None or bb is None:
        return None
    return "yes" if ba[1][2] > bb[1][2] else "no"


def relative_vertical(view: View, slots: dict, shipped: dict) -> Answer:
    ba, bb = view.bounds(slots.get("a")), view.bounds(slots.get("b"))
    if ba is None or bb is None:
        return None
    if ba[0][2] > bb[1][2]:
        return "above"
    if ba[1][2] < bb[0][2]:
        return "below"
    return None


def support(view: View, slots: dict, shipped: dict) -> Answer:
    a = slots.get("a")
    ba = view.bounds(a)
    if ba is None:
        return None
    if ba[0][2] <= SURFACE_TOLERANCE:
        return 0
    under = [
        (resting_share(view.points(a), view.points(o.id)), o.id)
        for o in view.ep.scene.objects
        if o.id != a and view.seen(o.id) and (bo := view.bounds(o.id)) is not None
        and abs(bo[1][2] - ba[0][2]) <= SURFACE_TOLERANCE
    ]  # fmt: skip
    best = max(under, default=(0.0, None))
    return best[1] if best[0] > 0 else None


def closest_object(view: View, slots: dict, shipped: dict) -> Answer:
    from scipy.spatial import cKDTree

    a = slots.get("a")
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


def _centres(view: View, slots: dict, at: int) -> dict[int, np.ndarray] | None:
    """World centres at frame ``at`` of every object the slots name; None if any is not measured."""
    centres = {o: view.centre(o, at) for o in (slots.get("a"), slots.get("b"), slots.get("c")) if o is not None}
    return None if any(v is None for v in centres.values()) else centres


def allocentric_side(view: View, slots: dict, shipped: dict) -> Answer:
    a, b, c = slots.get("a"), slots.get("b"), slots.get("c")
    centres = _centres(view, slots, 0)
    if centres is None:
        return None
    ang = heading_side(centres[a], math.atan2(*(centres[b] - centres[a])[1::-1]), centres[c])
    return "left" if ang > 0 else "right"


def goal_aiming(view: View, slots: dict, shipped: dict) -> Answer:
    last = view.n - 1
    centres = _centres(view, slots, last)
    if centres is None:
        return None
    ang = heading_side(view.position(last), view.heading(last), centres[slots.get("a")])
    return "straight ahead" if abs(ang) < 15 else ("turn left" if ang > 0 else "turn right")


def action_distance(view: View, slots: dict, shipped: dict) -> Answer:
    last = view.n - 1
    centres = _centres(view, slots, last)
    if centres is None:
        return None
    a = slots.get("a")
    pos, h = view.position(last), view.heading(last)
    way = h + {"forward": 0.0, "backward": math.pi, "left": math.pi / 2, "right": -math.pi / 2}[slots["move"]]
    moved = pos[:2] + np.array([math.cos(way), math.sin(way)])
    before = np.linalg.norm(centres[a][:2] - pos[:2])
    after = np.linalg.norm(centres[a][:2] - moved)
    return "closer" if after < before else "farther"


def action_side(view: View, slots: dict, shipped: dict) -> Answer:
    last = view.n - 1
    centres = _centres(view, slots, last)
    if centres is None:
        return None
    turned = view.heading(last) + (math.pi / 2 if slots["turn"] == "left" else -math.pi / 2)
    return "in front" if abs(heading_side(view.position(last), turned, centres[slots.get("a")])) < 90 else "behind"


def _turn(view: View) -> float:
    """Degrees the camera turned from the first frame to the last (positive: to the left)."""
    return math.degrees(wrap_angle(view.heading(view.n - 1) - view.heading(0)))


def camera_turn_direction(view: View, slots: dict, shipped: dict) -> Answer:
    return "left" if _turn(view) > 0 else "right"


def camera_rotation_angle(view: View, slots: dict, shipped: dict) -> Answer:
    return abs(_turn(view))


def camera_translation(view: View, slots: dict, shipped: dict) -> Answer:
    return float(np.linalg.norm(view.position(view.n - 1) - view.position(0)))


def ego_movement(view: View, slots: dict, shipped: dict) -> Answer:
    ahead, left = in_heading(view.position(view.n - 1) - view.position(0), view.heading(0))
    if abs(ahead) >= abs(left):
        return "forward" if ahead > 0 else "backward"
    return "left" if left > 0 else "right"


def room_ceiling_height(view: View, slots: dict, shipped: dict) -> Answer:
    claimed = shipped.get("value") or 0.0
    tops = np.concatenate(view.room_points())[:, 2]
    if not (structure_seen(view, claimed, above=True) and structure_seen(view, 0.0, above=False)):
        return None
    return float(np.percentile(tops, 99.9)) if len(tops) else None


def room_floor_area(view: View, slots: dict, shipped: dict) -> Answer:
    return floor_area(view)


# -- VSI-Bench directions, routes and rooms (issue #28) ------------------------------------------
def _standing_turn(view: View, slots: dict) -> float | None:
    """Degrees (positive: to the left) from the heading of a viewer at ``a``'s measured centre
    facing ``b``'s to ``c``'s; None where a centre is not measured."""
    centres = _centres(view, slots, 0)
    if centres is None:
        return None
    a, b, c = (centres[slots[k]] for k in ("a", "b", "c"))
    return heading_side(a, math.atan2(b[1] - a[1], b[0] - a[0]), c)


def object_rel_direction_easy(view: View, slots: dict, shipped: dict) -> Answer:
    turn = _standing_turn(view, slots)
    return None if turn is None else ("left" if turn > 0 else "right")


def object_rel_direction_medium(view: View, slots: dict, shipped: dict) -> Answer:
    turn = _standing_turn(view, slots)
    if turn is None:
        return None
    return "back" if abs(turn) >= 135 else ("left" if turn > 0 else "right")


def object_rel_direction_hard(view: View, slots: dict, shipped: dict) -> Answer:
    turn = _standing_turn(view, slots)
    if turn is None:
        return None
    return ("back-" if abs(turn) > 90 else "front-") + ("left" if turn > 0 else "right")


def rooms_visited(view: View, slots: dict, shipped: dict) -> Answer:
    _, _, floor_frames = room_regions(view)
    return float(len(floor_frames) - 1)


def _room_label(view: View, labels: np.ndarray, origin: np.ndarray, o: int) -> int:
    """The auditor's room (label of ``room_regions``) holding the median floor-plane point of the
    object's surface; 0 where none does within 0.3 m."""
    pts = view.points(o)
    if len(pts) < 10:
        return 0
    i, j = np.floor((np.median(pts[:, :2], axis=0) - origin) / ROOM_CELL).astype(int)
    r = int(round(0.3 / ROOM_CELL))
    window = labels[max(0, i - r) : i + r + 1, max(0, j - r) : j + r + 1]
    found = np.unique(window[window > 0])
    return int(found[0]) if len(found) == 1 else 0


def larger_room(view: View, slots: dict, shipped: dict) -> Answer:
    labels, origin, _ = room_regions(view)
    a, b = slots.get("a"), slots.get("b")
    la, lb = _room_label(view, labels, origin, a), _room_label(view, labels, origin, b)
    if not la or not lb or la == lb:
        return None
    return a if (labels == la).sum() > (labels == lb).sum() else b


def object_room_size(view: View, slots: dict, shipped: dict) -> Answer:
    """Square metres of the auditor's room (``room_regions``) holding ``a``."""
    labels, origin, _ = room_regions(view)
    la = _room_label(view, labels, origin, slots.get("a"))
    return float((labels == la).sum()) * ROOM_CELL**2 if la else None


def object_room(view: View, slots: dict, shipped: dict) -> Answer:
    """Of ``b`` and ``c``, in two of the auditor's rooms, the one in ``a``'s (``room_regions``)."""
    labels, origin, _ = room_regions(view)
    la, lb, lc = (_room_label(view, labels, origin, slots.get(k)) for k in "abc")
    if not la or not lb or not lc or lb == lc or la not in (lb, lc):
        return None
    return slots.get("b") if la == lb else slots.get("c")


# -- VSI-Bench measurement (issue #28) ------------------------------------------------------------
def object_counting(view: View, slots: dict, shipped: dict) -> Answer:
    """Distinct instances (mask ids) of the category seen anywhere in the video; None where one
    shows without being seen (undecided: ``audit_item`` takes any count between two views)."""
    same = [o.id for o in view.ep.scene.objects if o.category == slots["category"]]
    if any(view.px[:, o].any() and not view.seen(o) for o in same):
        return None
    return float(sum(view.seen(o) for o in same))


def _gap(view: View, a: int, b: int) -> float | None:
    """Smallest distance between the two objects' visible surface points (KD-tree), metres."""
    from scipy.spatial import cKDTree

    pa, pb = view.points(a), view.points(b)
    if len(pa) < 10 or len(pb) < 10:
        return None
    return float(cKDTree(pa).query(pb)[0].min())


def object_abs_distance(view: View, slots: dict, shipped: dict) -> Answer:
    return _gap(view, slots["a"], slots["b"])


def room_size_estimation(view: View, slots: dict, shipped: dict) -> Answer:
    """The filled outline of every wall point the video shows: one room's floor, or the rooms'
    together (the walls between them counted in)."""
    return floor_area(view)


def object_rel_distance(view: View, slots: dict, shipped: dict) -> Answer:
    gaps = [(_gap(view, slots["a"], slots[k]), slots[k]) for k in ("b", "c", "d", "e")]
    if any(g is None for g, _ in gaps):
        return None
    return min(gaps)[1]


def obj_appearance_order(view: View, slots: dict, shipped: dict) -> Answer:
    """The four categories by the first frame that shows an object of each (the visibility rule
    on the masks); None where two tie, or a later one shows by a pixel by the earlier's first."""
    ids = {c: [o.id for o in view.ep.scene.objects if o.category == c] for c in (slots[k] for k in "pqrs")}

    def first(c: str, threshold: int) -> int:
        hits = [f for f in (view.first(o, threshold) for o in ids[c]) if f >= 0]
        return min(hits, default=-1)

    firsts = sorted((first(c, view.min_px), c) for c in ids)
    if firsts[0][0] < 0:
        return None
    for (f0, _), (f1, c1) in zip(firsts, firsts[1:]):
        if f1 <= f0 or first(c1, 1) <= f0:
            return None
    return ", ".join(c for _, c in firsts)


def route_planning(view: View, slots: dict, shipped: dict) -> Answer:
    """The route replayed on the auditor's own measures: measured centres, the first landmark
    within 45 degrees of facing the second object, each turn from the heading walked in (left or
    right from 45 degrees, back from 135), and each of the three walks left free by every surface
    the video shows (``walk_exists``); None where one is not."""
    ids = [slots.get(k) for k in ("start", "facing", "via1", "via2", "goal")]
    centres = [view.centre(o) for o in ids]
    if any(c is None for c in centres):
        return None
    s, f, p, q, g = (c[:2] for c in centres)
    if abs(heading_side(s, math.atan2(*(f - s)[::-1]), p)) > 45:
        return None
    words = []
    for prev, at, nxt in ((s, p, q), (p, q, g)):
        turn = heading_side(at, math.atan2(*(at - prev)[::-1]), nxt)
        if abs(turn) < 45:
            return None
        words.append("Turn Back" if abs(turn) >= 135 else ("Turn Left" if turn > 0 else "Turn Right"))
    start, _, via1, via2, goal = ids
    if not all(walk_exists(view, a, b) for a, b in ((start, via1), (via1, via2), (via2, goal))):
        return None
    return ", ".join(words)


# -- grounded answers (issue #33) ---------------------------------------------------------------
WHOLE_RING = 0.005  # share of the pixels around a mask that may show something in front of it: still whole
WHOLE_GAP = 0.1  # metres (or WHOLE_SHARE of the depth): a surface this much nearer is in front
WHOLE_SHARE = 0.05
WHOLE_PIXELS = 2  # x the visibility threshold


def _whole(view: View, o: int, f: int) -> bool:
    """The object's whole outline shows in frame ``f``, read the auditor's way: plainly visible,
    touching no image border, and at most ``WHOLE_RING`` of the pixels just outside its mask
    nearer than the mask's nearest pixel beside them."""
    if o is None or not view.visible(o, f) or view.px[f, o] < WHOLE_PIXELS * view.min_px:
        return False
    m = view.inst[f] == o
    if m[0].any() or m[-1].any() or m[:, 0].any() or m[:, -1].any():
        return False
    z = np.where(np.isfinite(view.depth[f]) & (view.depth[f] > 0), view.depth[f], np.inf)
    inside = np.nonzero(m)
    ring = np.zeros_like(m)
    for dv, du in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        ring[inside[0] + dv, inside[1] + du] = True
    ring &= ~m
    rv, ru = np.nonzero(ring)
    beside = np.full(len(rv), np.inf)
    for dv, du in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        v, u = rv + dv, ru + du
        ok = (v >= 0) & (v < view.h) & (u >= 0) & (u < view.w)
        hit = np.zeros(len(rv), bool)
        hit[ok] = m[v[ok], u[ok]]
        beside[hit] = np.minimum(beside[hit], z[v[hit], u[hit]])
    nearer = z[rv, ru] < beside - np.maximum(WHOLE_GAP, WHOLE_SHARE * beside)
    return float(nearer.mean()) <= WHOLE_RING


def _frame_size(shipped: dict) -> np.ndarray:
    g = shipped.get("grounding") or {}
    return np.array([g.get("width", 0), g.get("height", 0)], float)


def _thousandths(shipped: dict) -> bool:
    return (shipped.get("grounding") or {}).get("convention") == "0-1000"


def object_box_2d(view: View, slots: dict, shipped: dict) -> Answer:
    """The edges of the mask's pixel rows and columns, [first, first, last + 1, last + 1]."""
    a, f = slots.get("a"), slots["frame"]
    if not _whole(view, a, f):
        return None
    vs, us = np.nonzero(view.inst[f] == a)
    box = np.array([us.min(), vs.min(), us.max() + 1, vs.max() + 1], float)
    if _thousandths(shipped):
        box = box * 1000 / np.tile(_frame_size(shipped), 2)
    return [float(x) for x in box]


def object_point_2d(view: View, slots: dict, shipped: dict) -> Answer:
    """The shipped point where every pixel centre within the family's tolerance of it (a share of
    the frame's diagonal, less a pixel) is on the object; else the mask pixel farthest from every
    pixel off it (KD-tree), which then disagrees."""
    a, f = slots.get("a"), slots["frame"]
    if not _whole(view, a, f):
        return None
    m = view.inst[f] == a
    size = np.array([view.w, view.h], float)
    radius = float(shipped.get("tolerance") or 0.0) * math.hypot(view.w, view.h) - 1.0
    off = np.argwhere(~np.pad(m, 1))[:, ::-1] - 1.0 + 0.5  # (x, y) centres of pixels off the object, border too
    claimed = np.asarray(json.loads(shipped["answer"]), float) if not shipped.get("abstain") else None
    scale = size / 1000 if _thousandths(shipped) else np.ones(2)
    if claimed is not None and len(claimed) == 2 and cKDTree(off).query(claimed * scale)[0] > radius:
        return [float(x) for x in claimed]
    on = np.argwhere(m)[:, ::-1] + 0.5
    far = on[int(np.argmax(cKDTree(off).query(on)[0]))]
    return [float(x) for x in far / scale]


def _measured_box(view: View, o: int, f: int) -> np.ndarray | None:
    """The object's box as the video shows it, in the camera frame of ``f``: the robust extent of
    its surface points from every frame, each brought into the object's own frame by its pose
    then (``View.body_points``), placed by its pose at ``f``: centre (3), size (3) and the box's
    axes in camera coordinates, columns, flattened (9); None with too few points."""
    pts = view.body_points(o)
    if len(pts) < 50:
        return None
    lo, hi = np.percentile(pts, ROBUST, axis=0)
    pose = view.ep.pose(o, f)
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    axes = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    _, R, t = view.camera(f)
    centre = axes @ ((lo + hi) / 2) + np.asarray(pose.position, float)
    return np.concatenate([R @ centre + t, hi - lo, (R @ axes).ravel()])


def object_box_3d(view: View, slots: dict, shipped: dict) -> Answer:
    """The box the video shows of the object (``_measured_box``) where it is whole in the frame, as
    [x, y, z, l, w, h, roll, pitch, yaw] (Euler angles of Rz Ry Rx, the auditor's own)."""
    a, f = slots.get("a"), slots["frame"]
    box = _measured_box(view, a, f) if _whole(view, a, f) else None
    if box is None:
        return None
    M = box[6:].reshape(3, 3)
    pitch = -math.asin(max(-1.0, min(1.0, M[2, 0])))
    roll, yaw = math.atan2(M[2, 1], M[2, 2]), math.atan2(M[1, 0], M[0, 0])
    return [*map(float, box[:6]), roll, pitch, yaw]


def object_centre_3d(view: View, slots: dict, shipped: dict) -> Answer:
    box = object_box_3d(view, slots, shipped)
    return None if box is None else box[:3]


MAP_SPAN = 1.0  # metres: the least span of the centres a map is drawn over


def cognitive_map(view: View, slots: dict, shipped: dict) -> Answer:
    """The grid cells of the named categories' objects from their measured centres (the middle of
    their visible surface points' extent) on the smallest square holding those centres, 10 cells a
    side along world x and y; None where a category has other than one object, one is not seen or
    not measured."""
    cats = [slots[k] for k in ("p", "q", "r", "s")]
    ids = []
    for c in cats:
        same = [o.id for o in view.ep.scene.objects if o.category == c]
        if len(same) != 1 or not view.seen(same[0]):
            return None
        ids.append(same[0])
    centres = [view.centre(o) for o in ids]
    if any(c is None for c in centres):
        return None
    xy = np.array([c[:2] for c in centres])
    low = xy.min(axis=0)
    side = float((xy.max(axis=0) - low).max())
    if side < MAP_SPAN:
        return None
    cells = np.minimum(9, np.floor((xy - low) / (side / 10))).astype(int)
    return {c: [[int(x), int(y)]] for c, (x, y) in zip(cats, cells)}


AUDITORS: dict[str, Auditor] = {
    "relative_direction_lr": relative_direction_lr,
    "where_when_appeared": where_when_appeared,
    "relative_depth": relative_depth,
    "first_appearance": first_appearance,
    "object_count": object_count,
    "which_object_moved": which_object_moved,
    "object_movement": object_movement,
    "object_height": object_height,
    "object_longest_side": object_longest_side,
    "metric_distance": metric_distance,
    "taller_than": taller_than,
    "relative_vertical": relative_vertical,
    "support": support,
    "closest_object": closest_object,
    "allocentric_side": allocentric_side,
    "goal_aiming": goal_aiming,
    "action_distance": action_distance,
    "action_side": action_side,
    "camera_turn_direction": camera_turn_direction,
    "camera_rotation_angle": camera_rotation_angle,
    "camera_translation": camera_translation,
    "ego_movement": ego_movement,
    "room_ceiling_height": room_ceiling_height,
    "room_floor_area": room_floor_area,
    # VSI-Bench (issue #28): measurement (object size is the longest side, measured the same way)
    "object_counting": object_counting,
    "object_abs_distance": object_abs_distance,
    "object_size_estimation": object_longest_side,
    "room_size_estimation": room_size_estimation,
    "object_rel_distance": object_rel_distance,
    "obj_appearance_order": obj_appearance_order,
    # VSI-Bench (issue #28): directions, routes, rooms
    "object_rel_direction_easy": object_rel_direction_easy,
    "object_rel_direction_medium": object_rel_direction_medium,
    "object_rel_direction_hard": object_rel_direction_hard,
    "rooms_visited": rooms_visited,
    "larger_room": larger_room,
    "route_planning": route_planning,
    "object_room": object_room,
    "object_room_size": object_room_size,
    # grounded answers (issue #33)
    "object_box_2d": object_box_2d,
    "object_point_2d": object_point_2d,
    "object_box_3d": object_box_3d,
    "object_centre_3d": object_centre_3d,
    "cognitive_map": cognitive_map,
}


def answer(view: View, family: str, slots: dict, shipped: dict) -> Answer:
    """The auditor's answer for one item (see the module docstring for its types); KeyError for a
    family the auditor has no definition for."""
    if family not in AUDITORS:
        raise KeyError(f"the auditor has no definition for family {family!r}")
    return AUDITORS[family](view, slots, shipped)
