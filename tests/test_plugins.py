"""The plugin boundary and the scene model that fits other simulators: quaternions, tilted
objects, several or no rooms, look-alike objects, backends that cannot load, and the
code-version guard of a resumed run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synth.backends.procedural.sampler import sample_scene
from synth.backends.registry import RENDERERS, RendererEntry, open_renderer, renderer_settings
from synth.backends.zbuffer.renderer import ZBufferRenderer
from synth.core.describe import describe
from synth.core.geometry import footprint, local_to_world
from synth.core.plugin import BackendUnavailable
from synth.core.scene import Box3D, Episode, ObjectVisibility, Pose, Room, VideoSpec, VisibilityRule
from synth.planning.shoot import shoot
from synth.programs.generate import unambiguous
from synth.storage.dataset import DatasetError, DatasetWriter
from tests.reference import load_reference


@pytest.mark.parametrize("yaw", [0.0, 0.3, -2.5, math.pi, 3.0])
def test_yaw_is_kept_through_the_quaternion(yaw):
    box = Box3D(center=(1, 2, 0.5), size=(0.4, 0.6, 1.0), yaw=yaw)
    assert box.upright and abs(math.remainder(box.yaw - yaw, 2 * math.pi)) < 1e-12
    assert abs(sum(q * q for q in box.rotation) - 1) < 1e-12
    with pytest.raises(ValueError, match="unit quaternion"):
        Box3D(center=(0, 0, 0), size=(1, 1, 1), rotation=(1.0, 1.0, 0.0, 0.0))


def test_tilted_object_geometry():
    """A chair knocked over onto its side (90 degrees about its front axis): its box corners,
    footprint and local frame follow the full rotation, and its yaw is still its front's heading."""
    s = math.sqrt(0.5)
    fallen = Box3D(center=(0, 0, 0.25), size=(0.5, 0.5, 1.0), rotation=(s, s, 0.0, 0.0))
    assert not fallen.upright
    corners = np.asarray(fallen.corners())
    assert np.ptp(corners[:, 2]) == pytest.approx(0.5) and np.ptp(corners[:, 1]) == pytest.approx(1.0)
    assert footprint(fallen).area == pytest.approx(0.5)
    up = local_to_world(np.array([[0.0, 0.0, 1.0]]), Pose(position=(0, 0, 0), rotation=fallen.rotation))
    assert np.allclose(up, [[0.0, -1.0, 0.0]])  # its top now points along -Y
    assert fallen.yaw == pytest.approx(0.0)


def test_schema_1_json_reads_into_the_new_model():
    old = load_reference()["samples"]["ep0000000"]["json"]["episode"]
    ep = Episode.model_validate(old)
    assert ep.schema_version == "2.0" and len(ep.scene.rooms) == 1 and ep.video.width == old["width"]
    first = old["scene"]["objects"][0]
    assert ep.scene.objects[0].box.yaw == pytest.approx(first["box"]["yaw"], abs=1e-12)
    assert ep.visibility_rule == VisibilityRule()  # what every schema 1.0 run used


def _room(xs: tuple[float, float], name: str) -> Room:
    base = sample_scene(1).room
    fp = [(xs[0], 0.0), (xs[1], 0.0), (xs[1], 4.0), (xs[0], 4.0)]
    return base.model_copy(update={"footprint": fp, "shape": "rectangular", "name": name})


def test_planner_and_renderer_on_several_rooms_and_on_a_navigable_floor():
    scene = sample_scene(3)
    objects = [o for o in scene.objects if o.supported_by == 0][:3]
    objects = [
        o.model_copy(update={"box": o.box.model_copy(update={"center": (1.0 + 2.5 * k, 2.0, o.box.center[2])})})
        for k, o in enumerate(objects)
    ]
    two = scene.model_copy(
        update={"rooms": [_room((0, 4), "kitchen"), _room((4, 8), "living room")], "objects": objects}
    )
    video, rule = VideoSpec(frames=4, width=96, height=72), VisibilityRule(min_pixels=10, min_frames=1)
    ep, buf = shoot(ZBufferRenderer(), two, video, rule, np.random.default_rng(0), dynamic=False)
    assert buf.instance.shape == (4, 72, 96) and len(ep.frames) == 4
    with pytest.raises(ValueError, match="exactly one room|not one"):
        _ = two.room
    bare = two.model_copy(update={"rooms": [], "navigable": [[(0, 0), (8, 0), (8, 4), (0, 4)]]})
    ep, buf = shoot(ZBufferRenderer(), bare, video, rule, np.random.default_rng(0), dynamic=False)
    assert np.isinf(buf.depth).any(), "no room shell: the background shows"
    with pytest.raises(ValueError, match="no rooms and no navigable floor"):
        shoot(
            ZBufferRenderer(),
            bare.model_copy(update={"navigable": []}),
            video,
            rule,
            np.random.default_rng(0),
            dynamic=False,
        )


def test_look_alikes_get_qualifiers_and_are_named_only_when_all_are_seen():
    """Two "chair"s (as AI2-THOR names them) of clearly different heights become "taller chair"
    and "shorter chair"; questions name them only when the video shows both."""
    scene = sample_scene(4)
    a, b = [o for o in scene.objects if o.supported_by == 0][:2]

    def chair(o, height):
        return o.model_copy(
            update={"description": "chair", "box": o.box.model_copy(update={"size": (0.5, 0.5, height)})}
        )

    tall, short = chair(a, 1.0), chair(b, 0.6)
    described = describe(scene.model_copy(update={"objects": [tall, short]}))
    assert {o.id: o.description for o in described.objects} == {tall.id: "taller chair", short.id: "shorter chair"}
    assert described.object(tall.id).look_alikes == [short.id]
    alike = describe(scene.model_copy(update={"objects": [tall, chair(b, 0.95)]}))  # within the margin
    assert {o.description for o in alike.objects} == {"chair"}

    video, rule = VideoSpec(frames=2, width=64, height=48), VisibilityRule(min_pixels=100, min_frames=1)
    ep, _ = shoot(ZBufferRenderer(), described, video, rule, np.random.default_rng(1), dynamic=False)

    def seen(pixels_short):
        vis = [ObjectVisibility(id=tall.id, pixels=[500, 500]), ObjectVisibility(id=short.id, pixels=pixels_short)]
        return unambiguous(ep.model_copy(update={"visibility": vis}))

    assert tall.id not in seen([0, 0])
    assert {tall.id, short.id} <= seen([0, 300])


def test_a_backend_that_cannot_load_says_what_to_install(monkeypatch):
    monkeypatch.setitem(
        RENDERERS, "zbuffer", RendererEntry("synth.backends.no_such_module", "X", "the moon (pip install moon)")
    )
    with pytest.raises(BackendUnavailable, match=r"renderer 'zbuffer' needs the moon \(pip install moon\)"):
        open_renderer(renderer_settings("zbuffer"))


def test_resume_refuses_another_code_version_unless_told(tmp_path):
    DatasetWriter(tmp_path / "ds", {"a": 1}, code_version="v1").open()
    with pytest.raises(DatasetError, match="--resume-across-versions") as e:
        DatasetWriter(tmp_path / "ds", {"a": 1}, code_version="v2").open()
    assert len(str(e.value).splitlines()) == 1
    w = DatasetWriter(tmp_path / "ds", {"a": 1}, code_version="v2")
    w.open(across_versions=True)
    assert w.versions() == ["v1", "v2"]
    assert DatasetWriter(tmp_path / "ds", {"a": 1}, code_version="v2").open() == set()  # now v2 resumes freely
