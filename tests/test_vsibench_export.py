"""``synth export --format vsibench``: the documents, videos and task file that lmms-eval's own
``vsibench`` task code evaluates (run in .venv-oracles by ``tests/field/lmms_vsibench_task.py``).
Reference answers score 100% there, and a shuffled set of answers scores item by item and task by
task as synth's scorer (``synth eval``) scores it."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

from synth.cli.main import main
from synth.core.records import Grounding
from synth.evaluation.items import Item, iter_metas, read_items
from synth.evaluation.scorer import score, score_item
from synth.exports.vsibench import (
    DOCS_FILE,
    MATCHING,
    MULTIPLE_CHOICE,
    NUMERIC,
    QUESTION_TYPES,
    question_type,
    write_vsibench,
)
from synth.programs.family import ABSTAIN, QA
from tests.field import run_oracle


def _docs(out) -> list[dict]:
    return [json.loads(line) for line in (out / DOCS_FILE).read_text().splitlines()]


def _shuffled(docs: list[dict], seed: int = 0) -> dict[str, str]:
    """Each document's reply: the reference answer of a random document of the same question type
    (for options, a letter it offers), so that some replies are right and some wrong."""
    rng = np.random.default_rng(seed)
    by_type = defaultdict(list)
    for d in docs:
        by_type[d["question_type"]].append(d)
    replies = {}
    for group in by_type.values():
        for d in group:
            if d["options"]:
                replies[d["synth_id"]] = d["options"][int(rng.integers(len(d["options"])))].split(".")[0]
            else:
                replies[d["synth_id"]] = group[int(rng.integers(len(group)))]["ground_truth"]
    return replies


def _oracle(out, tmp_path, runs: dict[str, dict[str, str]]) -> dict:
    return run_oracle("lmms_vsibench_task.py", {"out": str(out), "cache": str(tmp_path / "hf-datasets"), "runs": runs})


def _check_runs(oracle: dict, items: dict[str, Item], replies: dict[str, str]) -> dict[str, float]:
    """Reference answers score 1 per document; the shuffled replies score per document as synth's
    scorer does. Returns the per-question-type means of lmms-eval's document scores."""
    ref, shuffled = oracle["runs"]["reference"], oracle["runs"]["shuffled"]
    assert ref["items"] and set(ref["items"].values()) == {1.0}
    assert shuffled["items"].keys() == items.keys()
    for synth_id, theirs in shuffled["items"].items():
        assert score_item(items[synth_id], replies[synth_id]).score == theirs, (synth_id, replies[synth_id])
    assert 0 < np.mean(list(shuffled["items"].values())) < 1  # some replies right, some wrong
    per_type = defaultdict(list)
    for synth_id, theirs in shuffled["items"].items():
        per_type[shuffled["types"][synth_id]].append(theirs)
    return {t: float(np.mean(v)) for t, v in per_type.items()}


