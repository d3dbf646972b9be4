"""Habitat scene datasets: the export read by a glTF library and by Blender's importer and valid
against schemas written from Habitat's documentation; exported scenes read back as a scene source
render like the originals (depth, masks, answers); the habitat-sim worker protocol."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from synth.backends.habitat.format import C, camera_pose, world_to_camera, write_scene
from synth.backends.habitat.source import HabitatDatasetError, read_scene
from synth.backends.procedural.sampler import sample_scene
from synth.backends.registry import open_renderer, renderer_settings, scene_source
from synth.cli.main import main
from synth.core.evidence import with_evidence
from synth.core.plugin import BackendUnavailable
from synth.core.scene import VideoSpec, VisibilityRule
from synth.core.visibility import visibility_table
from synth.evaluation.items import read_items
from synth.planning.shoot import shoot
from synth.programs.generate import generate_questions
from synth.programs.sandbox import SandboxPool
from tests.standins import HABITAT_STANDIN

SCHEMAS = Path(__file__).resolve().parents[1] / "synth" / "exports" / "schemas" / "habitat"
VIDEO = VideoSpec(frames=6, width=160, height=120, fps=8)
RULE = VisibilityRule(min_pixels=20)


def _seeds_with(count: int, l_shaped: int) -> list[int]:
    """``count`` seeds, ``l_shaped`` of them with an L-shaped room."""
    ls, others = [], []
    for seed in range(400):
        (ls if sample_scene(seed).rooms[0].shape == "L-shaped" else others).append(seed)
        if len(ls) >= l_shaped and len(others) >= count - l_shaped:
            break
    return ls[:l_shaped] + others[: count - l_shaped]


@pytest.fixture(scope="module")
def blender():
    return open_renderer(renderer_settings("blender", quality="draft"))


def _validate(kind: str, path: Path) -> dict:
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "aihabitat.org" in schema["$comment"] or "habitat-sim" in schema["$comment"]
    data = json.loads(path.read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(data))
    assert not errors, (path, errors[0].message)
    return data


def test_export_parses_as_gltf_in_blender_and_against_habitat_schemas(tmp_path, blender):
    import bpy
    import trimesh

    seed = _seeds_with(1, 1)[0]
    scene = scene_source("procedural", assets="primitives")(seed)
    write_scene(scene, tmp_path, "room")
    dataset = _validate("scene_dataset_config", tmp_path / "synth.scene_dataset_config.json")
    assert dataset["scene_instances"]["paths"][".json"] == ["scenes"]
    _validate("stage_config", tmp_path / "stages" / "room.stage_config.json")
    inst = _validate("scene_instance", tmp_path / "scenes" / "room.scene_instance.json")
    sem = _validate("semantic_config", tmp_path / "semantics" / "room.semantic_config.json")
    lexicon = _validate("semantic_lexicon", tmp_path / "semantics" / "synth_semantic_lexicon.json")
    assert inst["translation_origin"] == "asset_local" and len(inst["object_instances"]) == len(scene.objects)
    assert len(sem["region_annotations"]) == len(scene.rooms)
    loop = np.asarray(sem["region_annotations"][0]["poly_loop"]) @ C  # Habitat Y-up -> synth Z-up
    assert np.allclose(loop[:, :2], scene.rooms[0].footprint) and np.allclose(loop[:, 2], 0)
    classes = {c["name"]: c["id"] for c in lexicon["classes"]}
    assert classes["unknown"] == 0 and {o.category for o in scene.objects} <= set(classes)
    stage = trimesh.load(tmp_path / "stages" / "room.glb")
    assert len(stage.graph.nodes_geometry) == 3  # floor, walls, ceiling
    lo, hi = stage.bounds @ C  # Y-up bounds back in synth axes (C maps a corner pair to a corner pair)
    room = scene.rooms[0]
    assert np.isclose(max(lo[2], hi[2]), room.height + 0.1, atol=1e-4)  # walls reach past the ceiling
    for obj, entry in zip(scene.objects, inst["object_instances"]):
        name = Path(entry["template_name"]).name
        cfg = _validate("object_config", tmp_path / "objects" / f"{name}.json")
        assert cfg["semantic_id"] == obj.id == entry["user_defined"]["synth_id"]
        assert (
            cfg["user_defined"]["category"] == obj.category and classes[obj.category] == cfg["user_defined"]["class_id"]
        )
        assert cfg["up"] == [0.0, 1.0, 0.0] and cfg["front"] == [0.0, 0.0, -1.0] and cfg["COM"] == [0.0, 0.0, 0.0]
        glb = tmp_path / "objects" / cfg["render_asset"]
        tm = trimesh.load(glb)
        assert len(tm.graph.nodes_geometry) == len(obj.parts)
        size = np.abs((tm.bounds[1] - tm.bounds[0]) @ C)  # Y-up extent in the object's (x, y, z)
        assert np.allclose(size, obj.box.size, atol=1e-5), (obj.category, size, obj.box.size)
        # Blender's own glTF importer (+Y up -> +Z up): the object's box, in its frame
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.ops.import_scene.gltf(filepath=str(glb))
        meshes = [o for o in bpy.data.objects if o.type == "MESH"]
        verts = np.array([o.matrix_world @ v.co for o in meshes for v in o.data.vertices])
        assert len(meshes) == len(obj.parts)
        assert np.allclose(verts.max(0) - verts.min(0), obj.box.size, atol=1e-5)
        assert np.allclose((verts.max(0) + verts.min(0)) / 2, 0, atol=1e-5)  # the box centre is the asset origin


def _answers(scene, episode, buffers, pool) -> list[tuple[str, str]]:
    visibility = visibility_table(buffers.instance, [o.id for o in scene.objects])
    ep = with_evidence(
        episode.model_copy(update={"scene": scene, "visibility": visibility}), buffers.depth, buffers.instance
    )
    qa = generate_questions(ep, np.random.default_rng(0), pool)
    return [(q.question, q.answer) for q in qa]


def test_exported_scenes_render_like_the_originals_and_get_the_same_answers(tmp_path, blender):
    """The issue's agreement check on 10 procedural scenes (2 L-shaped, 3 dynamic episodes):
    native Blender vs export -> Habitat-format source -> Blender, on the same trajectories."""
    seeds = _seeds_with(10, 2)
    with SandboxPool() as pool:
        for n, seed in enumerate(seeds):
            scene = scene_source("procedural", assets="primitives")(seed)
            ep, native = shoot(blender, scene, VIDEO, RULE, np.random.default_rng(seed), dynamic=n % 3 == 0)
            write_scene(scene, tmp_path, f"s{seed}")
            again = scene_source("habitat", scene_dataset=str(tmp_path), scene=f"s{seed}")(seed)
            assert [(o.id, o.category, o.description) for o in again.objects] == [
                (o.id, o.category, o.description) for o in scene.objects
            ]
            assert again.rooms == scene.rooms and again.lights == scene.lights
            session = blender.open(again, VIDEO)
            imported = session.render(ep.frames)
            session.close()
            both = np.isfinite(native.depth) & np.isfinite(imported.depth)
            assert (np.isfinite(native.depth) == np.isfinite(imported.depth)).all()
            assert np.median(np.abs(native.depth[both] - imported.depth[both])) <= 1e-3
            for obj in scene.objects:
                a, b = native.instance == obj.id, imported.instance == obj.id
                if (a | b).sum() >= 20:
                    assert (a & b).sum() / (a | b).sum() >= 0.99, (seed, obj.category)
            here, there = _answers(scene, ep, native, pool), _answers(again, ep, imported, pool)
            assert [q for q, _ in here] == [q for q, _ in there], seed
            for (_, a), (_, b) in zip(here, there):  # surface distances read the re-imported meshes: 1 cm
                assert a == b or abs(float(a) - float(b)) <= 0.011, (seed, a, b)
            if ep.motions:
                moved = ep.motions[0].id
                assert (native.instance == moved).any()


def test_a_run_on_an_exported_dataset_verifies_and_exports_trajectories(tmp_path, capsys):
    assert main(["export", "habitat", "3,5", "--out", str(tmp_path / "hab")]) == 0
    out = tmp_path / "run"
    args = ["run", "--simulator", "habitat", "--scene-dataset", str(tmp_path / "hab"), "--episodes", "2"]
    args += ["--quality", "draft", "--frames", "6", "--resolution", "160x120", "--min-pixels", "20"]
    assert main([*args, "--out", str(out), "--no-progress", "--export", "habitat"]) == 0
    assert main(["verify", str(out), "--evidence"]) == 0
    printed = capsys.readouterr().out
    assert "0 problem(s)" in printed and "0 disagreement(s)" in printed
    items = read_items(out)
    assert items and all(i.qa.answer for i in items)
    traj = json.loads((out / "habitat" / "episodes" / "ep0000000.trajectory.json").read_text())
    assert traj["sensor"]["resolution"] == [120, 160] and len(traj["frames"]) == 6
    # each frame's agent state is the sample's camera, in Habitat's conventions
    from synth.core.records import SampleMeta
    from synth.storage.dataset import iter_samples

    meta = SampleMeta.model_validate_json(next(iter_samples(out)).files["json"])
    assert meta.episode.scene.simulator == "habitat"
    for f, g in zip(meta.episode.frames, traj["frames"]):
        assert np.allclose(world_to_camera(**g["agent_state"]), f.camera.world_to_camera, atol=1e-9)
        assert camera_pose(f.camera.world_to_camera)[0] == pytest.approx(g["agent_state"]["position"])


def test_third_party_layout_without_rooms_or_synth_metadata(tmp_path, blender):
    """An HSSD-style scene: class ids as semantic ids (named by the lexicon), no synth metadata, no
    region annotations: the stage mesh is the background and its floor the navigable region; it
    still renders like the original scene."""
    from shapely import Polygon

    scene = scene_source("procedural", assets="primitives")(_seeds_with(1, 1)[0])
    ep, native = shoot(blender, scene, VIDEO, RULE, np.random.default_rng(1), dynamic=False)
    write_scene(scene, tmp_path, "plain")
    classes = {
        c["name"]: c["id"]
        for c in json.loads((tmp_path / "semantics" / "synth_semantic_lexicon.json").read_text())["classes"]
    }
    for path in (tmp_path / "objects").glob("*.object_config.json"):
        cfg = json.loads(path.read_text())
        cfg["semantic_id"] = classes[cfg.pop("user_defined")["category"]]
        path.write_text(json.dumps(cfg))
    for path in [*(tmp_path / "scenes").glob("*.json"), *(tmp_path / "stages").glob("*.json")]:
        data = json.loads(path.read_text())
        data.pop("user_defined", None)
        for inst in data.get("object_instances", []):
            inst.pop("user_defined", None)
        path.write_text(json.dumps(data))
    (tmp_path / "semantics" / "plain.semantic_config.json").write_text(json.dumps({"region_annotations": []}))
    again = read_scene(tmp_path, "plain")
    assert again.rooms == [] and again.stage is not None and len(again.lights) == len(again.navigable) >= 1
    floor = Polygon(again.navigable[0])
    room = Polygon(scene.rooms[0].footprint)
    assert room.area <= floor.area <= room.buffer(0.06, join_style="mitre").area and floor.contains(room.buffer(-0.01))
    assert [o.id for o in again.objects] == list(range(1, len(scene.objects) + 1))
    assert [o.category for o in again.objects] == [o.category for o in scene.objects]
    for a, b in zip(scene.objects, again.objects):
        assert np.allclose(a.box.size, b.box.size, atol=1e-5) and np.allclose(a.box.center, b.box.center, atol=1e-5)
    # same ids as the original (objects were numbered in order), so the masks compare directly
    session = blender.open(again, VIDEO)
    got = session.render(ep.frames)
    session.close()
    both = np.isfinite(native.depth) & np.isfinite(got.depth)
    assert np.median(np.abs(native.depth[both] - got.depth[both])) <= 1e-3
    assert (native.instance == got.instance).mean() > 0.999
    # exported again, the stage-only scene keeps its stage (and so its floor)
    write_scene(again, tmp_path / "again", "plain")
    assert read_scene(tmp_path / "again", "plain").navigable == again.navigable


def test_bad_scene_datasets_fail_with_one_clear_error(tmp_path, capsys):
    write_scene(sample_scene(3), tmp_path, "room")
    with pytest.raises(HabitatDatasetError, match="no scene instance named 'nothing'; the dataset has scenes/room"):
        read_scene(tmp_path, "nothing")
    sem = tmp_path / "semantics" / "room.semantic_config.json"
    sem.write_text(json.dumps({"region_annotations": []}))
    import trimesh

    trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [0, 0, 1]], [[0, 1, 2]]).export(tmp_path / "stages" / "room.glb")  # a wall
    with pytest.raises(HabitatDatasetError, match="declares no rooms .* has no floor"):
        read_scene(tmp_path, "room")
    assert main(["run", "--simulator", "habitat", "--out", str(tmp_path / "x")]) == 2
    assert "needs --scene-dataset" in capsys.readouterr().err
    assert main(["run", "--scene-dataset", str(tmp_path), "--out", str(tmp_path / "x")]) == 2
    assert "procedural scenes are sampled" in capsys.readouterr().err


def test_worker_protocol_in_a_separate_interpreter(tmp_path, blender):
    """The real protocol and worker code, with a Blender STAND-IN engine in its own process
    (habitat-sim cannot be installed here: ``tests.standins.HABITAT_STANDIN`` is the worker's
    interpreter): same frames as the native render, a dynamic episode included (object poses go
    over the pipe in Habitat's frame)."""
    scene = scene_source("procedural", assets="primitives")(4)
    ep, native = shoot(blender, scene, VIDEO, RULE, np.random.default_rng(4), dynamic=True)
    assert ep.motions
    worker = open_renderer(renderer_settings("habitat", **HABITAT_STANDIN))
    try:
        assert worker.engine.startswith("blender (stand-in")
        assert np.allclose(worker.intrinsics(VIDEO), blender.intrinsics(VIDEO))
        session = worker.open(scene, VIDEO)  # a procedural scene: written as a dataset on the fly
        got = session.render(ep.frames)
        assert (got.instance == native.instance).all()
        assert np.nanmax(np.abs(np.where(np.isfinite(native.depth), native.depth - got.depth, 0))) < 1e-4
        seen = session.measure_visibility(ep.frames[:2])
        assert set(seen) == {o.id for o in scene.objects}
    finally:
        worker.close()


def test_the_habitat_sim_engine_names_the_conda_install_when_it_cannot_run(monkeypatch):
    monkeypatch.delenv("SYNTH_HABITAT_PYTHON", raising=False)
    with pytest.raises(BackendUnavailable, match="conda"):
        open_renderer(renderer_settings("habitat"))
    monkeypatch.setenv("SYNTH_HABITAT_PYTHON", sys.executable)  # an interpreter without habitat-sim
    with pytest.raises(BackendUnavailable, match="habitat-sim is not importable here; install it with conda"):
        renderer = open_renderer(renderer_settings("habitat"))
        renderer.open(sample_scene(3), VIDEO)


def _habitat_python() -> str | None:
    python = os.environ.get("SYNTH_HABITAT_PYTHON")
    if not python:
        return None
    done = subprocess.run([python, "-c", "import habitat_sim"], capture_output=True)
    return python if done.returncode == 0 else None


@pytest.mark.skipif(_habitat_python() is None, reason="needs habitat-sim: SYNTH_HABITAT_PYTHON=<conda env python>")
def test_habitat_sim_renders_an_exported_scene_like_blender(blender):
    """Runs only where conda's habitat-sim is installed (README: Habitat)."""
    scene = scene_source("procedural", assets="primitives")(3)
    ep, native = shoot(blender, scene, VIDEO, RULE, np.random.default_rng(3), dynamic=False)
    renderer = open_renderer(renderer_settings("habitat"))
    try:
        got = renderer.open(scene, VIDEO).render(ep.frames)
    finally:
        renderer.close()
    both = np.isfinite(native.depth) & np.isfinite(got.depth)
    assert np.median(np.abs(native.depth[both] - got.depth[both])) <= 1e-3
    for obj in scene.objects:
        a, b = native.instance == obj.id, got.instance == obj.id
        if (a | b).sum() >= 50:
            assert (a & b).sum() / (a | b).sum() >= 0.95, obj.category
