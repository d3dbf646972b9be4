"""The auditor's small measurements on a :class:`~synth.audit.view.View`: image-space sides,
whether an object moved visibly (its early surface re-projected unmoved into later frames), the
minimum-area rectangle of a point cloud, the floor area from the walls seen, whether the room's
floor or ceiling is seen, headings and bearings in the floor plane (radians in, degrees out where
named), and whether one surface rests on another. Units are metres; angles follow the scene
model (+Z up, counter-clockwise positive: to the left)."""

from __future__ import annotations

import math

import numpy as np

from synth.audit.view import ROBUST, View
from synth.core.geometry import grid_graph

DEPTH_MATCH = 0.05  # metres
DEPTH_SHARE = 0.02  # of the distance: depth agreement far from the camera
FLOOR_CELL = 0.05  # metres: floor-plan raster for the floor area
SIDE_MARGIN = 0.05  # share of the image width between two centroids a viewer tells apart
GAP_CLOSING = 0.3  # metres: wall gaps up to twice this are bridged (furniture in front of a wall)


def wrap_angle(a: float) -> float:
    """An angle in radians brought into [-pi, pi]."""
    return math.atan2(math.sin(a), math.cos(a))


def image_side(view: View, a: int, b: int, f: int) -> str | None:
    """ "left" or "right": where ``a`` is of ``b`` in frame ``f`` (mask centroids, at least
    ``SIDE_MARGIN`` of the image width apart); None where either is not visible there, they are
    too close, or a border cut could reverse the order."""
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


def static_share(view: View, o: int, src: int, dst: int) -> float | None:
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


def moved_visibly(view: View, o: int) -> bool | None:
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
        for x in (static_share(view, o, e, f), static_share(view, o, f, e))
        if x is not None
    ]
    if not shares:
        return None
    return min(shares) <= 0.5


def rectangle_sides(points: np.ndarray) -> tuple[float, float]:
    """Side lengths (metres) of the minimum-area rectangle around ``points`` (N, 3) seen from above."""
    from shapely import MultiPoint

    rect = MultiPoint(points[:, :2]).minimum_rotated_rectangle
    xy = np.asarray(rect.exterior.coords)[:3]
    return float(np.linalg.norm(xy[1] - xy[0])), float(np.linalg.norm(xy[2] - xy[1]))


def disk(r: int) -> np.ndarray:
    """A round structuring element of radius ``r`` cells, (2r+1, 2r+1) bool: the cells whose centre
    is within ``r`` + 0.5 of the middle one (``<= r`` alone leaves one-cell tips on the axes, so a
    closing with it cannot bridge a one-cell gap in a wall line two cells thick)."""
    return np.hypot(*np.mgrid[-r : r + 1, -r : r + 1]) < r + 0.5


def wall_points(pts: np.ndarray) -> np.ndarray:
    """The room points (N, 3) that stand for walls: from 0.3 m above the floor (skirting, furniture
    shadows) up to 4 cm below the ceiling (its 99.9th height percentile), so that the wall over a
    doorway closes it off."""
    top = np.percentile(pts[:, 2], 99.9)
    return pts[(pts[:, 2] > 0.3) & (pts[:, 2] < top - 0.04)]


def floor_area(view: View) -> float:
    """Square metres inside the outline of the wall points seen (:func:`wall_points`), rasterised
    at ``FLOOR_CELL`` with gaps up to ``GAP_CLOSING`` bridged."""
    from scipy import ndimage

    pts = np.concatenate(view.room_points())
    if len(pts) == 0:
        return 0.0
    walls = wall_points(pts)
    if len(walls) == 0:
        return 0.0
    lo = walls[:, :2].min(0) - 1.0
    ij = np.floor((walls[:, :2] - lo) / FLOOR_CELL).astype(int)
    grid = np.zeros(ij.max(0) + 3, bool)
    grid[ij[:, 0], ij[:, 1]] = True
    r = int(round(GAP_CLOSING / FLOOR_CELL))
    closed = ndimage.binary_closing(np.pad(grid, 2 * r + 1), structure=disk(r))  # erosion: beyond the array is empty
    return float(ndimage.binary_fill_holes(closed).sum()) * FLOOR_CELL**2


def structure_seen(view: View, level: float, above: bool) -> bool:
    """Whether enough frames show enough room pixels at or ``above`` (else at or below) the height
    ``level`` (metres, 3 cm slack), by the episode's visibility rule."""
    frames = 0
    for pts in view.room_points():
        hit = (pts[:, 2] >= level - 0.03) if above else (pts[:, 2] <= level + 0.03)
        frames += int(hit.sum()) * 4 >= view.min_px
    return frames >= view.min_frames


