"""AI2-THOR: the conversion from THOR's frame into synth's (checked against an independent
implementation of Unity's camera and rotations), and the ai2thor scene source and renderer on
the real ``ai2thor.controller.Controller``, talking to ``tests/standins/thor_unity.py``: a
STAND-IN for the Unity side (AI2-THOR's build cannot be downloaded on this machine), given as
ai2thor's local executable (``tests.standins.THOR_STANDIN``). The
end-to-end test against the real build runs only with ``SYNTH_AI2THOR_E2E=1`` (README: AI2-THOR).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from synth.backends.ai2thor.format import (
    camera_pose,
    category_words,
    house_rooms,
    navigable_polygons,
    object_box,
    rotation_from_synth,
    rotation_to_synth,
    thor_intrinsics,
    to_synth,
    world_to_camera,
)
from synth.backends.ai2thor.renderer import ThorActionFailed
from synth.backends.registry import open_renderer, renderer_settings, scene_source
from synth.cli.main import main
from synth.core.camera import project
from synth.core.plugin import BackendUnavailable
from synth.core.scene import CameraFrame, Frame, ObjectPose, Room, VideoSpec, VisibilityRule
from synth.planning.planner import NoCameraPath, rest_poses
from synth.planning.shoot import shoot
from tests.standins import THOR_STANDIN

DATA = Path(__file__).parent / "data" / "thor"
HOUSE = DATA / "house.json"


# ------------------------------------------------------------------ Unity, written independently
def _quat_mul(a, b):
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return np.array(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ]
    )


def _unity_euler(x, y, z):
    """Unity's ``Quaternion.Euler(x, y, z)`` (degrees): rotate about Z, then X, then Y."""

    def axis(deg, a):
        h = math.radians(deg) / 2
        return np.array([math.cos(h), *(math.sin(h) * np.asarray(a, float))])

    return _quat_mul(axis(y, (0, 1, 0)), _quat_mul(axis(x, (1, 0, 0)), axis(z, (0, 0, 1))))


def _rotate(q, v):
    """``q * v`` for a Unity quaternion and a vector (as Unity's ``operator*``)."""
    p = _quat_mul(_quat_mul(q, np.array([0.0, *v])), q * np.array([1, -1, -1, -1]))
    return p[1:]


def _unity_screen_point(point, cam_pos, yaw, horizon, vfov, W, H, near=0.1, far=20.0):
    """``Camera.WorldToScreenPoint``: the view matrix is the camera's world-to-local with z
    negated (OpenGL camera space, looking down -z), the projection is OpenGL's perspective of the
    vertical field of view; screen pixels count from the bottom-left corner."""
    q = _unity_euler(horizon, yaw, 0.0)
    local = _rotate(q * np.array([1, -1, -1, -1]), np.asarray(point, float) - cam_pos)
    view = local * np.array([1.0, 1.0, -1.0])
    f = 1.0 / math.tan(math.radians(vfov) / 2)
    P = np.array(
        [
            [f / (W / H), 0, 0, 0],
            [0, f, 0, 0],
            [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)],
            [0, 0, -1, 0],
        ]
    )
    clip = P @ np.array([*view, 1.0])
    ndc = clip[:3] / clip[3]
    return (ndc[0] + 1) / 2 * W, (ndc[1] + 1) / 2 * H


