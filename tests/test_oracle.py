"""The online oracle for self-play (issue #32, item 4): a proposed question about an episode of a
finished dataset is answered and checked against the video, or refused with the reason (not
visible, ambiguous, the family's own margin, disagreeing with the auditor); as ``synth.Oracle``
and ``synth oracle``."""

from __future__ import annotations

import json

import pytest

import synth
from synth.audit import AUDITORS
from synth.cli.main import main
from synth.core.records import SampleMeta
from synth.programs.library import FAMILIES
from synth.storage.dataset import iter_samples


@pytest.fixture(scope="module")
def shipped(tiny_dataset):
    """The clean samples of the tiny dataset."""
    metas = [SampleMeta.model_validate_json(s.files["json"]) for s in iter_samples(tiny_dataset[0])]
    return [m for m in metas if m.variant == "clean"]


@pytest.fixture(scope="module")
def oracle(tiny_dataset):
    with synth.Oracle(tiny_dataset[0]) as o:
        yield o


def test_shipped_questions_get_their_shipped_answers(oracle, shipped):
    """Put again, every answered question of the dataset gets the answer the dataset ships, and the
    auditor's reading where it has one."""
    asked = [(m, q) for m in shipped for q in m.questions if not q.abstain and q.query_frame is None]
    assert len(asked) > 20
    for meta, q in asked:
        verdict = oracle.ask(meta.key, q.family, q.slots)
        assert verdict.valid, (meta.key, q.id, verdict.reason)
        assert verdict.answer == q.answer and verdict.evidence_frames == q.evidence_frames
        assert (verdict.audited is not None) == (q.family in AUDITORS)


def test_questions_about_what_the_video_does_not_show_are_refused(oracle, shipped):
    meta = shipped[0]
    seen = {
        v.id
        for v in meta.episode.visibility
        if sum(p >= meta.episode.visibility_rule.min_pixels for p in v.pixels)
        >= meta.episode.visibility_rule.min_frames
    }
    unseen = [o.id for o in meta.episode.scene.objects if o.id not in seen]
    assert unseen and seen
    verdict = oracle.ask(meta.key, "taller_than", {"a": unseen[0], "b": next(iter(seen))})
    assert not verdict.valid and verdict.reason.startswith("not visible: ")


def test_dropped_candidates_are_refused_with_their_programs_reasons(oracle, shipped):
    """Every pair of seen objects put to three families: where the family's program, run as the
    generator runs it, drops the candidate, the oracle refuses it with the program's reason
    ("within the margin", ...); where it answers, so does the oracle."""
    from synth.programs.sandbox import SandboxPool, Task

    reasons = set()
    with SandboxPool(workers=1) as pool:
        for meta in shipped:
            seen = sorted({s for q in meta.questions if not q.abstain for k, s in q.slots.items() if k in "ab"})
            for family in ("taller_than", "relative_vertical", "metric_distance"):
                pairs = [{"a": a, "b": b} for a in seen for b in seen if a != b]
                tasks = [Task(FAMILIES[family].source, slots) for slots in pairs]
                for slots, out in zip(pairs, pool.run(meta.episode.model_dump_json(), tasks), strict=True):
                    verdict = oracle.ask(meta.key, family, slots)
                    if verdict.reason.startswith("ambiguous"):
                        continue
                    if out.value is None:
                        assert not verdict.valid and verdict.reason == out.why, (family, slots)
                        reasons.add(out.why)
                    else:
                        assert verdict.valid or verdict.reason.startswith("disagrees"), (family, slots, verdict)
    assert reasons


def test_a_questioners_program_that_contradicts_the_video_is_refused(oracle, shipped):
    """A program of the questioner's own answering the other way: the auditor, reading masks and
    depth, refuses it."""
    meta, q = next(
        (m, q)
        for m in shipped
        for q in m.questions
        if q.answer_type == "yes/no" and not q.abstain and q.family in AUDITORS
    )
    wrong = "no" if q.answer == "yes" else "yes"
    program = f"def answer(scene, {', '.join(q.slots)}):\n    return {wrong!r}\n"
    verdict = oracle.ask(meta.key, q.family, q.slots, program=program)
    assert not verdict.valid and verdict.reason.startswith("disagrees with the video")
    assert verdict.answer == wrong and verdict.audited == q.answer


def test_oracle_command(tiny_dataset, shipped, capsys):
    root = str(tiny_dataset[0])
    meta, q = next((m, q) for m in shipped for q in m.questions if not q.abstain and q.query_frame is None)
    args = ["oracle", root, "--key", meta.key, "--family", q.family, "--slots", json.dumps(q.slots)]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["answer"] == q.answer
    assert main(["oracle", root, "--key", "ep9999999", "--family", q.family, "--slots", "{}"]) == 2
    assert "no sample 'ep9999999'" in capsys.readouterr().err
    assert main(["oracle", root, "--key", meta.key, "--family", q.family, "--slots", "[1]"]) == 2
    assert "--slots must be a JSON object" in capsys.readouterr().err
