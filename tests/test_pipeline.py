"""End to end: run -> shards -> datasets.load_dataset; determinism, resume, overwrite rules."""

from __future__ import annotations

import json

import datasets
import numpy as np
import pytest

from synth.audit import audit_dataset
from synth.core.scene import Episode
from synth.evaluation.verify import verify_dataset
from synth.flows.run import run
from synth.programs.family import QA
from synth.programs.generate import recompute
from synth.programs.sandbox import SandboxPool
from synth.storage.dataset import DatasetError, read_tar
from synth.storage.media import decode_gt, decode_mp4
from tests.conftest import tiny_config


def _samples(root):
    return {s.key: s for shard in sorted(root.glob("train-*.tar")) for s in read_tar(shard)}


def test_load_dataset_reads_every_sample(tiny_dataset):
    from synth.flows.version import code_version

    root, manifest = tiny_dataset
    assert manifest["num_samples"] == 3 and len(manifest["shards"]) == 2
    assert manifest["code_versions"] == [code_version()]
    ds = datasets.load_dataset(str(root), split="train")
    assert len(ds) == 3
    assert sorted(ds["__key__"]) == [k for s in manifest["shards"] for k in s["keys"]]
    for row in ds:
        video = row["mp4"]
        assert len(video) == 6
        assert (video.metadata.width, video.metadata.height) == (160, 120)
        frame = video[0].data.numpy()
        assert frame.shape == (3, 120, 160) and frame.std() > 5
        meta = row["json"]
        assert meta["episode"]["video"]["width"] == 160 and len(meta["episode"]["frames"]) == 6
        assert meta["code_version"] == code_version() and meta["variant"] == "clean"
        gt = row["gt.npz"]
        assert np.asarray(gt["instance"]).shape == (6, 120, 160)
    assert sum(len(r["json"]["questions"]) for r in ds) == manifest["num_questions"] > 0


def test_shipped_answers_recompute_from_shipped_json(tiny_dataset):
    root, _ = tiny_dataset
    n = 0
    for sample in _samples(root).values():
        meta = json.loads(sample.files["json"])
        episode = Episode.model_validate_json(json.dumps(meta["episode"]))
        items = [QA.model_validate(q) for q in meta["questions"]]
        with SandboxPool(1) as pool:
            assert recompute(episode, items, pool) == []
            # a tampered answer is caught
            real = [q for q in items if not q.abstain]
            bad = real[0].model_copy(update={"answer": "99.99", "value": 99.99})
            assert recompute(episode, [bad], pool)
        n += len(items)
    assert n > 0
    checked, problems = verify_dataset(root)
    assert checked == n and problems == []


def test_ground_truth_passes_ship_with_each_sample(tiny_dataset):
    root, _ = tiny_dataset
    for sample in _samples(root).values():
        meta = json.loads(sample.files["json"])
        depth, inst = decode_gt(sample.files["gt.npz"])
        assert depth.shape == inst.shape == (6, 120, 160)
        assert np.isfinite(depth).all() and depth.min() > 0.05
        for vis in meta["episode"]["visibility"]:
            assert vis["pixels"] == (inst == vis["id"]).sum(axis=(1, 2)).tolist()
        # questions only name objects visible in enough frames of the video (abstentions: never)
        for q in meta["questions"]:
            objects = [v for k, v in q["slots"].items() if k in ("a", "b", "c")]
            if q["abstain"]:
                assert any((inst == oid).sum() == 0 for oid in objects)
                continue
            for oid in objects:
                frames = (inst == oid).sum(axis=(1, 2)) >= meta["config"]["visibility"]["min_pixels"]
                assert frames.sum() >= meta["config"]["visibility"]["min_frames"]
                assert all(frames[f] for f in q["evidence_frames"])
        rgb = decode_mp4(sample.files["mp4"])
        assert rgb.shape == (6, 120, 160, 3)


def test_same_seed_same_data(tiny_dataset, tmp_path):
    root, _ = tiny_dataset
    run(tiny_config(episodes=2), tmp_path / "again")
    first, again = _samples(root), _samples(tmp_path / "again")
    for key, sample in again.items():
        assert sample.files["json"] == first[key].files["json"]
    other = _samples(tmp_path / "again")  # a different seed gives different scenes
    run(tiny_config(episodes=1, seed=6), tmp_path / "other")
    assert _samples(tmp_path / "other")["ep0000000"].files["json"] != other["ep0000000"].files["json"]


def test_interrupted_run_resumes_without_duplicates(tiny_dataset, tmp_path):
    root, _ = tiny_dataset
    out = tmp_path / "resume"
    seen = []

    def crash_after_first(board):
        seen.append(board.episodes_done)
        if board.episodes_done >= 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tiny_config(), out, progress=crash_after_first)
    assert not (out / "manifest.json").exists()
    starts = []
    manifest = run(tiny_config(), out, progress=lambda board: starts.append(board.episodes_done))
    assert starts[0] >= 1, "the rerun should start from the staged samples"
    keys = [k for s in manifest["shards"] for k in s["keys"]]
    assert len(keys) == len(set(keys)) == 3
    fresh = _samples(root)
    for key, sample in _samples(out).items():
        assert sample.files["json"] == fresh[key].files["json"]
    assert not (out / ".staging").exists()


def test_finished_output_is_never_silently_overwritten(tiny_dataset, tmp_path):
    root, _ = tiny_dataset
    before = (root / "manifest.json").read_bytes()
    with pytest.raises(DatasetError, match="finished"):
        run(tiny_config(), root)
    assert (root / "manifest.json").read_bytes() == before
    out = tmp_path / "ow"
    run(tiny_config(episodes=1), out)
    manifest = run(tiny_config(episodes=1, seed=9), out, overwrite=True)
    assert manifest["config"]["seed"] == 9