def test_points_project_where_unitys_camera_puts_them():
    """A THOR point converted to synth and projected with synth's K and extrinsics lands on the
    pixel Unity's camera puts it on (synth: pixel centres at integers, rows from the top)."""
    rng = np.random.default_rng(0)
    W, H = 320, 240
    worst = 0.0
    for _ in range(300):
        vfov = rng.uniform(40, 100)
        cam = rng.uniform(-5, 5, 3) + np.array([0, 1.5, 0])
        yaw, horizon = rng.uniform(0, 360), rng.uniform(-30, 60)
        q = _unity_euler(horizon, yaw, 0.0)
        ahead = cam + _rotate(q, np.array([rng.uniform(-1, 1), rng.uniform(-0.7, 0.7), rng.uniform(0.5, 8)]))
        sx, sy = _unity_screen_point(ahead, cam, yaw, horizon, vfov, W, H)
        frame = CameraFrame(
            K=tuple(map(tuple, thor_intrinsics(W, H, vfov))),
            world_to_camera=tuple(map(tuple, world_to_camera(cam, yaw, horizon))),
        )
        uv, z = project(frame, to_synth(ahead)[None])
        assert z[0] > 0
        worst = max(worst, abs(uv[0, 0] - (sx - 0.5)), abs(uv[0, 1] - (H - sy - 0.5)))
    assert worst < 0.5, worst
    assert worst < 1e-6  # the conventions agree exactly, not just within half a pixel


def test_camera_pose_round_trips_and_refuses_roll():
    rng = np.random.default_rng(1)
    for _ in range(50):
        pos, yaw, horizon = rng.uniform(-3, 3, 3), rng.uniform(0, 360), rng.uniform(-30, 60)
        got_pos, got_yaw, got_h = camera_pose(world_to_camera(pos, yaw, horizon))
        assert np.allclose(got_pos, pos) and math.isclose(got_h, horizon, abs_tol=1e-9)
        assert abs(math.remainder(got_yaw - yaw, 360)) < 1e-9
    T = world_to_camera(np.zeros(3), 30.0, 10.0)
    roll = np.eye(4)
    roll[:2, :2] = [[math.cos(0.2), -math.sin(0.2)], [math.sin(0.2), math.cos(0.2)]]
    with pytest.raises(ValueError, match="roll"):
        camera_pose(roll @ T)


def test_objects_face_where_unity_turns_them_and_rotations_round_trip():
    """synth's local +X (front), +Y (left), +Z (up) are Unity's local +Z, -X and +Y turned by the
    object's Euler angles, in synth's frame."""
    rng = np.random.default_rng(2)
    for _ in range(200):
        e = {k: float(v) for k, v in zip("xyz", rng.uniform(0, 360, 3))}
        q_unity = _unity_euler(e["x"], e["y"], e["z"])
        R = np.array(_quat_matrix(rotation_to_synth(e)))
        assert np.allclose(R[:, 0], to_synth(_rotate(q_unity, (0, 0, 1))), atol=1e-9)
        assert np.allclose(R[:, 1], to_synth(_rotate(q_unity, (-1, 0, 0))), atol=1e-9)
        assert np.allclose(R[:, 2], to_synth(_rotate(q_unity, (0, 1, 0))), atol=1e-9)
        assert np.isclose(np.linalg.det(R), 1.0)
        back = rotation_from_synth(rotation_to_synth(e))
        assert np.allclose(_quat_matrix(rotation_to_synth(back)), R, atol=1e-9)


def _quat_matrix(q):
    from synth.core.rotations import quaternion_matrix

    return quaternion_matrix(tuple(q))


