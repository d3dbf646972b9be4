"""A small hand-built house for tests of multi-room code (tours, evidence): four rectangular rooms
around a hallway, doorways with and without door leaves, a front door, primitive furniture.

Plan (metres, +X east, +Y north; interior walls 0.2 m, so neighbouring footprints leave that gap):

   y 10.0 +-----------+
          | 3 bedroom |                       wardrobe (2 m tall) on the west wall
    y 6.0 +---[d]-----+----------------------+
          | 2 hallway                        |  cabinet on the north wall
    y 4.2 +-[d]---------------------[d]------+
          | 0 living room | [d] | 1 kitchen  |  shelf (2 m tall), sofa, armchair, plant |
    y 0.0 +---------------+     +------------+  counter run, fridge, table
          x 0            5 5.2              8.7

Doorways: living room - kitchen (no leaf), living room - hallway (an open leaf hung in the
living room), kitchen - hallway (no leaf), hallway - bedroom (an open leaf hung in the bedroom),
and a closed front door in the living room's west wall.
"""

from __future__ import annotations

import math

from shapely.geometry import Polygon
from shapely.geometry.polygon import orient
from shapely.ops import unary_union

from synth.core.scene import (
    PASSABLE,
    Box3D,
    Doorway,
    Light,
    Material,
    Part,
    Room,
    Scene,
    SceneObject,
    Window,
)

DOOR_WIDTH = 0.9
DOOR_HEIGHT = 2.1
HEIGHT = 2.6


def _finish(name: str, rgb: tuple[float, float, float]) -> Material:
    color, _, material = name.rpartition(" ")
    return Material(color_name=color, material_name=material, rgb=rgb)


def _room(function: str, x0: float, y0: float, x1: float, y1: float, doorways, windows=()) -> Room:
    """A rectangle; walls 0..3 run south (y0, west to east), east, north (east to west), west."""
    return Room(
        shape="rectangular",
        footprint=[(x0, y0), (x1, y0), (x1, y1), (x0, y1)],
        height=HEIGHT,
        wall=_finish("beige plaster", (0.7, 0.65, 0.55)),
        floor=_finish("brown wood", (0.35, 0.22, 0.12)),
        ceiling=_finish("white plaster", (0.8, 0.8, 0.8)),
        name=function,
        function=function,
        doorways=list(doorways),
        windows=list(windows),
    )


def _door(wall: int, center: float, to_room: int, door: str = "none", hinge: str = "left") -> Doorway:
    return Doorway(
        wall=wall, center=center, width=DOOR_WIDTH, height=DOOR_HEIGHT, to_room=to_room, door=door, hinge=hinge
    )


def _thing(oid: int, category: str, x: float, y: float, yaw: float, size, rgb, z0: float = 0.0, on: int = 0):
    """One primitive object: a box of ``size`` (depth, width, height) standing at ``z0``."""
    return SceneObject(
        id=oid,
        category=category,
        description=category,
        material=_finish("grey wood", rgb),
        box=Box3D(center=(x, y, z0 + size[2] / 2), size=size, yaw=yaw),
        parts=[Part(shape="box", center=(0.0, 0.0, 0.0), size=size)],
        supported_by=on,
    )


def house_rooms(bedroom_door: str = "open") -> list[Room]:
    """The four rooms; ``bedroom_door`` is the leaf hung in the bedroom's doorway."""
    window = Window(wall=0, center=2.5, width=1.2, sill=0.9, height=1.2)
    return [
        _room(
            "living room",
            0.0,
            0.0,
            5.0,
            4.0,
            [_door(1, 2.0, 1), _door(2, 3.5, 2, "open", "left"), _door(3, 1.0, -1, "closed", "right")],
            [window],
        ),
        _room("kitchen", 5.2, 0.0, 8.7, 4.0, [_door(3, 2.0, 0), _door(2, 1.2, 2)]),
        _room("hallway", 0.0, 4.2, 8.7, 5.8, [_door(0, 1.5, 0), _door(0, 7.5, 1), _door(2, 6.7, 3)]),
        _room(
            "bedroom",
            0.0,
            6.0,
            4.0,
            10.0,
            [_door(0, 2.0, 2, bedroom_door, "right")],
            [Window(wall=1, center=1.5, width=1.2, sill=0.9, height=1.2)],
        ),
    ]


