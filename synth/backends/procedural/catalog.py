"""Furniture and household categories built from primitives with real-world sizes.

Sizes are (depth, width, height) ranges in metres, following the object-frame convention
in ``scene.py`` (the front faces local +X). ``CATEGORIES`` are what the single-room sampler
draws from; ``HOUSEHOLD`` are categories only houses use (bathrooms, kitchens, small things on
surfaces, rugs, things hung on walls); ``CATALOG`` names both. Builders lay parts out in the box
``[-d/2, d/2] x [-w/2, w/2] x [-h/2, h/2]`` but need not fill it (a round seat is only
``min(d, w)`` across) and may stick out of it (a fridge handle): ``Category.make`` measures
the parts and gives the object's box as their tight box.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from synth.core.scene import Part

# "wall": stands on the floor, its back against a wall; "floor": stands free; "surface": on another
# object's top; "hung": on a wall, off the floor (its back against the wall, ``supported_by`` the room)
Placement = Literal["wall", "floor", "surface", "hung"]
Size = tuple[float, float, float]


def _box(cx, cy, cz, sx, sy, sz, color=None) -> Part:
    return Part(shape="box", center=(cx, cy, cz), size=(sx, sy, sz), color=color)


def _cyl(cx, cy, cz, d, h, shape="cylinder", color=None) -> Part:
    return Part(shape=shape, center=(cx, cy, cz), size=(d, d, h), color=color)


def solid(s: Size) -> list[Part]:
    return [_box(0, 0, 0, *s)]


def table(s: Size, top: float = 0.04, leg: float = 0.05) -> list[Part]:
    d, w, h = s
    parts = [_box(0, 0, h / 2 - top / 2, d, w, top)]
    for x in (-1, 1):
        for y in (-1, 1):
            parts.append(_box(x * (d / 2 - leg / 2), y * (w / 2 - leg / 2), -top / 2, leg, leg, h - top))
    return parts


def chair(s: Size) -> list[Part]:
    d, w, h = s
    seat_h, seat_t, leg, back_t = 0.45, 0.05, 0.04, 0.05
    z0 = -h / 2
    parts = [_box(0, 0, z0 + seat_h - seat_t / 2, d, w, seat_t)]
    for x in (-1, 1):
        for y in (-1, 1):
            parts.append(
                _box(
                    x * (d / 2 - leg / 2), y * (w / 2 - leg / 2), z0 + (seat_h - seat_t) / 2, leg, leg, seat_h - seat_t
                )
            )
    parts.append(_box(-d / 2 + back_t / 2, 0, z0 + seat_h + (h - seat_h) / 2, back_t, w, h - seat_h))
    return parts


def stool(s: Size) -> list[Part]:
    d, w, h = s
    parts = [_cyl(0, 0, h / 2 - 0.025, min(d, w), 0.05)]
    parts.append(_cyl(0, 0, -0.025, 0.06, h - 0.05))
    parts.append(_cyl(0, 0, -h / 2 + 0.01, min(d, w) * 0.8, 0.02))
    return parts


def sofa(s: Size) -> list[Part]:
    d, w, h = s
    base_h, arm_w, back_d = 0.42, 0.18, 0.2
    z0 = -h / 2
    return [
        _box(back_d / 2, 0, z0 + base_h / 2, d - back_d, w - 2 * arm_w, base_h),
        _box(-d / 2 + back_d / 2, 0, 0, back_d, w, h),
        _box(back_d / 2, w / 2 - arm_w / 2, z0 + 0.3, d - back_d, arm_w, 0.6),
        _box(back_d / 2, -w / 2 + arm_w / 2, z0 + 0.3, d - back_d, arm_w, 0.6),
    ]


def bed(s: Size) -> list[Part]:
    d, w, h = s  # depth = length of the bed, headboard at the back (-X)
    z0 = -h / 2
    head_t = 0.08
    return [
        _box(head_t / 2, 0, z0 + 0.15, d - head_t, w, 0.3),
        _box(head_t / 2, 0, z0 + 0.42, d - head_t - 0.04, w - 0.04, 0.24, color=(0.85, 0.85, 0.82)),
        _box(-d / 2 + head_t / 2, 0, 0, head_t, w, h),
    ]


def shelf(s: Size, shelves: int = 4, t: float = 0.03) -> list[Part]:
    d, w, h = s
    parts = [_box(0, y * (w / 2 - t / 2), 0, d, t, h) for y in (-1, 1)]
    parts.append(_box(-d / 2 + t / 2, 0, 0, t, w - 2 * t, h))
    for k in range(shelves + 1):
        z = -h / 2 + t / 2 + k * (h - t) / shelves
        parts.append(_box(0, 0, z, d, w - 2 * t, t))
    return parts


def tv(s: Size) -> list[Part]:
    d, w, h = s
    foot_h = 0.08
    return [
        _box(0, 0, -h / 2 + 0.01, d, w * 0.4, 0.02),
        _box(-d / 4, 0, -h / 2 + foot_h / 2, 0.04, 0.08, foot_h),
        _box(-d / 4, 0, -h / 2 + foot_h + (h - foot_h) / 2, 0.05, w, h - foot_h),
        _box(
            -d / 4 + 0.026,
            0,
            -h / 2 + foot_h + (h - foot_h) / 2,
            0.002,
            w * 0.95,
            (h - foot_h) * 0.92,
            color=(0.01, 0.01, 0.012),
        ),
    ]


def floor_lamp(s: Size) -> list[Part]:
    d, w, h = s
    shade_h = 0.3
    return [
        _cyl(0, 0, -h / 2 + 0.015, min(d, w) * 0.7, 0.03),
        _cyl(0, 0, (0.03 - shade_h) / 2, 0.03, h - shade_h - 0.03),  # from the base's top to the shade
        _cyl(0, 0, h / 2 - shade_h / 2, min(d, w), shade_h, shape="cone", color=(0.9, 0.85, 0.7)),
    ]


def table_lamp(s: Size) -> list[Part]:
    d, w, h = s
    shade_h = h * 0.45
    return [
        _cyl(0, 0, -h / 2 + 0.1, min(d, w) * 0.5, 0.2, shape="cone"),
        _cyl(0, 0, -h / 2 + 0.2 + (h - shade_h - 0.2) / 2, 0.02, h - shade_h - 0.2),
        _cyl(0, 0, h / 2 - shade_h / 2, min(d, w), shade_h, shape="cone", color=(0.95, 0.9, 0.75)),
    ]


def plant(s: Size) -> list[Part]:
    d, w, h = s
    pot_h = h * 0.35
    return [
        _cyl(0, 0, -h / 2 + pot_h / 2, min(d, w) * 0.6, pot_h, shape="cone"),
        Part(
            shape="sphere",
            center=(0, 0, -h / 2 + pot_h + (h - pot_h) / 2),
            size=(d, w, h - pot_h),
            color=(0.05, 0.25, 0.04),
        ),
    ]


def cylinder(s: Size) -> list[Part]:
    return [_cyl(0, 0, 0, min(s[0], s[1]), s[2])]


def vase(s: Size) -> list[Part]:
    return [_cyl(0, 0, 0, min(s[0], s[1]), s[2], shape="cone")]


def bowl(s: Size) -> list[Part]:
    return [Part(shape="sphere", center=(0, 0, 0), size=s)]


def laptop(s: Size) -> list[Part]:
    d, w, h = s
    return [
        _box(0, 0, -h / 2 + 0.01, d, w, 0.02),
        _box(-d / 2 + 0.01, 0, 0.01, 0.02, w, h - 0.02),
    ]


def monitor(s: Size) -> list[Part]:
    d, w, h = s
    return [
        _box(0, 0, -h / 2 + 0.01, d, w * 0.35, 0.02),
        _box(-d / 4, 0, -h / 2 + 0.1, 0.03, 0.05, 0.16),
        _box(-d / 4, 0, -h / 2 + 0.18 + (h - 0.18) / 2, 0.04, w, h - 0.18),
    ]


def fridge(s: Size) -> list[Part]:
    d, w, h = s
    return [
        _box(0, 0, 0, d, w, h),
        _box(d / 2 + 0.015, w / 2 - 0.08, 0.2, 0.03, 0.03, 0.5, color=(0.6, 0.6, 0.6)),
    ]


def toilet(s: Size) -> list[Part]:
    d, w, h = s  # the cistern against the wall (-X), the bowl in front
    seat = 0.42
    z0 = -h / 2
    return [
        _box(d * 0.1, 0, z0 + (seat - 0.08) / 2, d * 0.45, w * 0.55, seat - 0.08),
        Part(shape="cylinder", center=(d * 0.12, 0, z0 + seat - 0.06), size=(d * 0.75, w, 0.12)),
        _box(-d / 2 + 0.1, 0, z0 + seat + (h - seat) / 2, 0.2, w, h - seat),
    ]


def bathtub(s: Size, t: float = 0.07) -> list[Part]:
    d, w, h = s  # d across the tub, w its length along the wall
    return [
        _box(0, 0, -h / 2 + t / 2, d, w, t),
        *(_box(x * (d / 2 - t / 2), 0, t / 2, t, w, h - t) for x in (-1, 1)),
        *(_box(0, y * (w / 2 - t / 2), t / 2, d - 2 * t, t, h - t) for y in (-1, 1)),
    ]


def sink(s: Size) -> list[Part]:
    d, w, h = s  # a vanity unit with a basin on its top and a tap at the back
    top = h - 0.12
    z0 = -h / 2
    return [
        _box(0, 0, z0 + (top - 0.04) / 2, d - 0.03, w, top - 0.04, color=(0.45, 0.4, 0.35)),
        _box(0, 0, z0 + top - 0.02, d, w, 0.04),
        _cyl(0.02, 0, z0 + top + 0.04, min(d * 0.7, w * 0.6), 0.08),
        _cyl(-d / 2 + 0.05, 0, z0 + top + 0.06, 0.03, 0.12, color=(0.6, 0.6, 0.6)),
    ]


def kitchen_cabinet(s: Size) -> list[Part]:
    d, w, h = s  # base unit: body, a worktop overhanging 2 cm at the front, a handle
    return [
        _box(-0.02, 0, -0.02, d - 0.04, w - 0.004, h - 0.04),
        _box(0, 0, h / 2 - 0.02, d, w, 0.04, color=(0.3, 0.3, 0.3)),
        _box(d / 2 - 0.03, 0, h / 2 - 0.1, 0.02, w * 0.5, 0.02, color=(0.6, 0.6, 0.6)),
    ]


def oven(s: Size) -> list[Part]:
    d, w, h = s  # a cooker: body, dark glass door, black hob
    return [
        _box(0, 0, -0.01, d, w, h - 0.02),
        _box(d / 2 + 0.005, 0, -h * 0.1, 0.01, w * 0.8, h * 0.45, color=(0.02, 0.02, 0.02)),
        _box(0, 0, h / 2 - 0.01, d * 0.9, w * 0.9, 0.02, color=(0.01, 0.01, 0.01)),
    ]


def microwave(s: Size) -> list[Part]:
    d, w, h = s
    return [
        _box(-0.005, 0, 0, d - 0.01, w, h),
        _box(d / 2 - 0.005, -w * 0.1, 0, 0.01, w * 0.65, h * 0.7, color=(0.02, 0.02, 0.02)),
    ]


def office_chair(s: Size) -> list[Part]:
    d, w, h = s  # star base (a disc), gas lift, seat, back at -X
    seat = 0.48
    z0 = -h / 2
    return [
        _cyl(0, 0, z0 + 0.04, min(d, w), 0.08, color=(0.05, 0.05, 0.05)),
        _cyl(0, 0, z0 + 0.08 + (seat - 0.16) / 2, 0.05, seat - 0.16, color=(0.3, 0.3, 0.3)),
        _box(0.02, 0, z0 + seat - 0.04, d * 0.85, w * 0.85, 0.08),
        _box(-d / 2 + 0.04, 0, z0 + seat + (h - seat) / 2, 0.06, w * 0.8, h - seat),
    ]


def cup(s: Size) -> list[Part]:
    d, w, h = s  # a mug, its handle at +Y
    r = min(d, w) * 0.4
    return [_cyl(0, -min(d, w) * 0.1, 0, 2 * r, h), _box(0, r * 0.75, 0, 0.012, min(d, w) * 0.3, h * 0.55)]


def bottle(s: Size) -> list[Part]:
    d, w, h = s
    body = h * 0.65
    return [
        _cyl(0, 0, -h / 2 + body / 2, min(d, w), body),
        _cyl(0, 0, -h / 2 + body + (h - body) / 2, min(d, w) * 0.35, h - body),
    ]


def framed(s: Size, face: tuple[float, float, float] = (0.62, 0.5, 0.36)) -> list[Part]:
    d, w, h = s  # a frame with a picture (or a mirror's glass) set in its face at +X
    return [_box(-0.003, 0, 0, d - 0.006, w, h), _box(d / 2 - 0.003, 0, 0, 0.006, w - 0.08, h - 0.08, color=face)]


def mirror(s: Size) -> list[Part]:
    return framed(s, face=(0.75, 0.78, 0.8))


def _extent(parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest corner of the parts' tight axis-aligned box in their frame. Every
    primitive reaches its full ``size`` along its axes (round ones: their real diameters)."""
    centres, half = np.array([p.center for p in parts]), np.array([p.size for p in parts]) / 2
    return (centres - half).min(axis=0), (centres + half).max(axis=0)


