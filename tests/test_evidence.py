"""Answers grounded in what the video shows: one small scene per class of failure seen in shipped
data (issue "Every answer must be answerable from the video"). Each scene is rendered with
Blender (draft); the evidence is measured from its passes; the library program and the
independent auditor (synth/audit/) both read it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synth.audit import View, answer, audit_item
from synth.backends.procedural.sampler import sample_scene
from synth.backends.registry import open_renderer, renderer_settings
from synth.core.camera import intrinsics, look_at
from synth.core.evidence import measure_evidence
from synth.core.scene import (
    Box3D,
    CameraFrame,
    Episode,
    Frame,
    ObjectMotion,
    ObjectPose,
    ObjectVisibility,
    Scene,
    SceneObject,
    VideoSpec,
    VisibilityRule,
)
from synth.core.visibility import visibility_table
from synth.programs.family import QA
from synth.programs.library import FAMILIES
from synth.programs.sandbox import SandboxPool, Task
from synth.programs.scene_api import SceneAPI

W, H = 160, 120
MIN_PX, MIN_FRAMES = 30, 2
HFOV = math.radians(70)


@pytest.fixture(scope="module")
def renderer():
    r = open_renderer(renderer_settings("blender", quality="draft"))
    yield r
    r.close()


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=1) as p:
        yield p


def _object(
    category: str, oid: int, xy: tuple[float, float], yaw: float = 0.0, z: float | None = None, min_width: float = 0.0
) -> SceneObject:
    """A catalog object of ``category`` (from the first sampled scene that has one at least
    ``min_width`` wide) placed at ``xy`` on the floor (or with its box centre at height ``z``)."""
    obj = next(
        o
        for s in map(sample_scene, range(300))
        for o in s.objects
        if o.category == category and o.box.size[1] >= min_width
    )
    centre = (xy[0], xy[1], obj.box.size[2] / 2 if z is None else z)
    return obj.model_copy(
        update={"id": oid, "box": Box3D(center=centre, size=obj.box.size, yaw=yaw), "supported_by": 0}
    )


def _scene(objects: list[SceneObject], half: float = 4.0, height: float = 2.7) -> Scene:
    base = sample_scene(0)
    square = [(-half, -half), (half, -half), (half, half), (-half, half)]
    room = base.room.model_copy(update={"shape": "rectangular", "footprint": square, "height": height})
    return base.model_copy(update={"rooms": [room], "objects": objects})


def _frames(scene: Scene, cameras: list[tuple], poses: list[dict[int, tuple]] | None = None) -> list[Frame]:
    """One frame per (eye, target); ``poses[f]`` overrides object id -> (position, yaw)."""
    K = tuple(map(tuple, intrinsics(W, H, HFOV)))
    frames = []
    for f, (eye, target) in enumerate(cameras):
        moved = (poses or [{}] * len(cameras))[f]
        object_poses = [
            ObjectPose(id=o.id, position=p, yaw=y)
            for o in scene.objects
            for p, y in [moved.get(o.id, (o.box.center, o.box.yaw))]
        ]
        T = look_at(np.asarray(eye, float), np.asarray(target, float))
        frames.append(
            Frame(
                index=f,
                time=f / 8,
                camera=CameraFrame(K=K, world_to_camera=tuple(map(tuple, T))),
                object_poses=object_poses,
            )
        )
    return frames


def _episode(renderer, scene: Scene, frames: list[Frame], motions=()) -> tuple[Episode, np.ndarray, np.ndarray]:
    video = VideoSpec(frames=len(frames), width=W, height=H)
    buf = renderer.open(scene, video).render(frames)
    ep = Episode(
        scene=scene,
        video=video,
        visibility_rule=VisibilityRule(min_pixels=MIN_PX, min_frames=MIN_FRAMES),
        frames=frames,
        visibility=visibility_table(buf.instance, [o.id for o in scene.objects]),
        motions=list(motions),
    )
    ep = ep.model_copy(update={"evidence": measure_evidence(ep, buf.depth, buf.instance)})
    return ep, buf.depth, buf.instance


def _program(pool, ep: Episode, family: str, **slots):
    (out,) = pool.run(ep.model_dump_json(), [Task(FAMILIES[family].source, slots)])
    assert out.ok, out.error
    return out.value


def _view(ep: Episode, depth, instance) -> View:
    return View(ep, depth, instance, MIN_PX, MIN_FRAMES)


def _item(ep: Episode, family: str, slots: dict, answer_text: str, value=None) -> dict:
    f = FAMILIES[family]
    return QA(
        id=f"{family}-0",
        family=family,
        program_id=f.program_id,
        question="?",
        slots=slots,
        answer=answer_text,
        value=value,
        answer_type=f.answer_type,
        tolerance=f.tolerance,
    ).model_dump(mode="json")


# -- 1. motion nobody can see ------------------------------------------------------------------
def _turning(renderer, category: str, turn: float):
    obj = _object(category, 1, (0.0, 0.0))
    scene = _scene([obj])
    cams = [((2.2, -0.6, 1.4), (0.0, 0.0, 0.3))] * 8
    poses = [{1: (obj.box.center, obj.box.yaw + turn * min(1.0, max(0.0, (f - 2) / 3)))} for f in range(8)]
    motion = ObjectMotion(id=1, kind="rotate", start_frame=2, end_frame=5, translation=(0, 0, 0), rotation=turn)
    return _episode(renderer, scene, _frames(scene, cams, poses), [motion])


def test_a_round_stool_turning_is_no_visible_motion(renderer, pool):
    ep, depth, inst = _turning(renderer, "stool", math.radians(56))
    assert SceneAPI(ep).motion(1).visible is False
    assert _program(pool, ep, "which_object_moved") is None
    assert answer(_view(ep, depth, inst), "which_object_moved", {}, {}) is None


def test_a_chair_turning_in_view_is_visible_motion(renderer, pool):
    ep, depth, inst = _turning(renderer, "chair", math.radians(56))
    assert SceneAPI(ep).motion(1).visible is True
    assert _program(pool, ep, "which_object_moved") == 1
    assert answer(_view(ep, depth, inst), "which_object_moved", {}, {}) == 1


def _sliding(renderer, watched: bool):
    """A chair slides 0.44 m during frames 3-5; the camera keeps it in view, or turns away after frame 2."""
    chair, lamp = _object("chair", 1, (0.0, 0.0)), _object("floor lamp", 2, (0.0, 2.5))
    scene = _scene([chair, lamp])
    eye = (2.5, 0.3, 1.4)
    cams = [(eye, (0.0, 0.0, 0.4)) if watched or f < 3 else (eye, (2.5, 5.0, 0.6)) for f in range(8)]
    start = np.asarray(chair.box.center)
    poses = [{1: (tuple(start + [0.0, 0.44 * min(1.0, max(0.0, (f - 3) / 2)), 0.0]), chair.box.yaw)} for f in range(8)]
    motion = ObjectMotion(id=1, kind="slide", start_frame=3, end_frame=5, translation=(0, 0.44, 0), rotation=0.0)
    return _episode(renderer, scene, _frames(scene, cams, poses), [motion])


def test_motion_off_screen_is_not_asked(renderer, pool):
    ep, depth, inst = _sliding(renderer, watched=False)
    assert ep.visible_pixels(1)[1] >= MIN_PX and max(ep.visible_pixels(1)[6:]) == 0
    assert SceneAPI(ep).motion(1).visible is False
    assert _program(pool, ep, "which_object_moved") is None
    assert _program(pool, ep, "object_movement", a=1) is None
    shipped = _item(ep, "which_object_moved", {}, ep.scene.object(1).description)
    assert not audit_item(_view(ep, depth, inst), "ep", shipped).agrees  # the old answer, caught


def test_motion_in_view_is_asked(renderer, pool):
    ep, depth, inst = _sliding(renderer, watched=True)
    assert SceneAPI(ep).motion(1).visible is True
    assert _program(pool, ep, "which_object_moved") == 1
    shipped = _item(ep, "which_object_moved", {}, ep.scene.object(1).description)
    assert audit_item(_view(ep, depth, inst), "ep", shipped).agrees


# -- 2. left/right from off-screen centres -----------------------------------------------------
def test_left_right_of_two_objects_cut_by_the_left_border(renderer, pool):
    """Both objects straddle the left border: their box centres are off-screen, so the order of
    the centres says nothing about what the frame shows. No answer; in full view there is one."""
    eye = np.array([3.0, 0.0, 1.3])

    def at(bearing: float, dist: float) -> tuple[float, float]:
        return tuple(eye[:2] + dist * np.array([math.cos(math.radians(bearing)), math.sin(math.radians(bearing))]))

    armchair, stool = _object("armchair", 1, at(161, 4.0)), _object("box", 2, at(161, 2.2), min_width=0.45)
    scene = _scene([armchair, stool])  # "stool": a box stands in for it, a sliver of a round stool is too thin
    border = 157  # bearing of the image's left border: both objects straddle it, both centres beyond it
    cut = (eye, (*at(border - math.degrees(HFOV) / 2, 3.0), 0.5))
    mid = (np.asarray(armchair.box.center) + np.asarray(stool.box.center)) / 2
    whole = (mid + [0.5, -4.0, 1.0], mid)  # from the side: both in full view, apart
    ep, depth, inst = _episode(renderer, scene, _frames(scene, [cut, whole]))
    api = SceneAPI(ep)
    assert api.is_visible(1, 0) and api.is_visible(2, 0)
    assert "l" in api.cut_sides(1, 0) and "l" in api.cut_sides(2, 0)
    assert api.project(1, 0).u < 0 and api.project(2, 0).u < 0, "both box centres are off-screen"
    assert _program(pool, ep, "relative_direction_lr", a=1, b=2, frame=0) is None
    assert answer(_view(ep, depth, inst), "relative_direction_lr", {"a": 1, "b": 2, "frame": 0}, {}) is None
    centre_based = "left" if api.project(1, 0).u < api.project(2, 0).u else "right"
    shipped = _item(ep, "relative_direction_lr", {"a": 1, "b": 2, "frame": 0}, centre_based)
    assert not audit_item(_view(ep, depth, inst), "ep", shipped).agrees
    assert not api.cut_sides(1, 1) and not api.cut_sides(2, 1)
    side = _program(pool, ep, "relative_direction_lr", a=1, b=2, frame=1)
    assert side == ("left" if api.mask_centroid(1, 1)[0] < api.mask_centroid(2, 1)[0] else "right")
    assert audit_item(
        _view(ep, depth, inst), "ep", _item(ep, "relative_direction_lr", {"a": 1, "b": 2, "frame": 1}, side)
    ).agrees


# -- 3. "closest" by centre distance -----------------------------------------------------------
def test_closest_is_measured_between_surfaces(renderer, pool):
    """A bowl on the end of a wide cabinet; a bookshelf's centre is nearer to the bowl than the
    cabinet's, but the bowl touches the cabinet and is ~0.3 m from the bookshelf's surface."""
    cabinet = _object("cabinet", 1, (0.0, 0.0), min_width=1.1)
    half = cabinet.box.size[1] / 2
    bowl = _object("bowl", 2, (0.0, half - 0.1))
    top = cabinet.box.size[2]
    bowl = bowl.model_copy(
        update={
            "box": bowl.box.model_copy(update={"center": (0.0, half - 0.1, top + bowl.box.size[2] / 2)}),
            "supported_by": 1,
        }
    )
    shelf = _object("bookshelf", 3, (0.0, 0.0), yaw=-math.pi / 2)
    shelf_y = half + 0.05 + 0.3 + shelf.box.size[0] / 2
    shelf = shelf.model_copy(
        update={"box": shelf.box.model_copy(update={"center": (0.0, shelf_y, shelf.box.size[2] / 2)})}
    )
    scene = _scene([cabinet, bowl, shelf])
    cams = [((2.8, half, 1.7), (0.0, half + 0.2, 0.7))] * 3
    ep, depth, inst = _episode(renderer, scene, _frames(scene, cams))
    api = SceneAPI(ep)
    c = {i: np.asarray(api.object(i).center) for i in (1, 2, 3)}
    assert np.linalg.norm(c[2] - c[3]) < np.linalg.norm(c[2] - c[1]), "the bookshelf's centre is nearer"
    assert api.surface_distance(2, 1) < 0.01 and api.surface_distance(2, 3) > 0.2
    assert all(api.seen(i) for i in (1, 2, 3))
    assert _program(pool, ep, "closest_object", a=2) == 1
    assert answer(_view(ep, depth, inst), "closest_object", {"a": 2}, {}) == 1
    by_centre = _item(ep, "closest_object", {"a": 2}, ep.scene.object(3).description)
    assert not audit_item(_view(ep, depth, inst), "ep", by_centre).agrees


# -- 4. structure never shown ------------------------------------------------------------------
def test_ceiling_height_only_when_the_ceiling_is_seen(renderer, pool):
    scene = _scene([_object("box", 1, (0.0, 0.0))])
    down = [((2.0, 0.0, 1.5), (0.0, 0.0, 0.0))] * 3  # looks down at the floor: no ceiling in view
    up = [((3.0, 0.0, 1.5), (-3.0, 0.0, 2.4))] * 3  # the far wall and the ceiling
    ep, depth, inst = _episode(renderer, scene, _frames(scene, down))
    assert max(ep.evidence.structure.ceiling) == 0
    assert _program(pool, ep, "room_ceiling_height") is None
    assert answer(_view(ep, depth, inst), "room_ceiling_height", {}, {"value": 2.7}) is None
    ep, depth, inst = _episode(renderer, scene, _frames(scene, up))
    assert min(ep.evidence.structure.ceiling) > MIN_PX
    assert _program(pool, ep, "room_ceiling_height") == 2.7
    shipped = _item(ep, "room_ceiling_height", {}, "2.7", 2.7)
    assert audit_item(_view(ep, depth, inst), "ep", shipped).agrees


# -- 5. "first seen" against a glimpse ---------------------------------------------------------
def test_first_appearance_is_not_asked_when_another_candidate_was_glimpsed():
    """Object 2 is first seen (>= 100 px) in frame 1, but object 1 already shows 82 px in frame 0."""
    ep = Episode.model_validate_json(_table_episode().model_dump_json())
    table = {1: [82, 90, 300, 300], 2: [0, 400, 400, 400], 3: [0, 0, 0, 500]}
    ep = ep.model_copy(update={"visibility": [ObjectVisibility(id=i, pixels=p) for i, p in table.items()]})
    api = SceneAPI(ep)
    assert api.first_seen(2) == 1 and api.first_seen(1) == 2 and api.first_glimpsed(1) == 0
    with SandboxPool(workers=1) as pool:
        (out,) = pool.run(ep.model_dump_json(), [Task(FAMILIES["first_appearance"].source, {"a": 1, "b": 2, "c": 3})])
        assert out.ok and out.value is None
        table[1] = [0, 0, 300, 300]  # no glimpse: object 2 is plainly first
        ep = ep.model_copy(update={"visibility": [ObjectVisibility(id=i, pixels=p) for i, p in table.items()]})
        (out,) = pool.run(ep.model_dump_json(), [Task(FAMILIES["first_appearance"].source, {"a": 1, "b": 2, "c": 3})])
        assert out.ok and out.value == 2


def _table_episode() -> Episode:
    scene = _scene([_object("box", 1, (0, 0)), _object("stool", 2, (1, 0)), _object("chair", 3, (-1, 1))])
    return Episode(
        scene=scene,
        video=VideoSpec(frames=4, width=W, height=H),
        visibility_rule=VisibilityRule(min_pixels=100, min_frames=2),
        frames=_frames(scene, [((3, 0, 1.4), (0, 0, 0.3))] * 4),
    )


def test_floor_area_only_when_every_wall_is_seen(renderer, pool):
    """Turning on the spot shows every wall: the floor area is asked; a glance at one wall is not enough."""
    scene = _scene([_object("box", 1, (1.0, 1.0))], half=2.5)
    eye = np.array([0.0, 0.0, 1.6])
    turn = [(eye, eye + [math.cos(a), math.sin(a), -0.45]) for a in np.radians(np.arange(0, 360, 30))]
    ep, depth, inst = _episode(renderer, scene, _frames(scene, turn))
    assert ep.evidence.structure.wall_max_gap <= 0.5
    assert _program(pool, ep, "room_floor_area") == 25.0
    shipped = _item(ep, "room_floor_area", {}, "25", 25.0)
    assert audit_item(_view(ep, depth, inst), "ep", shipped).agrees
    ep, depth, inst = _episode(renderer, scene, _frames(scene, turn[:3]))
    assert ep.evidence.structure.wall_max_gap > 0.5
    assert _program(pool, ep, "room_floor_area") is None
    assert not audit_item(_view(ep, depth, inst), "ep", shipped).agrees


@pytest.mark.parametrize(
    "footprint",
    [[(0, 0), (4, 0), (4, 3), (0, 3)], [(0, 0), (5, 0), (5, 2), (2.5, 2), (2.5, 4.5), (0, 4.5)]],
)
def test_wall_points_are_located_on_the_perimeter_as_shapely_does(footprint):
    """The vectorised distance and position along the room's perimeter (wall coverage) equal
    shapely's ``distance`` and ``line_locate_point`` on the footprint's ``LinearRing``."""
    from shapely import LinearRing, distance, line_locate_point, points

    from synth.core.evidence import _ring_locate

    rng = np.random.default_rng(0)
    pts = rng.uniform(-0.5, 5.5, size=(2000, 2))
    ring = LinearRing(footprint)
    dist, at = _ring_locate(np.asarray(footprint, float), pts)
    assert np.allclose(dist, distance(ring, points(pts)), atol=1e-12)
    near = dist <= 0.1
    assert near.sum() > 50
    assert np.allclose(at[near], line_locate_point(ring, points(pts[near])), atol=1e-9)
