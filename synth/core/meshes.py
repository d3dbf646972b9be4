"""Triangle meshes for scene primitives, shared by every renderer backend and by tests.

Meshes are built here, not inside a renderer, so that the geometry a backend draws is the
geometry that exporters, ray casts and surface samplers see.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.core.geometry import door_leaf, local_to_world, wall_frame
from synth.core.rotations import yaw_rotation
from synth.core.scene import Doorway, Material, MeshAsset, Part, Pose, Room, SceneObject

SEGMENTS = 24  # around cylinders, cones and spheres


@dataclass(frozen=True)
class Mesh:
    vertices: np.ndarray  # (V, 3) float64
    faces: np.ndarray  # (F, 3) int64, counter-clockwise seen from outside

    def triangles(self) -> np.ndarray:
        """(F, 3, 3) triangle corner positions."""
        return self.vertices[self.faces]


def merge(meshes: list[Mesh]) -> Mesh:
    verts, faces, offset = [], [], 0
    for m in meshes:
        verts.append(m.vertices)
        faces.append(m.faces + offset)
        offset += len(m.vertices)
    return Mesh(np.concatenate(verts), np.concatenate(faces))


def _box(size: np.ndarray) -> Mesh:
    sx, sy, sz = np.asarray(size) / 2.0
    v = np.array([[x, y, z] for x in (-sx, sx) for y in (-sy, sy) for z in (-sz, sz)], dtype=float)
    # vertex index = 4*ix + 2*iy + iz
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    f = []
    for a, b, c, d in quads:
        f += [(a, b, c), (a, c, d)]
    return Mesh(v, np.array(f, dtype=np.int64))


def _lathe(profile: list[tuple[float, float]], size: np.ndarray) -> Mesh:
    """Surface of revolution: ``profile`` is (radius fraction, z fraction) from bottom to top,
    scaled to the part's diameters and height. Each end is closed: a radius-0 end (only ends may
    have radius 0) is a pole, a single vertex; any other end is capped by a flat disc."""
    n = SEGMENTS
    ang = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    rx, ry, h = size[0] / 2.0, size[1] / 2.0, size[2]
    rings = [(r, z) for r, z in profile if r > 0]
    verts, faces = [], []
    for r, z in rings:
        for a in ang:
            verts.append((r * rx * math.cos(a), r * ry * math.sin(a), (z - 0.5) * h))
    for i in range(len(rings) - 1):
        for j in range(n):
            a, b = i * n + j, i * n + (j + 1) % n
            c, d = a + n, b + n
            faces += [(a, b, d), (a, d, c)]
    for ring, z, flip in ((0, profile[0][1], True), (len(rings) - 1, profile[-1][1], False)):
        centre = len(verts)  # the cap's centre or the pole
        verts.append((0.0, 0.0, (z - 0.5) * h))
        for j in range(n):
            a, b = ring * n + j, ring * n + (j + 1) % n
            faces.append((centre, b, a) if flip else (centre, a, b))
    return Mesh(np.array(verts, dtype=float), np.array(faces, dtype=np.int64))


def part_mesh(part: Part) -> Mesh:
    """Mesh of one primitive in its object's local frame."""
    size = np.asarray(part.size, dtype=float)
    if part.shape == "box":
        m = _box(size)
    elif part.shape == "cylinder":
        m = _lathe([(1.0, 0.0), (1.0, 1.0)], size)
    elif part.shape == "cone":
        m = _lathe([(1.0, 0.0), (0.55, 1.0)], size)
    else:  # sphere
        rings = 10
        prof = [(math.sin(math.pi * k / rings), (1 - math.cos(math.pi * k / rings)) / 2) for k in range(1, rings)]
        m = _lathe([(0.0, 0.0), *prof, (0.0, 1.0)], size)  # poles: the mesh spans the full height
    return Mesh(m.vertices + np.asarray(part.center), m.faces)


