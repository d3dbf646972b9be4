"""Tours: the camera carried through a house by a person filming it.

A tour visits the rooms asked for (every room by default) in an order that walks the door graph
(``Scene.connections``, passable doorways only: ``PASSABLE`` on both sides), going back through
corridors where it must (the shortest open path through all of them, Held-Karp). In each visited
room the camera stops at a spot from which (nearly) the most of the room's walls are in sight,
the one that needs the least turning and detour, and looks around there: it turns until,
together with what the walks in and out show, every wall it can see from there has been in view
(a wall behind a tall object or a door leaf counts when the wall above it is in view; over a
doorway only the wall above the opening is there to see). Where walls stay unseen that some other
spot would show and the video is long enough, the room gets another stop. Between stops it walks.

How a walk is made: the free floor is the rooms and the strips through passable doorways, shrunk
by ``CLEARANCE`` (+ ``PLAN_MARGIN``: door casings stand proud of the walls), less the footprints
of furniture and hung things (``planner.obstacles``: rugs are walked over) and of door leaves
(``synth.core.geometry.door_leaf``) grown by as much. It is rasterised on a ``CELL`` grid;
a room whose furniture cuts its free floor apart is reached only where its doorways lead, and a
doorway the camera does not fit through is not used. Shortest paths (Dijkstra, kept off
obstacles where there is room) join the waypoints of a walk inside each room: the stops and, for
every doorway on the way, approach points ``APPROACH`` metres in front of it on each side (nearer
where a leaf stands there), joined straight, so that the camera crosses each doorway at its
middle, perpendicular to the wall. Paths are shortcut and their corners cut (Chaikin, a cut only
where it stays free, which keeps the doorway crossings straight through the middle). The camera
looks ahead along the path (``LOOKAHEAD``); its speed eases in and out (``WALK_ACCEL``) and slows
where the path or the heading turns, so that the yaw rate stays under ``MAX_TURN_RATE`` and the
yaw acceleration under ``MAX_YAW_ACCEL``. A look-around pauses, turns with the same limits
(stopping and pausing before any reversal), pauses again. The pitch is the clip planner's
``PITCH``; there is no bob.

Timing: eye height and walking pace are drawn per tour (``EYE_HEIGHT``, ``WALK_SPEED``). The
tour fills the video exactly: the first frame is at 0 s, the last at ``(frames - 1) / fps``, and
the motion spans that. Spare time goes to extra stops, then to slower walking and turning and to
longer pauses; a tour that does not fit even at ``MAX_SPEED`` with the shortest look-arounds (one
stop per room) raises ``NoCameraPath`` (the caller draws another scene), never a shortened tour.
Planning is cheap (a 60 s tour of a four-room house: about 0.1-0.3 s); the objects' coverage is
measured once, on all frames, by the caller's ``measure``.

Units: metres, seconds, radians (headings counter-clockwise from world +X, seen from above).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.ndimage import distance_transform_edt, gaussian_filter1d
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from shapely.geometry import Polygon
from shapely.ops import unary_union

from synth.core.camera import camera_center, horizontal_fov, look_at, vertical_fov
from synth.core.evidence import ROOM_REACH
from synth.core.geometry import door_leaf, footprint, room_of, wall_frame
from synth.core.scene import (
    PASSABLE,
    ROOM_ID,
    CameraFrame,
    Coverage,
    Frame,
    Room,
    Scene,
    VideoSpec,
    VisibilityRule,
)
from synth.planning.planner import (
    MAX_SPEED,
    MAX_TURN_RATE,
    PITCH,
    Measure,
    NoCameraPath,
    Plan,
    as_tuples,
    ego_actions,
    obstacles,
    rest_poses,
)

# seconds a tour of a generated house takes per room, walking there and looking around (measured:
# the shortest tours of 3, 4, 5, 8 rooms took 29-35, 56, 65-77, 116-128 s): what a request is checked against
ROOM_SECONDS = 15.0
EYE_HEIGHT = (1.4, 1.7)  # metres, drawn per tour
WALK_SPEED = (0.4, MAX_SPEED)  # m/s, the pace drawn per tour; spare time slows it to the lower end
CLEARANCE = 0.25  # metres the camera keeps from walls, furniture and door leaves
PLAN_MARGIN = 0.02  # metres planned on top of CLEARANCE (casings stand 1.5 cm proud of the wall)
CELL = 0.1  # metres, the path-finding grid
APPROACH = 0.5  # metres from a doorway's wall face to its approach points
LOOKAHEAD = 0.8  # metres ahead along the path that a walking camera faces
WALK_ACCEL = 0.5  # m/s^2, easing in and out of a walk
LATERAL_ACCEL = 0.6  # m/s^2 on a curve
MAX_YAW_ACCEL = math.radians(120)  # rad/s^2
TALL = 1.8  # metres: objects whose top is higher hide the walls behind them (up to their top)
SEEN_ABOVE = 0.15  # metres of wall above a tall object that must be in view for the wall to count as seen
SPOT_SHARE = 0.98  # a room's first look-around spot sees this share of the most wall any spot sees
SPOT_RESIDUE = 0.04  # another look-around spot in a room when this share of its walls is in sight only from there
MAX_SPOTS = 3  # look-around spots per room
EXTRA_SPOT_SHARE = 0.85  # an extra spot only while the fastest tour takes at most this share of the video
VIEW_MARGIN = math.radians(8)  # a wall counts as in view this far inside the horizontal field of view
WALL_BIN = 0.1  # metres of wall perimeter per coverage bin
VIEW_DISTANCE = 1.0  # metres: a wall counts as seen from this far or further (nearer, bare wall fills the view)
PAUSE = (0.25, 1.0, 2.0)  # seconds: shortest, usual and long pause in a look-around
TURN_RATE = (0.95 * MAX_TURN_RATE, math.radians(40), math.radians(20))  # look-around: fastest, usual, slow
HOLD = 0.1  # metres past a doorway's approach point from which the path runs straight through it
STEP = 0.05  # metres between samples of a walk and between checks of a segment


@dataclass(frozen=True)
class Passage:
    """A passable doorway from room ``a`` to room ``b``: its middle (between the two wall faces),
    the unit normal from ``a`` into ``b`` and the distance between the two faces, metres."""

    a: int
    b: int
    middle: np.ndarray
    normal: np.ndarray
    depth: float

    def approach(self, room: int, distance: float = APPROACH) -> np.ndarray:
        """The point ``distance`` metres in front of the doorway's face in ``room`` (a or b)."""
        side = -1.0 if room == self.a else 1.0
        return self.middle + side * self.normal * (self.depth / 2 + distance)


@dataclass(frozen=True)
class RoomStats:
    room: int
    function: str
    seconds: float  # time the camera stands in the room (frames there / fps)
    entered: bool


