"""Streaming questions (``QA.query_frame``): a tiny run whose counting and first-appearance families
are marked streaming (the library's, as compiled families with ``streaming: true`` in their YAML) asks
each of their questions again at several moments, answered from the video up to each; the
auditor agrees on every prefix item, no evidence frame comes after the query, counts never fall,
and ``synth eval --streaming`` never sends a frame past the query (the stand-in vision server
logs what it receives)."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

from synth.audit import audit_dataset
from synth.cli.main import main
from synth.evaluation.endpoint import frame_url, shown
from synth.evaluation.items import iter_metas, read_items
from synth.evaluation.prompt import prompt
from synth.flows.config import RunConfig
from synth.flows.run import run
from synth.programs.family_io import load_families, write_family
from synth.programs.generate import query_frames
from synth.programs.library import FAMILIES
from synth.programs.scene_api import SceneAPI, prefix_episode
from synth.storage.media import decode_mp4
from tests.conftest import tiny_config
from tests.standin_vision import StandInVisionServer

STREAMED = ("object_count", "first_appearance")
FRAMES = 12


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    """A tiny run (12 frames) with streaming copies of two library families, and their folder."""
    root = tmp_path_factory.mktemp("streaming")
    for fid in STREAMED:  # the same id and program: the run asks it instead of the library's (the auditor knows it)
        write_family(root / "families", FAMILIES[fid].model_copy(update={"streaming": True}), seal=True)
    assert all(f.streaming for f in load_families(root / "families").values())  # read back from the YAML
    run(tiny_config(episodes=3, frames=FRAMES, families=str(root / "families")), root / "ds")
    return root / "ds"


def _tours(items) -> dict[str, list]:
    """Per streaming question (its whole-video item's id), its items in query-frame order, whole video last."""
    out = defaultdict(list)
    for i in items:
        out[i.id.split("@")[0]].append(i)
    return {
        k: sorted(v, key=lambda i: (i.qa.query_frame is None, i.qa.query_frame or 0))
        for k, v in out.items()
        if len(v) > 1
    }


def test_streaming_items_answer_from_the_prefix_only(streamed):
    items = read_items(streamed, {"clean"})
    prefix = [i for i in items if i.qa.query_frame is not None]
    assert {i.qa.family for i in prefix} <= set(STREAMED) and len(prefix) >= 4
    assert not any(i.qa.query_frame is not None for i in items if i.qa.family not in STREAMED)
    assert {i.qa.query_frame for i in prefix} <= set(query_frames(FRAMES)) == {2, 5, 8}
    for i in prefix:  # no evidence after the query; the same question and options as the whole video's
        assert all(f <= i.qa.query_frame for f in i.qa.evidence_frames), i.id
    tours = _tours(items)
    assert tours and any(t[0].qa.family == "object_count" for t in tours.values())
    assert any(i.qa.evidence_frames for i in prefix)
    for tour in tours.values():
        whole = tour[-1]
        assert whole.qa.query_frame is None and all(i.qa.question == whole.qa.question for i in tour)
        assert all(i.qa.choices == whole.qa.choices for i in tour)
        if whole.qa.family == "object_count":  # counts never decrease over a tour's query frames
            counts = [i.qa.value for i in tour]
            assert counts == sorted(counts), (whole.id, counts)
    # a prefix shows what the frames up to it show: the seen objects grow with the query frame
    _, meta = next(iter_metas(streamed, {"clean"}))
    seen = [
        {
            o
            for o in SceneAPI(prefix_episode(meta.episode, q)).object_ids()
            if SceneAPI(prefix_episode(meta.episode, q)).seen(o)
        }
        for q in range(FRAMES)
    ]
    assert all(a <= b for a, b in zip(seen, seen[1:])) and seen[0] != seen[-1]


def test_the_auditor_agrees_on_the_prefix_items(streamed):
    findings = audit_dataset(streamed)
    prefix = [f for f in findings if "@" in f.item]
    assert len(prefix) >= 4
    assert all(f.agrees for f in prefix), [f.line() for f in prefix if not f.agrees]


def test_eval_streaming_never_sends_a_frame_past_the_query(streamed, tmp_path, capsys):
    items = read_items(streamed, {"clean"})
    table = {prompt(shown(i, FRAMES, 4)[1].qa): i.qa.answer for i in items}
    base = ["eval", str(streamed), "--variants", "clean", "--model", "standin-vision", "--frames", "4"]
    with StandInVisionServer(table) as server:
        preds = tmp_path / "p.jsonl"
        assert main([*base, "--base-url", server.base_url, "--predictions", str(preds), "--streaming"]) == 0
        requests = list(server.requests)
    assert len(requests) == len(items)
    # which frames each request holds: each sent image is one of the video's frames as synth sends it
    urls = {}
    for sample, meta in iter_metas(streamed, {"clean"}):
        for k, frame in enumerate(decode_mp4(sample.files["mp4"])):
            urls.setdefault(frame_url(frame, 448), set()).add((meta.key, k))
    sent = defaultdict(list)  # question prompt -> the last frame of each request with it
    for body in requests:
        parts = body["messages"][-1]["content"]
        frames = [urls[p["image_url"]["url"]] for p in parts if p["type"] == "image_url"]
        assert all(len(f) == 1 for f in frames)  # every image is one frame of one video
        sent[parts[-1]["text"]].append(max(k for f in frames for _, k in f))
    expected = defaultdict(list)
    for i in items:
        indices, asked = shown(i, FRAMES, 4)
        if i.qa.query_frame is not None:  # a streaming question: its frames up to its query, the query last
            assert indices == sorted(set(indices)) and max(indices) == i.qa.query_frame
        expected[prompt(asked.qa)].append(max(indices))
    # each question was sent up to its query frame (the last frame sent), never past it
    assert {q: sorted(v) for q, v in sent.items()} == {q: sorted(v) for q, v in expected.items()}
    scored = json.loads(preds.with_name("p.report.json").read_text())
    assert scored["items"] == len(items) and scored["missing"] == 0
    # without --streaming the streaming questions are neither asked nor scored
    assert main([*base, "--predictions", str(preds)]) == 0
    whole = json.loads(preds.with_name("p.report.json").read_text())
    assert whole["items"] == sum(1 for i in items if i.qa.query_frame is None) < len(items)
    capsys.readouterr()


def test_prefix_of_the_last_frame_is_the_episode_and_outside_is_refused(streamed):
    _, meta = next(iter_metas(streamed, {"clean"}))
    assert prefix_episode(meta.episode, FRAMES - 1) is meta.episode
    cut = prefix_episode(meta.episode, 3)
    assert len(cut.frames) == cut.video.frames == 4 and all(len(o.box) == 4 for o in cut.evidence.objects)
    assert all(o.extent is None for o in cut.evidence.objects)  # over the whole video only: withheld
    assert np.all([len(v.pixels) == 4 for v in cut.visibility])
    with pytest.raises(ValueError, match="outside the video"):
        prefix_episode(meta.episode, FRAMES)


def test_exports_write_prefix_records(streamed, tmp_path):
    """Training exports put each streaming item into a prefix record whose media end at its query
    frame (a video cut there, or frames up to it), never a frame past it; VSI-Bench documents show
    the whole video, so the VSI-Bench export leaves them out, counted."""
    prefix = [i for i in read_items(streamed, {"clean"}) if i.qa.query_frame is not None]
    assert main(["export", str(streamed), "--format", "llava-video", "--out", str(tmp_path / "llava")]) == 0
    report = json.loads((tmp_path / "llava" / "export.json").read_text())
    records = json.loads((tmp_path / "llava" / report["records_file"]).read_text())
    cut = [r for r in records if "@" in r["id"].split("/")[0]]
    assert cut and len(cut) == report["prefix_records"]
    dropped = sum(n for d in report["dropped"]["per_family"].values() for n in d.values())
    assert len(cut) + dropped >= len(prefix)  # every streaming item written or dropped with its reason
    for r in cut:
        key, moment = r["id"].split("/")[0].split("@")
        assert r["id"].split("/")[1].endswith(f"@{int(moment)}")  # the item asked at that frame
        video = decode_mp4((tmp_path / "llava" / r["video"]).read_bytes())
        assert len(video) == int(moment) + 1 and key in {i.key for i in prefix}
    assert main(["export", str(streamed), "--format", "qwen-vl", "--frames", "4", "--out", str(tmp_path / "q")]) == 0
    records = json.loads((tmp_path / "q" / "qwen_vl.json").read_text())
    cut = [r for r in records if "@" in r["id"].split("/")[0]]
    assert cut
    for r in cut:  # frames/{key}/{index}.jpg, every index up to the query frame
        moment = int(r["id"].split("/")[0].split("@")[1])
        assert r["image"] and all(int(m.rsplit("/", 1)[1].split(".")[0]) <= moment for m in r["image"])
    assert main(["export", str(streamed), "--format", "vsibench", "--out", str(tmp_path / "vsi")]) == 0
    left = json.loads((tmp_path / "vsi" / "export.json").read_text())["left_out"]
    assert sum(c.get("asked mid-video (streaming): VSI-Bench documents show the whole video", 0) for c in left.values())


def test_a_run_names_library_families_to_ask_mid_video(tmp_path):
    """``--streaming`` marks library families streaming for a run (the vsi-tour preset: VSI-Bench's
    counting and appearance order), with no YAML of their own; an id that is no family is refused."""
    run(tiny_config(episodes=3, frames=FRAMES, streaming="object_count"), tmp_path / "ds")
    prefix = [i for i in read_items(tmp_path / "ds", {"clean"}) if i.qa.query_frame is not None]
    assert prefix and {i.qa.family for i in prefix} == {"object_count"}
    assert RunConfig(preset="vsi-tour").streaming == "object_counting,obj_appearance_order"
    with pytest.raises(ValueError, match="no_such_family: not a library family"):
        tiny_config(streaming="no_such_family")
