"""Floor plans of small homes: 3-8 rectangular or L-shaped rooms with functions, laid out on a
0.5 m grid and connected by doorways.

Why not Infinigen Indoors' solver: probed for this issue, its fast mode made the same five-room
house for every seed, and its full solver took 15-96 s per house for 9-14 rooms of 157-430 m²
with hard-coded targets and no office; this generator takes milliseconds.

Method. Each room gets a target area from its function's range (``SPECS``). A house with a
hallway is a spine: the hallway runs along the house between one or two bands of rooms, with
the living room (and perhaps the kitchen or dining room) across one end; a house without one is
a single outline. A band, an end block or an outline is cut into rooms by recursive guillotine
splits (a treemap: the longer side is cut at the share of the area on either side, snapped to
the grid). An L-shaped room is two pieces cut next to each other whose union is an L. A layout
whose rooms miss their function's area, width or proportions is drawn again.

Conventions. Grid lines are the centre lines of walls: a room's footprint is its cells shrunk
by ``HALF_WALL`` (0.1 m) on every side, so neighbouring footprints are 0.2 m apart, the walls
``room_meshes`` builds 0.1 m thick outside each footprint filling the gap. Footprints are
counter-clockwise, metres. Doorways sit on a piece of wall two rooms share (both list it,
paired across the wall: ``Doorway``), 0.8-1.1 m wide, 2.0-2.1 m high, at least ``CORNER`` from
either end of that piece. The passable doorways (no leaf or an open one, ``PASSABLE``) form a
spanning tree of the rooms, so every room is reachable; a few more doorways close cycles with
their leaf ajar or closed (the passable floor stays one region without holes). Bedrooms,
bathrooms and offices hang a door on their side; living room, kitchen, dining room and hallway
mostly share open doorways. A house may have a closed front door (``to_room`` -1) in the
hallway or living room. No door leaf (at its angle: closed, ajar or open) stands in the
``front`` of another doorway of its room, the floor the tour camera crosses to reach that
doorway (``FRONT`` deep): where one would, the doorway hangs its leaf from the other end of the
opening or moves along its piece of wall (an extra doorway is left out where neither helps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from shapely.geometry import Polygon, box
from shapely.geometry.polygon import orient
from shapely.ops import unary_union

from synth.backends.procedural.settings import MAX_ROOMS, MIN_ROOMS, check_rooms
from synth.core.geometry import door_leaf, footprint
from synth.core.scene import Doorway, Vec2
from synth.planning.tour import APPROACH, CLEARANCE, PLAN_MARGIN

GRID = 0.5  # metres between wall centre lines
HALF_WALL = 0.1  # metres from a wall's centre line to the footprint (interior walls are 0.2 m)
L_ARM = 4  # cells: an L's second piece is at least 1.8 m across
CORNER = 0.25  # metres from a doorway's opening to the end of the wall piece it is on
HEIGHTS = (2.3, 3.2)  # ceiling height of a house, metres
PRIVATE = ("bathroom", "bedroom", "office")  # rooms that hang a door
# metres in front of a doorway kept free of furniture and of other doorways' leaves: the tour
# camera's approach point (``tour.APPROACH``) and the clearance it keeps around it
FRONT = APPROACH + CLEARANCE + PLAN_MARGIN
CASING_CLEAR = 0.1  # metres beside an opening kept free too (the casing is 7 cm)


@dataclass(frozen=True)
class Spec:
    """What a room of one function measures: footprint area (m²), the narrower side of the
    room (or of each arm of an L; metres), the longest side over the shortest (its bounding box)."""

    area: tuple[float, float]
    width: tuple[float, float]
    aspect: float


SPECS: dict[str, Spec] = {
    "living room": Spec((14.0, 35.0), (3.0, 7.0), 2.2),
    "dining room": Spec((9.0, 20.0), (2.6, 5.0), 2.0),
    "kitchen": Spec((6.0, 18.0), (1.9, 5.0), 2.6),
    "bedroom": Spec((9.0, 18.0), (2.6, 4.5), 2.0),
    "office": Spec((6.0, 14.0), (2.0, 4.0), 2.2),
    "bathroom": Spec((3.5, 8.0), (1.5, 3.0), 2.2),
    "hallway": Spec((2.5, 15.0), (1.1, 1.8), 12.0),
}


@dataclass(frozen=True)
class PlanRoom:
    """One room of a plan: its function, footprint (counter-clockwise, metres), the walls (edge
    indices) on the house's outline, and its doorways."""

    function: str
    shape: Literal["rectangular", "L-shaped"]
    footprint: list[Vec2]
    exterior: tuple[int, ...]
    doorways: list[Doorway] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    rooms: list[PlanRoom]
    height: float  # ceiling height of every room, metres
    outline: tuple[float, float, float, float]  # the house's wall centre lines: x0, y0, x1, y1 (metres)


