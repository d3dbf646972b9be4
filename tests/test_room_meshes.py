"""Room meshes: walls close every corner of the room and never stand inside its footprint."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPoint, Polygon

from synth.backends.procedural.sampler import sample_scene
from synth.core.meshes import room_meshes
from synth.core.scene import Room
from tests.raycast import first_hits

WALL = 0.1  # room_meshes' default wall thickness


def _rooms() -> list[Room]:
    """Three L-shaped and one rectangular sampled room."""
    rooms = [sample_scene(seed).room for seed in range(12)]
    return [r for r in rooms if r.shape == "L-shaped"][:3] + [r for r in rooms if r.shape == "rectangular"][:1]


def inner_corners(room: Room) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each reflex corner of the (counter-clockwise) footprint and the unit direction from it into
    the room, away from the notch."""
    poly = np.asarray(room.footprint, dtype=float)
    out = []
    for i in range(len(poly)):
        u1, u2 = poly[i] - poly[i - 1], poly[(i + 1) % len(poly)] - poly[i]
        if u1[0] * u2[1] - u1[1] * u2[0] < 0:  # a right turn
            into = np.array([-u1[1], u1[0]]) / np.linalg.norm(u1) + np.array([-u2[1], u2[0]]) / np.linalg.norm(u2)
            out.append((poly[i], into / np.linalg.norm(into)))
    return out


def test_walls_stay_outside_the_footprint_and_close_every_corner():
    rooms = _rooms()
    assert [r.shape for r in rooms] == ["L-shaped"] * 3 + ["rectangular"]
    for room in rooms:
        footprint = Polygon(room.footprint)
        interior = footprint.buffer(-1e-6)
        tris = room_meshes(room, WALL)["walls"].triangles()
        shadows = [MultiPoint(t[:, :2]).convex_hull for t in tris]  # walls seen from above
        assert not any(interior.intersects(s) for s in shadows), room.footprint
        # the walls cover the whole band around the footprint, corners included: no crack to see out through
        band = footprint.buffer(WALL, join_style="mitre").difference(footprint)
        assert band.difference(shapely.union_all(shadows)).area < 1e-9, room.footprint


def test_rays_into_an_inner_corner_hit_walls_on_the_footprint_edge():
    """Seen from inside an L, its inner corner: every ray hits a wall (no crack) and no hit is inside
    the footprint (a slab end used to stick 10 cm into the room on both sides of that corner)."""
    for room in _rooms()[:3]:
        (corner, into) = inner_corners(room)[0]
        eye = np.array([*(corner + 1.5 * into), 1.5])
        tris = room_meshes(room, WALL)["walls"].triangles()
        look = math.atan2(-into[1], -into[0])
        angles = look + np.linspace(-0.6, 0.6, 401)
        dirs = np.column_stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)])
        t, _ = first_hits(eye, dirs, tris, np.zeros(len(tris), dtype=int))
        assert np.isfinite(t).all()
        hits = eye + dirs * t[:, None]
        inside = shapely.contains_xy(Polygon(room.footprint).buffer(-0.01), hits[:, 0], hits[:, 1])
        assert not inside.any(), hits[inside][:3]


def test_windows_are_openings_of_their_size_in_their_wall():
    """Rays from inside the room: through the window's opening they leave the room (no hit);
    just outside its edges (left, right, under the sill, over the top) they hit that wall on
    the footprint edge. Windows that do not fit are refused."""
    from synth.core.scene import Window

    base = _rooms()[-1]  # rectangular
    (x0, y0), (x1, y1) = base.footprint[0], base.footprint[1]
    length = math.dist((x0, y0), (x1, y1))
    window = Window(wall=0, center=length / 2, width=1.2, sill=0.9, height=1.1)
    room = base.model_copy(update={"windows": [window]})
    tris = np.concatenate([m.triangles() for m in room_meshes(room, WALL).values()])
    along = np.array([x1 - x0, y1 - y0]) / length
    eye = np.array([*(np.mean(room.footprint, axis=0)), 1.45])

    def ray_to(s: float, z: float):
        target = np.array([*(np.array([x0, y0]) + along * s), z])
        d = (target - eye) / np.linalg.norm(target - eye)
        t, _ = first_hits(eye, d[None], tris, np.zeros(len(tris), dtype=int))
        return t[0], float(np.linalg.norm(target - eye))

    for s, z in [(window.center, 1.45), (window.center - 0.55, 0.95), (window.center + 0.55, 1.95)]:
        assert math.isinf(ray_to(s, z)[0]), (s, z)  # inside the opening
    for s, z in [
        (window.center - 0.65, 1.45),
        (window.center + 0.65, 1.45),
        (window.center, 0.85),
        (window.center, 2.05),
    ]:
        t, dist = ray_to(s, z)
        assert abs(t - dist) < 1e-6, (s, z, t, dist)  # the wall, on the footprint edge
    for bad in (Window(wall=0, center=0.3, width=1.0, sill=0.9, height=1.0),  # off the wall's end
                Window(wall=0, center=length / 2, width=1.0, sill=0.9, height=room.height),  # through the ceiling
                Window(wall=9, center=1.0, width=1.0, sill=0.9, height=1.0)):  # fmt: skip
        with pytest.raises(ValueError):
            Room.model_validate({**base.model_dump(), "windows": [bad.model_dump()]})
