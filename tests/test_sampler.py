"""Procedural sampler: valid, varied and deterministic scenes."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from synth.backends.procedural.catalog import CATEGORY
from synth.backends.procedural.sampler import sample_scene
from synth.core.meshes import merge, part_mesh
from synth.core.scene import ROOM_ID, Box3D, Part, Scene

SEEDS = range(200)


def _corners2d(box: Box3D) -> np.ndarray:
    return np.array(box.corners())[::2, :2][[0, 1, 3, 2]]  # the 4 bottom corners, in order


def _separated(a: np.ndarray, b: np.ndarray) -> bool:
    """Separating-axis test for two convex polygons (independent of shapely)."""
    for poly in (a, b):
        for i in range(len(poly)):
            edge = poly[(i + 1) % len(poly)] - poly[i]
            axis = np.array([-edge[1], edge[0]])
            pa, pb = a @ axis, b @ axis
            if pa.max() <= pb.min() + 1e-9 or pb.max() <= pa.min() + 1e-9:
                return True
    return False


def _inside_polygon(pts: np.ndarray, poly: np.ndarray) -> bool:
    """Points strictly inside a simple polygon (ray crossing) and no polygon vertex inside the hull."""

    def contains(p):
        x, y = p
        inside = False
        for i in range(len(poly)):
            (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % len(poly)]
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside

    return all(contains(p) for p in pts)


def _vertex_inside_rect(v: np.ndarray, rect: np.ndarray) -> bool:
    return not _separated(np.array([v, v + 1e-9, v + [0, 1e-9]]), rect)


@pytest.fixture(scope="module")
def scenes() -> list[Scene]:
    return [sample_scene(s) for s in SEEDS]


def test_object_counts_categories_and_rooms(scenes):
    counts = [len(s.objects) for s in scenes]
    assert min(counts) >= 8 and max(counts) <= 25
    cats = Counter(o.category for s in scenes for o in s.objects)
    assert len(cats) >= 15
    shapes = Counter(s.room.shape for s in scenes)
    assert shapes["rectangular"] > 20 and shapes["L-shaped"] > 20
    areas = [s.room.footprint for s in scenes]
    assert len({tuple(map(tuple, a)) for a in areas}) == len(scenes)
    assert len({s.room.wall.color_name for s in scenes}) >= 3 and len({s.room.floor.material_name for s in scenes}) >= 3
    assert len({round(s.lights[0].energy) for s in scenes}) > 50


def test_no_interpenetration_and_inside_room(scenes):
    for s in scenes:
        poly = np.asarray(s.room.footprint)
        objs = s.objects
        for o in objs:
            rect = _corners2d(o.box)
            assert _inside_polygon(rect, poly), (s.seed, o.name)
            assert not any(_vertex_inside_rect(v, rect) for v in poly), (s.seed, o.name)
            assert o.box.center[2] + o.box.size[2] / 2 < s.room.height
        for i, a in enumerate(objs):
            for b in objs[i + 1 :]:
                za = (a.box.center[2] - a.box.size[2] / 2, a.box.center[2] + a.box.size[2] / 2)
                zb = (b.box.center[2] - b.box.size[2] / 2, b.box.center[2] + b.box.size[2] / 2)
                overlap_z = min(za[1], zb[1]) - max(za[0], zb[0]) > 1e-6
                if overlap_z:
                    assert _separated(_corners2d(a.box), _corners2d(b.box)), (s.seed, a.name, b.name)


def test_every_object_is_supported(scenes):
    for s in scenes:
        for o in s.objects:
            bottom = o.box.center[2] - o.box.size[2] / 2
            if o.supported_by == ROOM_ID:
                assert abs(bottom) < 1e-6, (s.seed, o.name)
                continue
            sup = s.object(o.supported_by)
            assert abs(bottom - (sup.box.center[2] + sup.box.size[2] / 2)) < 1e-3, (s.seed, o.name)
            # its footprint lies on the supporter's top
            rect, top = _corners2d(o.box), _corners2d(sup.box)
            assert _inside_polygon(rect, top), (s.seed, o.name, sup.name)


def _parts_extent(parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest local corner of the parts' primitives (round ones: their real diameters)."""
    centres, half = np.array([p.center for p in parts]), np.array([p.size for p in parts]) / 2
    return (centres - half).min(axis=0), (centres + half).max(axis=0)


def test_boxes_are_the_tight_extent_of_their_parts(scenes):
    """Every object's box is the tight box of its primitives and of the mesh a renderer draws, centred
    on the local origin: a stool's 0.29 m seat sits in a 0.29 m box, not in the sampled d x w."""
    seen = set()
    for s in scenes:
        for o in s.objects:
            vertices = merge([part_mesh(p) for p in o.parts]).vertices
            for lo, hi in (_parts_extent(o.parts), (vertices.min(axis=0), vertices.max(axis=0))):
                assert np.allclose(hi - lo, o.box.size, atol=1e-3), (s.seed, o.name, hi - lo, o.box.size)
                assert np.allclose((lo + hi) / 2, 0.0, atol=1e-3), (s.seed, o.name, (lo + hi) / 2)
            seen.add(o.category)
    assert seen == set(CATEGORY), set(CATEGORY) - seen


def test_deterministic_per_seed():
    assert sample_scene(7) == sample_scene(7)
    assert sample_scene(7).model_dump_json() == sample_scene(7).model_dump_json()
    assert sample_scene(7) != sample_scene(8)


def test_descriptions_are_words_and_mostly_unique(scenes):
    unique = 0
    total = 0
    for s in scenes:
        descs = Counter(o.description for o in s.objects)
        unique += sum(1 for o in s.objects if descs[o.description] == 1)
        total += len(s.objects)
        for o in s.objects:
            assert o.description == f"{o.material.color_name} {o.material.material_name} {o.category}"
    assert unique / total > 0.97