@dataclass(frozen=True)
class Category:
    name: str
    size_min: Size
    size_max: Size
    placement: Placement
    build: Callable[[Size], list[Part]]
    materials: tuple[str, ...]
    supports: bool = False  # other objects may stand on its top
    palette: tuple[str, ...] = ()  # colour words it comes in (``COLORS``); empty: any the scene uses

    def make(self, size: Size) -> tuple[Size, list[Part]]:
        """Parts for a sampled ``size`` and the object's box size: the parts' tight extent,
        with the parts moved so that its centre is the local origin (``scene.py``)."""
        parts = self.build(size)
        lo, hi = _extent(parts)
        shift = (lo + hi) / 2
        moved = [p.model_copy(update={"center": tuple(float(c) for c in np.subtract(p.center, shift))}) for p in parts]
        return tuple(float(v) for v in hi - lo), moved  # type: ignore[return-value]


# categories a dynamic episode may move (small, free-standing things people move around)
MOVABLE = frozenset(
    {
        "chair",
        "stool",
        "box",
        "trash bin",
        "potted plant",
        "armchair",
        "floor lamp",
        "vase",
        "bowl",
        "laptop",
        "table lamp",
        "office chair",
        "book",
        "cup",
        "plate",
        "bottle",
        "plant",
    }
)

