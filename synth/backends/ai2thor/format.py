"""AI2-THOR's frame, metadata and houses in synth's scene model.

Conventions (AI2-THOR is a Unity application; https://ai2thor.allenai.org/ithor/documentation/):
- THOR's world is left-handed, +Y up, metres; positions and rotations are ``{"x", "y", "z"}``
  dicts, rotations are Unity Euler angles in degrees, applied about Z, then X, then Y
  (``R = Ry(y) Rx(x) Rz(z)``, the same matrices as a right-handed frame: a positive turn about +Y
  takes +Z towards +X, clockwise seen from above).
- synth's world is right-handed, +Z up. A point maps ``(x, y, z) -> (x, z, y)`` (``C``: the swap
  of Y and Z, its own inverse; it flips handedness, as it must).
- An object's local frame: Unity assets face their local +Z, with +X to their right and +Y up;
  synth's local +X is the front, +Y the left side, +Z up, so synth-local coordinates map into
  THOR-local ones by ``L`` (x_s -> z_t, y_s -> -x_t, z_s -> y_t). A THOR rotation ``R`` is synth's
  ``C R L``.
- The agent's camera looks along its local +Z with +Y up; ``rotation.y`` is its heading
  (clockwise from +Z seen from above) and ``cameraHorizon`` its pitch in degrees, positive
  looking down: camera-to-world ``Ry(yaw) Rx(horizon)`` at ``metadata["cameraPosition"]``.
  Unity projects with a vertical field of view ``fieldOfView`` (degrees), square pixels and the
  principal point at the image centre; image rows count from the bottom in Unity's buffers
  (``ai2thor.server`` flips them, so ``event.frame`` rows count from the top).
- ``event.depth_frame`` is Unity's linear eye depth in metres: camera-space z, synth's depth.

Metadata (``event.metadata["objects"]``) becomes ``SceneObject``s: ``objectId`` is the
``source_id``, ``objectType`` ("CoffeeTable") the category in words ("coffee table"), the box
the object-oriented box when THOR gives one (pickupable objects) and otherwise the axis-aligned
box turned to the object's heading rounded to 90 degrees (exact for THOR's furniture, which
stands at multiples of 90 degrees), ``parentReceptacles`` what it stands on, ``moveable`` or
``pickupable`` whether it may move. THOR does not expose meshes, so each object's geometry in the
scene model is its box (one part): rendering uses THOR's own meshes; the box serves planning.
ProcTHOR houses (https://procthor.allenai.org/, ``house["rooms"][i]["floorPolygon"]``) give rooms;
``GetReachablePositions`` gives the navigable floor either way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import numpy as np
from shapely.geometry import Polygon, box
from shapely.ops import unary_union

from synth.core.camera import camera_center, extrinsics, intrinsics
from synth.core.rotations import matrix_quaternion, matrix_yaw, quaternion_matrix, yaw_rotation
from synth.core.scene import ROOM_ID, Box3D, Material, Part, Room, Scene, SceneObject

C = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])  # THOR (x, y, z) <-> synth (x, z, y)
L = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # synth-local -> THOR-local
STRUCTURE = frozenset({"Floor", "Wall", "Ceiling"})  # object types that are the room, not objects
PROXY = Material(color_name="", material_name="", rgb=(0.5, 0.5, 0.5))
ROOM_MATERIALS = {
    "wall": Material(color_name="white", material_name="painted plaster", rgb=(0.7, 0.7, 0.68)),
    "floor": Material(color_name="brown", material_name="wood", rgb=(0.35, 0.22, 0.12)),
    "ceiling": Material(color_name="white", material_name="plaster", rgb=(0.8, 0.8, 0.8)),
}
DEFAULT_ROOM_HEIGHT = 2.5  # metres, for houses whose walls do not say


class ThorSceneError(ValueError):
    """THOR metadata or a house that cannot become a synth scene (the message says why)."""


# ------------------------------------------------------------------------------ frames
def vec(d: Mapping[str, float]) -> np.ndarray:
    """A THOR ``{"x", "y", "z"}`` dict as an array (THOR coordinates)."""
    return np.array([float(d["x"]), float(d["y"]), float(d["z"])])


def as_dict(v) -> dict[str, float]:
    return {"x": float(v[0]), "y": float(v[1]), "z": float(v[2])}


def to_synth(points) -> np.ndarray:
    """THOR world points (..., 3) -> synth world points."""
    return np.asarray(points, dtype=float) @ C.T


def from_synth(points) -> np.ndarray:
    """synth world points (..., 3) -> THOR world points."""
    return np.asarray(points, dtype=float) @ C.T


def euler_matrix(rotation: Mapping[str, float]) -> np.ndarray:
    """Unity's rotation matrix of Euler angles in degrees: ``Ry(y) Rx(x) Rz(z)``."""
    x, y, z = (math.radians(float(rotation[k])) for k in "xyz")
    cx, sx, cy, sy, cz, sz = math.cos(x), math.sin(x), math.cos(y), math.sin(y), math.cos(z), math.sin(z)
    Rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    Ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    Rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return Ry @ Rx @ Rz


