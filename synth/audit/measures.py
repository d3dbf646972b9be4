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


def floor_area(view: View) -> float:
    """Square metres inside the outline of the wall points seen (room pixels between 0.3 m and
    10 cm below the ceiling), rasterised at ``FLOOR_CELL`` with gaps up to ``GAP_CLOSING`` bridged."""
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