CATEGORIES: tuple[Category, ...] = (
    Category("bed", (1.9, 0.9, 0.9), (2.1, 1.8, 1.1), "wall", bed, ("wooden", "fabric"), False),
    Category("sofa", (0.8, 1.6, 0.8), (1.0, 2.4, 0.95), "wall", sofa, ("fabric", "leather")),
    Category("armchair", (0.75, 0.75, 0.8), (0.9, 0.95, 1.0), "floor", sofa, ("fabric", "leather")),
    Category("chair", (0.42, 0.42, 0.8), (0.55, 0.5, 1.0), "floor", chair, ("wooden", "plastic", "metal")),
    Category("stool", (0.3, 0.3, 0.45), (0.4, 0.4, 0.75), "floor", stool, ("wooden", "metal", "plastic")),
    Category("dining table", (0.8, 1.2, 0.72), (1.0, 1.8, 0.78), "floor", table, ("wooden", "glass", "metal"), True),
    Category("coffee table", (0.5, 0.8, 0.38), (0.7, 1.2, 0.48), "floor", table, ("wooden", "glass"), True),
    Category("desk", (0.55, 1.0, 0.72), (0.75, 1.6, 0.78), "wall", table, ("wooden", "metal"), True),
    Category("nightstand", (0.35, 0.4, 0.45), (0.45, 0.55, 0.65), "wall", solid, ("wooden",), True),
    Category("bookshelf", (0.28, 0.6, 1.2), (0.4, 1.2, 2.0), "wall", shelf, ("wooden", "metal")),
    Category("wardrobe", (0.55, 0.9, 1.8), (0.65, 1.6, 2.2), "wall", solid, ("wooden",)),
    Category("cabinet", (0.4, 0.6, 0.8), (0.5, 1.2, 1.0), "wall", solid, ("wooden", "metal"), True),
    Category("tv stand", (0.4, 1.0, 0.45), (0.5, 1.8, 0.6), "wall", solid, ("wooden", "metal"), True),
    Category("refrigerator", (0.6, 0.6, 1.6), (0.75, 0.9, 1.9), "wall", fridge, ("metal", "plastic")),
    Category("floor lamp", (0.35, 0.35, 1.4), (0.5, 0.5, 1.8), "floor", floor_lamp, ("metal",)),
    Category("potted plant", (0.35, 0.35, 0.6), (0.7, 0.7, 1.6), "floor", plant, ("ceramic", "plastic")),
    Category("trash bin", (0.25, 0.25, 0.3), (0.4, 0.4, 0.6), "floor", cylinder, ("metal", "plastic")),
    Category("box", (0.3, 0.3, 0.2), (0.6, 0.6, 0.5), "floor", solid, ("cardboard",)),
    Category("television", (0.2, 0.9, 0.55), (0.25, 1.4, 0.85), "surface", tv, ("plastic",)),
    Category("monitor", (0.18, 0.5, 0.35), (0.22, 0.7, 0.5), "surface", monitor, ("plastic",)),
    Category("laptop", (0.22, 0.3, 0.2), (0.26, 0.38, 0.25), "surface", laptop, ("metal", "plastic")),
    Category("table lamp", (0.22, 0.22, 0.35), (0.35, 0.35, 0.6), "surface", table_lamp, ("ceramic", "metal")),
    Category("vase", (0.1, 0.1, 0.2), (0.2, 0.2, 0.4), "surface", vase, ("ceramic", "glass")),
    Category("bowl", (0.15, 0.15, 0.07), (0.3, 0.3, 0.12), "surface", bowl, ("ceramic", "wooden")),
)