def asset_path(asset: MeshAsset, asset_root: str = "") -> Path:
    """Where a mesh asset's file is; ``FileNotFoundError`` naming it when it is not there."""
    path = Path(asset.uri)
    if not path.is_absolute() and asset_root:
        path = Path(asset_root) / path
    if not path.is_file():
        raise FileNotFoundError(f"mesh asset {asset.uri!r} not found (looked for {path})")
    return path


def asset_mesh(asset: MeshAsset, asset_root: str = "") -> Mesh:
    """A glTF asset's triangles (every mesh of its default scene, node transforms applied) in
    the object's local frame (``asset.transform`` applied), read with trimesh (geometry only: its
    materials and textures are not decoded)."""
    import trimesh

    loaded = trimesh.load(asset_path(asset, asset_root), force="mesh", process=False, skip_materials=True)
    T = np.asarray(asset.transform, dtype=float)
    vertices = np.asarray(loaded.vertices, dtype=float) @ T[:3, :3].T + T[:3, 3]
    return Mesh(vertices, np.asarray(loaded.faces, dtype=np.int64))


def local_mesh(obj: SceneObject, asset_root: str = "") -> Mesh:
    """The object's triangles in its local frame: its parts, or its mesh asset."""
    if obj.mesh is not None:
        return asset_mesh(obj.mesh, asset_root)
    return merge([part_mesh(p) for p in obj.parts])


def welded(mesh: Mesh) -> Mesh:
    """``mesh`` with each distinct vertex once (glTF repeats a vertex for every attribute seam;
    vertices equal bit for bit are one): the same triangles in the same order, fewer vertices to
    transform. Vertex order follows their bytes, not their first use."""
    if len(mesh.vertices) == 0:
        return mesh
    vertices = np.ascontiguousarray(mesh.vertices, dtype=np.float64)
    _, first, inverse = np.unique(
        vertices.view(np.dtype((np.void, 24))).ravel(), return_index=True, return_inverse=True
    )
    return Mesh(vertices[first], inverse.reshape(-1)[mesh.faces])


class MeshCache:
    """The welded local meshes (``welded(local_mesh(...))``) of the last ``size`` distinct object
    geometries (a mesh asset under its root, or a list of parts), for a process that opens scene
    after scene from one pool of assets (a render worker): each asset read and welded once."""

    def __init__(self, size: int = 64):
        self.size = size
        self._kept: OrderedDict[tuple, Mesh] = OrderedDict()

    def local(self, obj: SceneObject, asset_root: str = "") -> Mesh:
        key = ("asset", obj.mesh, asset_root) if obj.mesh is not None else ("parts", *obj.parts)
        mesh = self._kept.pop(key, None) or welded(local_mesh(obj, asset_root))
        if self.size > 0:
            self._kept[key] = mesh  # the most recently used last
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return mesh


def object_mesh(obj: SceneObject, pose: Pose | None = None, asset_root: str = "") -> Mesh:
    """The object's mesh in the world frame at ``pose`` (default: its rest pose)."""
    pose = pose or Pose(position=obj.box.center, rotation=obj.box.rotation)
    local = local_mesh(obj, asset_root)
    return Mesh(local_to_world(local.vertices, pose), local.faces)


def static_meshes(rooms: list[Room], stage: MeshAsset | None, asset_root: str = "") -> list[Mesh]:
    """The scene's static background in the world frame: every room's floor, walls and ceiling,
    and the stage mesh (``Scene.stage``) if the source gave one."""
    meshes = [m for r in rooms for m in room_meshes(r).values()]
    return meshes + ([asset_mesh(stage, asset_root)] if stage is not None else [])


