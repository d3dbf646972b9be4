"""Procedural indoor-scene sampler: the embedded default scene source.

Deterministic per seed. Rooms are rectangular or L-shaped; furniture stands on the floor
(some of it backed against a wall) and small items stand on supporting surfaces. Every
object's box is the tight box of its parts (``Category.make``); footprints of these boxes
never overlap and every one lies inside the room, so nothing interpenetrates.
"""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Polygon
from shapely.prepared import prep

from synth.backends.procedural.catalog import (
    CATEGORIES,
    CATEGORY,
    COLORS,
    FLOOR_FINISHES,
    MATERIALS,
    MOVABLE,
    MUTED_COLORS,
    STANDINS,
    WALL_FINISHES,
    Category,
)
from synth.backends.procedural.infinigen_assets import Asset, InfinigenAssets
from synth.core.geometry import footprint
from synth.core.scene import ROOM_ID, Box3D, Light, Material, Part, Room, Scene, SceneObject, Window

GAP = 0.02  # minimum clearance between footprints, metres
WALL_GAP = 0.01


def _room(rng: np.random.Generator) -> Room:
    w, d = rng.uniform(4.0, 8.0), rng.uniform(3.5, 7.0)
    if rng.random() < 0.4:
        cw, cd = w * rng.uniform(0.3, 0.5), d * rng.uniform(0.3, 0.5)
        fp = [(0, 0), (w, 0), (w, d - cd), (w - cw, d - cd), (w - cw, d), (0, d)]
        shape = "L-shaped"
    else:
        fp = [(0, 0), (w, 0), (w, d), (0, d)]
        shape = "rectangular"
    fp = [(round(x, 3), round(y, 3)) for x, y in fp]
    return Room(
        shape=shape,
        footprint=fp,
        height=round(float(rng.uniform(2.5, 3.2)), 3),
        wall=finish(WALL_FINISHES, 0.9, rng),
        floor=finish(FLOOR_FINISHES, 0.6, rng),
        ceiling=CEILING,
    )


CEILING = Material(color_name="white", material_name="plaster", rgb=(0.8, 0.8, 0.8), roughness=0.9)


def finish(table: dict[str, tuple[float, float, float]], rough: float, rng: np.random.Generator) -> Material:
    """A wall or floor finish drawn from ``table`` ("<colour words> <material>" -> linear RGB)."""
    name = str(rng.choice(sorted(table)))
    color, _, mat = name.rpartition(" ")
    return Material(color_name=color, material_name=mat, rgb=table[name], roughness=rough)


def ceiling_lights(room: Room, rng: np.random.Generator) -> list[Light]:
    """Area lights (1.2 m panels, smaller in narrow rooms) under the ceiling: one in a room under
    25 m², two above; 4-7 W per m² of floor; kept 0.7 m from the walls (less where the room is
    narrower than 1.6 m)."""
    poly = Polygon(room.footprint)
    area = poly.area
    kelvin_tint = [(1.0, 0.85, 0.7), (1.0, 0.93, 0.85), (1.0, 1.0, 1.0), (0.88, 0.93, 1.0)]
    tint = kelvin_tint[int(rng.integers(len(kelvin_tint)))]
    n = 1 if area < 25 else 2
    inset = 0.7
    while poly.buffer(-inset).area < 0.05:
        inset /= 2
    core = poly.buffer(-inset)
    lights = []
    minx, miny, maxx, maxy = poly.bounds
    while len(lights) < n:
        x, y = rng.uniform(minx + inset + 0.1, maxx - inset - 0.1), rng.uniform(miny + inset + 0.1, maxy - inset - 0.1)
        if not core.contains(Polygon([(x - 0.01, y - 0.01), (x + 0.01, y - 0.01), (x, y + 0.01)])):
            continue
        lights.append(
            Light(
                kind="area",
                position=(round(x, 3), round(y, 3), room.height - 0.02),
                energy=round(float(rng.uniform(4.0, 7.0) * area / n), 1),
                color=tint,
                size=min(1.2, round(2 * inset, 3)),
            )
        )
    return lights