def matrix_euler(R: np.ndarray) -> dict[str, float]:
    """Unity Euler angles (degrees, each in [0, 360)) of a rotation matrix (inverse of
    :func:`euler_matrix`; at x = +-90 degrees the z angle is folded into y)."""
    R = np.asarray(R, dtype=float)
    x = math.asin(max(-1.0, min(1.0, -R[1, 2])))
    if abs(math.cos(x)) > 1e-9:
        y = math.atan2(R[0, 2], R[2, 2])
        z = math.atan2(R[1, 0], R[1, 1])
    else:
        y, z = math.atan2(-R[2, 0], R[0, 0]), 0.0
    return {k: math.degrees(v) % 360.0 for k, v in zip("xyz", (x, y, z))}


def rotation_to_synth(rotation: Mapping[str, float]) -> tuple[float, float, float, float]:
    """A THOR object rotation (Euler degrees) as synth's quaternion (w, x, y, z), ``C R L``."""
    return tuple(matrix_quaternion(C @ euler_matrix(rotation) @ L).tolist())


def rotation_from_synth(q_wxyz) -> dict[str, float]:
    """A synth object rotation as THOR Euler degrees (inverse of :func:`rotation_to_synth`)."""
    return matrix_euler(C @ quaternion_matrix(q_wxyz, normalize=True) @ L.T)


def camera_rotation(yaw_deg: float, horizon_deg: float) -> np.ndarray:
    """THOR camera-to-world rotation of an agent heading ``yaw_deg`` with ``horizon_deg`` pitch."""
    return euler_matrix({"x": horizon_deg, "y": yaw_deg, "z": 0.0})


def world_to_camera(position, yaw_deg: float, horizon_deg: float) -> np.ndarray:
    """synth's (OpenCV) 4x4 world-to-camera matrix of THOR's camera at ``position`` (THOR
    coordinates). Unity's camera is x right, y up, z forward; OpenCV's is y down."""
    R_cw = C @ camera_rotation(yaw_deg, horizon_deg) @ np.diag([1.0, -1.0, 1.0])  # OpenCV cam -> synth world
    return extrinsics(R_cw.T, to_synth(position))


def camera_pose(world_to_cam) -> tuple[np.ndarray, float, float]:
    """THOR camera position, heading and horizon (degrees) of a synth camera; ``ValueError`` if
    the camera rolls (THOR's camera only turns and tilts)."""
    T = np.asarray(world_to_cam, dtype=float)
    R_cw = T[:3, :3].T
    position = from_synth(camera_center(T))
    forward = from_synth(R_cw[:, 2])
    yaw = math.degrees(math.atan2(forward[0], forward[2])) % 360.0
    horizon = -math.degrees(math.asin(max(-1.0, min(1.0, forward[1]))))
    if not np.allclose(world_to_camera(position, yaw, horizon)[:3, :3], T[:3, :3], atol=1e-6):
        raise ValueError("THOR's camera cannot roll: the frame's camera is not level")
    return position, yaw, horizon


def thor_intrinsics(width: int, height: int, vfov_deg: float) -> np.ndarray:
    """K of THOR's camera: vertical field of view ``vfov_deg``, square pixels, centred."""
    hfov = 2 * math.atan(math.tan(math.radians(vfov_deg) / 2) * width / height)
    return intrinsics(width, height, hfov)


# ------------------------------------------------------------------------------ objects
def category_words(object_type: str) -> str:
    """THOR's objectType in words: "CoffeeTable" -> "coffee table", "TVStand" -> "tv stand"."""
    return " ".join(re.findall(r"[A-Z]+(?=[A-Z][a-z]|\b)|[A-Z]?[a-z]+|\d+", object_type)).lower()


def object_box(meta: Mapping) -> Box3D:
    """The synth box of a THOR object: its oriented box when given, else its axis-aligned box
    turned to the object's heading rounded to 90 degrees."""
    R = C @ euler_matrix(meta["rotation"]) @ L
    oobb = meta.get("objectOrientedBoundingBox")
    if oobb and oobb.get("cornerPoints"):
        corners = to_synth(np.asarray(oobb["cornerPoints"], dtype=float))
    else:
        corners = to_synth(np.asarray(meta["axisAlignedBoundingBox"]["cornerPoints"], dtype=float))
        R = yaw_rotation(round(matrix_yaw(R) / (math.pi / 2)) * (math.pi / 2))
    local = corners @ R  # coordinates along the box axes
    lo, hi = local.min(axis=0), local.max(axis=0)
    return Box3D(
        center=tuple(float(v) for v in R @ ((lo + hi) / 2)),
        size=tuple(float(v) for v in np.maximum(hi - lo, 1e-3)),
        rotation=tuple(matrix_quaternion(R).tolist()),
    )


