"""``synth export DIR --format vsibench --out OUT``: a dataset as VSI-Bench documents, evaluated
with lmms-eval's own ``vsibench`` task code.

Source of the format: lmms-eval 0.7.3, ``lmms_eval/tasks/vsibench/`` (``utils.py``:
``vsibench_doc_to_visual`` reads ``$HF_HOME/vsibench/{dataset}/{scene_name}.mp4``,
``vsibench_doc_to_text`` puts ``question`` and, for multiple choice, ``options`` (``"A. ..."``)
in the prompt, ``vsibench_process_results`` scores ``ground_truth``: an option letter, matched
to the reply's first word, or a number string, scored by Mean Relative Accuracy;
``_default_template_yaml``: the metrics and their aggregations) and the dataset it loads
(``nyu-visionx/VSI-Bench``: ``id``, ``dataset``, ``scene_name``, ``question_type``, ``question``,
``options`` or null, ``ground_truth``).

Layout of OUT::

    test.jsonl                          one VSI-Bench document per line (the task's test split)
    vsibench/synth/{scene_name}.mp4     the videos, where vsibench's doc_to_visual looks with HF_HOME=OUT
    synth_vsibench.yaml                 the lmms-eval task ``synth_vsibench``: vsibench's functions
                                        (imported from lmms_eval.tasks.vsibench.utils) on test.jsonl
    export.json                         what was exported; families per question type; what was left out

Evaluate with ``HF_HOME=OUT lmms-eval --include_path OUT --tasks synth_vsibench --model ...``
(``docs/vsibench.md``). A document also carries ``video`` (its path relative to OUT) and
``synth_id`` (the item's id in synth's predictions files, ``SAMPLE_KEY/QUESTION_ID``) and ``synth_level`` (its
difficulty level, ``QA.difficulty``).

Which items (:func:`question_type`): those of families whose id is a VSI-Bench question type,
and of the families in :data:`MATCHING`, whose definition answers VSI-Bench's question of that
type. Left out, and counted in export.json: grounded answers (boxes, points, cognitive maps:
VSI-Bench scores none of them), abstention items (VSI-Bench has no abstention; the
abstention option, always the last, is not offered either, so the other options keep synth's
letters), numbers of 0 or less (the reference divides by the answer), answers of a type other than
the question type's, and every other family. The whole video is shipped: VSI-Bench's models
sample frames themselves; a question about one frame names it by its time in the video.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from synth.core.records import GROUNDED
from synth.evaluation.items import Item, iter_metas, sample_items
from synth.evaluation.prompt import LETTERS, name_frame
from synth.exports.export import SUMMARY, ExportReport, prepare_out, write_file
from synth.exports.formats import VSIBENCH
from synth.programs.family import ABSTAIN
from synth.storage.dataset import DatasetError, read_manifest

DATASET = "synth"  # the documents' ``dataset``: the folder of their videos under vsibench/
VIDEO_ROOT = "vsibench"  # lmms-eval's vsibench.yaml ``cache_dir``, under HF_HOME
DOCS_FILE = "test.jsonl"
TASK = "synth_vsibench"
TASK_FILE = f"{TASK}.yaml"

# lmms-eval's MCA_QUESTION_TYPES and NA_QUESTION_TYPES (VSI-Bench's question types)
MULTIPLE_CHOICE = (
    "object_rel_direction_easy",
    "object_rel_direction_medium",
    "object_rel_direction_hard",
    "object_rel_distance",
    "route_planning",
    "obj_appearance_order",
)
NUMERIC = ("object_abs_distance", "object_counting", "object_size_estimation", "room_size_estimation")
QUESTION_TYPES = MULTIPLE_CHOICE + NUMERIC

# library families defined otherwise than VSI-Bench's but answering its question (docs/vsibench.md):
MATCHING = {
    "object_count": "object_counting",  # objects of a category the video shows, each once
    "object_longest_side": "object_size_estimation",  # the longest dimension, centimetres
    "room_floor_area": "room_size_estimation",  # the room's floor area, square metres
    "object_room_size": "room_size_estimation",  # one room of a house (the one with the X), square metres
    "closest_object": "object_rel_distance",  # nearest surface to surface; nearest of all, so of the options
    "allocentric_side": "object_rel_direction_easy",  # standing at A facing B: C left or right
}

_UTILS = "lmms_eval.tasks.vsibench.utils"
_METRICS = (  # (metric, its aggregation in vsibench's utils.py), as its _default_template_yaml lists them
    ("vsibench_overall", "vsibench_aggregate_overall"),
    ("obj_appearance_order_accuracy", "vsibench_aggregate_obj_appearance_order_accuracy"),
    ("object_abs_distance_mra", "vsibench_aggregate_object_abs_distance_mra"),
    ("object_counting_mra", "vsibench_aggregate_object_counting_mra"),
    ("object_rel_distance_accuracy", "vsibench_aggregate_object_rel_distance_accuracy"),
    ("object_size_estimation_mra", "vsibench_aggregate_object_size_estimation_mra"),
    ("room_size_estimation_mra", "vsibench_aggregate_room_size_estimation_mra"),
    ("route_planning_accuracy", "vsibench_aggregate_route_planning_accuracy"),
    ("object_rel_direction_accuracy", "vsibench_aggregate_object_rel_direction_accuracy"),
)


def question_type(family: str) -> str | None:
    """The VSI-Bench question type of a family's items: its id if that is one, else
    :data:`MATCHING`'s; None for a family VSI-Bench does not ask."""
    return family if family in QUESTION_TYPES else MATCHING.get(family)