CATEGORY = {c.name: c for c in CATEGORIES}

SANITARY = ("white", "gray")
APPLIANCE = ("white", "gray", "black")
HOUSEHOLD: tuple[Category, ...] = (
    Category("toilet", (0.6, 0.36, 0.72), (0.72, 0.45, 0.84), "wall", toilet, ("ceramic",), palette=SANITARY),
    Category("bathtub", (0.7, 1.5, 0.5), (0.8, 1.75, 0.6), "wall", bathtub, ("ceramic",), palette=SANITARY),
    Category("sink", (0.42, 0.5, 0.82), (0.52, 0.8, 0.92), "wall", sink, ("ceramic",), palette=SANITARY),
    Category(
        "kitchen cabinet",
        (0.58, 0.6, 0.86),
        (0.62, 0.6, 0.92),
        "wall",
        kitchen_cabinet,
        ("wooden",),
        supports=True,
        palette=("white", "gray", "brown", "teal", "black"),
    ),
    Category("oven", (0.58, 0.6, 0.86), (0.62, 0.6, 0.92), "wall", oven, ("metal",), palette=APPLIANCE),
    Category(
        "microwave", (0.3, 0.45, 0.26), (0.4, 0.55, 0.32), "surface", microwave, ("metal", "plastic"), palette=APPLIANCE
    ),
    Category("office chair", (0.55, 0.55, 0.9), (0.65, 0.65, 1.15), "floor", office_chair, ("fabric", "leather")),
    # upright: d across its cover, w its thickness (the spine faces +X)
    Category("book", (0.13, 0.02, 0.18), (0.2, 0.06, 0.3), "surface", solid, ("paper",)),
    Category("cup", (0.08, 0.08, 0.08), (0.11, 0.11, 0.12), "surface", cup, ("ceramic",)),
    Category("plate", (0.2, 0.2, 0.02), (0.28, 0.28, 0.03), "surface", cylinder, ("ceramic",)),
    Category("bottle", (0.06, 0.06, 0.2), (0.09, 0.09, 0.33), "surface", bottle, ("glass", "plastic")),
    Category("plant", (0.15, 0.15, 0.2), (0.3, 0.3, 0.55), "surface", plant, ("ceramic", "plastic")),
    Category("rug", (1.2, 1.6, 0.01), (2.0, 2.8, 0.015), "floor", solid, ("fabric",)),
    Category("wall art", (0.02, 0.4, 0.3), (0.04, 1.1, 0.8), "hung", framed, ("wooden", "metal")),
    Category("mirror", (0.02, 0.4, 0.5), (0.03, 0.8, 0.9), "hung", mirror, ("wooden", "metal")),
)
CATALOG = {c.name: c for c in CATEGORIES + HOUSEHOLD}
# synth's primitive stand-ins (a plant as an ellipsoid on a cylinder, boxes, bins): where Infinigen
# furnishes a scene, those it has no factory for are left out rather than drawn as primitives
STANDINS = frozenset({"wardrobe", "stool", "box", "trash bin", "laptop", "potted plant"})

