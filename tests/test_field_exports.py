"""synth export against the trainers' own code (``tests/field``): qwen-vl-utils shows exactly the
frames a qwen-vl record states, LLaMA-Factory converts every ShareGPT record and samples the
stated frames, every kept item's evidence is among the shown frames, questions about one frame
name it as the model sees it, frame rates below 1 fps get an explicit frame list, and the token
budget holds by the model's own patching."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from synth.evaluation.items import iter_metas
from synth.exports.export import Budget, export_dataset
from synth.exports.sampling import choose
from synth.exports.tokens import QWEN_PIXELS, media_tokens
from synth.flows.run import run
from synth.storage.media import decode_mp4
from tests.conftest import tiny_config
from tests.field import run_oracle


def _shrunk(frame: np.ndarray) -> np.ndarray:
    """The oracle's 16x12 grey thumbnail of an (H, W, 3) frame."""
    return np.asarray(Image.fromarray(frame).convert("L").resize((16, 12), Image.BILINEAR), float)


def _dataset(tiny_dataset) -> tuple[dict, dict]:
    """Per sample key: its metadata and its decoded video."""
    root, _ = tiny_dataset
    metas, videos = {}, {}
    for sample, meta in iter_metas(root):
        metas[meta.key], videos[meta.key] = meta, decode_mp4(sample.files["mp4"])
    return metas, videos


def _item(metas: dict, record_id: str):
    key, qid = record_id.split("/")
    return next(q for q in metas[key].questions if q.id == qid)