def _thor_object(size, pivot, euler, oriented: bool) -> dict:
    """Metadata of an object of THOR-local ``size`` (x, y, z) with its pivot at the bottom
    centre, corners computed with Unity's rotation."""
    q = _unity_euler(*(euler[k] for k in "xyz"))
    w, h, d = size
    corners = np.array(
        [
            pivot + _rotate(q, (sx * w / 2, h / 2 + sy * h / 2, sz * d / 2))
            for sx in (-1, 1)
            for sy in (-1, 1)
            for sz in (-1, 1)
        ]
    )
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    aabb = [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    return {
        "objectId": "Thing|1",
        "objectType": "Thing",
        "position": dict(zip("xyz", map(float, pivot))),
        "rotation": euler,
        "axisAlignedBoundingBox": {"cornerPoints": aabb},
        "objectOrientedBoundingBox": {"cornerPoints": corners.tolist()} if oriented else None,
    }, corners


@pytest.mark.parametrize("oriented", [True, False])
def test_boxes_round_trip(oriented):
    """Oriented boxes (any rotation) and axis-aligned ones (THOR's furniture, turned by multiples
    of 90 degrees) become synth boxes whose corners are THOR's and whose size is (depth, width,
    height) in the object's frame."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        size = rng.uniform(0.1, 2.0, 3)
        if oriented:
            euler = {k: float(v) for k, v in zip("xyz", rng.uniform(0, 360, 3))}
        else:
            euler = {"x": 0.0, "y": float(rng.choice([0, 90, 180, 270])), "z": 0.0}
        meta, corners = _thor_object(size, rng.uniform(-4, 4, 3), euler, oriented)
        box = object_box(meta)
        got = np.array(box.corners())
        want = to_synth(corners)
        assert max(np.min(np.linalg.norm(got - p, axis=1)) for p in want) < 1e-9
        w, h, d = size
        if oriented or euler["y"] in (0.0, 180.0):
            assert np.allclose(box.size, (d, w, h))
        else:
            assert np.allclose(sorted(box.size[:2]), sorted((d, w))) and math.isclose(box.size[2], h)


def test_room_polygons_round_trip_and_words():
    rng = np.random.default_rng(4)
    for _ in range(20):
        pts = [(float(x), float(y)) for x, y in rng.uniform(0, 1, (4, 2)) * 0 + [(0, 0), (4, 0), (4, 3), (0, 3)]]
        shift = rng.uniform(-5, 5, 2)
        pts = [(x + shift[0], y + shift[1]) for x, y in pts]
        room = Room(shape="rectangular", footprint=pts, height=2.5, **_materials())
        house = {"rooms": [{"id": "r", "floorPolygon": [{"x": x, "y": 0.0, "z": y} for x, y in pts[::-1]]}]}
        got = house_rooms(house)[0]
        assert np.allclose(sorted(got.footprint), sorted(room.footprint))
        assert got.footprint == pts or got.footprint[::-1] != pts[::-1]
    l_shape = [(0, 0), (6, 0), (6, 3), (3.5, 3), (3.5, 5.5), (0, 5.5)]
    got = house_rooms(
        {"rooms": [{"id": "k", "roomType": "Kitchen", "floorPolygon": [{"x": x, "y": 0, "z": z} for x, z in l_shape]}]}
    )[0]
    assert got.shape == "polygon" and got.name == "Kitchen" and math.isclose(_area(got.footprint), 6 * 3 + 3.5 * 2.5)
    assert _area(got.footprint) > 0  # counter-clockwise in synth's x-y plane
    assert [category_words(t) for t in ("CoffeeTable", "TVStand", "HousePlant", "Television", "ArmChair")] == [
        "coffee table",
        "tv stand",
        "house plant",
        "television",
        "arm chair",
    ]
    grid = [{"x": x * 0.25, "y": 0.9, "z": z * 0.25} for x in range(4) for z in range(3)]
    (poly,) = navigable_polygons(grid, 0.25)
    assert math.isclose(_area(poly), 1.0 * 0.75, rel_tol=1e-4)


def _area(pts):
    x, y = np.array(pts).T
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _materials():
    from synth.backends.ai2thor.format import ROOM_MATERIALS

    return ROOM_MATERIALS


# ------------------------------------------------------------------ the real Controller, the stand-in Unity side
@pytest.fixture(scope="module")
def thor():
    r = open_renderer(renderer_settings("ai2thor", **THOR_STANDIN))
    yield r
    r.close()


def test_the_real_controller_talks_fifo_to_the_standin(thor):
    import ai2thor.controller
    import ai2thor.fifo_server

    scene = scene_source("ai2thor", thor, house=str(HOUSE))(0)
    assert isinstance(thor._controller, ai2thor.controller.Controller)
    assert isinstance(thor._controller.server, ai2thor.fifo_server.FifoServer)
    event = thor._controller.last_event
    assert event.metadata["lastActionSuccess"] and event.metadata["lastAction"] == "GetReachablePositions"
    assert scene.simulator == "ai2thor" and scene.reference == str(HOUSE.resolve())


def test_a_procthor_house_becomes_a_synth_scene(thor):
    house = json.loads(HOUSE.read_text())
    scene = scene_source("ai2thor", thor, house=str(HOUSE))(0)
    by_thor = {o.source_id: o for o in scene.objects}
    n_objects = sum(1 + len(o.get("children", [])) for o in house["objects"])
    assert len(scene.objects) == n_objects and "Floor|+00.00|+00.00|+00.00" not in by_thor
    assert by_thor["Vase|3"].supported_by == by_thor["CoffeeTable|2"].id
    assert by_thor["Television|7"].supported_by == by_thor["TVStand|6"].id
    assert by_thor["Sofa|1"].category == "sofa" and not by_thor["Sofa|1"].movable
    assert by_thor["Chair|9"].movable and by_thor["Box|14"].movable  # moveable, pickupable
    # the rotated box is pickupable: its oriented box is tight (0.4 deep, 0.5 wide, 0.4 high)
    assert np.allclose(by_thor["Box|14"].box.size, (0.4, 0.5, 0.4), atol=1e-6)
    # objects stand on what they stand on: the vase's bottom is the coffee table's top
    vase, table = by_thor["Vase|3"].box, by_thor["CoffeeTable|2"].box
    assert math.isclose(vase.center[2] - vase.size[2] / 2, table.center[2] + table.size[2] / 2, abs_tol=1e-6)
    (room,) = scene.rooms
    assert room.name == "LivingRoom" and math.isclose(room.height, 2.7) and math.isclose(_area(room.footprint), 42)
    # the two identical chairs cannot be told apart: they keep one description and are not asked about
    chairs = [o for o in scene.objects if o.category == "chair"]
    assert len(chairs) == 2 and chairs[0].description == chairs[1].description
    assert scene.navigable and all(_area(p) > 0 for p in scene.navigable)


def test_an_ithor_scene_name_and_its_errors(thor):
    scene = scene_source("ai2thor", thor, scene="FloorPlan1")(0)
    assert scene.reference == "FloorPlan1" and not scene.rooms and scene.navigable
    assert {o.category for o in scene.objects} >= {"fridge", "dining table", "chair", "vase"}
    with pytest.raises(ValueError, match="FloorPlan999"):
        scene_source("ai2thor", thor, scene="FloorPlan999")(0)
    with pytest.raises(ValueError, match="ProcTHOR house"):
        scene_source("ai2thor", thor, house=str(DATA / "assets.json"))(0)


def test_frames_objects_moved_and_refused_actions(thor):
    """Rendered ids belong to the scene, a teleported object's mask follows its new box, and an
    action THOR refuses fails the episode's camera path with THOR's message."""
    scene = scene_source("ai2thor", thor, house=str(HOUSE))(0)
    video = VideoSpec(frames=6, width=160, height=120)
    episode, buf = shoot(thor, scene, video, VisibilityRule(min_pixels=20), np.random.default_rng(3), dynamic=False)
    assert set(np.unique(buf.instance).tolist()) <= {0} | {o.id for o in scene.objects}
    assert len(np.unique(buf.instance)) >= 4 and np.isfinite(buf.depth).all()
    # move the box 0.6 m: its mask lies inside its moved box's projection, not its old one
    box = next(o for o in scene.objects if o.source_id == "Box|14")
    frame = episode.frames[0]
    eye = np.array([box.box.center[0] + 1.5, box.box.center[1] + 1.5, 1.5])
    from synth.core.camera import look_at

    T = look_at(eye, np.array([*box.box.center[:2], 0.3]))
    moved = ObjectPose(
        id=box.id, position=(box.box.center[0] + 0.6, box.box.center[1], box.box.center[2]), rotation=box.box.rotation
    )
    poses = [moved if p.id == box.id else p for p in frame.object_poses]
    cams = CameraFrame(K=frame.camera.K, world_to_camera=tuple(map(tuple, T)))
    session = thor.open(scene, video)
    out = session.render([Frame(index=0, time=0.0, camera=cams, object_poses=poses)])
    ys, xs = np.nonzero(out.instance[0] == box.id)
    assert len(xs) > 50
    uv, _ = project(cams, np.array(box.box.at(moved).corners()))
    assert uv[:, 0].min() - 1 <= xs.min() and xs.max() <= uv[:, 0].max() + 1
    assert session.current[box.id].position == pytest.approx(moved.position, abs=1e-6)
    # a camera outside the house: THOR refuses the teleport
    outside = look_at(np.array([-5.0, -5.0, 1.5]), np.array([0.0, 0.0, 1.0]))
    far = Frame(
        index=1,
        time=0.1,
        camera=CameraFrame(K=frame.camera.K, world_to_camera=tuple(map(tuple, outside))),
        object_poses=frame.object_poses,
    )
    with pytest.raises(NoCameraPath, match="TeleportFull failed"):
        session.render([far])


@pytest.fixture
def sofa_settles(monkeypatch):
    """A renderer whose stand-in lets the sofa (never moved by synth: it is not moveable) drop
    5 cm at its 3rd ``TeleportFull`` (``$SYNTH_THOR_STANDIN_DROP``), as physics can in a real build."""
    monkeypatch.setenv("SYNTH_THOR_STANDIN_DROP", "Sofa|1@3")
    r = open_renderer(renderer_settings("ai2thor", **THOR_STANDIN))
    yield r
    r.close()


def test_an_object_synth_never_moved_is_checked_every_frame(sofa_settles):
    """Every object's reported pose is compared with the plan each frame: the sofa, untouched by
    synth, reported 5 cm lower at frame 2 fails the path with a line naming it; once the scene is
    loaded again (the next episode) it is back where planned and every frame passes."""
    thor = sofa_settles
    scene = scene_source("ai2thor", thor, house=str(HOUSE))(0)
    sofa = next(o for o in scene.objects if o.source_id == "Sofa|1")
    assert not sofa.movable
    video = VideoSpec(frames=4, width=64, height=48)
    (room,) = scene.rooms
    eye = np.array([*np.mean(room.footprint, axis=0), 1.5])
    from synth.core.camera import look_at

    camera = CameraFrame(
        K=tuple(map(tuple, thor.intrinsics(video))),
        world_to_camera=tuple(map(tuple, look_at(eye, np.array(sofa.box.center)))),
    )
    at_rest = list(rest_poses(scene).values())
    frames = [Frame(index=i, time=i / video.fps, camera=camera, object_poses=at_rest) for i in range(4)]
    with pytest.raises(ThorActionFailed, match=r"Sofa\|1 drifted 5\.0 cm / 0\.0 deg from its planned pose \(frame 2\)"):
        thor.open(scene, video).render(frames)
    out = thor.open(scene, video).render(frames)
    assert (out.instance == sofa.id).any(axis=(1, 2)).all()


def test_a_drifted_object_makes_the_episode_replanned(sofa_settles, caplog):
    """The flow's episode loop: the drift found while planning attempt 0 is logged as a re-plan
    naming the object, and the episode is planned and rendered again from attempt 1's seed, every
    frame of it checked."""
    from synth.flows.config import RunConfig
    from synth.flows.episode import episode_seed, shoot_episode

    cfg = RunConfig.from_options(
        simulator="ai2thor", house=str(HOUSE), frames=4, width=64, height=48, seed=7, plan_candidates=2, **THOR_STANDIN
    )
    with caplog.at_level("WARNING", logger="synth.episode"):
        seed, episode, buffers = shoot_episode(cfg, 0, sofa_settles, {})
    (line,) = [r.getMessage() for r in caplog.records if "re-planned" in r.getMessage()]
    assert line.startswith("episode 0 attempt 0 re-planned: AI2-THOR reports Sofa|1 drifted 5.0 cm")
    assert seed == episode_seed(cfg.seed, 0, 1)
    assert len(episode.frames) == 4 and buffers.instance.shape == (4, 48, 64)


def test_without_the_build_the_error_says_what_to_do(tmp_path):
    r = open_renderer(
        renderer_settings("ai2thor", platform="Linux64", local_executable_path=str(tmp_path / "thor-build"))
    )
    try:
        with pytest.raises(BackendUnavailable, match="internet"):
            r.scene(0, scene="FloorPlan1")
        with pytest.raises(ValueError, match="not a 'procedural' scene"):
            r.open(scene_source("procedural", assets="primitives")(1), VideoSpec())
    finally:
        r.close()


def test_the_readme_standin_run_verifies(tmp_path, capsys):
    """The README's stand-in command, as written (output redirected): the whole pipeline through
    the real Controller and the stand-in Unity side, then ``synth verify --evidence``."""
    import re
    import shlex

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## AI2-THOR") :]
    lines = re.search(r"```bash\n(.*?)```", section, re.S).group(1).splitlines()
    line = next(x for x in lines if "tests/standins/thor-unity" in x)
    args = shlex.split(line.split("#")[0])
    assert args[:2] == ["synth", "run"]
    args[args.index("--out") + 1] = str(tmp_path / "run")
    # the README runs from the repository root
    args[args.index("--house") + 1] = str(HOUSE)
    args[args.index("--local-executable-path") + 1] = THOR_STANDIN["local_executable_path"]
    out = tmp_path / "run"
    assert main([*args[1:], "--no-progress"]) == 0
    assert main(["verify", str(out), "--evidence"]) == 0
    printed = capsys.readouterr().out
    assert "0 problem(s)" in printed and "0 disagreement(s)" in printed
    from synth.core.records import SampleMeta
    from synth.storage.dataset import iter_samples

    metas = [SampleMeta.model_validate_json(s.files["json"]) for s in iter_samples(out)]
    assert len(metas) == 2 and all(m.episode.scene.simulator == "ai2thor" for m in metas)
    assert metas[0].episode.renderer["backend"] == "ai2thor"
    assert all(m.episode.scene.reference == str(HOUSE.resolve()) for m in metas)
    assert sum(len(m.questions) for m in metas) > 0


def test_run_configuration_for_ai2thor():
    from synth.flows.config import RunConfig

    cfg = RunConfig.from_options(simulator="ai2thor", scene="FloorPlan1", **THOR_STANDIN)
    assert cfg.renderer.backend == "ai2thor" and cfg.renderer.local_executable_path.endswith("thor-unity")
    assert RunConfig(simulator="ai2thor", house="h.json").renderer.backend == "ai2thor"
    with pytest.raises(ValueError, match="one of --scene"):
        RunConfig(simulator="ai2thor")
    with pytest.raises(ValueError, match="render in ai2thor only"):
        RunConfig(simulator="ai2thor", scene="FloorPlan1", renderer={"backend": "blender"})
    with pytest.raises(ValueError, match="--house"):
        RunConfig(house="h.json")


@pytest.mark.skipif(
    os.environ.get("SYNTH_AI2THOR_E2E") != "1",
    reason="needs AI2-THOR's Unity build (downloaded at first use: internet + Vulkan GPU); set SYNTH_AI2THOR_E2E=1",
)
def test_real_ai2thor_end_to_end(tmp_path):
    """With the real build: FloorPlan1 through the whole pipeline, verified (README: AI2-THOR)."""
    out = tmp_path / "run"
    args = ["run", "--simulator", "ai2thor", "--scene", "FloorPlan1", "--episodes", "2", "--frames", "8"]
    assert main([*args, "--out", str(out), "--no-progress"]) == 0
    assert main(["verify", str(out), "--evidence"]) == 0