def pick_material(cat: Category, used: set[str], rng: np.random.Generator, colors: tuple[str, ...]) -> Material:
    """Pick a colour (of ``colors``) and material pair whose description is not yet taken in this scene."""
    options = [(c, m) for c in colors for m in cat.materials if f"{c} {m} {cat.name}" not in used]
    if not options:
        options = [(c, m) for c in colors for m in cat.materials]
    color, mat = options[int(rng.integers(len(options)))]
    rough, metal = MATERIALS[mat]
    return Material(color_name=color, material_name=mat, rgb=COLORS[color], roughness=rough, metallic=metal)


def sample_size(cat: Category, rng: np.random.Generator) -> tuple[float, float, float]:
    lo, hi = np.asarray(cat.size_min), np.asarray(cat.size_max)
    return tuple(round(float(v), 3) for v in rng.uniform(lo, hi))  # type: ignore[return-value]


def shape(
    cat: Category, rng: np.random.Generator, assets: InfinigenAssets | None
) -> tuple[tuple[float, float, float], list[Part], Asset | None]:
    """An instance of ``cat``: its box size (metres) and primitive parts, or (with ``assets``
    having a factory for it) one of its Infinigen variants, drawn from ``rng``, sized as generated."""
    if assets is not None and cat.name in assets.categories:
        asset = assets.asset(cat.name, int(rng.integers(assets.variants)))
        return asset.size, [], asset
    size, parts = cat.make(sample_size(cat, rng))
    return size, parts, None


def scene_object(
    object_id: int,
    cat: Category,
    box: Box3D,
    parts: list[Part],
    support: int,
    asset: Asset | None,
    material: Material | None,
) -> SceneObject:
    """The object ``object_id`` made of ``shape``'s parts or asset, at ``box``, standing on
    ``support``: primitives in ``material`` (``pick_material``), described by its colour,
    material and category; Infinigen's meshes keep their own materials, named by the word for
    the main one (``material`` is not used)."""
    if asset is None:
        if material is None:
            raise ValueError(f"object {object_id}: primitive parts need a material")
        desc = f"{material.color_name} {material.material_name} {cat.name}"
    else:  # Infinigen's materials: named, not coloured by synth (look-alikes: ``describe``)
        material = Material(color_name="", material_name=asset.material_word, rgb=(0.5, 0.5, 0.5))
        desc = f"{asset.material_word} {cat.name}".strip()
    return SceneObject(
        id=object_id,
        category=cat.name,
        description=desc,
        material=material,
        box=box,
        parts=parts,
        mesh=asset.mesh() if asset else None,
        supported_by=support,
        movable=cat.name in MOVABLE,
    )


def _wall_pose(room_poly: Polygon, size, rng) -> tuple[float, float, float]:
    pts = list(room_poly.exterior.coords)[:-1]
    edges = [(np.array(pts[i]), np.array(pts[(i + 1) % len(pts)])) for i in range(len(pts))]
    lengths = np.array([np.linalg.norm(b - a) for a, b in edges])
    a, b = edges[int(rng.choice(len(edges), p=lengths / lengths.sum()))]
    d = (b - a) / np.linalg.norm(b - a)
    inward = np.array([-d[1], d[0]])  # CCW polygon: interior on the left
    half_w = size[1] / 2
    length = float(np.linalg.norm(b - a))
    if length < size[1] + 0.1:
        raise ValueError("wall too short")
    t = rng.uniform(half_w + 0.05, length - half_w - 0.05)
    c = a + d * t + inward * (size[0] / 2 + WALL_GAP)
    return float(c[0]), float(c[1]), math.atan2(inward[1], inward[0])