def floor_polygons(mesh: Mesh, min_area: float = 0.5, tolerance: float = 0.05) -> list[list[tuple[float, float]]]:
    """The floor of a static mesh (a Habitat stage) as polygons (counter-clockwise, metres): the
    union of its upward-facing triangles within ``tolerance`` of its lowest one, pieces under
    ``min_area`` square metres left out. Holes are not kept (objects stand in them)."""
    from shapely import Polygon, unary_union
    from shapely.geometry.polygon import orient

    tris = mesh.triangles()
    normals = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    length = np.linalg.norm(normals, axis=1)
    up = (length > 1e-12) & (normals[:, 2] > 0.9 * np.maximum(length, 1e-12))
    if not up.any():
        return []
    level = tris[up][:, :, 2].mean(axis=1)
    floor = tris[up][level <= level.min() + tolerance]
    union = unary_union([Polygon(t[:, :2]) for t in floor if Polygon(t[:, :2]).area > 1e-9])
    pieces = getattr(union, "geoms", [union])
    return [
        [(float(x), float(y)) for x, y in orient(Polygon(p.exterior), 1.0).exterior.coords[:-1]]
        for p in pieces
        if p.area >= min_area
    ]


def room_meshes(room: Room, wall_thickness: float = 0.1) -> dict[str, Mesh]:
    """Floor, ceiling and walls (thick boxes outside the footprint). Floor and ceiling reach
    under and over the walls, and the walls reach past floor and ceiling, so that no seam can
    leave a crack through which a camera sees out of the room. Each wall reaches past its
    convex corners by the wall thickness, closing them, and stops at reflex corners (an L's
    inner corner), where reaching on would put wall inside the room: there the two walls meet
    at the corner's edge and overlap behind it. A window (``Room.windows``) is an opening: the
    wall around it is built from the pieces left, right, below and above it. A doorway
    (``Room.doorways``) is an opening down to the floor, the piece below it a threshold whose top
    is the floor; with doorways the dict has "doors" too: casings and the leaves this room hangs."""
    from shapely.geometry import Polygon
    from shapely.geometry.polygon import orient

    poly = np.asarray(room.footprint, dtype=float)
    n = len(poly)
    grown = orient(Polygon(poly).buffer(wall_thickness / 2, join_style="mitre"), 1.0)
    slab = np.asarray(grown.exterior.coords)[:-1]
    # fan triangulation is wrong for the L shape's reflex corner: ear-clip instead
    tris = _ear_clip(slab)
    floor = Mesh(np.column_stack([slab, np.zeros(len(slab))]), tris)
    ceiling = Mesh(np.column_stack([slab, np.full(len(slab), room.height)]), tris[:, ::-1].copy())
    edges = np.roll(poly, -1, axis=0) - poly  # edge i runs from corner i to corner i + 1
    before = np.roll(edges, 1, axis=0)
    convex = before[:, 0] * edges[:, 1] - before[:, 1] * edges[:, 0] > 0  # a left turn: CCW polygon
    reach = np.where(convex, wall_thickness, 0.0)  # how far walls reach past each corner
    walls = []
    t, h = wall_thickness, room.height
    for i in range(n):
        length = float(np.linalg.norm(edges[i]))
        _, along, inward = wall_frame(room, i)
        out = -inward
        turn = yaw_rotation(math.atan2(along[1], along[0]))

        def piece(a: float, b: float, z0: float, z1: float) -> Mesh:
            """The wall between a and b metres along the edge and heights z0..z1."""
            box = _box(np.array([b - a, t, z1 - z0]))
            mid = poly[i] + along * (a + b) / 2 + out * t / 2  # noqa: B023 - used at once
            return Mesh(box.vertices @ turn.T + np.array([mid[0], mid[1], (z0 + z1) / 2]), box.faces)  # noqa: B023

        start = -reach[i]
        openings = [(w.center, w.width, w.sill, w.height) for w in room.windows if w.wall == i]
        openings += [(d.center, d.width, 0.0, d.height) for d in room.doorways if d.wall == i]
        for centre, width, sill, top in sorted(openings):
            a, b = centre - width / 2, centre + width / 2
            # below a doorway (sill 0) the piece is its threshold: the floor through the wall
            walls += [piece(start, a, -t, h + t), piece(a, b, -t, sill), piece(a, b, sill + top, h + t)]
            start = b
        walls.append(piece(start, length + reach[(i + 1) % n], -t, h + t))
    out = {"floor": floor, "ceiling": ceiling, "walls": merge(walls)}
    if room.doorways:
        out["doors"] = merge([_door_mesh(room, d) for d in room.doorways])
    return out