def _material(meta: Mapping) -> Material:
    materials = meta.get("salientMaterials") or []
    return PROXY.model_copy(update={"material_name": str(materials[0]).lower() if materials else ""})


def scene_objects(objects: Iterable[Mapping]) -> list[SceneObject]:
    """THOR object metadata -> synth objects (ids 1..N in objectId order; the room's floor, walls
    and ceiling are left out). Each object's geometry is its box (THOR exposes no meshes)."""
    metas = sorted((m for m in objects if m["objectType"] not in STRUCTURE), key=lambda m: m["objectId"])
    if len(metas) > 65535:
        raise ThorSceneError(f"{len(metas)} objects: synth's instance ids hold 65535")
    ids = {m["objectId"]: i for i, m in enumerate(metas, start=1)}
    out = []
    for m in metas:
        b = object_box(m)
        parents = [ids[p] for p in (m.get("parentReceptacles") or []) if p in ids]
        out.append(
            SceneObject(
                id=ids[m["objectId"]],
                category=category_words(m["objectType"]),
                description=category_words(m["objectType"]),
                material=_material(m),
                box=b,
                parts=[Part(shape="box", center=(0.0, 0.0, 0.0), size=b.size)],
                supported_by=parents[0] if parents else ROOM_ID,
                movable=bool(m.get("moveable") or m.get("pickupable")),
                source_id=m["objectId"],
            )
        )
    return out


# ------------------------------------------------------------------------------ rooms and floor
def house_rooms(house: Mapping) -> list[Room]:
    """Rooms of a ProcTHOR house: floor polygons (counter-clockwise in synth's x-y plane), height
    from the room's walls (``DEFAULT_ROOM_HEIGHT`` when it has none)."""
    heights: dict[str, float] = {}
    for wall in house.get("walls", []):
        top = max(float(p["y"]) for p in wall["polygon"])
        heights[wall.get("roomId", "")] = max(heights.get(wall.get("roomId", ""), 0.0), top)
    rooms = []
    for r in house.get("rooms", []):
        pts = [(float(p["x"]), float(p["z"])) for p in r["floorPolygon"]]
        poly = Polygon(pts)
        if not poly.is_valid or poly.area <= 0:
            raise ThorSceneError(f"room {r.get('id')}: floorPolygon is not a simple polygon")
        if not poly.exterior.is_ccw:
            pts = pts[::-1]
        rooms.append(
            Room(
                shape="rectangular"
                if len(pts) == 4 and math.isclose(poly.area, poly.minimum_rotated_rectangle.area)
                else "polygon",
                footprint=pts,
                height=heights.get(r.get("id", ""), DEFAULT_ROOM_HEIGHT),
                name=str(r.get("roomType", "")),
                **ROOM_MATERIALS,
            )
        )
    return rooms


def navigable_polygons(points: Iterable[Mapping[str, float]], grid_size: float) -> list[list[tuple[float, float]]]:
    """The floor an agent can reach: ``GetReachablePositions``' grid points (THOR coordinates),
    each grown to its ``grid_size`` cell, merged into polygons (synth x-y, counter-clockwise)."""
    half = grid_size / 2 + 1e-6
    cells = [box(p["x"] - half, p["z"] - half, p["x"] + half, p["z"] + half) for p in points]
    if not cells:
        raise ThorSceneError("GetReachablePositions returned no positions: the agent cannot stand anywhere")
    merged = unary_union(cells)
    polys = list(getattr(merged, "geoms", [merged]))
    out = []
    for p in polys:
        ring = list(p.exterior.coords)[:-1]
        if not p.exterior.is_ccw:
            ring = ring[::-1]
        out.append([(float(x), float(y)) for x, y in ring])
    return out


def thor_scene(
    seed: int,
    reference: str,
    objects: Iterable[Mapping],
    reachable: Iterable[Mapping[str, float]],
    grid_size: float,
    house: Mapping | None = None,
) -> Scene:
    """The synth scene of THOR metadata: ``objects`` (``event.metadata["objects"]``), the
    ``GetReachablePositions`` points, and for ProcTHOR the ``house`` (rooms)."""
    return Scene(
        seed=seed,
        simulator="ai2thor",
        reference=reference,
        rooms=house_rooms(house) if house else [],
        navigable=navigable_polygons(reachable, grid_size),
        objects=scene_objects(objects),
    )