def house_objects() -> list[SceneObject]:
    half = math.pi / 2
    return [
        _thing(1, "sofa", 2.5, 0.45, half, (0.9, 2.0, 0.8), (0.3, 0.3, 0.6)),
        _thing(2, "coffee table", 2.5, 1.6, 0.0, (0.5, 1.0, 0.45), (0.5, 0.35, 0.2)),
        _thing(3, "cup", 2.5, 1.6, 0.0, (0.08, 0.08, 0.1), (0.9, 0.9, 0.9), z0=0.45, on=2),
        _thing(4, "shelf", 4.8, 3.4, math.pi, (0.4, 0.8, 2.0), (0.4, 0.3, 0.2)),
        _thing(5, "armchair", 0.6, 1.6, 0.0, (0.8, 0.8, 0.9), (0.6, 0.2, 0.2)),
        _thing(6, "plant", 4.6, 0.4, 0.0, (0.4, 0.4, 1.2), (0.2, 0.5, 0.2)),
        _thing(7, "kitchen cabinet", 8.4, 2.0, math.pi, (0.6, 2.6, 0.9), (0.8, 0.8, 0.75)),
        _thing(8, "refrigerator", 5.65, 0.35, half, (0.7, 0.7, 1.8), (0.9, 0.9, 0.9)),
        _thing(9, "dining table", 6.9, 1.8, 0.0, (0.8, 1.2, 0.75), (0.5, 0.35, 0.2)),
        _thing(10, "cabinet", 6.0, 5.62, -half, (0.35, 0.8, 0.8), (0.4, 0.3, 0.2)),
        _thing(11, "bed", 2.0, 9.0, -half, (2.0, 1.6, 0.55), (0.7, 0.7, 0.9)),
        _thing(12, "wardrobe", 0.3, 7.0, 0.0, (0.6, 1.2, 2.0), (0.45, 0.3, 0.2)),
        _thing(13, "nightstand", 0.8, 9.75, -half, (0.4, 0.4, 0.5), (0.45, 0.3, 0.2)),
    ]


def navigable(rooms: list[Room]) -> list[list[tuple[float, float]]]:
    """The house's navigable floor as the scene model defines it: the room footprints and the
    strips through passable doorways (each strip the hull of the two sides' openings), one ring
    per connected piece."""
    pieces = [Polygon(r.footprint) for r in rooms]
    for i, room in enumerate(rooms):
        for d in room.doorways:
            j = d.to_room
            if j <= i:
                continue
            other = rooms[j]
            twin = next(e for e in other.doorways if e.to_room == i)
            if d.door in PASSABLE and twin.door in PASSABLE:
                ends = [_opening_ends(room, d), _opening_ends(other, twin)]
                pieces.append(Polygon([p for pair in ends for p in pair]).convex_hull)
    union = unary_union(pieces)
    return [
        [(float(x), float(y)) for x, y in orient(part, 1.0).exterior.coords[:-1]]
        for part in getattr(union, "geoms", [union])
    ]


def _opening_ends(room: Room, d: Doorway) -> list[tuple[float, float]]:
    a, b = room.footprint[d.wall], room.footprint[(d.wall + 1) % len(room.footprint)]
    length = math.dist(a, b)
    return [
        (a[0] + (b[0] - a[0]) * t / length, a[1] + (b[1] - a[1]) * t / length)
        for t in (d.center - d.width / 2, d.center + d.width / 2)
    ]


def small_house(seed: int = 0, bedroom_door: str = "open") -> Scene:
    """The house above as a scene (``bedroom_door="closed"`` shuts the bedroom off)."""
    rooms = house_rooms(bedroom_door)
    return Scene(
        seed=seed,
        simulator="procedural",
        rooms=rooms,
        navigable=navigable(rooms),
        lights=[Light(kind="point", position=(2.5, 2.0, 2.5), energy=200.0, color=(1.0, 1.0, 1.0))],
        objects=house_objects(),
    )