def number_text(value: float) -> str:
    """A number as ``ground_truth`` carries it: an integer as such ("3"), else the float's shortest
    exact repr ("1.4932"), so that lmms-eval's ``float()`` reads back exactly synth's value."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def document(item: Item, scene_name: str, fps: float) -> dict | str:
    """The VSI-Bench document of ``item`` shown as the video ``scene_name`` at ``fps`` (without
    ``id``), or why it is left out (module docstring)."""
    qa = item.qa
    if qa.answer_type in GROUNDED:
        return "a grounded answer (coordinates): VSI-Bench asks none"
    qtype = question_type(qa.family)
    if qtype is None:
        return "not a VSI-Bench question type"
    if qa.abstain:
        return "abstention (VSI-Bench has none)"
    if qa.query_frame is not None:
        return "asked mid-video (streaming): VSI-Bench documents show the whole video"
    if "frame" in qa.slots:
        qa = name_frame(qa, f"the frame at {int(qa.slots['frame']) / fps:.2f} s")
    doc = {"dataset": DATASET, "scene_name": scene_name, "question_type": qtype, "question": qa.question}
    if qtype in NUMERIC:
        if qa.answer_type != "number" or qa.value is None:
            return f"a {qa.answer_type} answer for a numeric question type"
        if qa.value <= 0:
            return "a number of 0 or less (MRA divides by it)"
        doc |= {"options": None, "ground_truth": number_text(qa.value)}
    else:
        choices = [c for c in qa.choices if c != ABSTAIN]
        if len(choices) < 2 or qa.answer not in choices or len(choices) > len(LETTERS):
            return f"a {qa.answer_type} answer without options for a multiple-choice question type"
        letters = dict(zip(choices, LETTERS))
        doc |= {"options": [f"{letters[c]}. {c}" for c in choices], "ground_truth": letters[qa.answer]}
    level = qa.difficulty.level if qa.difficulty else None
    return doc | {"video": f"{VIDEO_ROOT}/{DATASET}/{scene_name}.mp4", "synth_id": item.id, "synth_level": level}


def task_yaml() -> str:
    """The lmms-eval task file: VSI-Bench's own functions (``lmms_eval.tasks.vsibench.utils``,
    found by lmms-eval's ``!function`` by module path) over the documents in ``test.jsonl``
    beside it (lmms-eval resolves a local builder's ``data_files`` against the file's folder)."""
    fn = f"!function {_UTILS}."
    lines = [
        f"# lmms-eval task {TASK!r}: VSI-Bench's vsibench task code on a synth export (synth export --format vsibench)",
        "# run: HF_HOME=<this folder> lmms-eval --include_path <this folder> --tasks synth_vsibench --model ...",
        "# (vsibench's doc_to_visual reads $HF_HOME/vsibench/{dataset}/{scene_name}.mp4; docs/vsibench.md)",
        f"task: {TASK}",
        "dataset_path: json",
        "dataset_kwargs:",
        "  data_files:",
        f"    test: {DOCS_FILE}",
        "test_split: test",
        "output_type: generate_until",
        f"process_docs: {fn}process_docs",
        f"doc_to_visual: {fn}vsibench_doc_to_visual",
        f"doc_to_text: {fn}vsibench_doc_to_text",
        f"doc_to_messages: {fn}vsibench_doc_to_messages",
        "doc_to_target: ground_truth",
        "generation_kwargs:",
        "  max_new_tokens: 16",
        "  temperature: 0",
        "  top_p: 1.0",
        "  num_beams: 1",
        "  do_sample: false",
        f"process_results: {fn}vsibench_process_results",
        "metric_list:",
    ]
    for metric, aggregation in _METRICS:
        lines += [f"  - metric: {metric}", f"    aggregation: {fn}{aggregation}", "    higher_is_better: true"]
    lines += ["metadata:", "  - version: 0.0", ""]
    return "\n".join(lines)


@dataclass
class Written:
    """What :func:`write_vsibench` wrote: the documents (with ``id``), the videos, the question
    type of every family exported, and per family the items left out, by reason."""

    documents: list[dict] = field(default_factory=list)
    videos: int = 0
    families: dict[str, str] = field(default_factory=dict)
    left_out: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def missing_tiers(self) -> list[str]:
        """The object_rel_direction tiers no document asks: lmms-eval's vsibench aggregation
        (``_compute_all_subscores``) fails without every one of them (KeyError), though each
        document still scores."""
        asked = {d["question_type"] for d in self.documents}
        return [t for t in MULTIPLE_CHOICE[:3] if t not in asked]


def write_vsibench(out: Path, samples: Iterable[tuple[str, bytes, float, list[Item]]]) -> Written:
    """Write into the prepared folder ``out`` the documents of the ``samples`` (each: its key, mp4
    bytes, frame rate and items), their videos and the task file (module docstring)."""
    written = Written()
    for key, mp4, fps, items in samples:
        shown = False
        for item in items:
            doc = document(item, key, fps)
            if isinstance(doc, str):
                written.left_out[item.qa.family][doc] += 1
                continue
            if not shown:
                write_file(out / doc["video"], mp4, keep_existing=True)
                shown, written.videos = True, written.videos + 1
            written.families[item.qa.family] = doc["question_type"]
            written.documents.append({"id": len(written.documents), **doc})
    docs = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in written.documents)
    write_file(out / DOCS_FILE, docs.encode())
    write_file(out / TASK_FILE, task_yaml().encode())
    return written


def export_vsibench(source: Path, out: Path, variants: set[str] | None = None, overwrite: bool = False) -> ExportReport:
    """Write the VSI-Bench documents, videos and task file for the finished dataset ``source``
    into ``out`` (module docstring); ``variants``: the ``synth.evaluation.items.parse_variants``
    filter. ``DatasetError`` when no item is a VSI-Bench question."""
    manifest = read_manifest(source)
    out = Path(out)
    prepare_out(out, overwrite, Path(source), media=(VIDEO_ROOT,))
    samples = (
        (meta.key, sample.files["mp4"], meta.episode.fps, sample_items(meta))
        for sample, meta in iter_metas(source, variants)
    )
    written = write_vsibench(out, samples)
    docs = written.documents
    if not docs:
        (out / DOCS_FILE).unlink()
        raise DatasetError(f"{source} has no VSI-Bench questions{' in the variants asked for' if variants else ''}")
    summary = {
        "source": str(source),
        "source_manifest_shards": [s["sha256"] for s in manifest["shards"]],
        "format": VSIBENCH,
        "records_file": DOCS_FILE,
        "records": len(docs),
        "samples": written.videos,
        "questions": len(docs),
        "task": TASK,
        "task_file": TASK_FILE,
        "question_types": dict(sorted(Counter(d["question_type"] for d in docs).items())),
        "families": dict(sorted(written.families.items())),
        "missing_direction_tiers": written.missing_tiers(),
        "left_out": {f: dict(c) for f, c in sorted(written.left_out.items())},
        "variants": sorted(variants) if variants else "all",
    }
    write_file(out / SUMMARY, json.dumps(summary, indent=2).encode())
    return ExportReport(out, out / DOCS_FILE, len(docs), written.videos, len(docs), summary)