def in_heading(d: np.ndarray, heading: float) -> tuple[float, float]:
    """A displacement's components (ahead, to the left) for a viewer facing ``heading``."""
    c, s = math.cos(heading), math.sin(heading)
    return float(d[0] * c + d[1] * s), float(-d[0] * s + d[1] * c)


def heading_side(origin: np.ndarray, heading: float, target: np.ndarray) -> float:
    """Degrees from ``heading`` to ``target`` seen from ``origin`` (positive: to the left)."""
    bearing = math.atan2(target[1] - origin[1], target[0] - origin[0])
    return math.degrees(wrap_angle(bearing - heading))


def resting_share(top: np.ndarray, under: np.ndarray) -> float:
    """Share of ``top``'s lowest points that stand over the floor-plan outline of ``under``'s
    visible top surface (3 cm slack)."""
    from shapely import MultiPoint, contains_xy

    low = top[top[:, 2] <= np.percentile(top[:, 2], 5) + 0.02]
    surface = under[under[:, 2] >= np.percentile(under[:, 2], ROBUST[1]) - 0.03]
    if len(surface) < 3 or not len(low):
        return 0.0
    outline = MultiPoint(surface[:, :2]).convex_hull.buffer(0.03)
    return float(contains_xy(outline, low[:, 0], low[:, 1]).mean())


# -- VSI-Bench rooms (issue #28) -------------------------------------------------------------------
ROOM_CELL = 0.05  # metres: floor-plan raster for the rooms of a house
ROOM_CLOSING = 0.3  # metres: wall points are thickened by this, so wall gaps up to twice it are bridged
MIN_ROOM = 1.5  # square metres: a smaller closed pocket between wall lines is no room