def test_unfinished_run_with_other_options_is_refused(tmp_path):
    out = tmp_path / "u"

    def stop(board):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tiny_config(episodes=1), out, progress=stop)
    with pytest.raises(DatasetError, match="different options"):
        run(tiny_config(episodes=1, frames=4), out)


def test_the_flow_takes_run_fields_by_name_on_top_of_its_config():
    """What `prefect deployment run synth/sat-dynamic --param episodes=100 --param degradations=fog:3`
    gives the flow: its parameters list every RunConfig field (the form), and a named field replaces
    the config's value, validated by RunConfig (tests/test_prefect.py runs it on a server)."""
    from pydantic import ValidationError

    from synth.flows.config import COMPUTED, RunConfig
    from synth.flows.flow import run_config, synth

    fields = set(RunConfig.model_fields) - set(COMPUTED)  # computed ones (the adaptation) are no parameter
    assert {"config", "out", "ray_address", *fields} <= set(synth.parameters.properties)
    assert not set(COMPUTED) & set(synth.parameters.properties)
    deployment = {"preset": "sat-dynamic", "episodes": 8}
    cfg = run_config(deployment, {"episodes": 100, "degradations": "fog:3", "seed": None})
    assert cfg == RunConfig(preset="sat-dynamic", episodes=100, degradations="fog:3")
    assert run_config(deployment, {"preset": "static"}) == RunConfig(preset="static", episodes=8)
    given = tiny_config()
    assert run_config(given, {"seed": None}) is given
    assert run_config(given, {"episodes": 7}) == tiny_config(episodes=7)
    with pytest.raises(ValidationError, match="smog"):
        run_config(deployment, {"degradations": "smog:2"})


def test_sat_dynamic_preset_covers_every_family(tmp_path):
    from synth.programs.library import FAMILIES

    cfg = tiny_config(episodes=16, frames=8, preset="sat-dynamic")
    manifest = run(cfg, tmp_path / "sat")
    families = set()
    moved = 0
    for sample in _samples(tmp_path / "sat").values():
        meta = json.loads(sample.files["json"])
        families |= {q["family"] for q in meta["questions"]}
        moved += bool(meta["episode"]["motions"])
        assert len(meta["episode"]["actions"]) == 7 and meta["episode"]["targets"]
    # the floor area needs every wall in view, which these short paths never show; a 1 s clip of one
    # room shows no four categories first seen a second apart, and no whole room to count or measure
    # (VSI-Bench's counting of a whole space mostly finds 1-2 of a kind here, which debiasing may prune)
    # which room an object is in, and its size, need a house (only their abstention items show here)
    surveys = {"room_floor_area", "room_size_estimation", "rooms_visited", "obj_appearance_order"}
    missing = set(FAMILIES) - families
    assert surveys <= missing <= surveys | {"object_counting", "object_room", "object_room_size"}, missing
    assert moved >= 8
    card = (tmp_path / "sat" / "README.md").read_text()
    assert "answer balance" in card and all(f"| {f} |" in card for f in FAMILIES)
    drops = card.partition("## Evidence: candidates dropped per family")[2].partition("##")[0]
    rows = {
        r.split("|")[1].strip(): r.split("|")[2:-1] for r in drops.splitlines() if r.startswith("| ") and "---" not in r
    }
    assert set(FAMILIES) <= set(rows)
    candidates, dropped = int(rows["room_floor_area"][0]), int(rows["room_floor_area"][1])
    assert candidates == dropped > 0 and rows["room_floor_area"][2].strip() == "100%"
    assert verify_dataset(tmp_path / "sat") == (manifest["num_questions"], [])
    assert all(f.agrees for f in audit_dataset(tmp_path / "sat"))


def test_same_folder_name_never_serves_another_datasets_cache(tmp_path):
    first, second = tmp_path / "a" / "ds", tmp_path / "b" / "ds"
    run(tiny_config(episodes=1, frames=2), first)
    run(tiny_config(episodes=1, frames=2, seed=77), second)
    a = datasets.load_dataset(str(first), split="train")[0]["json"]["seed"]
    b = datasets.load_dataset(str(second), split="train")[0]["json"]["seed"]
    assert a != b


def test_degradation_variants_ship_the_same_questions(tmp_path):
    out = tmp_path / "deg"
    manifest = run(tiny_config(episodes=1, frames=4, degradations="fog:5,lens_distortion:4"), out)
    samples = _samples(out)
    assert sorted(samples) == ["ep0000000", "ep0000000-fog-5", "ep0000000-lens_distortion-4"]
    metas = {k: json.loads(s.files["json"]) for k, s in samples.items()}
    clean = metas["ep0000000"]
    assert clean["variant"] == "clean" and clean["degradation"] is None
    for key in ("ep0000000-fog-5", "ep0000000-lens_distortion-4"):
        meta = metas[key]
        assert meta["degradation"]["type"] in key and meta["degradation"]["severity"] in (4, 5)
        assert [q["question"] for q in meta["questions"]] == [q["question"] for q in clean["questions"]]
        assert decode_mp4(samples[key].files["mp4"]).shape == (4, 120, 160, 3)
    lens = metas["ep0000000-lens_distortion-4"]["episode"]["frames"][0]["camera"]
    assert lens["distortion"] is not None and lens["K"] != clean["episode"]["frames"][0]["camera"]["K"]
    fogged = sum(q["abstain"] for q in metas["ep0000000-fog-5"]["questions"])
    assert fogged >= sum(q["abstain"] for q in clean["questions"])
    assert verify_dataset(out) == (manifest["num_questions"], [])
    assert "| fog-5 | 1 |" in (out / "README.md").read_text()
