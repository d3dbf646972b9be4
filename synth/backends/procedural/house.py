"""Furnished multi-room houses for the procedural source (``--layout house``).

A house is a floor plan (``synth.backends.procedural.floorplan``: 3-8 rooms with functions,
doorways with doors, one ceiling height) whose rooms get finishes by function (tiles in
bathrooms), furniture by function (``synth.backends.procedural.furnish``), windows on outside
walls only (clear of doorways and of tall furniture: ``sampler.place_windows``), wall art,
mirrors and rugs, ceiling lights per room (``sampler.ceiling_lights``) and one sun. What
stands, lies or hangs where is ``furnish``'s docstring: wall art and mirrors hang on walls with
``supported_by`` 0 (the room), centre 1.2-1.8 m high, back 5 mm from the wall.
``Scene.navigable`` is the floor a walker may cross: the rooms' footprints joined by the strips
of wall of the passable doorways (no furniture subtracted), one counter-clockwise ring without
holes (the passable doorways form a tree).

Same seed, same house. A room whose required furniture does not fit (a bedroom without its bed),
or whose furniture (with its wall art, mirrors and door leaves) leaves the tour camera no way
between its doorways and into the room (``Furnisher.walkable``), is furnished again from another
random stream; the house is drawn again after eight.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient
from shapely.ops import unary_union

from synth.backends.procedural.catalog import COLORS, FLOOR_FINISHES, MUTED_COLORS, WALL_FINISHES
from synth.backends.procedural.floorplan import Plan, sample_plan
from synth.backends.procedural.furnish import Furnisher
from synth.backends.procedural.infinigen_assets import InfinigenAssets
from synth.backends.procedural.sampler import CEILING, ceiling_lights, finish, place_windows, sun_light
from synth.backends.procedural.settings import MAX_ROOMS, check_rooms
from synth.core.scene import PASSABLE, Room, Scene, SceneObject, Vec2, Window

ATTEMPTS = 20  # houses drawn per seed before giving up
FURNISH_TRIES = 8  # random streams per room before the house is drawn again
FLOORS = {  # floor finishes by function (default: any)
    "bathroom": ("gray tiles", "white tiles"),
    "kitchen": ("gray tiles", "white tiles", "oak parquet", "dark wood"),
    "bedroom": ("oak parquet", "dark wood", "beige carpet"),
    "office": ("oak parquet", "dark wood", "beige carpet"),
}
ART = {"living room": (1, 3), "bedroom": (1, 2), "dining room": (1, 2), "office": (0, 2), "hallway": (0, 2),
       "kitchen": (0, 1), "bathroom": (0, 0)}  # fmt: skip
RUGS = {"living room": 0.7, "bedroom": 0.6, "office": 0.3, "dining room": 0.2, "hallway": 0.3}
MIRRORS = {"hallway": 0.4, "bedroom": 0.3}


def sample_house(
    seed: int, rooms: int | None = None, assets: InfinigenAssets | None = None, max_rooms: int = MAX_ROOMS
) -> Scene:
    """A furnished house of ``rooms`` rooms (None: 3 to ``max_rooms``, drawn from the seed; the
    default ``max_rooms`` 8 draws the houses it always drew). With ``assets``, the categories it
    has factories for are Infinigen meshes. ``ValueError`` (one line) for an impossible request
    (``check_rooms``); ``RuntimeError`` where no house comes out of ``ATTEMPTS`` draws."""
    check_rooms(rooms, max_rooms)
    for attempt in range(ATTEMPTS):
        scene = _try_house(seed, attempt, rooms, assets, max_rooms)
        if scene is not None:
            return scene
    raise RuntimeError(f"no house for seed {seed} in {ATTEMPTS} draws")


def _try_house(
    seed: int, attempt: int, rooms: int | None, assets: InfinigenAssets | None, max_rooms: int
) -> Scene | None:
    rng = np.random.default_rng([seed, attempt])
    plan = sample_plan(rng, rooms, max_rooms=max_rooms)
    colors = MUTED_COLORS if assets is not None else tuple(sorted(COLORS))
    dine = _dining_place(plan)
    names = _names([r.function for r in plan.rooms])
    objects: list[SceneObject] = []
    used: set[str] = set()
    out_rooms, lights = [], []
    for k, pr in enumerate(plan.rooms):
        floors = {n: FLOOR_FINISHES[n] for n in FLOORS.get(pr.function, FLOOR_FINISHES)}
        room = Room(
            shape=pr.shape,
            footprint=pr.footprint,
            height=plan.height,
            wall=finish(WALL_FINISHES, 0.9, rng),
            floor=finish(floors, 0.6, rng),
            ceiling=CEILING,
            name=names[k],
            function=pr.function,
            doorways=pr.doorways,
        )
        avoid = [(d.wall, d.center - d.width / 2 - 0.15, d.center + d.width / 2 + 0.15) for d in room.doorways]
        for tries in range(FURNISH_TRIES):
            furnisher = Furnisher(room, len(objects) + 1, np.random.default_rng([seed, attempt, k, tries]),
                                  assets, colors, set(used))  # fmt: skip
            if not _furnish(furnisher, pr.function, dine == k):
                continue
            windows = place_windows(room, furnisher.rng, list(pr.exterior), avoid + furnisher.tall_spans())
            _decorate(furnisher, pr.function, windows)
            if furnisher.walkable():
                break
        else:
            return None
        room = room.model_copy(update={"windows": windows})
        objects += furnisher.objects
        used = furnisher.used
        out_rooms.append(room)
        lights += ceiling_lights(room, furnisher.rng)
    x0, y0, x1, y1 = plan.outline
    lights.append(sun_light(((x0 + x1) / 2, (y0 + y1) / 2), plan.height, rng))
    scene = Scene(seed=seed, simulator="procedural", rooms=out_rooms, lights=lights, objects=objects)
    return scene.model_copy(update={"navigable": navigable(scene)})


def _dining_place(plan: Plan) -> int:
    """The room the dining table stands in: the dining room, else a kitchen of 10 m² or more,
    else a living room of 20 m² or more; -1: none."""
    for function, area in (("dining room", 0.0), ("kitchen", 10.0), ("living room", 20.0)):
        for k, r in enumerate(plan.rooms):
            if r.function == function and Polygon(r.footprint).area >= area:
                return k
    return -1


def _names(functions: list[str]) -> list[str]:
    """Room names: the function, numbered where a house has several ("bedroom 2")."""
    total, seen = Counter(functions), Counter()
    out = []
    for f in functions:
        seen[f] += 1
        out.append(f if total[f] == 1 else f"{f} {seen[f]}")
    return out


def _furnish(f: Furnisher, function: str, dine: bool) -> bool:
    """The furniture of a room of ``function`` (False: a piece it needs does not fit)."""
    chance = f.rng.random
    if function == "living room":
        if not f.sofa_group():
            return False
        if dine:
            f.dining_group()
        if chance() < 0.6:
            f.bookshelf()
        if chance() < 0.5:
            f.against_wall(f.proto("floor lamp"))
        if chance() < 0.4:
            f.against_wall(f.proto("cabinet"))
    elif function == "bedroom":
        if not f.bed_group():
            return False
        if chance() < 0.7:
            f.against_wall(f.proto("wardrobe"))
        if chance() < 0.4:
            f.against_wall(f.proto("cabinet"))
        if chance() < 0.25:
            f.desk_group()
        if chance() < 0.25:
            f.bookshelf()
    elif function == "kitchen":
        if not f.kitchen_run():
            return False
        if dine:
            f.dining_group()
    elif function == "dining room":
        if not f.dining_group():
            return False
        if chance() < 0.6:
            f.against_wall(f.proto("cabinet"))
        if chance() < 0.2:
            f.bookshelf()
    elif function == "office":
        if not f.desk_group():
            return False
        for p in (0.85, 0.35):
            if chance() < p:
                f.bookshelf()
        if chance() < 0.3:
            f.against_wall(f.proto("cabinet"))
    elif function == "bathroom":
        if not f.bathroom():
            return False
    elif function == "hallway":
        x0, y0, x1, y1 = f.poly.bounds
        if min(x1 - x0, y1 - y0) >= 1.7 and chance() < 0.5:
            f.against_wall(f.proto("cabinet"))
    f.dress_all()
    return True


def _decorate(f: Furnisher, function: str, windows: list[Window]) -> None:
    """Wall art, a mirror (over the sink in a bathroom) and a rug, by function."""
    lo, hi = ART[function]
    for _ in range(int(f.rng.integers(lo, hi + 1))):
        f.hang("wall art", windows)
    if function == "bathroom":
        sink = next((o for o in f.objects if o.category == "sink"), None)
        if sink is not None:
            f.hang("mirror", windows, above=sink)
    elif f.rng.random() < MIRRORS.get(function, 0.0):
        f.hang("mirror", windows)
    if f.rng.random() < RUGS.get(function, 0.0):
        f.rug()


def navigable(scene: Scene) -> list[list[Vec2]]:
    """The floor a walker may cross: the rooms' footprints and, for each doorway between two
    rooms with both sides passable, the strip of wall between their openings; one
    counter-clockwise ring per connected piece (a spanning tree of passable doorways leaves no
    holes)."""
    pieces = [Polygon(r.footprint) for r in scene.rooms]
    for i, j, d, twin in scene.connections():
        if d.door not in PASSABLE or twin.door not in PASSABLE:
            continue
        here, there = np.asarray(scene.rooms[i].opening_centre(d)), np.asarray(scene.rooms[j].opening_centre(twin))
        across = (there - here) / np.linalg.norm(there - here)
        half = np.array([-across[1], across[0]]) * d.width / 2
        a, b = here - across * 1e-3, there + across * 1e-3  # overlapping the footprints a little
        pieces.append(Polygon([tuple(a - half), tuple(a + half), tuple(b + half), tuple(b - half)]))
    union = unary_union(pieces)
    polys = [union] if union.geom_type == "Polygon" else list(union.geoms)
    return [[(round(x, 4), round(y, 4)) for x, y in orient(p, 1.0).exterior.coords[:-1]] for p in polys]