def sample_scene(
    seed: int, min_objects: int = 8, max_objects: int = 25, assets: InfinigenAssets | None = None
) -> Scene:
    """Sample a furnished room. Same seed, same scene. With ``assets``, the categories it has
    factories for are Infinigen meshes (one of its variants, sized as generated) instead of
    primitive parts."""
    if not 1 <= min_objects <= max_objects:
        raise ValueError(f"need 1 <= min_objects <= max_objects, got {min_objects}, {max_objects}")
    for attempt in range(50):
        scene = _try_sample(seed, attempt, min_objects, max_objects, assets)
        if scene is not None:
            return scene
    raise RuntimeError(f"could not place {min_objects} objects for seed {seed}")


def _try_sample(
    seed: int, attempt: int, min_objects: int, max_objects: int, assets: InfinigenAssets | None
) -> Scene | None:
    rng = np.random.default_rng([seed, attempt])
    room = _room(rng)
    room_poly = Polygon(room.footprint)
    inside = prep(room_poly)
    target = int(rng.integers(min_objects, max_objects + 1))
    # floor furniture may cover at most ~40% of the floor so that a camera can move
    floor_budget = 0.4 * room_poly.area
    # with Infinigen's furniture no primitive stand-in remains: those without a factory are left out
    kept = [c for c in CATEGORIES if assets is None or c.name not in STANDINS or c.name in assets.categories]
    floor_cats = [c for c in kept if c.placement != "surface"]
    surface_cats = [c for c in kept if c.placement == "surface"]

    objects: list[SceneObject] = []
    footprints: list[Polygon] = []  # floor-standing objects
    used_desc: set[str] = set()
    on_top: dict[int, list[Polygon]] = {}
    covered = 0.0
    colors = MUTED_COLORS if assets is not None else tuple(sorted(COLORS))

    def add(cat: Category, box: Box3D, parts: list[Part], support: int, asset: Asset | None) -> None:
        mat = pick_material(cat, used_desc, rng, colors) if asset is None else None
        objects.append(scene_object(len(objects) + 1, cat, box, parts, support, asset, mat))
        used_desc.add(objects[-1].description)

    n_surface_goal = int(round(target * rng.uniform(0.15, 0.35)))
    tries = 0
    while len(objects) < target - n_surface_goal and tries < 400:
        tries += 1
        cat = floor_cats[int(rng.integers(len(floor_cats)))]
        size, parts, asset = shape(cat, rng, assets)
        if covered + size[0] * size[1] > floor_budget:
            continue
        if cat.placement == "wall":
            try:
                x, y, yaw = _wall_pose(room_poly, size, rng)
            except ValueError:
                continue
        else:
            minx, miny, maxx, maxy = room_poly.bounds
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            yaw = float(rng.integers(4)) * math.pi / 2 + (rng.uniform(-0.6, 0.6) if rng.random() < 0.5 else 0.0)
        yaw = math.remainder(yaw, 2 * math.pi)
        box = Box3D(center=(round(x, 4), round(y, 4), size[2] / 2), size=size, yaw=round(yaw, 4))
        fp = footprint(box)
        if not inside.contains(fp) or any(fp.distance(o) < GAP for o in footprints):
            continue
        footprints.append(fp)
        covered += fp.area
        add(cat, box, parts, ROOM_ID, asset)

    supporters = [o for o in objects if CATEGORY[o.category].supports]
    tries = 0
    while len(objects) < target and supporters and tries < 200:
        tries += 1
        cat = surface_cats[int(rng.integers(len(surface_cats)))]
        sup = supporters[int(rng.integers(len(supporters)))]
        size, parts, asset = shape(cat, rng, assets)
        top_z = sup.box.center[2] + sup.box.size[2] / 2
        if top_z + size[2] > room.height - 0.15:
            continue
        # position inside the supporter's top, in its local frame; items face its front
        mx, my = sup.box.size[0] / 2 - size[0] / 2 - 0.02, sup.box.size[1] / 2 - size[1] / 2 - 0.02
        if mx < 0 or my < 0:
            continue
        lx, ly = rng.uniform(-mx, mx), rng.uniform(-my, my)
        c, s = math.cos(sup.box.yaw), math.sin(sup.box.yaw)
        x, y = sup.box.center[0] + c * lx - s * ly, sup.box.center[1] + s * lx + c * ly
        box = Box3D(center=(round(x, 4), round(y, 4), top_z + size[2] / 2), size=size, yaw=sup.box.yaw)
        fp = footprint(box)
        if any(fp.distance(o) < GAP for o in on_top.get(sup.id, [])):
            continue
        on_top.setdefault(sup.id, []).append(fp)
        add(cat, box, parts, sup.id, asset)

    if len(objects) < min_objects:
        return None
    lights = ceiling_lights(room, rng)
    if assets is not None:  # rooms that look like homes: windows and daylight (their own random stream)
        room, sun = _daylight(room, np.random.default_rng([seed, attempt, 17]))
        lights.append(sun)
    return Scene(seed=seed, simulator="procedural", rooms=[room], lights=lights, objects=objects)