CASING = (0.07, 0.015)  # door casing (trim) width and how far it stands proud of the wall, metres
# what casings and door leaves look like (a room's "doors" mesh)
DOOR_FINISH = Material(color_name="white", material_name="paint", rgb=(0.72, 0.7, 0.66), roughness=0.45)


def _door_mesh(room: Room, doorway: Doorway) -> Mesh:
    """A doorway's casing on the room's side of the wall (two jambs and a head) and the door
    leaf the room hangs there (``synth.core.geometry.door_leaf``), in the world frame."""
    a0, along, inward = wall_frame(room, doorway.wall)
    turn = yaw_rotation(math.atan2(along[1], along[0]))
    width, proud = CASING
    a, b, top = doorway.center - doorway.width / 2, doorway.center + doorway.width / 2, doorway.height

    def trim(u0: float, u1: float, z0: float, z1: float) -> Mesh:
        box = _box(np.array([u1 - u0, proud, z1 - z0]))
        mid = a0 + along * (u0 + u1) / 2 + inward * proud / 2
        return Mesh(box.vertices @ turn.T + np.array([mid[0], mid[1], (z0 + z1) / 2]), box.faces)

    parts = [trim(a - width, a, 0.0, top + width), trim(b, b + width, 0.0, top + width), trim(a, b, top, top + width)]
    leaf = door_leaf(room, doorway)
    if leaf is not None:
        box = _box(np.asarray(leaf.size))
        parts.append(Mesh(box.vertices @ yaw_rotation(leaf.yaw).T + np.asarray(leaf.center), box.faces))
    return merge(parts)


def _ear_clip(poly: np.ndarray) -> np.ndarray:
    idx = list(range(len(poly)))
    tris = []

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    while len(idx) > 3:
        for k in range(len(idx)):
            i0, i1, i2 = idx[k - 1], idx[k], idx[(k + 1) % len(idx)]
            a, b, c = poly[i0], poly[i1], poly[i2]
            if cross(a, b, c) <= 1e-12:
                continue
            inside = any(
                cross(a, b, poly[j]) > 0 and cross(b, c, poly[j]) > 0 and cross(c, a, poly[j]) > 0
                for j in idx
                if j not in (i0, i1, i2)
            )
            if not inside:
                tris.append((i0, i1, i2))
                idx.pop(k)
                break
        else:
            raise ValueError("footprint polygon is not simple and counter-clockwise")
    tris.append(tuple(idx))
    return np.array(tris, dtype=np.int64)


SURFACE_SAMPLES = 2000  # points per object surface in :func:`surface_samples`


def surface_samples(obj: SceneObject, asset_root: str = "", meshes: MeshCache | None = None) -> np.ndarray:
    """``SURFACE_SAMPLES`` points spread uniformly by area over the object's mesh in its local
    frame, (N, 3) metres: a fixed draw per object (seeded by its id), so the evidence's
    ``ObjectEvidence.surface_seen`` and the programs' surface distances name the same points.
    ``meshes``: where the mesh may be kept already (a welded mesh has the same triangles)."""
    mesh = meshes.local(obj, asset_root) if meshes is not None else local_mesh(obj, asset_root)
    pts, _ = sample_surface(mesh, SURFACE_SAMPLES, np.random.default_rng(obj.id))
    return pts


def sample_surface(mesh: Mesh, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniformly on the mesh surface and their (outward) unit normals."""
    tri = mesh.triangles()
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    cr = np.cross(e1, e2)
    area = np.linalg.norm(cr, axis=1)
    keep = area > 1e-12
    tri, e1, e2, cr, area = tri[keep], e1[keep], e2[keep], cr[keep], area[keep]
    k = rng.choice(len(tri), size=n, p=area / area.sum())
    u, v = rng.random(n), rng.random(n)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    pts = tri[k, 0] + u[:, None] * e1[k] + v[:, None] * e2[k]
    return pts, cr[k] / area[k, None]