# Colour words and linear RGB values; names chosen to be unambiguous to people.
COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.55, 0.03, 0.03),
    "orange": (0.8, 0.25, 0.02),
    "yellow": (0.8, 0.65, 0.05),
    "green": (0.06, 0.35, 0.06),
    "teal": (0.02, 0.3, 0.3),
    "blue": (0.03, 0.1, 0.55),
    "purple": (0.25, 0.05, 0.4),
    "pink": (0.85, 0.3, 0.45),
    "brown": (0.2, 0.08, 0.03),
    "white": (0.8, 0.8, 0.8),
    "gray": (0.2, 0.2, 0.2),
    "black": (0.015, 0.015, 0.015),
}
# the colours of synth's primitive furniture in rooms furnished by Infinigen (homes, not toys)
MUTED_COLORS = ("black", "brown", "gray", "white")

# Material words -> (roughness, metallic)
MATERIALS: dict[str, tuple[float, float]] = {
    "wooden": (0.6, 0.0),
    "metal": (0.3, 1.0),
    "plastic": (0.4, 0.0),
    "fabric": (0.95, 0.0),
    "leather": (0.55, 0.0),
    "glass": (0.05, 0.0),
    "ceramic": (0.2, 0.0),
    "cardboard": (0.9, 0.0),
    "paper": (0.8, 0.0),
}

WALL_FINISHES = {
    "white plaster": (0.75, 0.75, 0.72),
    "beige paint": (0.6, 0.5, 0.36),
    "light gray paint": (0.5, 0.5, 0.5),
    "pale green paint": (0.45, 0.55, 0.4),
    "pale blue paint": (0.4, 0.5, 0.6),
}
FLOOR_FINISHES = {
    "oak parquet": (0.35, 0.2, 0.08),
    "dark wood": (0.12, 0.06, 0.03),
    "gray tiles": (0.3, 0.3, 0.3),
    "beige carpet": (0.45, 0.38, 0.28),
    "white tiles": (0.7, 0.7, 0.68),
}