def _daylight(room: Room, rng: np.random.Generator) -> tuple[Room, Light]:
    """One to three windows on the room's longer walls and the sun shining in through them."""
    windows = place_windows(room, rng)
    cx, cy = np.asarray(room.footprint).mean(axis=0)
    return room.model_copy(update={"windows": windows}), sun_light((float(cx), float(cy)), room.height, rng)


def place_windows(
    room: Room, rng: np.random.Generator, walls: list[int] | None = None, avoid: list[tuple[int, float, float]] = ()
) -> list[Window]:
    """One to three windows on ``walls`` (default: every wall; those 1.6 m or longer are used,
    longer ones more often), 0.8-2 m wide, 1-1.5 m high, sill from 0.7 m, top 0.25 m under the
    ceiling, 0.3 m apart and from the wall's ends; none overlaps a span ``(wall, start, end)``
    of ``avoid`` (metres along the wall from its first corner: doorways, tall furniture). Fewer
    (or none) where they do not fit."""
    pts = np.asarray(room.footprint)
    lengths = np.linalg.norm(np.roll(pts, -1, axis=0) - pts, axis=1)
    allowed = np.arange(len(pts)) if walls is None else np.asarray(sorted(walls), dtype=int)
    windows: list[Window] = []
    for _ in range(int(rng.integers(1, 4))):
        usable = allowed[lengths[allowed] >= 1.6]
        if not len(usable):
            break
        wall = int(rng.choice(usable, p=lengths[usable] / lengths[usable].sum()))
        width = float(rng.uniform(0.8, min(2.0, lengths[wall] - 0.6)))
        height = float(rng.uniform(1.0, min(1.5, room.height - 1.25)))
        sill = float(rng.uniform(0.7, room.height - 0.25 - height))
        center = float(rng.uniform(width / 2 + 0.3, lengths[wall] - width / 2 - 0.3))
        window = Window(wall=wall, center=round(center, 3), width=round(width, 3), sill=round(sill, 3),
                        height=round(height, 3))  # fmt: skip
        clear = all(w != wall or b < center - width / 2 or a > center + width / 2 for w, a, b in avoid)
        if clear and all(w.wall != wall or abs(w.center - center) > (w.width + width) / 2 + 0.3 for w in windows):
            windows.append(window)
    return windows


def sun_light(centre: tuple[float, float], top: float, rng: np.random.Generator) -> Light:
    """The sun, 20-55 degrees high from a random azimuth, 2-4 W/m², placed 5 m above ``top``
    over ``centre`` (metres; a sun's position does not light anything, its direction does)."""
    azimuth, elevation = rng.uniform(0, 2 * math.pi), rng.uniform(math.radians(20), math.radians(55))
    direction = (
        -math.cos(elevation) * math.cos(azimuth),
        -math.cos(elevation) * math.sin(azimuth),
        -math.sin(elevation),
    )
    return Light(
        kind="sun",
        position=(round(centre[0], 3), round(centre[1], 3), top + 5.0),
        energy=round(float(rng.uniform(2.0, 4.0)), 2),
        color=(1.0, 0.95, 0.88),
        direction=tuple(round(v, 4) for v in direction),  # type: ignore[arg-type]
    )