@dataclass(frozen=True)
class TourStats:
    rooms: list[RoomStats]
    path_length: float  # metres, summed over frame-to-frame camera moves
    max_speed: float  # m/s between consecutive frames
    max_yaw_rate: float  # degrees per second between consecutive frames
    facing_wall: float  # share of frames whose view straight ahead meets a wall within VIEW_DISTANCE


def passages(scene: Scene) -> list[Passage]:
    """Every doorway between two rooms that a walker gets through (no leaf, or an open one, on
    both sides), once, from the lower room index to the higher."""
    out = []
    for i, j, d, e in scene.connections():
        if d.door not in PASSABLE or e.door not in PASSABLE:
            continue
        here = np.asarray(scene.rooms[i].opening_centre(d))
        there = np.asarray(scene.rooms[j].opening_centre(e))
        normal = -wall_frame(scene.rooms[i], d.wall)[2]  # out of room i
        out.append(Passage(i, j, (here + there) / 2, normal, float(abs((there - here) @ normal))))
    return out


def _strip(scene: Scene, p: Passage) -> Polygon:
    """The floor through a doorway: its opening, from one wall face to the other (+1 cm)."""
    d = next(d for d in scene.rooms[p.a].doorways if d.to_room == p.b and _at(scene.rooms[p.a], d, p))
    along = np.array([-p.normal[1], p.normal[0]])
    half_w, half_d = d.width / 2, p.depth / 2 + 0.01
    corners = [p.middle + s * along * half_w + t * p.normal * half_d for s, t in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    return Polygon(corners)


def _at(room: Room, doorway, p: Passage) -> bool:
    return math.dist(room.opening_centre(doorway), p.middle) <= p.depth / 2 + 1e-6


def blocks(scene: Scene) -> list[Polygon]:
    """Floor-plan outlines of what the camera keeps clear of besides walls: the walking camera's
    obstacles (``planner.obstacles``: furniture and hung things, not rugs) and the door leaves."""
    leaves = [leaf for room in scene.rooms for d in room.doorways if (leaf := door_leaf(room, d)) is not None]
    return [footprint(box) for box in [o.box for o in obstacles(scene)] + leaves]


def _floor(scene: Scene, links: list[Passage]) -> Polygon:
    """The rooms and the floor through the doorways ``links``, as one outline."""
    return unary_union([Polygon(r.footprint) for r in scene.rooms] + [_strip(scene, p) for p in links])


def tour_free_space(scene: Scene, links: list[Passage], clearance: float = CLEARANCE + PLAN_MARGIN) -> Polygon:
    """Where the camera may be on a tour: rooms and passable doorway strips shrunk by
    ``clearance``, :func:`blocks` grown by it."""
    return _floor(scene, links).buffer(-clearance).difference(unary_union([b.buffer(clearance) for b in blocks(scene)]))


# ------------------------------------------------------------------------------ the grid
class _Grid:
    """Free cells of a ``CELL`` grid over the house, each labelled with its room (-1: none),
    and per room a graph of 8-connected free cells weighted by length, dearer near obstacles."""

    def __init__(self, scene: Scene, free: Polygon):
        minx, miny, maxx, maxy = unary_union([Polygon(r.footprint) for r in scene.rooms]).bounds
        nx, ny = int(math.ceil((maxx - minx) / CELL)) + 1, int(math.ceil((maxy - miny) / CELL)) + 1
        gx, gy = np.meshgrid(minx + CELL * np.arange(nx), miny + CELL * np.arange(ny), indexing="ij")
        self.xy = np.stack([gx, gy], axis=-1)
        self.ok = shapely.contains_xy(free, gx, gy)
        self.room = np.full(self.ok.shape, -1)
        for k, r in enumerate(scene.rooms):  # a cell in a doorway's mouth belongs to no room
            self.room[shapely.contains_xy(Polygon(r.footprint).buffer(-CLEARANCE), gx, gy)] = k
        room_clear = distance_transform_edt(self.ok) * CELL  # metres to the nearest blocked cell
        self.cost = 1.0 + 1.5 * np.clip(1.0 - room_clear / 0.5, 0.0, 1.0)
        self._graphs: dict[int, tuple[csr_matrix, np.ndarray, np.ndarray]] = {}

    def graph(self, room: int) -> tuple[csr_matrix, np.ndarray, np.ndarray]:
        """The room's graph, its cells' flat indices into the grid, and grid -> node index."""
        if room not in self._graphs:
            mask = self.ok & (self.room == room)
            flat = np.flatnonzero(mask)
            node = np.full(mask.size, -1)
            node[flat] = np.arange(len(flat))
            node2 = node.reshape(mask.shape)
            rows, cols, weights = [], [], []
            cost = self.cost
            nx, ny = mask.shape
            for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1)):
                xs = slice(max(0, -dx), nx - max(0, dx))
                ys = slice(max(0, -dy), ny - max(0, dy))
                xt = slice(max(0, dx), nx - max(0, -dx))
                yt = slice(max(0, dy), ny - max(0, -dy))
                both = mask[xs, ys] & mask[xt, yt]
                u, v = node2[xs, ys][both], node2[xt, yt][both]
                w = CELL * math.hypot(dx, dy) * (cost[xs, ys][both] + cost[xt, yt][both]) / 2
                rows += [u, v]
                cols += [v, u]
                weights += [w, w]
            g = csr_matrix(
                (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(len(flat),) * 2
            )
            self._graphs[room] = (g, flat, node)
        return self._graphs[room]

    def pieces(self, room: int) -> np.ndarray:
        """Per free cell of the room (in ``graph``'s node order), the piece of the room it lies
        in: cells the camera can walk between without leaving the room share a piece."""
        g, _, _ = self.graph(room)
        return connected_components(g, directed=False)[1] if g.shape[0] else np.zeros(0, int)

    def piece_of(self, room: int, xy: np.ndarray) -> int:
        """The piece of the room whose free cell is nearest ``xy`` (-1: the room has none)."""
        _, flat, _ = self.graph(room)
        if not len(flat):
            return -1
        return int(self.pieces(room)[np.argmin(np.linalg.norm(self.xy.reshape(-1, 2)[flat] - xy, axis=1))])

    def cells(self, room: int, piece: int) -> np.ndarray:
        """Centres (N, 2) of the free cells of one piece of the room."""
        _, flat, _ = self.graph(room)
        return self.xy.reshape(-1, 2)[flat][self.pieces(room) == piece]

    def path(self, room: int, a: np.ndarray, b: np.ndarray, what: str) -> np.ndarray:
        """A free polyline (N, 2) from ``a`` to ``b`` through ``room``'s free cells."""
        g, flat, node = self.graph(room)
        if not len(flat):
            raise NoCameraPath(f"{what}: the room leaves no free floor for the camera")
        centres = self.xy.reshape(-1, 2)[flat]
        src = int(np.argmin(np.linalg.norm(centres - a, axis=1)))
        dst = int(np.argmin(np.linalg.norm(centres - b, axis=1)))
        dist, pred = dijkstra(g, indices=src, return_predecessors=True)
        if not np.isfinite(dist[dst]):
            raise NoCameraPath(f"{what}: furniture leaves no way through with {CLEARANCE} m clearance")
        chain = [dst]
        while chain[-1] != src:
            chain.append(int(pred[chain[-1]]))
        return np.vstack([a, centres[chain[::-1]], b])


# ------------------------------------------------------------------------------ free segments
def _segments_free(free: Polygon, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each segment ``a[k] -> b[k]`` ((K, 2) each, or one ``a``) lies in ``free``, checked
    every ``STEP`` / 2 metres."""
    a, b = np.broadcast_to(a, b.shape), np.asarray(b)
    n = np.maximum(2, np.ceil(np.linalg.norm(b - a, axis=1) / (STEP / 2)).astype(int) + 1)
    seg = np.repeat(np.arange(len(b)), n)
    t = np.concatenate([np.linspace(0.0, 1.0, k) for k in n])
    pts = a[seg] + (b[seg] - a[seg]) * t[:, None]
    inside = shapely.contains_xy(free, pts[:, 0], pts[:, 1])
    return np.logical_and.reduceat(inside, np.concatenate([[0], np.cumsum(n)[:-1]]))


def _shortcut(pts: np.ndarray, free: Polygon) -> np.ndarray:
    """Greedy line-of-sight shortcuts: from each kept point, on to the farthest point it sees."""
    out, i = [pts[0]], 0
    while i < len(pts) - 1:
        if _segments_free(free, pts[i], pts[-1:])[0]:
            j = len(pts) - 1
        else:
            ahead = np.arange(i + 1, len(pts))
            ok = _segments_free(free, pts[i], pts[ahead])
            j = int(ahead[ok].max()) if ok.any() else i + 1
        out.append(pts[j])
        i = j
    return np.array(out)


def _round_corners(pts: np.ndarray, free: Polygon, iterations: int = 5) -> np.ndarray:
    """Chaikin corner cutting (a quarter of each adjacent segment per iteration), a corner cut
    only where its chord stays free; the ends stay, and so does the middle of every segment."""
    for _ in range(iterations):
        if len(pts) < 3:
            return pts
        prev, mid, nxt = pts[:-2], pts[1:-1], pts[2:]
        a, b = mid + (prev - mid) / 4, mid + (nxt - mid) / 4
        ok = _segments_free(free, a, b)
        out = [pts[:1]]
        for k in range(len(mid)):
            out.append(np.stack([a[k], b[k]]) if ok[k] else mid[k : k + 1])
        out.append(pts[-1:])
        pts = np.vstack(out)
        keep = np.concatenate([[True], np.linalg.norm(np.diff(pts, axis=0), axis=1) > 1e-9])
        pts = pts[keep]
    return pts


def _resample(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points every ~``STEP`` metres along a polyline, and their arc length."""
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(2, int(math.ceil(s[-1] / STEP)) + 1)
    t = np.linspace(0.0, s[-1], n)
    return np.column_stack([np.interp(t, s, pts[:, 0]), np.interp(t, s, pts[:, 1])]), t


# ------------------------------------------------------------------------------ walking
class _Walk:
    """One walk between two spots: positions every ~STEP metres, the heading there, and the
    speed and acceleration limits that keep the turning within human rates."""

    def __init__(self, pts: np.ndarray):
        self.pts, self.s = _resample(pts)
        n, s = len(self.s), self.s
        ahead = np.searchsorted(s, s + LOOKAHEAD).clip(max=n - 1)
        vec = self.pts[ahead] - self.pts
        end = self.pts[-1] - self.pts[max(0, n - 1 - int(LOOKAHEAD / STEP))]
        short = np.linalg.norm(vec, axis=1) < LOOKAHEAD / 2
        vec[short] = end
        psi = np.unwrap(np.arctan2(vec[:, 1], vec[:, 0]))
        sigma = 0.3 / max(s[-1] / (n - 1), 1e-6)
        self.psi = gaussian_filter1d(psi, sigma, mode="nearest")
        d1 = np.abs(np.gradient(self.psi, s)) + 1e-9
        d2 = np.abs(np.gradient(np.gradient(self.psi, s), s)) + 1e-9
        tangent = np.unwrap(np.arctan2(*np.gradient(self.pts, s, axis=0).T[::-1]))
        curv = np.abs(gaussian_filter1d(np.gradient(tangent, s), 1.0, mode="nearest")) + 1e-9
        budget = 0.4 * MAX_YAW_ACCEL  # each of the two terms of the yaw acceleration
        self.v_lim = np.minimum.reduce([0.9 * MAX_TURN_RATE / d1, np.sqrt(budget / d2), np.sqrt(LATERAL_ACCEL / curv)])
        self.a_lim = np.minimum(WALK_ACCEL, budget / d1)

    @property
    def length(self) -> float:
        return float(self.s[-1])

    def times(self, v_cap: float) -> np.ndarray:
        """Time (s) at each sample walking at most ``v_cap``, from standstill to standstill."""
        v_lim = np.minimum(self.v_lim, v_cap)
        ds = np.diff(self.s)
        v = np.zeros(len(self.s))
        for i in range(len(ds)):
            v[i + 1] = min(v_lim[i + 1], math.sqrt(v[i] ** 2 + 2 * self.a_lim[i] * ds[i]))
        v[-1] = 0.0
        for i in range(len(ds) - 1, -1, -1):
            v[i] = min(v[i], math.sqrt(v[i + 1] ** 2 + 2 * self.a_lim[i] * ds[i]))
        return np.concatenate([[0.0], np.cumsum(2 * ds / np.maximum(v[1:] + v[:-1], 1e-9))])


# ------------------------------------------------------------------------------ looking around
def _turn_time(angle: float, rate: float) -> float:
    """Seconds to turn ``angle`` radians from rest to rest at most ``rate`` rad/s, accelerating
    at 0.8 ``MAX_YAW_ACCEL``."""
    acc, angle = 0.8 * MAX_YAW_ACCEL, abs(angle)
    if angle >= rate * rate / acc:
        return angle / rate + rate / acc
    return 2 * math.sqrt(angle / acc)


def _turn_samples(psi0: float, psi1: float, rate: float, t0: float, dt: float = 0.02):
    """(times, headings) of a rest-to-rest turn from ``psi0`` to ``psi1`` starting at ``t0``."""
    acc, total = 0.8 * MAX_YAW_ACCEL, abs(psi1 - psi0)
    T = _turn_time(total, rate)
    peak = min(rate, math.sqrt(total * acc))
    ramp = peak / acc
    t = np.linspace(0.0, T, max(2, int(math.ceil(T / dt)) + 1))
    up = 0.5 * acc * np.minimum(t, ramp) ** 2
    cruise = peak * np.clip(t - ramp, 0.0, T - 2 * ramp)
    down_t = np.clip(t - (T - ramp), 0.0, ramp)
    down = peak * down_t - 0.5 * acc * down_t**2
    done = np.minimum((up + cruise + down) / max(total, 1e-12), 1.0)
    return t0 + t, psi0 + (psi1 - psi0) * done


def _sweep(needed: np.ndarray, half: float, start: float | None, end: float | None) -> list[float]:
    """Headings to turn through (radians; at rest at each, reversing between some) so that every
    direction in ``needed`` (radians) comes within ``half`` of the heading at some moment,
    starting at ``start`` and ending at ``end`` (None: free), turning the least in all. The first
    heading is ``start`` and the last equals ``end`` up to whole turns."""
    if not len(needed):
        if start is None or end is None:
            return [start if start is not None else end if end is not None else 0.0]
        return [start, start + math.remainder(end - start, 2 * math.pi)]
    deg = np.zeros(360, bool)
    deg[np.round(np.degrees(needed)).astype(int) % 360] = True
    gaps = []  # runs of directions nobody needs: (first, length), degrees
    if not deg.all():
        first = int(np.argmax(deg))
        run = None
        for k in range(1, 361):
            i = (first + k) % 360
            if not deg[i] and run is None:
                run = i
            if deg[i] and run is not None:
                gaps.append((run, (i - run) % 360))
                run = None
    else:
        gaps.append((0, 0))
    h = math.degrees(half)
    best, best_cost = None, math.inf
    for g0, length in gaps:
        # headings over [a, b] see [a - h, b + h]: everything but the gap g0 .. g0 + length - 1
        a, b = g0 + length + h, g0 + 359 - h
        cut = g0 + 360 + (length - 1) / 2  # the gap's middle: angles are placed in (cut - 360, cut]
        x = None if start is None else _unwrap_deg(math.degrees(start), cut)
        y = None if end is None else _unwrap_deg(math.degrees(end), cut)
        if a > b:  # one heading suffices, anywhere in [b, a]
            ends = [v for v in (x, y) if v is not None]
            arcs = [(p, p) for p in {b, a, *(min(max(v, b), a) for v in ends)}]
        else:
            arcs = [(a, b), (b, a)]
        # the end may lie a whole turn on: turning on through the gap can beat turning back
        for (p, q), turn in itertools.product(arcs, (-360, 0, 360)):
            route = [v for v in (x, p, q, None if y is None else y + turn) if v is not None]
            cost = sum(abs(v - u) for u, v in zip(route, route[1:]))
            if cost < best_cost - 1e-9:
                best, best_cost = route, cost
    route = [math.radians(v) for v in best]
    if start is not None:
        route = [r + start - route[0] for r in route]
        route[0] = start
    if end is not None:
        route[-1] = end + 2 * math.pi * round((route[-1] - end) / (2 * math.pi))
    keep = [route[0]]
    for r in route[1:]:
        if abs(r - keep[-1]) < 1e-9:
            continue
        if len(keep) >= 2 and (r - keep[-1]) * (keep[-1] - keep[-2]) > 0:
            keep[-1] = r  # on in the same direction: no stop in between
        else:
            keep.append(r)
    return keep


def _whole_turns(angle: float) -> float:
    """``angle`` (radians) rounded to whole turns."""
    return 2 * math.pi * round(angle / (2 * math.pi))


def _unwrap_deg(angle: float, mid: float) -> float:
    """``angle`` (degrees) shifted by whole turns into (mid - 360, mid]."""
    return mid - ((mid - angle) % 360)


@dataclass
class _Look:
    room: int
    spot: np.ndarray
    headings: list[float]  # turn through these in order, pausing before, between and after

    def time(self, rate: float, pause: float) -> float:
        turns = sum(_turn_time(b - a, rate) for a, b in zip(self.headings, self.headings[1:]))
        return turns + pause * (len(self.headings) + (len(self.headings) == 1))


# ------------------------------------------------------------------------------ what is in view
def _wall_bins(room: Room) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points (B, 2) every ``WALL_BIN`` along the room's walls, 2 cm inside; each one's outward
    wall direction (B, 2), a unit vector; and the height (B,) its wall starts at: 0, or in a
    doorway the opening's top (only the wall above it is there to see)."""
    ring = np.asarray(room.footprint, float)
    pts, outs, low = [], [], []
    for k in range(len(ring)):
        a, along, inward = wall_frame(room, k)
        length = float(np.linalg.norm(ring[(k + 1) % len(ring)] - a))
        t = (np.arange(int(math.ceil(length / WALL_BIN))) + 0.5) * (length / math.ceil(length / WALL_BIN))
        pts.append(a + t[:, None] * along + 0.02 * inward)
        outs.append(np.tile(-inward, (len(t), 1)))
        bottom = np.zeros(len(t))
        for d in room.doorways:
            if d.wall == k:
                bottom[np.abs(t - d.center) < d.width / 2] = d.height
        low.append(bottom)
    return np.vstack(pts), np.vstack(outs), np.concatenate(low)


def _blockers(room: Room, scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """Segments (E, 2, 2) that hide walls and the height (E,) each reaches: the room's own walls
    (an L's corner; infinitely high), the outlines of tall objects (reaching ``TALL`` or higher)
    in it and of the door leaves it hangs."""
    poly = Polygon(room.footprint)
    rings, tops = [np.asarray(room.footprint, float)], [math.inf]
    boxes = [o.box for o in scene.objects if o.box.center[2] + o.box.size[2] / 2 >= TALL]
    boxes += [leaf for d in room.doorways if (leaf := door_leaf(room, d)) is not None]
    for box in boxes:
        fp = footprint(box)
        if poly.intersects(fp):
            rings.append(np.asarray(fp.exterior.coords)[:-1])
            tops.append(box.center[2] + box.size[2] / 2)
    segments = np.concatenate([np.stack([r, np.roll(r, -1, axis=0)], axis=1) for r in rings])
    return segments, np.repeat(tops, [len(r) for r in rings])


def _in_sight(
    cams: np.ndarray, pts: np.ndarray, blockers: tuple[np.ndarray, np.ndarray], eye: float, rise: float
) -> np.ndarray:
    """(P, B): wall point ``pts[b]`` shows from ``cams[p]`` (at height ``eye``, the top of whose
    view rises ``rise`` metres per metre): no blocker segment crosses the sight line, or it
    reaches only a height above which the wall shows (``SEEN_ABOVE`` of it in view, over it)."""
    segments, tops = blockers
    clear = np.ones((len(cams), len(pts)), bool)
    p, q = cams[:, None, :], pts[None, :, :]
    far = np.linalg.norm(q - p, axis=-1)

    def orient(a, b, c):
        return (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])

    for (e0, e1), top in zip(segments, tops):
        d1, d2 = orient(e0, e1, p), orient(e0, e1, q)
        d3, d4 = orient(p, q, e0), orient(p, q, e1)
        cross = (d1 * d2 < 0) & (d3 * d4 < 0)
        if math.isfinite(top):
            # the wall SEEN_ABOVE over the top shows if the view reaches it and the line to it
            # clears the blocker where it crosses (at share ``at`` of the way)
            at = d1 / np.where(cross, d1 - d2, 1.0)
            over = (eye + far * rise >= top + SEEN_ABOVE) & (at * (top + SEEN_ABOVE - eye) >= top - eye)
            cross &= ~over
        clear &= ~cross
    return clear


def _in_view(cams: np.ndarray, heads: np.ndarray, pts: np.ndarray, half: float) -> np.ndarray:
    """(P, B): ``pts[b]`` lies within ``half`` of camera ``p``'s heading."""
    d = pts[None, :, :] - cams[:, None, :]
    ang = np.arctan2(d[..., 1], d[..., 0])
    return np.abs(np.remainder(ang - heads[:, None] + math.pi, 2 * math.pi) - math.pi) <= half


class _RoomView:
    """What can be seen of a room's walls from where the camera can stand in it: wall bins
    (``_wall_bins``), what hides them (``_blockers``) and, for candidate spots (a subsample of
    the room's reachable free cells), which bins are in sight and facing the camera, for a
    camera at height ``eye`` whose view's top rises ``rise`` metres per metre."""

    def __init__(self, room: Room, scene: Scene, cells: np.ndarray, eye: float, rise: float):
        self.bins, self.outs, self.low = _wall_bins(room)
        self.blockers = _blockers(room, scene)
        self.eye, self.rise = eye, rise
        self.cand = cells[:: max(1, int(math.sqrt(len(cells) / 150)))]
        self.sight = self.in_sight(self.cand)

    def in_sight(self, cams: np.ndarray) -> np.ndarray:
        """(P, B): bin ``b`` is in sight from ``cams[p]`` (``_in_sight``), faces it, lies at least
        ``VIEW_DISTANCE`` away (a look-around never turns to a wall at arm's length: it shows
        nothing but the wall) and the view reaches ``SEEN_ABOVE`` up its wall (over a doorway: far
        enough to see the wall above)."""
        rel = self.bins[None] - cams[:, None]
        facing = (rel * self.outs[None]).sum(-1) > 0
        far = np.linalg.norm(rel, axis=-1)
        reach = self.eye + far * self.rise >= self.low + SEEN_ABOVE
        return _in_sight(cams, self.bins, self.blockers, self.eye, self.rise) & facing & reach & (far >= VIEW_DISTANCE)

    def first_spot(self, doors: list[np.ndarray], half: float) -> np.ndarray:
        """The spot that sees at least ``SPOT_SHARE`` of the most wall bins any candidate sees and, among
        those, costs the least: the turning that brings them all into view (``half`` the usable
        field of view) plus the detour from the room's doorway approach points ``doors`` (a dead
        end: there and back), in seconds at usual rates."""
        count = self.sight.sum(axis=1)
        rel = self.bins[None] - self.cand[:, None]
        deg = np.round(np.degrees(np.arctan2(rel[..., 1], rel[..., 0]))).astype(int) % 360
        turn = np.array([_turn_needed(np.unique(d[row]), half) for d, row in zip(deg, self.sight)])
        if len(doors) == 1:
            detour = 2 * np.linalg.norm(self.cand - doors[0], axis=1)
        elif doors:
            detour = np.min(
                [
                    np.linalg.norm(self.cand - p, axis=1) + np.linalg.norm(self.cand - q, axis=1) - math.dist(p, q)
                    for p, q in itertools.combinations(doors, 2)
                ],
                axis=0,
            )
        else:
            detour = np.zeros(len(self.cand))
        good = np.where(count >= SPOT_SHARE * count.max(), 0.0, np.inf)
        return self.cand[int(np.argmin(turn / TURN_RATE[1] + detour / np.mean(WALK_SPEED) + good))]

    def extra_spot(self, seen: np.ndarray) -> np.ndarray | None:
        """The spot that brings the most bins not ``seen`` (B,) into sight, if more than
        ``SPOT_RESIDUE`` of the bins are in sight from some candidate but not seen yet."""
        gain = (self.sight & ~seen).sum(axis=1)
        return self.cand[int(np.argmax(gain))] if gain.max() > SPOT_RESIDUE * len(self.bins) else None


def _turn_needed(directions: np.ndarray, half: float) -> float:
    """Radians a camera must turn through for every direction (whole degrees, 0..359) to come
    within ``half`` of its heading: the circle less the widest gap between them, less the view."""
    if not len(directions):
        return 0.0
    gaps = np.diff(np.concatenate([directions, directions[:1] + 360]))
    return max(0.0, math.radians(360 - float(gaps.max())) - 2 * half)


def _visit(spots: list[np.ndarray], entry: np.ndarray | None, leave: np.ndarray | None) -> list[np.ndarray]:
    """``spots`` in the order with the shortest straight-line walk from ``entry`` to ``leave``
    (None: the tour starts or ends in the room)."""

    def length(seq):
        pts = [p for p in (entry, *seq, leave) if p is not None]
        return sum(float(np.linalg.norm(q - p)) for p, q in zip(pts, pts[1:]))

    return list(min(itertools.permutations(spots), key=length))


# ------------------------------------------------------------------------------ room order
def _order(sub: np.ndarray, rng: np.random.Generator) -> list[int]:
    """A visiting order (indices) of the rooms whose walking distances are ``sub`` (R, R): a path,
    open at both ends, short: exact (Held-Karp) for up to 10 rooms, else nearest neighbour. The
    start is drawn among starts within 25% of the shortest."""
    n = len(sub)
    if n == 1:
        return [0]
    if n > 10:
        order = [int(rng.integers(n))]
        while len(order) < n:
            order.append(min((k for k in range(n) if k not in order), key=lambda k: sub[order[-1], k]))
        return order
    full = 1 << n
    cost = np.full((full, n), np.inf)
    back = np.full((full, n), -1)
    for k in range(n):
        cost[1 << k, k] = 0.0
    for mask in range(1, full):
        for last in range(n):
            c = cost[mask, last]
            if not np.isfinite(c):
                continue
            for k in range(n):
                if mask & (1 << k):
                    continue
                m2 = mask | (1 << k)
                if c + sub[last, k] < cost[m2, k]:
                    cost[m2, k], back[m2, k] = c + sub[last, k], last
    ends = cost[full - 1]
    best = ends.min()
    if not np.isfinite(best):
        raise NoCameraPath("the rooms asked for are not connected through passable doorways")
    # walks are reversible: a path ending at k starts somewhere; draw among good ends
    good = np.flatnonzero(ends <= 1.25 * best + 1e-9)
    last = int(good[rng.integers(len(good))])
    order, mask = [], full - 1
    while last >= 0:
        order.append(last)
        prev = int(back[mask, last])
        mask &= ~(1 << last)
        last = prev
    return order


class _DoorGraph:
    """Where a walker can go: nodes are the look-around spots (one per asked room) and the
    approach points on both sides of every passable doorway the camera fits through; an edge
    joins two nodes in the same piece of a room (``_Grid.pieces``; straight-line length, an
    estimate) and the two sides of a doorway. ``route(a, b)`` gives the doorways crossed from
    spot ``a`` to spot ``b``: (room, next room, approach here, approach there) each."""

    def __init__(self, links: list[Passage], sides: dict[tuple[int, int], np.ndarray], grid: _Grid, spots):
        nodes: list[tuple[int, np.ndarray]] = [(k, xy) for k, xy in spots.items()]
        self.spot = {k: i for i, k in enumerate(spots)}
        crossing = {}
        for n, p in enumerate(links):
            if (n, p.a) in sides and (n, p.b) in sides:
                i, j = len(nodes), len(nodes) + 1
                nodes += [(p.a, sides[(n, p.a)]), (p.b, sides[(n, p.b)])]
                crossing[(i, j)] = crossing[(j, i)] = True
        piece = [grid.piece_of(room, xy) for room, xy in nodes]
        m = len(nodes)
        w = np.zeros((m, m))
        for i, j in itertools.combinations(range(m), 2):
            if (i, j) in crossing or (nodes[i][0] == nodes[j][0] and piece[i] == piece[j] >= 0):
                w[i, j] = w[j, i] = max(1e-6, float(np.linalg.norm(nodes[i][1] - nodes[j][1])))
        self.nodes, self.crossing = nodes, crossing
        self.dist, self.prev = dijkstra(csr_matrix(w), directed=False, return_predecessors=True)

    def distances(self, rooms: list[int]) -> np.ndarray:
        """Walking estimates (R, R) between the spots of ``rooms`` (inf: no way)."""
        idx = [self.spot[k] for k in rooms]
        return self.dist[np.ix_(idx, idx)]

    def route(self, a: int, b: int) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
        src, node, chain = self.spot[a], self.spot[b], []
        while node != src:
            chain.append(node)
            node = int(self.prev[src, node])
        chain = [src, *chain[::-1]]
        return [
            (self.nodes[i][0], self.nodes[j][0], self.nodes[i][1], self.nodes[j][1])
            for i, j in itertools.pairwise(chain)
            if (i, j) in self.crossing
        ]


# ------------------------------------------------------------------------------ the tour
@dataclass
class _Route:
    looks: list[_Look]
    walks: list[_Walk]
    eye: float
    pace: float

    def setting(self, leisure: float) -> tuple[float, float, float]:
        """Walking speed cap, turning rate and pause length for a ``leisure`` >= 0: 0 is the
        fastest tour allowed, 1 the usual (the drawn pace), 2 slow, beyond 2 longer pauses."""
        fast, usual, slow = TURN_RATE
        p0, p1, p2 = PAUSE
        if leisure <= 1:
            u = leisure
            return MAX_SPEED + (self.pace - MAX_SPEED) * u, fast + (usual - fast) * u, p0 + (p1 - p0) * u
        if leisure <= 2:
            u = leisure - 1
            return self.pace + (WALK_SPEED[0] - self.pace) * u, usual + (slow - usual) * u, p1 + (p2 - p1) * u
        return WALK_SPEED[0], slow, p2 * (leisure - 1)

    def duration(self, leisure: float) -> float:
        v, rate, pause = self.setting(leisure)
        return sum(w.times(v)[-1] for w in self.walks) + sum(lk.time(rate, pause) for lk in self.looks)

    def samples(self, leisure: float, extra: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Times (T,), positions (T, 2) and headings (T,) along the tour, ``extra`` seconds added
        to its last pause."""
        v, rate, pause = self.setting(leisure)
        ts, ps, hs = [], [], []
        t = 0.0
        for k, look in enumerate(self.looks):
            last = k == len(self.looks) - 1
            spot = look.spot
            turns = _whole_turns(hs[-1] - look.headings[0]) if hs else 0.0
            for i, psi in enumerate(h + turns for h in look.headings):
                hold = pause + (extra if last and i == len(look.headings) - 1 else 0.0)
                if len(look.headings) == 1 and i == 0:
                    hold += pause
                ts += [t, t + hold]
                ps += [spot, spot]
                hs += [psi, psi]
                t += hold
                if i + 1 < len(look.headings):
                    tt, hh = _turn_samples(psi, look.headings[i + 1] + turns, rate, t)
                    ts += list(tt)
                    ps += [spot] * len(tt)
                    hs += list(hh)
                    t = float(tt[-1])
            if not last:
                walk = self.walks[k]
                tt = t + walk.times(v)
                ts += list(tt)
                ps += list(walk.pts)
                hs += list(walk.psi + _whole_turns(hs[-1] - walk.psi[0]))
                t = float(tt[-1])
        return np.asarray(ts), np.asarray(ps), np.asarray(hs)


class _Planner:
    """A tour's fixed parts in one house: free floor and grid, what each asked room shows from
    where (``_RoomView``), the room order and the doorways crossed between visited rooms; walks
    planned once per pair of stops. ``route(spots)`` makes the tour for given look-around spots."""

    def __init__(
        self,
        scene: Scene,
        asked: list[int],
        eye: float,
        pace: float,
        half: float,
        rise: float,
        rng: np.random.Generator,
    ):
        self.scene, self.eye, self.pace, self.half = scene, eye, pace, half
        links = passages(scene)
        self.free = tour_free_space(scene, links)
        self.strict = tour_free_space(scene, links, CLEARANCE)
        shapely.prepare(self.free)
        shapely.prepare(self.strict)
        self.grid = _Grid(scene, self.free)
        sides = {}  # (passage, room) -> approach point, for the doorways the camera fits through
        for n, p in enumerate(links):
            ends = {k: _approach(p, k, self.free) for k in (p.a, p.b)}
            if all(pt is not None for pt in ends.values()):
                sides |= {(n, k): pt for k, pt in ends.items()}
        self.views, self.first = {}, {}
        for k in asked:
            doors = [pt for (_, room), pt in sides.items() if room == k]
            # the piece of the room most of its doorways open into (the largest, without doorways)
            labels = self.grid.pieces(k)
            if not len(labels):
                raise NoCameraPath(f"room {k} ({_name(scene, k)}) leaves no free floor for the camera")
            at = [self.grid.piece_of(k, pt) for pt in doors]
            main = max(set(labels), key=lambda c: (at.count(c), int((labels == c).sum())))
            self.views[k] = _RoomView(scene.rooms[k], scene, self.grid.cells(k, main), eye, rise)
            self.first[k] = self.views[k].first_spot([pt for pt, c in zip(doors, at) if c == main], half)
        graph = _DoorGraph(links, sides, self.grid, self.first)
        dist = graph.distances(asked)
        for i, k in enumerate(asked[1:], 1):
            if not np.isfinite(dist[0, i]):
                narrow = [f"{p.a}-{p.b}" for n, p in enumerate(links) if (n, p.a) not in sides]
                split = [
                    r
                    for r in range(len(scene.rooms))
                    if len({self.grid.piece_of(r, pt) for (_, room), pt in sides.items() if room == r}) > 1
                ]
                raise NoCameraPath(
                    f"room {k} ({_name(scene, k)}) cannot be reached from room {asked[0]} through passable doorways"
                    f" with {CLEARANCE} m clearance (doorways too narrow or blocked: {', '.join(narrow) or 'none'};"
                    f" rooms whose doorways furniture or door leaves cut apart: {split or 'none'})"
                )
        self.order = [asked[i] for i in _order(dist, rng)]
        self.doors = [graph.route(a, b) for a, b in itertools.pairwise(self.order)]
        self._walks: dict[tuple, _Walk] = {}

    def route(self, spots: dict[int, list[np.ndarray]]) -> tuple[_Route, dict[int, np.ndarray]]:
        """The tour looking around at ``spots`` (per room, visited in the order that walks the
        least), and per room the wall bins it shows."""
        stops: list[tuple[int, np.ndarray]] = []
        for i, room in enumerate(self.order):
            entry = self.doors[i - 1][-1][3] if i > 0 else None
            leave = self.doors[i][0][2] if i < len(self.doors) else None
            stops += [(room, spot) for spot in _visit(spots[room], entry, leave)]
        walks, transition = [], 0
        for (ra, sa), (rb, sb) in itertools.pairwise(stops):
            crossings = self.doors[transition] if ra != rb else []
            transition += ra != rb
            key = (ra, tuple(sa), rb, tuple(sb))
            if key not in self._walks:
                self._walks[key] = self._walk(ra, sa, rb, sb, crossings)
            walks.append(self._walks[key])
        looks, seen = _looks(self.scene, stops, walks, self.views, self.half)
        return _Route(looks, walks, eye=self.eye, pace=self.pace), seen

    def _walk(self, ra: int, sa: np.ndarray, rb: int, sb: np.ndarray, crossings) -> _Walk:
        """The walk from spot ``sa`` in room ``ra`` to ``sb`` in ``rb`` through ``crossings``."""
        pieces, here = [], sa
        for r0, _, near, far in crossings:
            pieces.append(self.grid.path(r0, here, near, f"room {r0} ({_name(self.scene, r0)})"))
            here = far
        pieces.append(self.grid.path(rb, here, sb, f"room {rb} ({_name(self.scene, rb)})"))
        # each room's part is shortcut on its own: the doorway crossings stay as planned, a
        # point HOLD metres past each approach point keeping corner cutting off the crossing
        parts = [_shortcut(piece, self.free) for piece in pieces]
        for k in range(len(parts) - 1):
            near, far = parts[k][-1], parts[k + 1][0]
            u = (far - near) / max(float(np.linalg.norm(far - near)), 1e-9)
            parts[k] = np.vstack([parts[k], near + HOLD * u])
            parts[k + 1] = np.vstack([far - HOLD * u, parts[k + 1]])
        pts = np.vstack(parts)
        walk = _Walk(_round_corners(pts, self.free))
        if not shapely.contains_xy(self.strict, walk.pts[:, 0], walk.pts[:, 1]).all():
            raise NoCameraPath(f"the walk from room {ra} to room {rb} comes closer than {CLEARANCE} m to an obstacle")
        return walk


def _plan_route(
    scene: Scene,
    asked: list[int],
    span: float,
    eye: float,
    pace: float,
    half: float,
    rise: float,
    rng: np.random.Generator,
) -> _Route:
    """The tour of the ``asked`` rooms for a camera at height ``eye`` walking at ``pace``, ``half``
    its usable horizontal field of view, the top of its view rising ``rise`` metres per metre.
    Each room gets one look-around spot (``_RoomView.first_spot``). Where the tour leaves part of
    a room's walls unseen (but in sight from somewhere) and time allows (the tour still fits in
    ``span`` seconds at its fastest), the room gets another spot (``_RoomView.extra_spot``), the
    rooms that gain most first, while the fastest tour leaves ``1 - EXTRA_SPOT_SHARE`` of the
    video for pauses."""
    planner = _Planner(scene, asked, eye, pace, half, rise, rng)
    spots = {k: [planner.first[k]] for k in asked}
    route, seen = planner.route(spots)
    for _ in range(MAX_SPOTS - 1):
        more = {k: planner.views[k].extra_spot(seen[k]) for k in asked if len(spots[k]) < MAX_SPOTS}
        more = {k: spot for k, spot in more.items() if spot is not None}
        if not more:
            break
        gain = {k: int((planner.views[k].in_sight(spot[None])[0] & ~seen[k]).sum()) for k, spot in more.items()}
        for k in sorted(more, key=lambda k: -gain[k]):
            trial = {**spots, k: [*spots[k], more[k]]}
            candidate, candidate_seen = planner.route(trial)
            if candidate.duration(0.0) <= EXTRA_SPOT_SHARE * span:  # slack left for pauses and easier pace
                spots, route, seen = trial, candidate, candidate_seen
    return route


def _approach(p: Passage, room: int, free: Polygon) -> np.ndarray | None:
    """The approach point of doorway ``p`` in ``room``: ``APPROACH`` metres in front of it, or
    nearer (a door leaf or furniture there), or further, such that the line from the doorway's
    middle to it is free; None if there is none (the camera does not fit through there)."""
    for d in (APPROACH, 0.4, 0.3, 0.6, 0.7, 0.8, 1.0):
        pt = p.approach(room, d)
        if _segments_free(free, p.middle, pt[None])[0]:
            return pt
    return None


def _looks(scene, stops, walks, views, half) -> tuple[list[_Look], dict[int, np.ndarray]]:
    """One look-around per stop: what its spot can see of the room's walls that neither the walks
    to and from the room's stops nor its earlier stops showed, swept with the least turning
    between the arriving and the leaving heading. Also, per room, the wall bins seen in all."""
    seen = {room: np.zeros(len(views[room].bins), bool) for room, _ in stops}
    for k, walk in enumerate(walks):
        for room in {stops[k][0], stops[k + 1][0]}:
            view = views[room]
            poly = Polygon(scene.rooms[room].footprint)
            idx = np.arange(0, len(walk.s), 5)
            inside = shapely.contains_xy(poly, walk.pts[idx, 0], walk.pts[idx, 1])
            cams, heads = walk.pts[idx][inside], walk.psi[idx][inside]
            if len(cams):
                vis = view.in_sight(cams) & _in_view(cams, heads, view.bins, half)
                seen[room] |= vis.any(axis=0)
    looks = []
    for k, (room, spot) in enumerate(stops):
        view = views[room]
        sight = view.in_sight(spot[None])[0]
        need = view.bins[sight & ~seen[room]] - spot
        seen[room] |= sight
        start = float(walks[k - 1].psi[-1]) if k > 0 else None
        end = float(walks[k].psi[0]) if k < len(walks) else None
        looks.append(_Look(room, spot, _sweep(np.arctan2(need[:, 1], need[:, 0]), half, start, end)))
    return looks, seen


def _name(scene: Scene, k: int) -> str:
    return scene.rooms[k].function or scene.rooms[k].name or "room"


def plan_tour(
    scene: Scene,
    video: VideoSpec,
    rule: VisibilityRule,
    K: np.ndarray,
    rng: np.random.Generator,
    measure: Measure,
    rooms: list[int] | None = None,
) -> Plan:
    """A tour of ``rooms`` (indices into ``scene.rooms``; None: every room) filling ``video``
    exactly, for a camera with intrinsics ``K`` (3x3, at ``video``'s size). Its targets are the
    objects the room holds (``supported_by == ROOM_ID``: standing on the floor or hung on a wall),
    their coverage measured once, on all frames, by ``measure`` (visible pixels per object per
    frame). No object moves. ``ValueError`` for rooms the scene does not have; ``NoCameraPath``
    (one line) when a room asked for cannot be reached through passable doorways, leaves no room
    for the camera, or the tour does not fit in the video."""
    if not scene.rooms:
        raise NoCameraPath(f"scene {scene.seed} declares no rooms: a tour walks through rooms")
    asked = list(range(len(scene.rooms))) if rooms is None else list(dict.fromkeys(rooms))
    if not asked or any(not 0 <= k < len(scene.rooms) for k in asked):
        raise ValueError(f"rooms {rooms} are not a non-empty list of room indices below {len(scene.rooms)}")
    eye, pace = float(rng.uniform(*EYE_HEIGHT)), float(rng.uniform(*WALK_SPEED))
    half = horizontal_fov(K, video.width) / 2 - VIEW_MARGIN
    rise = math.tan(vertical_fov(K, video.height) / 2 + PITCH)
    span = (video.frames - 1) / video.fps
    route = _plan_route(scene, asked, span, eye, pace, half, rise, rng)
    shortest = route.duration(0.0)
    if shortest > span:
        walked = sum(w.length for w in route.walks)
        raise NoCameraPath(
            f"a tour of rooms {[lk.room for lk in route.looks]} needs at least {shortest:.1f} s "
            f"({walked:.1f} m of walking and {len(route.looks)} look-arounds); the video spans {span:.1f} s"
        )
    lo, hi = 0.0, 1.0
    while route.duration(hi) < span:
        lo, hi = hi, hi * 2
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if route.duration(mid) <= span else (lo, mid)
    ts, ps, hs = route.samples(lo, span - route.duration(lo))
    times = np.arange(video.frames) / video.fps
    pos = np.column_stack([np.interp(times, ts, ps[:, 0]), np.interp(times, ts, ps[:, 1])])
    head = np.interp(times, ts, hs)
    K = as_tuples(np.asarray(K, dtype=float))
    poses = list(rest_poses(scene).values())
    frames = []
    for f in range(video.frames):
        eye = np.array([pos[f, 0], pos[f, 1], route.eye])
        look = eye + np.array(
            [math.cos(head[f]) * math.cos(PITCH), math.sin(head[f]) * math.cos(PITCH), math.sin(PITCH)]
        )
        cam = CameraFrame(K=K, world_to_camera=as_tuples(look_at(eye, look)))
        frames.append(Frame(index=f, time=float(times[f]), camera=cam, object_poses=poses))
    vis = measure(frames)
    targets = [
        Coverage(
            id=o.id,
            frames_visible=sum(p >= rule.min_pixels for p in vis.get(o.id, [])),
            max_pixels=max(vis.get(o.id, [0])),
        )
        for o in scene.objects
        if o.supported_by == ROOM_ID
    ]
    covered = sum(c.frames_visible >= rule.min_frames for c in targets) / max(1, len(targets))
    return Plan(frames=frames, actions=ego_actions(pos, head), motions=[], targets=targets, coverage=covered)


def camera_track(frames: list[Frame]) -> tuple[np.ndarray, np.ndarray]:
    """Camera positions (F, 3) and headings (F,) (unwrapped radians, from each camera's forward
    axis seen from above) of ``frames``."""
    pos = np.array([camera_center(f.camera.world_to_camera) for f in frames])
    fwd = np.array([np.asarray(f.camera.world_to_camera)[2, :2] for f in frames])
    return pos, np.unwrap(np.arctan2(fwd[:, 1], fwd[:, 0]))


def tour_stats(plan: Plan, scene: Scene) -> TourStats:
    """What a tour did, from its frames: per room the seconds the camera spent in it (frames
    whose camera stands in it, as ``synth.core.evidence.camera_rooms`` counts them, over the
    frame rate) and whether it entered; path length; top speed and yaw rate between frames; the
    share of frames facing a wall at close range (the line ``VIEW_DISTANCE`` straight ahead leaves
    the rooms and the doorways between them)."""
    pos, head = camera_track(plan.frames)
    dt = np.diff([f.time for f in plan.frames])
    fps = 1.0 / float(np.median(dt)) if len(dt) else 1.0
    steps = np.linalg.norm(np.diff(pos[:, :2], axis=0), axis=1)
    where = room_of(scene.rooms, pos[:, :2], ROOM_REACH)
    rooms = [
        RoomStats(room=k, function=r.function, seconds=round(int(n) / fps, 3), entered=bool(n))
        for k, r in enumerate(scene.rooms)
        for n in [(where == k).sum()]
    ]
    floor = _floor(scene, passages(scene))
    ahead = pos[:, :2] + VIEW_DISTANCE * np.column_stack([np.cos(head), np.sin(head)])
    facing = ~shapely.covers(floor, shapely.linestrings(np.stack([pos[:, :2], ahead], axis=1)))
    return TourStats(
        rooms=rooms,
        path_length=round(float(steps.sum()), 3),
        max_speed=round(float((steps / dt).max()) if len(dt) else 0.0, 3),
        max_yaw_rate=round(math.degrees(float((np.abs(np.diff(head)) / dt).max())) if len(dt) else 0.0, 2),
        facing_wall=round(float(facing.mean()), 3),
    )