def sample_plan(
    rng: np.random.Generator, rooms: int | None = None, attempts: int = 400, max_rooms: int = MAX_ROOMS
) -> Plan:
    """A floor plan drawn from ``rng`` with ``rooms`` rooms (None: 3 to ``max_rooms``, uniformly).
    ``ValueError`` for an impossible count (``check_rooms``); ``RuntimeError`` if no layout passes
    in ``attempts`` draws (the rate measured is well above 1 in 20)."""
    check_rooms(rooms, max_rooms)
    n = int(rng.integers(MIN_ROOMS, max_rooms + 1)) if rooms is None else rooms
    functions = _functions(n, rng)
    # 40% of the houses try an L-shaped living room, kitchen or dining room (two pieces: keys i and
    # i + n), given up half way (smaller rooms leave arms too narrow)
    shaped = [i for i, f in enumerate(functions) if f in ("living room", "kitchen", "dining room")]
    l_room = int(rng.choice(shaped)) if rng.random() < 0.4 else -1
    for attempt in range(attempts):
        plan = _try_plan(functions, l_room if attempt < attempts // 2 else -1, rng)
        if plan is not None:
            return plan
    raise RuntimeError(f"no floor plan for {functions} in {attempts} draws")


def _functions(n: int, rng: np.random.Generator) -> list[str]:
    """What the ``n`` rooms are for: a living room and a bathroom, then a bedroom and a kitchen
    (one of them in a three-room home), often a hallway from five rooms on, then more bedrooms,
    offices, a dining room and a second bathroom."""
    out = ["living room", "bathroom"]
    out += [str(rng.choice(["bedroom", "kitchen"]))] if n == 3 else ["bedroom", "kitchen"]
    if n >= 5 and rng.random() < (0.7 if n == 5 else 0.9):
        out.append("hallway")
    while len(out) < n:
        options = {"bedroom": 3.0, "office": 1.5, "dining room": 0.0 if "dining room" in out else 1.5}
        if n >= 6 and out.count("bathroom") < 2:
            options["bathroom"] = 1.0
        names = sorted(options)
        weights = np.array([options[k] for k in names])
        out.append(str(rng.choice(names, p=weights / weights.sum())))
    return out


Cell = tuple[int, int, int, int]  # x0, y0, x1, y1 in grid units


def _cell_area(area: float) -> float:
    """Grid area (cells) a footprint of ``area`` m² takes with its half walls, as a square."""
    return (math.sqrt(area) + 2 * HALF_WALL) ** 2 / GRID**2


def _treemap(
    rect: Cell, items: list[tuple[int, float]], rng: np.random.Generator, pair: int
) -> list[tuple[int, Cell]] | None:
    """Cut ``rect`` among ``items`` ((key, cells wanted), in order) by guillotine cuts at the
    share of area on either side: of the cuts (either direction, after any item), one that keeps
    single rooms nearest to square (with a random jitter); None where a piece would be empty.
    Items that start with keys ``k, k + pair`` are an L-shaped room's two pieces: they stay
    together with the item after them, the three cut by ``_l_cut``."""
    if len(items) == 1:
        return [(items[0][0], rect)]
    l_first = len(items) >= 3 and items[1][0] == items[0][0] + pair
    if l_first and len(items) == 3:
        return _l_cut(rect, items, rng)
    x0, y0, x1, y1 = rect
    areas = np.array([a for _, a in items])
    options = []
    for along_x in (True, False):
        length, across = (x1 - x0, y1 - y0) if along_x else (y1 - y0, x1 - x0)
        for k in range(3 if l_first else 1, len(items)):
            cut = int(round(length * areas[:k].sum() / areas.sum()))
            if not 1 <= cut <= length - 1:
                continue
            score = rng.uniform(0.0, 0.4)
            for side, count in ((cut, k), (length - cut, len(items) - k)):
                ratio = max(side, across) / min(side, across)
                score += ratio if count == 1 else max(1.0, ratio / count)
            options.append((score, along_x, k, cut))
    if not options:
        return None
    _, along_x, k, cut = min(options)
    if along_x:
        a, b = (x0, y0, x0 + cut, y1), (x0 + cut, y0, x1, y1)
    else:
        a, b = (x0, y0, x1, y0 + cut), (x0, y0 + cut, x1, y1)
    left, right = _treemap(a, items[:k], rng, pair), _treemap(b, items[k:], rng, pair)
    return None if left is None or right is None else left + right


def _l_cut(rect: Cell, items: list[tuple[int, float]], rng: np.random.Generator) -> list[tuple[int, Cell]] | None:
    """The first two of three items (an L-shaped room's pieces) as a strip across one end of
    ``rect`` and a strip along one side of the rest, at least ``L_ARM`` cells thick, which meet
    in an L of the two pieces' area; the third item in what is left."""
    x0, y0, x1, y1 = rect
    areas = [a for _, a in items]
    along_x = x1 - x0 > y1 - y0 or (x1 - x0 == y1 - y0 and rng.random() < 0.5)  # cut across the longer side
    flip_u, flip_v = (bool(rng.random() < 0.5) for _ in range(2))
    length, across = (x1 - x0, y1 - y0) if along_x else (y1 - y0, x1 - x0)
    cut2 = max(L_ARM, int(round(across * areas[1] / sum(areas[1:]))))
    if cut2 >= across:
        return None
    cut = int(round((areas[0] + areas[1] - cut2 * length) / (across - cut2)))  # the L keeps its area
    if not 1 <= cut <= length - 1:
        return None

    def cell(u0: int, v0: int, u1: int, v1: int) -> Cell:
        if flip_u:
            u0, u1 = length - u1, length - u0
        if flip_v:
            v0, v1 = across - v1, across - v0
        return (x0 + u0, y0 + v0, x0 + u1, y0 + v1) if along_x else (x0 + v0, y0 + u0, x0 + v1, y0 + u1)

    return [
        (items[0][0], cell(0, 0, cut, across)),
        (items[1][0], cell(cut, 0, length, cut2)),
        (items[2][0], cell(cut, cut2, length, across)),
    ]


def _try_plan(functions: list[str], l_room: int, rng: np.random.Generator) -> Plan | None:
    """One draw of a layout for rooms of ``functions`` (room ``l_room`` L-shaped, -1: none)."""
    n = len(functions)
    targets = [float(rng.uniform(lo + (hi - lo) * 0.1, lo + (hi - lo) * 0.75)) for lo, hi in
               (SPECS[f].area for f in functions)]  # fmt: skip
    if "hallway" in functions:
        cells = _spine(functions, targets, l_room, rng)
    else:
        items = _items(list(range(n)), targets, l_room, rng)
        total = sum(a for _, a in items)
        aspect = rng.uniform(1.0, 1.7)
        w = max(2, int(round(math.sqrt(total * aspect))))
        cells = _treemap((0, 0, w, max(2, int(round(total / w)))), items, rng, n)
    if cells is None:
        return None
    pieces: dict[int, list[Cell]] = {}
    for key, cell in cells:
        pieces.setdefault(key % n, []).append(cell)
    xs = [c[0] for _, c in cells] + [c[2] for _, c in cells]
    ys = [c[1] for _, c in cells] + [c[3] for _, c in cells]
    outline = (min(xs) * GRID, min(ys) * GRID, max(xs) * GRID, max(ys) * GRID)
    rooms = []
    for i, f in enumerate(functions):
        room = _room(f, pieces[i], outline)
        if room is None:
            return None
        rooms.append(room)
    height = round(float(rng.uniform(*HEIGHTS)), 3)
    rooms = _connect(rooms, rng, height)
    return None if rooms is None else Plan(rooms=rooms, height=height, outline=outline)


def _items(keys: list[int], targets: list[float], l_room: int, rng: np.random.Generator) -> list[tuple[int, float]]:
    """Treemap items for rooms ``keys`` in random order, the L-shaped room first, as two pieces."""
    n = len(targets)
    order = sorted((keys[i] for i in rng.permutation(len(keys))), key=lambda k: k != l_room)
    items: list[tuple[int, float]] = []
    for k in order:
        if k == l_room:
            share = rng.uniform(0.6, 0.75)
            items += [(k, _cell_area(targets[k] * share)), (k + n, _cell_area(targets[k] * (1 - share)))]
        else:
            items.append((k, _cell_area(targets[k])))
    return items


def _spine(
    functions: list[str], targets: list[float], l_room: int, rng: np.random.Generator
) -> list[tuple[int, Cell]] | None:
    """A hallway between one or two bands of rooms, with the living room (and maybe the kitchen
    or dining room) across one end (often)."""
    n = len(functions)
    hall = functions.index("hallway")
    others = [i for i in range(n) if i != hall]
    end = []
    if rng.random() < 0.65:
        end = [functions.index("living room")]
        extra = [i for i in others if functions[i] in ("kitchen", "dining room")]
        if extra and rng.random() < 0.4:
            end.append(int(rng.choice(extra)))
    banded = [i for i in others if i not in end]
    bands: list[list[int]] = [[], []]
    for i in (banded[j] for j in rng.permutation(len(banded))):
        sums = [sum(targets[k] for k in b) for b in bands]
        bands[int(np.argmin(sums)) if rng.random() < 0.8 else int(rng.integers(2))].append(i)
    bands = [b for b in bands if b]
    if not bands:
        return None
    width = int(rng.choice([3, 4]))  # hallway cells: 1.3 or 1.8 m footprints
    areas = [sum(_cell_area(targets[k]) for k in b) for b in bands]
    depths = [float(np.clip(math.sqrt(a / len(b)) * rng.uniform(0.85, 1.2), 5, 11)) for a, b in zip(areas, bands)]
    length = int(round(max(a / d for a, d in zip(areas, depths))))
    depths_cells = [max(5, int(round(a / length))) for a in areas]
    out: list[tuple[int, Cell]] = []
    y = 0
    spans = []
    for b, d in zip(bands, depths_cells):
        spans.append((b, y, y + d))
        y += d
        if len(spans) == 1:
            out.append((hall, (0, y, length, y + width)))
            y += width
    for b, y0, y1 in spans:
        cut = _treemap((0, y0, length, y1), _items(b, targets, l_room, rng), rng, n)
        if cut is None:
            return None
        out += cut
    if end:
        depth = y
        end_cells = sum(_cell_area(targets[k]) for k in end)
        # a lone room across the end no narrower than its proportions allow
        w = max(
            5, int(round(end_cells / depth)), math.ceil(depth / SPECS[functions[end[0]]].aspect) if len(end) == 1 else 0
        )
        cut = _treemap((-w, 0, 0, depth), _items(end, targets, l_room, rng), rng, n)
        if cut is None:
            return None
        out += cut
    if rng.random() < 0.5:  # the end block on the right
        out = [(k, (-c[2], c[1], -c[0], c[3])) for k, c in out]
    return out


def _room(function: str, cells: list[Cell], outline: tuple[float, float, float, float]) -> PlanRoom | None:
    """The room on ``cells`` if it measures up to its function (``SPECS``), else None."""
    spec = SPECS[function]
    rects = [box(*(v * GRID for v in c)) for c in cells]
    union = unary_union(rects)
    if union.geom_type != "Polygon":
        return None
    shape = orient(union.buffer(-HALF_WALL, join_style="mitre").simplify(1e-6), 1.0)
    pts = [(round(x, 3), round(y, 3)) for x, y in shape.exterior.coords[:-1]]
    if len(pts) not in (4, 6):
        return None
    area = Polygon(pts).area
    if not spec.area[0] <= area <= spec.area[1]:
        return None
    sides = [sorted((r.bounds[2] - r.bounds[0], r.bounds[3] - r.bounds[1])) for r in rects]
    narrow = min(s[0] for s in sides) - 2 * HALF_WALL
    if len(pts) == 4 and not spec.width[0] <= narrow <= spec.width[1]:
        return None
    if len(pts) == 6:  # an L: its larger piece as wide as the function asks, the other at least 1.4 m (a nook)
        main = max(range(len(rects)), key=lambda k: rects[k].area)
        if sides[main][0] - 2 * HALF_WALL < spec.width[0] or narrow < 1.4:
            return None
    x0, y0, x1, y1 = Polygon(pts).bounds
    if max(x1 - x0, y1 - y0) > spec.aspect * min(x1 - x0, y1 - y0):
        return None
    lines = (outline[0] + HALF_WALL, outline[1] + HALF_WALL, outline[2] - HALF_WALL, outline[3] - HALF_WALL)
    exterior = tuple(i for i in range(len(pts)) if _on_outline(pts[i], pts[(i + 1) % len(pts)], lines))
    return PlanRoom(function, "rectangular" if len(pts) == 4 else "L-shaped", pts, exterior)


def _on_outline(a: Vec2, b: Vec2, lines: tuple[float, float, float, float]) -> bool:
    """Whether the wall from ``a`` to ``b`` lies on the house's outline (shrunk to the footprints)."""
    x0, y0, x1, y1 = lines
    return any(abs(a[0] - x) < 1e-6 and abs(b[0] - x) < 1e-6 for x in (x0, x1)) or any(
        abs(a[1] - y) < 1e-6 and abs(b[1] - y) < 1e-6 for y in (y0, y1)
    )


@dataclass(frozen=True)
class _Shared:
    """A piece of wall rooms ``i`` and ``j`` share: their walls (edge indices) and the piece,
    ``[lo_i, hi_i]`` metres along i's wall from its first corner (j's wall runs the other way)."""

    i: int
    j: int
    wall_i: int
    wall_j: int
    lo_i: float
    hi_i: float
    corner_j: float  # where j's wall starts, metres along i's wall: a point t along i's is corner_j - t along j's

    @property
    def length(self) -> float:
        return self.hi_i - self.lo_i


def _shared(rooms: list[PlanRoom], i: int, j: int) -> _Shared | None:
    """The longest piece of wall rooms ``i`` and ``j`` face each other across (0.2 m apart), if
    a doorway fits on it."""
    best = None
    a_pts, b_pts = np.asarray(rooms[i].footprint), np.asarray(rooms[j].footprint)
    for ei in range(len(a_pts)):
        p, q = a_pts[ei], a_pts[(ei + 1) % len(a_pts)]
        u = (q - p) / np.linalg.norm(q - p)
        out = np.array([u[1], -u[0]])
        for ej in range(len(b_pts)):
            r, s = b_pts[ej], b_pts[(ej + 1) % len(b_pts)]
            v = (s - r) / np.linalg.norm(s - r)
            if np.dot(u, v) > -0.999 or abs(np.dot(r - p, out) - 2 * HALF_WALL) > 1e-6:
                continue
            lo, hi = max(0.0, float(np.dot(s - p, u))), min(float(np.linalg.norm(q - p)), float(np.dot(r - p, u)))
            if hi - lo >= 0.8 + 2 * CORNER - 1e-9 and (best is None or hi - lo > best.length):
                best = _Shared(i, j, ei, ej, lo, hi, float(np.dot(r - p, u)))
    return best


def _connect(rooms: list[PlanRoom], rng: np.random.Generator, height: float) -> list[PlanRoom] | None:
    """Rooms with doorways: a spanning tree of passable ones (cheapest pairs first: hallways and
    living rooms as hubs, bathrooms off bedrooms, hallways or living rooms), some extra ones with
    a leaf ajar or closed, perhaps a front door; None where the rooms cannot all be connected."""
    n = len(rooms)
    pairs = [s for i in range(n) for j in range(i + 1, n) if (s := _shared(rooms, i, j)) is not None]
    cost = {(s.i, s.j): rng.uniform(0, 1) + _pair_cost(rooms[s.i].function, rooms[s.j].function) for s in pairs}
    parent = list(range(n))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    tree, rest = [], []
    for s in sorted(pairs, key=lambda s: cost[(s.i, s.j)]):
        a, b = root(s.i), root(s.j)
        if a != b:
            parent[a] = b
            tree.append(s)
        else:
            rest.append(s)
    if len(tree) != n - 1:
        return None
    doorways: list[list[Doorway]] = [[] for _ in rooms]
    for s in tree:
        if not _add_doorway(rooms, doorways, s, rng, passable=True):
            return None
    for s in rest:
        fs = {rooms[s.i].function, rooms[s.j].function}
        if "bathroom" not in fs and rng.random() < 0.3:
            _add_doorway(rooms, doorways, s, rng, passable=False)
    if rng.random() < 0.7:
        _front_door(rooms, doorways, rng)
    if any(d.height >= height for ds in doorways for d in ds):
        return None
    return [PlanRoom(r.function, r.shape, r.footprint, r.exterior, ds) for r, ds in zip(rooms, doorways)]


def _pair_cost(a: str, b: str) -> float:
    """How unlikely two rooms are to share a doorway (added to a uniform 0-1 draw)."""
    fs = sorted((a, b))
    if "hallway" in fs:
        return -1.0
    if "bathroom" in fs:
        other = fs[0] if fs[1] == "bathroom" else fs[1]
        return {"bedroom": 0.3, "living room": 0.8, "bathroom": 5.0}.get(other, 3.0)
    if fs == ["bedroom", "bedroom"] or ("kitchen" in fs and "bedroom" in fs):
        return 1.5
    if "living room" in fs:
        return -0.5
    return 0.5


def _add_doorway(
    rooms: list[PlanRoom], doorways: list[list[Doorway]], s: _Shared, rng: np.random.Generator, passable: bool
) -> bool:
    """A doorway on the shared piece ``s``: a leaf on the private room's side (the larger room's
    where both or neither are private), open where ``passable``, else ajar or closed. Where a
    leaf would stand in the ``front`` of another doorway (``leaves_clear``), the leaf hangs from
    the opening's other end, else the doorway moves along the piece (to the nearest of nine
    places); False (nothing added) where no place and hinge keeps the leaves clear."""
    fi, fj = rooms[s.i].function, rooms[s.j].function
    private = [k for k, f in ((s.i, fi), (s.j, fj)) if f in PRIVATE]
    leaf = None
    if private or not passable:
        candidates = private or [k for k in (s.i, s.j) if rooms[k].function != "hallway"] or [s.i, s.j]
        leaf = max(candidates, key=lambda k: Polygon(rooms[k].footprint).area)
    if leaf is not None:
        width = float(rng.uniform(0.8, 0.86 if "bathroom" in (fi, fj) else 0.95))
    else:
        width = float(rng.uniform(0.9, 1.1))
    width = round(min(width, s.length - 2 * CORNER), 3)
    lo, hi = s.lo_i + CORNER + width / 2, s.hi_i - CORNER - width / 2
    if hi < lo:  # a piece just long enough (rounding)
        lo = hi = (lo + hi) / 2
    mode = rng.random()
    if mode < 0.4:  # near one end of the piece, as most doors are
        centre = lo + 0.05 if rng.random() < 0.5 else hi - 0.05
        centre = min(max(centre, lo), hi)
    elif mode < 0.7:
        centre = (lo + hi) / 2
    else:
        centre = float(rng.uniform(lo, hi))
    height = round(float(rng.uniform(2.0, 2.1)), 3)
    state = "open" if passable else str(rng.choice(["ajar", "closed"]))
    places = [centre, *sorted(np.linspace(lo, hi, 9), key=lambda c: abs(c - centre))]
    for centre_i in (round(float(c), 3) for c in places):
        centre_j = round(s.corner_j - centre_i, 3)
        for flip in (False, True) if leaf is not None else (False,):
            pair = []
            for k, wall, c, other in ((s.i, s.wall_i, centre_i, s.j), (s.j, s.wall_j, centre_j, s.i)):
                hinge = _hinge(rooms[k], wall, c)
                if flip and k == leaf:
                    hinge = "left" if hinge == "right" else "right"
                door = state if k == leaf else "none"
                pair.append((k, Doorway(wall=wall, center=c, width=width, height=height, to_room=other, door=door,
                                        hinge=hinge)))  # fmt: skip
            if all(leaves_clear(rooms[k], [*doorways[k], d]) for k, d in pair):
                for k, d in pair:
                    doorways[k].append(d)
                return True
    return False


def front(corners: list[Vec2], doorway: Doorway, depth: float = FRONT) -> Polygon:
    """The floor in front of ``doorway`` of the room with footprint ``corners``: as wide as its
    opening and ``CASING_CLEAR`` beside it, from 1 cm inside the wall to ``depth`` metres into the
    room."""
    a, b = np.asarray(corners[doorway.wall], float), np.asarray(corners[(doorway.wall + 1) % len(corners)], float)
    u = (b - a) / np.linalg.norm(b - a)
    n = np.array([-u[1], u[0]])  # into the room (counter-clockwise footprint)
    s0 = doorway.center - doorway.width / 2 - CASING_CLEAR
    s1 = doorway.center + doorway.width / 2 + CASING_CLEAR
    return Polygon([tuple(a + u * s + n * t) for s, t in ((s0, -0.01), (s1, -0.01), (s1, depth), (s0, depth))])


def leaves_clear(room: PlanRoom, doorways: list[Doorway]) -> bool:
    """Whether no door leaf hung in ``doorways`` (of ``room``; at its angle: closed, ajar or open)
    stands in the ``front`` of another of them."""
    leaves = [(d, footprint(leaf)) for d in doorways if (leaf := door_leaf(room, d)) is not None]
    return not any(
        shadow.intersects(front(room.footprint, other)) for d, shadow in leaves for other in doorways if other is not d
    )


def _hinge(room: PlanRoom, wall: int, centre: float) -> Literal["left", "right"]:
    """The end of the opening nearer its wall's nearer corner: the leaf opens against that wall."""
    a, b = room.footprint[wall], room.footprint[(wall + 1) % len(room.footprint)]
    return "left" if centre <= math.dist(a, b) / 2 else "right"


def _front_door(rooms: list[PlanRoom], doorways: list[list[Doorway]], rng: np.random.Generator) -> None:
    """A closed front door on an outside wall of the hallway (else the living room), clear of
    the doorways there and of their leaves (``leaves_clear``); none where no outside wall has
    room for one."""
    for function in ("hallway", "living room"):
        if function not in (r.function for r in rooms):
            continue
        k = [r.function for r in rooms].index(function)
        room = rooms[k]
        width = round(float(rng.uniform(0.85, 1.0)), 3)
        for wall in (int(w) for w in rng.permutation(list(room.exterior))):
            length = math.dist(room.footprint[wall], room.footprint[(wall + 1) % len(room.footprint)])
            lo, hi = CORNER + width / 2, length - CORNER - width / 2
            if hi < lo:
                continue
            centre = round(float(rng.uniform(lo, hi)), 3)
            taken = [d for d in doorways[k] if d.wall == wall]
            door = Doorway(wall=wall, center=centre, width=width, height=2.0, to_room=-1, door="closed",
                           hinge=_hinge(room, wall, centre))  # fmt: skip
            if all(abs(d.center - centre) > (d.width + width) / 2 + 0.3 for d in taken) and leaves_clear(
                room, [*doorways[k], door]
            ):
                doorways[k].append(door.model_copy(update={"height": round(float(rng.uniform(2.0, 2.1)), 3)}))
                return
        return
