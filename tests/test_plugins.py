"""The plugin boundary and the scene model that fits other simulators: quaternions, tilted
objects, several or no rooms, look-alike objects, backends described once by their plugin
descriptors, backends that cannot load, scene sources as a tagged union of the run
configuration (older flat configurations included), and the code-version guard of a resumed run."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from synth.backends import registry
from synth.backends.procedural.sampler import sample_scene
from synth.backends.registry import (
    NATIVE_RENDERER,
    PLUGINS,
    READ_FROM_RENDERER,
    RENDERERS,
    SIMULATORS,
    open_renderer,
    renderer_settings,
    scene_source,
    source_settings,
)
from synth.backends.zbuffer.renderer import ZBufferRenderer
from synth.core.describe import describe
from synth.core.geometry import footprint, local_to_world
from synth.core.plugin import BackendUnavailable, Plugin, scene_geometry
from synth.core.scene import Box3D, Episode, MeshAsset, ObjectVisibility, Pose, Room, VideoSpec, VisibilityRule
from synth.flows.config import FLAT_SOURCE_OPTIONS, RunConfig, renderer_models, source_models
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
    moon = dataclasses.replace(
        RENDERERS["zbuffer"], renderer="synth.backends.no_such_module:X", install_hint="the moon (pip install moon)"
    )
    monkeypatch.setattr(registry, "RENDERERS", {**RENDERERS, "zbuffer": moon})
    with pytest.raises(BackendUnavailable, match=r"renderer 'zbuffer' needs the moon \(pip install moon\)"):
        open_renderer(renderer_settings("zbuffer"))


def test_every_table_comes_from_the_descriptors():
    """One descriptor per backend folder; the registry's tables and the run configuration's
    unions are derived from them."""
    assert [p.name for p in PLUGINS] == ["blender", "zbuffer", "habitat", "ai2thor", "procedural"]
    assert list(RENDERERS) == ["blender", "zbuffer", "habitat", "ai2thor"]
    assert list(SIMULATORS) == ["habitat", "ai2thor", "procedural"]
    assert dict(NATIVE_RENDERER) == {"ai2thor": "ai2thor"} and {"ai2thor"} == READ_FROM_RENDERER
    assert renderer_models() == [p.renderer_settings for p in RENDERERS.values()]
    assert source_models() == [p.source_settings for p in SIMULATORS.values()]
    with pytest.raises(ValueError, match="needs its settings model"):
        Plugin(name="half", install_hint="", renderer="a.b:C")
    with pytest.raises(ValueError, match="must be 'other'"):
        Plugin(
            name="other", install_hint="", source=lambda *a: None, source_settings=SIMULATORS["habitat"].source_settings
        )


def test_descriptors_import_no_simulator():
    """The registry and every descriptor import without a simulator or numba: each backend's
    heavy modules load when its renderer opens or its source makes a scene."""
    code = (
        "import sys, synth.backends.registry, synth.flows.config\n"
        "heavy = {'bpy', 'ai2thor', 'habitat_sim', 'numba'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_scene_geometry_gives_one_kind_per_piece():
    scene = sample_scene(2)
    stage = MeshAsset(uri="stage.glb")
    meshed = scene.objects[0].model_copy(update={"mesh": stage, "parts": []})
    scene = scene.model_copy(update={"stage": stage, "objects": [meshed, *scene.objects[1:]]})
    kinds = [(kind, k) for kind, k, _ in scene_geometry(scene)]
    assert kinds[:3] == [("room", 0), ("stage", 0), ("mesh", 0)]
    assert kinds[3:] == [("parts", k) for k in range(1, len(scene.objects))]


def test_source_options_are_defined_once():
    """The procedural source's defaults are its settings model's: the run configuration's
    default source and ``scene_source("procedural")`` use them."""
    assert RunConfig().source == source_settings("procedural")
    assert (RunConfig().source.assets, RunConfig().source.asset_variants) == ("infinigen", 4)
    primitives = scene_source("procedural", assets="primitives")(7)
    assert primitives.model_dump() == describe(sample_scene(7)).model_dump()
    with pytest.raises(ValueError, match="unknown simulator 'unreal'; available: ai2thor, habitat, procedural"):
        source_settings("unreal")


OLD_RUN_JSON = {  # a run.json written before RunConfig.source (the sat-dynamic fingerprint run)
    "abstention_share": 0.1,
    "asset_variants": 4,
    "assets": "primitives",
    "debias": True,
    "degradations": "fog:2,lens_distortion:2,low_light:2",
    "dynamic_share": 0.75,
    "episodes": 3,
    "families": None,
    "house": None,
    "plan_candidates": 8,
    "preset": "sat-dynamic",
    "questions_per_family": 3,
    "renderer": {
        "backend": "blender",
        "device": "auto",
        "hfov_deg": 70.0,
        "max_bounces": 2,
        "quality": "draft",
        "samples": 2,
    },  # fmt: skip
    "samples_per_shard": 64,
    "scene": None,
    "scene_dataset": None,
    "seed": 0,
    "simulator": "procedural",
    "targets": 3,
    "video": {"fps": 8.0, "frames": 16, "height": 336, "width": 448},
    "visibility": {"min_frames": 2, "min_pixels": 100},
}


def test_older_flat_configurations_still_load():
    cfg = RunConfig.model_validate(OLD_RUN_JSON)
    data = cfg.model_dump(mode="json")
    assert data["source"] == {
        "simulator": "procedural",
        "assets": "primitives",
        "asset_variants": 4,
        "layout": "room",  # added since, at their defaults
        "rooms": None,
        "max_rooms": 8,
        "min_objects": 8,
        "max_objects": 25,
    }
    flat = {k: v for k, v in OLD_RUN_JSON.items() if k not in FLAT_SOURCE_OPTIONS}
    newer = {"trajectory": "clip", "duration": None, "streaming": ""}  # fields added since, at their defaults
    newer |= {"adapt_from": "", "adapt_band": [0.4, 0.7], "adaptation": None, "balance_perspective": False}
    newer |= {"adapt_scene": False, "minimal_pairs": False, "settle_views": False}
    assert {k: v for k, v in data.items() if k != "source"} == flat | newer
    assert RunConfig.model_validate(json.loads(json.dumps(data))) == cfg  # the new form round-trips
    # every older run.json held every source option: another source's defaults are dropped
    habitat = {**OLD_RUN_JSON, "simulator": "habitat", "scene_dataset": "data/hab", "assets": "infinigen"}
    assert RunConfig.model_validate(habitat).source.model_dump() == {
        "simulator": "habitat",
        "scene_dataset": "data/hab",
        "scene": None,
    }
    thor = RunConfig(simulator="ai2thor", house="h.json")
    assert thor.source.house == "h.json" and thor.renderer.backend == "ai2thor"


@pytest.mark.parametrize(
    "given, message",
    [
        ({"simulator": "habitat"}, "--simulator habitat needs --scene-dataset"),
        ({"scene_dataset": "d"}, "--scene-dataset names scenes of a simulator; procedural scenes are sampled"),
        ({"simulator": "habitat", "scene_dataset": "d", "house": "h"}, "--house does not apply to --simulator habitat"),
        ({"simulator": "habitat", "scene_dataset": "d", "assets": "primitives"}, "--assets does not apply"),
        ({"simulator": "ai2thor"}, "--simulator ai2thor needs one of --scene"),
        (
            {"source": {"simulator": "ai2thor", "scene": "F"}, "renderer": {"backend": "blender"}},
            "render in ai2thor only",
        ),
        ({"source": {"simulator": "unreal"}}, "unknown simulator 'unreal'"),
        ({"source": {"simulator": "procedural", "asset_variants": 0}}, "greater than or equal to 1"),
    ],
)
def test_source_validation(given, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(**given)


def test_a_source_given_whole_or_in_part():
    """The nested form (the Prefect form's): the tag defaults to the default source; flat options
    on top of a given source of the same simulator refine it."""
    assert RunConfig(source={"assets": "primitives"}).source == source_settings("procedural", assets="primitives")
    cfg = RunConfig(source={"simulator": "habitat", "scene_dataset": "d"}, scene="s1")
    assert cfg.source == source_settings("habitat", scene_dataset="d", scene="s1")
    assert RunConfig.from_options(simulator="habitat", scene_dataset="d", frames=4).source == cfg.source.model_copy(
        update={"scene": None}
    )


def test_resume_refuses_another_code_version_unless_told(tmp_path):
    DatasetWriter(tmp_path / "ds", {"a": 1}, code_version="v1").open()
    with pytest.raises(DatasetError, match="--resume-across-versions") as e:
        DatasetWriter(tmp_path / "ds", {"a": 1}, code_version="v2").open()
    assert len(str(e.value).splitlines()) == 1
    w = DatasetWriter(tmp_path / "ds", {"a": 1}, code_version="v2")
    w.open(across_versions=True)
    assert w.versions() == ["v1", "v2"]
    assert DatasetWriter(tmp_path / "ds", {"a": 1}, code_version="v2").open() == set()  # now v2 resumes freely
