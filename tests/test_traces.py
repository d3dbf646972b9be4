"""Issue #33, item 1: a reasoning trace for every answered item, recorded from what its program
read (calls, frames, objects, values, the margin applied), shipped as steps and text, exported in
a ``<think>`` block, and checked by ``synth verify --traces``, which rejects any edited step."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from synth.backends.registry import open_renderer, renderer_settings, scene_source
from synth.cli.main import main
from synth.core.evidence import with_evidence
from synth.core.records import SampleMeta, TraceStep
from synth.core.scene import VideoSpec, VisibilityRule
from synth.planning.shoot import shoot
from synth.programs.generate import generate_questions, retrace
from synth.programs.library import FAMILIES
from synth.programs.sandbox import SandboxPool
from synth.storage.dataset import iter_samples
from tests.test_exports import _validator


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """Four SAT-dynamic episodes with a fog variant: (dataset folder, its samples)."""
    out = tmp_path_factory.mktemp("traced") / "ds"
    args = ["run", "--preset", "sat-dynamic", "--episodes", "4", "--seed", "2", "--assets", "primitives"]
    args += ["--quality", "draft", "--frames", "8", "--width", "160", "--height", "120", "--plan-candidates", "2"]
    assert main([*args, "--no-debias", "--degradations", "fog:2", "--out", str(out)]) == 0
    return out, [SampleMeta.model_validate_json(s.files["json"]) for s in iter_samples(out)]


def test_every_answered_item_has_its_trace(traced):
    _, metas = traced
    answered = [(m, q) for m in metas for q in m.questions if not q.abstain]
    assert {m.variant for m, _ in answered} == {"clean", "fog-2"}
    for meta, q in answered:
        assert q.trace and q.reasoning and q.reasoning.endswith(f"So the answer is: {q.answer}."), (meta.key, q.id)
    assert all(q.trace is None for m in metas for q in m.questions if q.abstain)
    depth = next(q for m, q in answered if q.family == "relative_depth")
    frame = int(depth.slots["frame"])
    assert f"in frame {frame + 1}, the" in depth.reasoning.lower(), "a step cites the frame as the question names it"
    assert any(s.call == "margin" for s in depth.trace), "and the margin the family applies"


def test_verify_traces_passes_and_edits_are_caught(traced, capsys):
    root, metas = traced
    assert main(["verify", str(root), "--traces"]) == 0
    assert "0 problem(s)" in capsys.readouterr().out
    rng = random.Random(0)
    clean = [m for m in metas if m.variant == "clean"]
    with SandboxPool(workers=1) as pool:
        for _ in range(100):
            meta = rng.choice(clean)
            q = rng.choice([q for q in meta.questions if not q.abstain and q.trace])
            k = rng.randrange(len(q.trace))
            edited = [*q.trace[:k], _edit(q.trace[k], rng), *q.trace[k + 1 :]]
            problems = retrace(meta.episode, [q.model_copy(update={"trace": edited})], pool, FAMILIES)
            assert problems, (q.id, q.trace[k], edited[k])


def _edit(step: TraceStep, rng: random.Random) -> TraceStep:
    """One single edit: a number of the value, an argument (a frame or an object), or a comparison."""
    args, value = json.loads(step.args), json.loads(step.value)
    if isinstance(value, bool):
        return step.model_copy(update={"value": json.dumps(not value)})
    if args and rng.random() < 0.5:
        k = rng.randrange(len(args))
        args[k] = args[k] + 1 if isinstance(args[k], (int, float)) else f"{args[k]}x"
        return step.model_copy(update={"args": json.dumps(args)})
    text = step.value
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if not digits:
        return step.model_copy(update={"value": json.dumps(text + "x") if text != "null" else "0"})
    i = rng.choice(digits)
    return step.model_copy(update={"value": text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1 :]})


def test_exports_carry_the_trace_in_a_think_block(traced, tmp_path):
    root, _ = traced
    out = tmp_path / "llava"
    assert main(["export", str(root), "--format", "llava-video", "--out", str(out), "--with-traces"]) == 0
    records = json.loads((out / "llava_video.json").read_text())
    validator = _validator("llava-video")
    for r in records:
        validator.validate(r)
    replies = [t["value"] for r in records for t in r["conversations"] if t["from"] == "gpt"]
    assert sum(r.startswith("<think>\n") and "\n</think>\n" in r for r in replies) > 0.8 * len(replies)


@pytest.mark.slow
def test_house_families_have_traces_too(traced):
    """A three-room house toured by the z-buffer renderer: the room and route families' items are
    traced and their traces verify; with the SAT run, every library family that asked has traces."""
    renderer = open_renderer(renderer_settings("zbuffer"))
    scene = scene_source("procedural", assets="primitives", layout="house", rooms=3)(3)
    tour = VideoSpec(frames=90, width=160, height=120, fps=2.0)
    rule = VisibilityRule(min_pixels=20)
    episode, buffers = shoot(renderer, scene, tour, rule, np.random.default_rng(0), dynamic=False, trajectory="tour")
    renderer.close()
    episode = with_evidence(episode, buffers.depth, buffers.instance)
    with SandboxPool(workers=1) as pool:
        items = generate_questions(episode, np.random.default_rng(0), pool)
        assert retrace(episode, items, pool, FAMILIES) == []
    answered = [q for q in items if not q.abstain]
    assert all(q.trace for q in answered)
    asked = {q.family for q in answered} | {q.family for m in traced[1] for q in m.questions if q.trace}
    assert {"rooms_visited", "route_planning", "object_counting"} <= asked
    assert len(asked) >= 30, sorted(set(FAMILIES) - asked)


def test_a_recording_reads_the_frames_even_where_the_api_knows_the_answer():
    """``SceneAPI.seen`` keeps its answers; a recording copy made after the API answered (the
    sandbox records traces on the API that generated the questions) keeps its own, so its trace
    still lists the frames' visibility behind ``seen``, as a fresh API's does."""
    from synth.programs.scene_api import SceneAPI
    from synth.programs.trace import record, steps_of

    renderer = open_renderer(renderer_settings("zbuffer"))
    scene = scene_source("procedural", assets="primitives")(5)
    video = VideoSpec(frames=8, width=160, height=120, fps=4.0)
    episode, _ = shoot(renderer, scene, video, VisibilityRule(min_pixels=20), np.random.default_rng(1), dynamic=False)
    renderer.close()
    used = SceneAPI(episode)
    ids = used.object_ids()
    answers = [used.seen(i) for i in ids]
    traces = []
    for api in (SceneAPI(episode), used):
        rec = record(api)
        assert [rec.seen(i) for i in ids] == answers
        traces.append(steps_of(rec))
    assert traces[0] == traces[1]
    assert sum(s["call"] == "is_visible" for s in traces[1]) == len(ids) * video.frames