def room_regions(view: View) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rooms of a house as the video shows them, from the room pixels' back-projected depth:
    wall points (:func:`wall_points`) rasterised at ``ROOM_CELL`` and thickened by ``ROOM_CLOSING``
    (bridging unseen stretches up to twice that: furniture in front of a wall); each pocket of free
    space enclosed by them, grown back by twice ``ROOM_CLOSING`` up to the wall points (and into
    the slots the thickening closed: beside a door leaf open into the room), is a room when it
    covers at least ``MIN_ROOM`` (a smaller one joins the room beside it: :func:`_join_pockets`)
    and its floor is seen: floor points inside it in at least the visibility rule's minimum of
    pixels in at least its minimum of frames (points stand for every other pixel in each
    direction). Returns the label raster (0: no room; 1..N), its origin (x, y of cell (0, 0)'s
    corner, metres) and per label (0 included, as 0) the frames that show the room's floor.
    Measured on a 50-house tour run (320x240): areas 83-98% of the rooms' floor polygons, median
    95% (the wall points' own cells and corners are left out)."""
    from scipy import ndimage

    frames = view.room_points()
    pts = np.concatenate(frames)
    if len(pts) == 0:
        return np.zeros((1, 1), int), np.zeros(2), np.zeros(1, int)
    walls = wall_points(pts)
    r = int(round(ROOM_CLOSING / ROOM_CELL))
    lo = pts[:, :2].min(0) - ROOM_CLOSING - 2 * ROOM_CELL
    shape = np.floor((pts[:, :2].max(0) + ROOM_CLOSING + 2 * ROOM_CELL - lo) / ROOM_CELL).astype(int) + 1
    wall = np.zeros(shape, bool)
    ij = np.floor((walls[:, :2] - lo) / ROOM_CELL).astype(int)
    wall[ij[:, 0], ij[:, 1]] = True
    labels, n = ndimage.label(~ndimage.binary_dilation(wall, structure=disk(r)))
    for _ in range(2 * r):  # grow each pocket back over the thickening and into slots it closed, never through a wall
        grown = ndimage.grey_dilation(labels, footprint=ndimage.generate_binary_structure(2, 1))
        labels = np.where((labels == 0) & ~wall, grown, labels)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    labels = _join_pockets(labels, border, r)
    floor_px = np.zeros((len(frames), n + 1), int)
    for f, p in enumerate(frames):
        ij = np.floor((p[p[:, 2] < 0.03, :2] - lo) / ROOM_CELL).astype(int)
        floor_px[f] = np.bincount(labels[ij[:, 0], ij[:, 1]], minlength=n + 1) * 4
    floor_frames = (floor_px >= view.min_px).sum(0)
    out = np.zeros(shape, int)
    seen = [0]
    for k in range(1, n + 1):
        cells = labels == k
        if k in border or cells.sum() * ROOM_CELL**2 < MIN_ROOM or floor_frames[k] < view.min_frames:
            continue
        out[cells] = len(seen)
        seen.append(int(floor_frames[k]))
    return out, lo, np.asarray(seen)


def _join_pockets(labels: np.ndarray, border: np.ndarray, r: int) -> np.ndarray:
    """Each pocket under ``MIN_ROOM`` (not open to the outside) joined to the room pocket with the
    most cells within ``r`` + 2 cells of it: a thin wall-high surface standing in a room (a door
    leaf open into it) cuts a corner off, which is still that room's floor."""
    from scipy import ndimage

    sizes = np.bincount(labels.ravel())
    small = [k for k in range(1, len(sizes)) if k not in border and 0 < sizes[k] * ROOM_CELL**2 < MIN_ROOM]
    rooms = [k for k in range(1, len(sizes)) if k not in border and sizes[k] * ROOM_CELL**2 >= MIN_ROOM]
    if not small or not rooms:
        return labels
    out = labels.copy()
    boxes = ndimage.find_objects(labels)
    for k in small:
        box = tuple(slice(max(0, s.start - r - 2), s.stop + r + 2) for s in boxes[k - 1])
        near = ndimage.binary_dilation(labels[box] == k, structure=disk(r + 2))
        votes = np.bincount(labels[box][near], minlength=len(sizes))[rooms]
        if votes.max() > 0:
            out[labels == k] = rooms[int(np.argmax(votes))]
    return out


WALK_CELL = 0.1  # metres: the auditor's walking grid
WALK_CLEARANCE = 0.15  # metres: a cell this close to a surface point in a walker's way is blocked (programs: 0.25)
WALK_BAND = (0.1, 1.8)  # metres above the floor: surface points in this band are in a walker's way
WALK_REACH = 0.7  # metres from an object's own points where a walk beside it starts or ends
WALK_DETOUR, WALK_SLACK = 1.5, 0.8  # a walk is at most 1.5 times the distance between the centres + 0.8 m


def walk_exists(view: View, a: int, b: int) -> bool | None:
    """Whether the video leaves a nearly straight walk from beside object ``a`` to beside object
    ``b``: on a ``WALK_CELL`` grid (8-connected), cells farther than ``WALK_CLEARANCE`` from every
    surface point it shows in ``WALK_BAND`` (walls, furniture, door leaves; not the two objects),
    from a cell within ``WALK_REACH`` of ``a``'s points to one of ``b``'s, at most ``WALK_DETOUR``
    times the distance between their measured centres plus ``WALK_SLACK``. What the video does not
    show counts as free: the auditor refuses a walk only where what it shows blocks it (a short
    clip shows little floor); None where an object is not measured."""
    from scipy import ndimage
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    ca, cb = view.centre(a), view.centre(b)
    own = [view.points(o)[:, :2] for o in (a, b)]
    if ca is None or cb is None or min(len(p) for p in own) < 10:
        return None
    pts, ids = view.labelled_points()
    block = pts[(pts[:, 2] > WALK_BAND[0]) & (pts[:, 2] < WALK_BAND[1]) & (ids != a) & (ids != b), :2]
    lo = np.minimum(pts[:, :2].min(0), np.minimum(ca[:2], cb[:2])) - 1.0
    shape = tuple(
        np.floor((np.maximum(pts[:, :2].max(0), np.maximum(ca[:2], cb[:2])) + 1.0 - lo) / WALK_CELL).astype(int) + 1
    )
    occupied = np.zeros(shape, bool)
    ij = np.floor((block - lo) / WALK_CELL).astype(int)
    occupied[ij[:, 0], ij[:, 1]] = True
    free = ndimage.distance_transform_edt(~occupied) * WALK_CELL > WALK_CLEARANCE + WALK_CELL / 2
    centres = lo + (np.indices(shape).reshape(2, -1).T + 0.5) * WALK_CELL
    flat = free.ravel()
    ends = [np.flatnonzero(flat & (cKDTree(p).query(centres)[0] <= WALK_REACH)) for p in own]
    if not all(len(e) for e in ends):
        return False
    graph = grid_graph(free, WALK_CELL)
    length = float(dijkstra(graph, indices=ends[0], min_only=True)[ends[1]].min())
    return length <= WALK_DETOUR * float(np.linalg.norm(cb[:2] - ca[:2])) + WALK_SLACK