def test_tiny_run_exports_what_vsibench_scores_as_synth_eval_does(tiny_dataset, tmp_path, capsys):
    source = tiny_dataset[0]
    out = tmp_path / "vsi"
    assert main(["export", str(source), "--format", "vsibench", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    docs = _docs(out)
    summary = json.loads((out / "export.json").read_text())
    items = {i.id: i for i in read_items(source)}
    exported = {d["synth_id"]: items[d["synth_id"]] for d in docs}
    # which items: the families named as a VSI-Bench question type and those whose meaning matches
    # one (MATCHING), never an abstention; everything else left out and counted
    expected = [i for i in items.values() if question_type(i.qa.family) and not i.qa.abstain]
    assert sorted(exported) == sorted(i.id for i in expected) and len(docs) >= 5
    assert set(summary["families"]) == {i.qa.family for i in expected} and set(MATCHING) & set(summary["families"])
    assert all(question_type(f) == t and (f in MATCHING or f == t) for f, t in summary["families"].items())
    assert sum(sum(r.values()) for r in summary["left_out"].values()) == len(items) - len(docs)
    assert all(f"{f} -> {t}" in printed for f, t in summary["families"].items() if f != t)
    assert [d["id"] for d in docs] == list(range(len(docs)))
    for d in docs:
        qa = exported[d["synth_id"]].qa
        assert (
            d["question_type"] == question_type(qa.family) and d["question"] == qa.question and d["dataset"] == "synth"
        )
        assert (out / d["video"]).is_file() and d["video"] == f"vsibench/synth/{d['scene_name']}.mp4"
        if d["question_type"] in NUMERIC:
            assert d["options"] is None and float(d["ground_truth"]) == qa.value
        else:
            assert ABSTAIN not in " ".join(d["options"]) and d["options"][0].startswith("A. ")
            assert d["options"]["ABCDEFGH".index(d["ground_truth"])] == f"{d['ground_truth']}. {qa.answer}"
    # the videos as shipped: every frame of the sample
    mp4s = {m.key: s.files["mp4"] for s, m in iter_metas(source)}
    assert all((out / d["video"]).read_bytes() == mp4s[d["scene_name"]] for d in docs)

    replies = _shuffled(docs)
    oracle = _oracle(
        out, tmp_path, {"reference": {d["synth_id"]: d["ground_truth"] for d in docs}, "shuffled": replies}
    )
    assert oracle["documents"] == len(docs) and len(oracle["visuals"]) == len(docs)
    assert set(oracle["functions"]) >= {"doc_to_visual", "doc_to_text", "process_results", "process_docs"}
    theirs = _check_runs(oracle, exported, replies)
    ours = score(list(exported.values()), replies)
    for qtype in theirs:  # synth's score over the families asked as that type
        members = [i for i in exported.values() if question_type(i.qa.family) == qtype]
        assert score(members, replies).overall.score == pytest.approx(theirs[qtype], abs=1e-12), qtype
    for family in summary["families"]:
        assert ours.families[family].n == sum(1 for i in exported.values() if i.qa.family == family)
    # without every object_rel_direction tier each document scores, but lmms-eval's aggregation cannot
    missing = summary["missing_direction_tiers"]
    assert bool(missing) == ("error" in oracle["runs"]["shuffled"]) == ("needs all three" in printed)


def _qa(family: str, n: int, **fields) -> QA:
    return QA(id=f"{family}-{n}", family=family, program_id=f"{family}@0", slots={}, **fields)


# every VSI-Bench question type, as families of that id would ask it (built by hand)
NUMBERS = {
    "object_counting": (3.0, 7.0, 12.0, 4.0, ""),
    "object_abs_distance": (1.3, 2.75, 0.4, 3.3, "m"),
    "object_size_estimation": (96.0, 35.0, 180.0, 57.0, "cm"),
    "room_size_estimation": (12.5, 20.0, 8.25, 31.4, "m^2"),
}
OPTIONS = {
    "object_rel_direction_easy": ("left", "right"),
    "object_rel_direction_medium": ("left", "right", "back"),
    "object_rel_direction_hard": ("front-left", "front-right", "back-left", "back-right"),
    "object_rel_distance": ("sofa", "lamp", "table", "chair"),
    "route_planning": ("Turn Left, Turn Right", "Turn Right, Go Forward", "Turn Back, Turn Left", "Turn Left"),
    "obj_appearance_order": (
        "chair, table, lamp, sofa",
        "table, chair, sofa, lamp",
        "lamp, sofa, chair, table",
        "sofa, lamp, table, chair",
    ),
}


def _hand_items() -> list[Item]:
    qas = []
    for family, (*values, unit) in NUMBERS.items():
        for n, v in enumerate(values):
            qas.append(
                _qa(family, n, question=f"{family} {n}?", answer=f"{v:g}", value=v, answer_type="number", unit=unit)
            )
    for family, options in OPTIONS.items():
        for n in range(4):
            choices = [*np.roll(options, n).tolist(), ABSTAIN]
            answer = choices[n % len(options)]
            qas.append(
                _qa(family, n, question=f"{family} {n}?", answer=answer, choices=choices, answer_type="multiple choice")
            )
    # left out: an abstention, a family VSI-Bench does not ask, a grounded answer (issue #33)
    qas.append(_qa("object_counting", 9, question="c?", answer=ABSTAIN, answer_type="number", abstain=True))
    qas.append(_qa("taller_than", 0, question="t?", answer="yes", answer_type="yes/no"))
    grid = Grounding(convention="grid", width=160, height=120, cells=10)
    cells = '{"chair": [[1, 2]], "sofa": [[7, 7]]}'
    qas.append(_qa("cognitive_map", 0, question="m?", answer=cells, answer_type="cognitive map", grounding=grid))
    return [Item(f"hand/{q.id}", "hand", 0, "clean", q) for q in qas]


def test_every_vsibench_question_type_scores_as_synth_eval_does(tiny_dataset, tmp_path):
    sample = next(iter_metas(tiny_dataset[0]))[0]
    items = _hand_items()
    out = tmp_path / "vsi"
    out.mkdir()
    written = write_vsibench(out, [("hand", sample.files["mp4"], 8.0, items)])
    assert written.missing_tiers() == [] and written.videos == 1
    assert dict(written.left_out["object_counting"]) == {"abstention (VSI-Bench has none)": 1}
    assert dict(written.left_out["taller_than"]) == {"not a VSI-Bench question type": 1}
    assert dict(written.left_out["cognitive_map"]) == {"a grounded answer (coordinates): VSI-Bench asks none": 1}
    docs = _docs(out)
    assert {d["question_type"] for d in docs} == set(QUESTION_TYPES) and len(docs) == 4 * len(QUESTION_TYPES)
    exported = {i.id: i for i in items if i.id in {d["synth_id"] for d in docs}}
    replies = _shuffled(docs, seed=1)
    oracle = _oracle(
        out, tmp_path, {"reference": {d["synth_id"]: d["ground_truth"] for d in docs}, "shuffled": replies}
    )
    assert oracle["runs"]["reference"]["metrics"] == pytest.approx(
        {m: 1.0 for m in oracle["runs"]["reference"]["metrics"]}
    )
    theirs = _check_runs(oracle, exported, replies)
    metrics = oracle["runs"]["shuffled"]["metrics"]
    ours = score(list(exported.values()), replies).families
    for qtype in QUESTION_TYPES:
        assert ours[qtype].score == pytest.approx(theirs[qtype], abs=1e-12)
    # lmms-eval's task metrics (rounded to 6 places) are synth's family scores; the three direction
    # tiers are one metric, their mean; overall is the mean of the eight
    tasks = {
        f"{t}_{'accuracy' if t in MULTIPLE_CHOICE else 'mra'}": ours[t].score
        for t in QUESTION_TYPES
        if not t.startswith("object_rel_direction")
    }
    tasks["object_rel_direction_accuracy"] = np.mean([ours[t].score for t in MULTIPLE_CHOICE[:3]])
    assert {m: v for m, v in metrics.items() if m != "vsibench_overall"} == pytest.approx(tasks, abs=1e-6)
    assert metrics["vsibench_overall"] == pytest.approx(np.mean(list(tasks.values())), abs=1e-6)


def test_vsibench_export_refuses_frame_options_in_one_line(tiny_dataset, tmp_path, capsys):
    out = tmp_path / "vsi"
    assert main(["export", str(tiny_dataset[0]), "--format", "vsibench", "--out", str(out), "--frames", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--frames does not apply to --format vsibench" in err and not out.exists()
