"""Furnishing one room of a house by its function (``synth.backends.procedural.house``).

Furniture comes in groups laid out together: a bed against a wall between nightstands with
table lamps; a sofa facing a television on a TV stand, a coffee table between them; a dining
table with 4-6 chairs around it (and often plates and cups set in front of them); a desk
against a wall with an office chair and a monitor; a kitchen run of cabinets along a wall from
a corner with a refrigerator and an oven, a microwave on top; a bathtub in a corner, a toilet
and a sink. Then single pieces (bookshelves with books on top, wardrobes, cabinets, armchairs,
floor lamps), small things on the surfaces (books, cups, plates, bottles, bowls, vases, small
plants), and, once the windows are known, wall art, mirrors and rugs.

What every object satisfies (``tests/test_house.py``):
- support: it stands on the floor (``supported_by`` 0, bottom at z = 0), on another object's
  top (``supported_by`` its id, bottom at that box's top, footprint inside that footprint; a
  bookshelf's support surface is its box top: its shelves are not modelled), or hangs on a wall
  (wall art and mirrors: ``supported_by`` 0, centre 1.2-1.8 m above the floor, back
  ``HUNG_OFF`` from the wall);
- its footprint lies in its room's footprint, and its box is at least ``GAP`` from every other
  box it shares heights with (``SHELF_GAP`` between things on the same top), except from the
  object it stands on; rugs are flat boxes like the rest: nothing stands on them;
- nothing stands in the ``front`` of a doorway (``floorplan.FRONT`` deep, on the opening's width
  plus its casings) or where a door leaf sweeps (``door_swing``), and its top is ``CEILING_CLEAR``
  under the ceiling;
- the room is walkable for the tour camera (``Furnisher.walkable``): else it is furnished again.

With Infinigen's assets, a category it has a factory for is one of its meshes (the same
variant for every member of a set: chairs around a table, cabinets of a run); synth's
primitive stand-ins that the issue retires (``STANDINS``) are left out instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import unary_union
from shapely.prepared import prep

from synth.backends.procedural.catalog import CATALOG, STANDINS, Category, Size
from synth.backends.procedural.floorplan import HALF_WALL, front
from synth.backends.procedural.infinigen_assets import Asset, InfinigenAssets
from synth.backends.procedural.sampler import GAP, WALL_GAP, pick_material, scene_object, shape
from synth.core.geometry import door_leaf, door_swing, footprint
from synth.core.scene import PASSABLE, ROOM_ID, Box3D, Material, Part, Room, SceneObject, Window
from synth.planning.planner import STEP_OVER
from synth.planning.tour import APPROACH, CELL, CLEARANCE, PLAN_MARGIN

SHELF_GAP = 0.004  # metres between small things on one top (books in a row)
CEILING_CLEAR = 0.1  # metres under the ceiling
HUNG_OFF = 0.005  # metres from a wall to the back of what hangs on it
HUNG_Z = (1.2, 1.8)  # height of a hung thing's centre, metres
# metres the tour camera keeps from walls, furniture and door leaves (``walkable``): a 0.54 m corridor
CAMERA_CLEAR = CLEARANCE + PLAN_MARGIN
TALL = 0.95  # metres: furniture this tall against a wall keeps windows off its stretch of wall
# small things that may stand on each kind of top
SURFACE_ITEMS: dict[str, tuple[str, ...]] = {
    "coffee table": ("book", "book", "cup", "vase", "plant", "bowl"),
    "nightstand": ("book", "cup", "bottle", "plant"),
    "desk": ("book", "book", "cup", "plant", "bottle"),
    "tv stand": ("plant", "vase", "book", "bowl"),
    "kitchen cabinet": ("bottle", "bottle", "cup", "plate", "bowl", "plant"),
    "cabinet": ("vase", "plant", "book", "bowl", "bottle"),
    "dining table": ("bowl", "vase", "bottle", "plant"),
}

Proto = tuple[Category, Size, list[Part], Asset | None]  # a category's instance: ``shape``'s size, parts, asset


@dataclass(frozen=True)
class _Solid:
    box: Box3D
    shadow: Polygon  # footprint
    low: float
    high: float
    id: int
    support: int


@dataclass(frozen=True)
class _Member:
    """One object of a group about to be placed: ``support`` is an id (of a placed object or of
    an earlier member: ids run on from ``Furnisher.next_id``)."""

    proto: Proto
    box: Box3D
    support: int
    material: Material | None = None


class Furnisher:
    """Places the furniture of one room; objects get ids from ``first_id`` on."""

    def __init__(
        self,
        room: Room,
        first_id: int,
        rng: np.random.Generator,
        assets: InfinigenAssets | None,
        colors: tuple[str, ...],
        used: set[str],
    ):
        self.room, self.first_id, self.rng, self.assets, self.colors, self.used = (
            room, first_id, rng, assets, colors, used,
        )  # fmt: skip
        self.poly = Polygon(room.footprint)
        self.inside = prep(self.poly)
        self.objects: list[SceneObject] = []
        self.solids: list[_Solid] = []
        pts = np.asarray(room.footprint, dtype=float)
        self.walls = []  # (first corner, unit along, inward normal, length) per footprint edge
        for i in range(len(pts)):
            a, b = pts[i], pts[(i + 1) % len(pts)]
            u = (b - a) / np.linalg.norm(b - a)
            self.walls.append((a, u, np.array([-u[1], u[0]]), float(np.linalg.norm(b - a))))
        clear = []
        for d in room.doorways:
            clear.append(front(room.footprint, d))
            swing = door_swing(room, d)
            if swing is not None:
                clear.append(swing)
        self.keepout = prep(unary_union(clear)) if clear else None

    # ---- objects and checks

    def next_id(self) -> int:
        return self.first_id + len(self.objects)

    def proto(self, name: str) -> Proto | None:
        """An instance of category ``name`` (None: a stand-in left out of Infinigen-furnished houses)."""
        cat = CATALOG[name]
        if self.assets is not None and name in STANDINS and name not in self.assets.categories:
            return None
        return (cat, *shape(cat, self.rng, self.assets))

    def material(self, proto: Proto) -> Material | None:
        """A colour and material for a primitive instance (None for a mesh asset)."""
        cat, _, _, asset = proto
        return None if asset is not None else pick_material(cat, self.used, self.rng, cat.palette or self.colors)

    def _solid(self, b: Box3D, oid: int, support: int) -> _Solid:
        return _Solid(b, footprint(b), b.center[2] - b.size[2] / 2, b.center[2] + b.size[2] / 2, oid, support)

    def fits(self, b: Box3D, support: int, pending: list[_Solid] = ()) -> bool:
        """Whether an object at ``b`` standing on ``support`` keeps every rule (module docstring)."""
        s = self._solid(b, -1, support)
        if s.high > self.room.height - CEILING_CLEAR:
            return False
        if support == ROOM_ID:
            if not self.inside.contains(s.shadow) or (self.keepout is not None and self.keepout.intersects(s.shadow)):
                return False
        else:
            below = next(o for o in (*self.solids, *pending) if o.id == support)
            if not below.shadow.buffer(-0.01).contains(s.shadow):
                return False
        for o in (*self.solids, *pending):
            if o.id == support or min(s.high, o.high) - max(s.low, o.low) <= 1e-6:
                continue
            gap = SHELF_GAP if support != ROOM_ID and o.support == support else GAP
            if o.shadow.distance(s.shadow) < gap:
                return False
        return True

    def place(self, members: list[_Member]) -> list[SceneObject] | None:
        """All of ``members`` (ids from ``next_id`` on), or none where one does not fit."""
        pending: list[_Solid] = []
        for k, m in enumerate(members):
            if not self.fits(m.box, m.support, pending):
                return None
            pending.append(self._solid(m.box, self.next_id() + k, m.support))
        return [self._add(m) for m in members]

    def _add(self, m: _Member) -> SceneObject:
        cat, _, parts, asset = m.proto
        material = m.material if m.material is not None or asset is not None else self.material(m.proto)
        obj = scene_object(self.next_id(), cat, m.box, parts, m.support, asset, material)
        self.used.add(obj.description)
        self.objects.append(obj)
        self.solids.append(self._solid(m.box, obj.id, m.support))
        return obj

    # ---- frames

    def at_wall(self, wall: int, t: float, x: float, y: float, z: float, size: Size, yaw: float = 0.0) -> Box3D:
        """A box in the frame of ``wall`` at ``t`` metres from its first corner: local +X into
        the room, +Y to the left seen from the wall (towards the first corner), ``z`` its centre's
        height; ``yaw`` turns it from facing into the room."""
        a, u, n, _ = self.walls[wall]
        c = a + u * t + n * x - u * y
        return Box3D(center=(float(c[0]), float(c[1]), z), size=size, yaw=_wrap(math.atan2(n[1], n[0]) + yaw))

    def on_top(self, below: Box3D, x: float, y: float, size: Size, yaw: float = 0.0) -> Box3D:
        """A box standing on ``below``'s top at (x, y) in its frame, turned ``yaw`` from it."""
        c, s = math.cos(below.yaw), math.sin(below.yaw)
        z = below.center[2] + below.size[2] / 2 + size[2] / 2
        return Box3D(
            center=(below.center[0] + c * x - s * y, below.center[1] + s * x + c * y, z),
            size=size,
            yaw=_wrap(below.yaw + yaw),
        )

    def slots(self, width: float, tries: int):
        """(wall, t) for something ``width`` wide against a wall: walls drawn by length."""
        lengths = np.array([w[3] for w in self.walls])
        ok = np.flatnonzero(lengths >= width + 0.04)
        if not len(ok):
            return
        for _ in range(tries):
            wall = int(self.rng.choice(ok, p=lengths[ok] / lengths[ok].sum()))
            yield wall, float(self.rng.uniform(width / 2 + 0.02, lengths[wall] - width / 2 - 0.02))

    def corners(self, width: float):
        """(wall, t) for something ``width`` wide against a wall, up against either end, in random order."""
        out = [(w, t) for w, (_, _, _, length) in enumerate(self.walls) if length >= width + 0.04
               for t in (WALL_GAP + width / 2, length - WALL_GAP - width / 2)]  # fmt: skip
        return [out[i] for i in self.rng.permutation(len(out))]

    # ---- groups

    def against_wall(
        self, proto: Proto | None, tries: int = 30, material: Material | None = None
    ) -> SceneObject | None:
        """``proto`` standing with its back against a wall, facing into the room."""
        if proto is None:
            return None
        d, w, h = proto[1]
        for wall, t in self.slots(w, tries):
            placed = self.place(
                [_Member(proto, self.at_wall(wall, t, WALL_GAP + d / 2, 0.0, h / 2, proto[1]), ROOM_ID, material)]
            )
            if placed:
                return placed[0]
        return None

    def bed_group(self) -> bool:
        """A bed, headboard to a wall, between two nightstands with a table lamp on each (or one, or none)."""
        bed, stand, lamp = self.proto("bed"), self.proto("nightstand"), self.proto("table lamp")
        bd, bw, bh = bed[1]
        stand_mat, lamp_mat = self.material(stand), self.material(lamp)
        lamp_fits = lamp[1][0] <= stand[1][0] - 0.04 and lamp[1][1] <= stand[1][1] - 0.04
        for wall, t in self.slots(bw, 40):
            for sides in ((1, -1), (1,), (-1,), ()):
                nid = self.next_id()
                members = [_Member(bed, self.at_wall(wall, t, WALL_GAP + bd / 2, 0.0, bh / 2, bed[1]), ROOM_ID)]
                for side in sides:
                    sd, sw, sh = stand[1]
                    y = side * (bw / 2 + 0.05 + sw / 2)
                    stand_box = self.at_wall(wall, t, WALL_GAP + sd / 2, y, sh / 2, stand[1])
                    members.append(_Member(stand, stand_box, ROOM_ID, stand_mat))
                    if lamp_fits:
                        support = nid + len(members) - 1
                        members.append(_Member(lamp, self.on_top(stand_box, 0.0, 0.0, lamp[1]), support, lamp_mat))
                if self.place(members):
                    return True
        return False

    def sofa_group(self) -> bool:
        """A TV stand against a wall with a television on it, a sofa facing it 1.8-3.2 m away
        and a coffee table in between; sometimes an armchair beside the coffee table."""
        stand, sofa, table = self.proto("tv stand"), self.proto("sofa"), self.proto("coffee table")
        tvs = [self.proto("television") for _ in range(3)]
        sd, sw, sh = stand[1]
        tv = next((p for p in tvs if p[1][0] <= sd - 0.04 and p[1][1] <= sw - 0.04), None)
        fd, fw, fh = sofa[1]
        turn = math.pi / 2 if table[1][0] > table[1][1] else 0.0  # the coffee table's long side along the sofa
        along_x = table[1][1] if turn else table[1][0]
        for wall, t in self.slots(max(sw, fw), 40):
            view = float(self.rng.uniform(max(1.8, 1.15 + along_x), 3.2))
            front = WALL_GAP + sd + view  # the sofa's front, metres from the wall
            nid = self.next_id()
            stand_box = self.at_wall(wall, t, WALL_GAP + sd / 2, 0.0, sh / 2, stand[1])
            members = [_Member(stand, stand_box, ROOM_ID)]
            if tv is not None:
                members.append(_Member(tv, self.on_top(stand_box, -(sd - tv[1][0]) / 2 + 0.02, 0.0, tv[1]), nid))
            members.append(_Member(sofa, self.at_wall(wall, t, front + fd / 2, 0.0, fh / 2, sofa[1], math.pi), ROOM_ID))
            ct_x = front - 0.4 - along_x / 2
            members.append(_Member(table, self.at_wall(wall, t, ct_x, 0.0, table[1][2] / 2, table[1], turn), ROOM_ID))
            if self.place(members):
                if self.rng.random() < 0.5:
                    self._armchair(wall, t, ct_x, (table[1][0] if turn else table[1][1]) / 2)
                return True
        return False

    def _armchair(self, wall: int, t: float, x: float, half: float) -> None:
        chair = self.proto("armchair")
        if chair is None:
            return
        d, _, h = chair[1]
        for side in (1, -1) if self.rng.random() < 0.5 else (-1, 1):
            y = side * (half + 0.45 + d / 2)
            if self.place([_Member(chair, self.at_wall(wall, t, x, y, h / 2, chair[1], -side * math.pi / 2), ROOM_ID)]):
                return

    def dining_group(self, tries: int = 60) -> bool:
        """A dining table standing free with 4-6 chairs around it, facing it; often a plate and a
        cup in front of each chair, and something in the middle."""
        table, chair = self.proto("dining table"), self.proto("chair")
        td, tw, th = table[1]
        cd, cw, ch = chair[1]
        chair_mat = self.material(chair)
        # chairs on the long sides first, then one at each end, in turns: 2 + 2, 2 + 2 + 1, 3 + 3 ...
        x_sides, y_sides = [(1, 0), (-1, 0)], [(0, 1), (0, -1)]
        long_sides, ends = (x_sides, y_sides) if tw >= td else (y_sides, x_sides)
        length = {(1, 0): tw, (-1, 0): tw, (0, 1): td, (0, -1): td}  # each side's length
        cap = {n: min(3 if n in long_sides else 1, int((length[n] + 0.05) // (cw + 0.12))) for n in length}
        want, count = int(self.rng.integers(4, 7)), dict.fromkeys(length, 0)
        for side in [*long_sides, *long_sides, *ends, *long_sides]:
            if sum(count.values()) < want and count[side] < cap[side]:
                count[side] += 1
        if sum(count.values()) < 4:
            return False
        # (outward normal in the table's frame, offset along its side)
        seats = [(n, (j - (k - 1) / 2) * length[n] / k) for n, k in count.items() for j in range(k)]
        minx, miny, maxx, maxy = self.poly.bounds
        for _ in range(tries):
            cx, cy = self.rng.uniform(minx + 0.8, maxx - 0.8), self.rng.uniform(miny + 0.8, maxy - 0.8)
            yaw = float(self.rng.integers(2)) * math.pi / 2
            table_box = Box3D(center=(float(cx), float(cy), th / 2), size=table[1], yaw=yaw)
            members = [_Member(table, table_box, ROOM_ID)]
            for (nx, ny), s in seats:
                reach = (td / 2 if nx else tw / 2) + 0.06 + cd / 2
                lx, ly = nx * reach + (0 if nx else s), ny * reach + (s if nx else 0)
                centre = self.on_top(table_box, lx, ly, chair[1]).center
                facing = math.atan2(-ny, -nx)
                members.append(_Member(chair, Box3D(center=(centre[0], centre[1], ch / 2), size=chair[1],
                                                    yaw=_wrap(yaw + facing)), ROOM_ID, chair_mat))  # fmt: skip
            placed = self.place(members)
            if placed:
                self._set_table(placed[0], seats)
                return True
        return False

    def _set_table(self, table: SceneObject, seats) -> None:
        """A plate and a cup in front of each seat (most tables), something in the middle."""
        if self.rng.random() < 0.7:
            plate, cup = self.proto("plate"), self.proto("cup")
            plate_mat, cup_mat = self.material(plate), self.material(cup)
            td, tw, _ = table.box.size
            for (nx, ny), s in seats:
                reach = (td / 2 if nx else tw / 2) - 0.05 - plate[1][0] / 2
                lx, ly = nx * reach + (0 if nx else s), ny * reach + (s if nx else 0)
                self.place([_Member(plate, self.on_top(table.box, lx, ly, plate[1]), table.id, plate_mat)])
                side = plate[1][0] / 2 + 0.08  # the cup to the right of the plate, seen from the seat
                cx, cy = lx - ny * side, ly + nx * side
                self.place([_Member(cup, self.on_top(table.box, cx, cy, cup[1]), table.id, cup_mat)])
        self.dress(table, 1)

    def desk_group(self) -> bool:
        """A desk against a wall, an office chair in front of it facing it, a monitor on it."""
        desk, chair, monitor = self.proto("desk"), self.proto("office chair"), self.proto("monitor")
        dd, dw, dh = desk[1]
        cd, _, ch = chair[1]
        for wall, t in self.slots(dw, 40):
            nid = self.next_id()
            desk_box = self.at_wall(wall, t, WALL_GAP + dd / 2, 0.0, dh / 2, desk[1])
            members = [_Member(desk, desk_box, ROOM_ID)]
            members.append(
                _Member(
                    chair, self.at_wall(wall, t, WALL_GAP + dd + 0.1 + cd / 2, 0.0, ch / 2, chair[1], math.pi), ROOM_ID
                )
            )
            if monitor[1][0] <= dd - 0.1 and monitor[1][1] <= dw - 0.1:
                members.append(
                    _Member(monitor, self.on_top(desk_box, -(dd - monitor[1][0]) / 2 + 0.05, 0.0, monitor[1]), nid)
                )
            if self.place(members):
                return True
        return False

    def kitchen_run(self) -> bool:
        """From a corner along a wall: a refrigerator (most kitchens, where it fits), 2-6 kitchen
        cabinets with an oven among them, as many as fit; a microwave on a cabinet. False: fewer
        than two cabinets and the oven fit."""
        cab, oven, fridge = self.proto("kitchen cabinet"), self.proto("oven"), self.proto("refrigerator")
        cab_mat = self.material(cab)
        n = int(self.rng.integers(2, 7))
        units = [cab] * n
        units.insert(int(self.rng.integers(0, n + 1)), oven)
        if self.rng.random() < 0.8:
            units.insert(0, fridge)
        best: list[_Member] = []
        ends = [(w, e) for w in range(len(self.walls)) if self.walls[w][3] >= 1.2 for e in (False, True)]
        for wall, from_end in (ends[i] for i in self.rng.permutation(len(ends))):
            length = self.walls[wall][3]
            run, s, pending = [], WALL_GAP, []
            for unit in units:
                d, w, h = unit[1]
                t = length - s - w / 2 if from_end else s + w / 2
                b = self.at_wall(wall, t, WALL_GAP + d / 2, 0.0, h / 2, unit[1])
                if t - w / 2 < 0 or t + w / 2 > length or not self.fits(b, ROOM_ID, pending):
                    if unit is fridge:  # the run goes on without it
                        continue
                    break
                pending.append(self._solid(b, -2, ROOM_ID))
                run.append(_Member(unit, b, ROOM_ID, cab_mat if unit is cab else None))
                s += w + GAP
            if sum(m.proto is cab for m in run) >= 2 and any(m.proto is oven for m in run) and len(run) > len(best):
                best = run
        if not best:
            return False
        placed = self.place(best)
        cabinets = [o for o in placed if o.category == "kitchen cabinet"]
        micro = self.proto("microwave")
        for c in (cabinets[i] for i in self.rng.permutation(len(cabinets))):
            if self.place(
                [_Member(micro, self.on_top(c.box, -(c.box.size[0] - micro[1][0]) / 2 + 0.03, 0.0, micro[1]), c.id)]
            ):
                break
        return True

    def bathroom(self) -> bool:
        """A bathtub in a corner (where one fits), a toilet and a sink against walls. False: no
        room for the toilet or the sink."""
        tub = self.proto("bathtub")
        d, w, h = tub[1]
        for wall, t in self.corners(w):
            if self.place([_Member(tub, self.at_wall(wall, t, WALL_GAP + d / 2, 0.0, h / 2, tub[1]), ROOM_ID)]):
                break
        return self.against_wall(self.proto("toilet")) is not None and self.against_wall(self.proto("sink")) is not None

    def bookshelf(self) -> None:
        """A bookshelf against a wall with a row of 3-8 books standing on its top."""
        shelf = self.against_wall(self.proto("bookshelf"))
        if shelf is None:
            return
        d, w, _ = shelf.box.size
        y = -w / 2 + 0.02 + float(self.rng.uniform(0.0, 0.15))
        for _ in range(int(self.rng.integers(3, 9))):
            book = self.proto("book")
            bd, bw, _ = book[1]
            if bd > d - 0.03 or y + bw > w / 2 - 0.02:
                break
            # spines to the front, in a row along the top
            self.place([_Member(book, self.on_top(shelf.box, (d - bd) / 2 - 0.015, y + bw / 2, book[1]), shelf.id)])
            y += bw + SHELF_GAP + 0.002

    def dress(self, below: SceneObject, count: int) -> None:
        """Up to ``count`` small things on ``below``'s top (``SURFACE_ITEMS``), 12 tries each."""
        menu = SURFACE_ITEMS.get(below.category, ())
        d, w, _ = below.box.size
        for _ in range(count if menu else 0):
            item = self.proto(str(self.rng.choice(menu)))
            if item is None:
                continue
            mx, my = (d - item[1][0]) / 2 - 0.02, (w - item[1][1]) / 2 - 0.02
            if mx < 0 or my < 0:
                continue
            for _ in range(12):
                b = self.on_top(below.box, self.rng.uniform(-mx, mx), self.rng.uniform(-my, my), item[1])
                if self.place([_Member(item, b, below.id)]):
                    break

    def dress_all(self) -> None:
        """Small things on the tops that have room: 0-3 each (0-2 on each kitchen cabinet)."""
        for obj in list(self.objects):
            if obj.category in SURFACE_ITEMS and obj.supported_by == ROOM_ID:
                top = 3 if obj.category != "kitchen cabinet" else 2
                self.dress(obj, int(self.rng.integers(0, top + 1)))

    # ---- after the windows

    def hang(self, name: str, windows: list[Window], tries: int = 30, above: SceneObject | None = None) -> bool:
        """Wall art or a mirror (``name``) on a wall, clear of windows and doorways, its centre
        1.2-1.8 m high; ``above``: over that object (a sink), on its wall."""
        item = self.proto(name)
        d, w, h = item[1]
        top = min(HUNG_Z[1], self.room.height - CEILING_CLEAR - h / 2)
        if top < HUNG_Z[0]:
            return False
        options = self.slots(w, tries) if above is None else self._behind(above)
        for wall, t in options:
            if any(win.wall == wall and abs(win.center - t) < (win.width + w) / 2 + 0.05 for win in windows):
                continue
            low = (
                HUNG_Z[0]
                if above is None
                else max(HUNG_Z[0], above.box.center[2] + above.box.size[2] / 2 + 0.1 + h / 2)
            )
            if low > top:
                return False
            z = float(self.rng.uniform(low, top))
            if self.place([_Member(item, self.at_wall(wall, t, HUNG_OFF + d / 2, 0.0, z, item[1]), ROOM_ID)]):
                return True
        return False

    def _behind(self, obj: SceneObject) -> list[tuple[int, float]]:
        """The wall ``obj`` stands against and where along it."""
        c = np.asarray(obj.box.center[:2])
        for i, (a, u, n, length) in enumerate(self.walls):
            if abs(float(np.dot(c - a, n)) - (obj.box.size[0] / 2 + WALL_GAP)) < 1e-6 and 0 < np.dot(c - a, u) < length:
                return [(i, float(np.dot(c - a, u)))]
        return []

    def rug(self, tries: int = 40) -> bool:
        """A rug in free floor (nothing stands on it), shrunk until it fits."""
        proto = self.proto("rug")
        minx, miny, maxx, maxy = self.poly.bounds
        for k in range(tries):
            scale = 1.0 - 0.5 * k / tries
            size = (proto[1][0] * scale, proto[1][1] * scale, proto[1][2])
            if proto[3] is None:
                size, parts = proto[0].make(size)
                candidate = (proto[0], size, parts, None)
            else:
                candidate = proto  # a mesh keeps its size
            yaw = float(self.rng.integers(2)) * math.pi / 2
            x, y = self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy)
            b = Box3D(center=(float(x), float(y), size[2] / 2), size=size, yaw=yaw)
            if self.place([_Member(candidate, b, ROOM_ID)]):
                return True
        return False

    def walkable(self) -> bool:
        """Whether the tour camera (``CAMERA_CLEAR`` from walls, from what the room holds higher
        than ``STEP_OVER``: furniture and hung things, not rugs, and from door leaves) gets from
        each doorway of the room to each other and into the largest piece of free floor: from the
        middle of each passable doorway's wall straight to ``tour.APPROACH`` in front of it, and
        to a point 0.3-1.0 m in front of the others (a leaf ajar or closed), all in that piece (of
        the free floor ``tour.CELL`` wide)."""
        blocks = [s.shadow for s in self.solids if s.support == ROOM_ID and s.high > STEP_OVER]
        blocks += [footprint(leaf) for d in self.room.doorways if (leaf := door_leaf(self.room, d)) is not None]
        mouths = []  # through the wall of each doorway, as deep as the wall between two rooms
        for d in self.room.doorways:
            a, u, n, _ = self.walls[d.wall]
            s0, s1 = d.center - d.width / 2, d.center + d.width / 2
            out = -(2 * HALF_WALL + CAMERA_CLEAR)
            corners = ((s0, 0.01), (s1, 0.01), (s1, out), (s0, out))
            mouths.append(Polygon([tuple(a + u * s + n * t) for s, t in corners]))
        floor = unary_union([self.poly, *mouths]).buffer(-CAMERA_CLEAR)
        free = floor.difference(unary_union(blocks).buffer(CAMERA_CLEAR))
        # the camera's planner walks a grid of ``tour.CELL``: its free cells stay connected where
        # the free floor is ``CELL`` wide
        core = free.buffer(-CELL / 2)
        pieces = [core] if core.geom_type == "Polygon" else list(getattr(core, "geoms", []))
        if not pieces:
            return False
        main = max(pieces, key=lambda g: g.area)
        free = prep(free.buffer(1e-6))
        for d in self.room.doorways:
            _, _, n, _ = self.walls[d.wall]
            mouth = np.asarray(self.room.opening_centre(d))
            if d.door in PASSABLE:  # straight in from the middle of the wall, as a tour crosses it
                if not free.contains(LineString([mouth - n * HALF_WALL, mouth + n * APPROACH])):
                    return False
                ends = [mouth + n * APPROACH]
            else:
                ends = [mouth + n * t for t in (APPROACH, 0.3, 0.4, 0.6, 0.8, 1.0)]
            if not any(free.contains(Point(*p)) and main.distance(Point(*p)) <= CELL / 2 + 1e-6 for p in ends):
                return False
        return True

    def tall_spans(self) -> list[tuple[int, float, float]]:
        """(wall, start, end) stretches of wall, metres from its first corner, with furniture
        taller than ``TALL`` standing against them (within 0.15 m): windows keep off them."""
        out = []
        for s in self.solids:
            if s.support != ROOM_ID or s.low > 0.01 or s.high <= TALL:
                continue
            pts = np.asarray(s.shadow.exterior.coords)
            for i, (a, u, n, length) in enumerate(self.walls):
                depth = (pts - a) @ n
                if -0.01 < depth.min() < 0.15:
                    along = (pts - a) @ u
                    if along.max() > 0 and along.min() < length:
                        out.append((i, float(along.min()), float(along.max())))
        return out


def _wrap(yaw: float) -> float:
    return math.remainder(yaw, 2 * math.pi)