@pytest.mark.parametrize("options", [{}, {"frames": 4}, {"fps": 3.0}], ids=["video", "frames-4", "fps-3"])
def test_qwen_vl_utils_shows_the_frames_the_export_states(tiny_dataset, tmp_path, options):
    root, _ = tiny_dataset
    out = tmp_path / "qwen"
    export_dataset(root, "qwen-vl", out, **options)
    records = json.loads((out / "qwen_vl.json").read_text())
    metas, videos = _dataset(tiny_dataset)
    one_per_media = list({json.dumps(r.get("video") or r["image"]): r for r in records}.values())
    shown = {r["id"]: r for r in run_oracle("qwen_frames.py", {"out": str(out), "records": one_per_media})["records"]}
    by_media = {json.dumps(r.get("video") or r["image"]): shown[r["id"]] for r in one_per_media}
    for rec in records:
        got = by_media[json.dumps(rec.get("video") or rec["image"])]
        key = rec["id"].split("/")[0]
        meta, video = metas[key], videos[key]
        if "video" in rec:
            claimed = list(choose("qwen-vl", meta.episode.video.frames, meta.episode.video.fps, **options).indices)
            assert got["indices"] == claimed
            t, (_, h, w) = len(got["shapes"]), got["shapes"][0]
            assert media_tokens("qwen2-vl", True, t, meta.episode.video.height, meta.episode.video.width) == (
                t // 2 * h * w // QWEN_PIXELS
            )
        else:
            claimed = [int(re.search(r"(\d+)\.jpg$", p).group(1)) for p in rec["image"]]
            assert claimed == list(choose("qwen-vl", len(video), meta.episode.video.fps, **options).indices)
            tokens = sum(h * w // QWEN_PIXELS for _, h, w in got["shapes"])
            assert media_tokens("qwen2-vl", False, len(claimed), *video.shape[1:3]) == tokens
        # the frames it yields are those frames of the delivered video
        for thumb, k in zip(got["frames"], claimed):
            assert np.abs(np.asarray(thumb) - _shrunk(video[k])).mean() < 4.0, (rec["id"], k)
        # every kept item can be answered from them
        qa = _item(metas, rec["id"])
        if "frame" in qa.slots:
            assert int(qa.slots["frame"]) in claimed
        if qa.evidence_frames and not qa.abstain:
            assert set(qa.evidence_frames) & set(claimed), rec["id"]


def test_questions_about_one_frame_name_it_as_the_model_sees_it(tiny_dataset, tmp_path):
    root, _ = tiny_dataset
    metas, _ = _dataset(tiny_dataset)
    asked = [(k, q) for k, m in metas.items() for q in m.questions if "frame" in q.slots]
    assert asked, "the tiny dataset has questions about one frame"
    for options, fmt in (({"frames": 4}, "llava-video"), ({}, "llava-video")):
        out = tmp_path / f"x{len(options)}"
        summary = export_dataset(root, fmt, out, **options).summary
        records = {r["id"]: r for r in json.loads((out / "llava_video.json").read_text())}
        for key, qa in asked:
            rec = records.get(f"{key}/{qa.id}")
            sampling = choose(fmt, metas[key].episode.video.frames, metas[key].episode.video.fps, **options)
            frame = int(qa.slots["frame"])
            if frame not in sampling.indices:
                assert rec is None  # dropped, and counted
                assert summary["dropped"]["per_family"][qa.family]["its frame is not shown"] >= 1
                continue
            text = rec["conversations"][0]["value"]
            if options:  # "frame N" is the N-th image the record shows
                assert f"frame {sampling.indices.index(frame) + 1}" in text
                assert int(re.search(r"(\d+)\.jpg$", rec["image"][sampling.indices.index(frame)]).group(1)) == frame
            else:  # in the video: the frame's time
                assert f"the frame at {frame / metas[key].episode.video.fps:.2f} s" in text


@pytest.mark.parametrize("options", [{}, {"frames": 4}], ids=["video", "frames-4"])
def test_llamafactory_converts_every_sharegpt_record_and_samples_the_stated_frames(tiny_dataset, tmp_path, options):
    root, _ = tiny_dataset
    out = tmp_path / "sharegpt"
    summary = export_dataset(root, "sharegpt", out, **options).summary
    trainer = summary["sampling"]["trainer"]
    assert bool(trainer) == (not options)
    got = run_oracle("llamafactory_convert.py", {"out": str(out), **trainer})
    rows = got["records"]
    assert len(rows) == summary["records"]
    for row in rows:
        assert not row["empty"] and row["exist"]
        assert row["placeholders"] == row["media"] >= 1
        assert row["kind"] == ("images" if options else "video")
    metas, _ = _dataset(tiny_dataset)
    for rel, indices in got["indices"].items():
        meta = metas[rel.split("/")[-1].removesuffix(".mp4")]
        assert indices == list(choose("sharegpt", meta.episode.video.frames, meta.episode.video.fps).indices)


def test_below_one_frame_per_second_the_export_lists_the_frames(tmp_path):
    root = tmp_path / "slow"
    run(tiny_config(episodes=1, fps=0.5), root)
    out = tmp_path / "llava"
    summary = export_dataset(root, "llava-video", out).summary
    assert summary["sampling"]["trainer"] == {}  # no round(fps / video_fps) step that could be 0
    records = json.loads((out / "llava_video.json").read_text())
    assert records and all("image" in r and len(r["image"]) == 6 for r in records)
    assert all(r["conversations"][0]["value"].count("<image>") == 6 for r in records)


def test_a_token_budget_lowers_frames_and_splits_records(tiny_dataset, tmp_path):
    root, _ = tiny_dataset
    full = export_dataset(root, "qwen-vl", tmp_path / "full", per_sample=True, frames=6, budget=Budget(100_000))
    largest = full.summary["budget"]["tokens_per_record_max"]
    budget = 260  # a little above six 160x120 images (6 x 24 tokens) and one question
    assert largest > budget
    fitted = export_dataset(root, "qwen-vl", tmp_path / "fit", per_sample=True, frames=6, budget=Budget(budget))
    said = fitted.summary["budget"]
    assert said["tokens_per_record_max"] <= budget
    assert said["records_split_off"] > 0
    assert fitted.records > full.records
    tight = export_dataset(root, "qwen-vl", tmp_path / "tight", per_sample=True, frames=6, budget=Budget(150))
    assert tight.summary["budget"]["samples_with_fewer_frames"] > 0
    records = json.loads((tmp_path / "tight" / "qwen_vl.json").read_text())
    assert max(len(r["image"]) for r in records) < 6
