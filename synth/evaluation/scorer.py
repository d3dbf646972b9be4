"""Scoring a model's answers to a dataset's questions, as the field reports it.

Per item (``synth.evaluation.metrics``): accuracy for multiple choice, yes/no and object answers and for
every abstention item (right only if the reply abstains); VSI-Bench's Mean Relative Accuracy for
numbers (a reply that abstains on an answerable number scores 0). Grounded answers (issue #33;
``synth.core.grounding``, the item's ``tolerance`` the threshold): boxes by IoU (metric "IoU": 1
when the IoU reaches the tolerance, else 0; 2D and oriented 3D boxes), points by distance
("distance": 1 within tolerance x the frame's diagonal, 2D, or x the point's distance from the
camera, 3D), cognitive maps by VSI-Bench's pairwise-distance probe ("map": the share of object
pairs whose grid distance is within the tolerance in cells of the true one, a fraction). A missing
or unreadable reply scores 0. A group's ``score`` is the mean item score; its ``accuracy`` is over
the items scored 0 or 1 (accuracy, IoU and distance), ``mra`` over the numbers, ``map`` over the
cognitive maps; the overall score is the mean over families (each family weighs the same, as
VSI-Bench averages its tasks). Abstention precision and recall: over the replies that abstain, and
over the items whose expected answer is the abstention.

Breakdowns: per family, per family tag (static, dynamic, temporal, camera, metric, ...), per
difficulty level (overall and per family: ``QA.difficulty``), per degradation type and severity
(severity 0 is the clean video).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from synth.core.grounding import METRICS, grounded_score
from synth.core.records import GROUNDED, LEVELS
from synth.evaluation.answers import Parsed, parse
from synth.evaluation.items import Item
from synth.evaluation.metrics import mean_relative_accuracy
from synth.programs.difficulty import Adaptation
from synth.programs.family import QA, Family
from synth.programs.library import FAMILIES


class PredictionsError(ValueError):
    """A predictions file cannot be read (the message names the line)."""


def read_predictions(path: Path) -> dict[str, str]:
    """A JSONL predictions file: one ``{"id": ITEM_ID, "answer": TEXT}`` (or ``{ITEM_ID: TEXT}``)
    per line; item ids as ``synth.evaluation.items.Item.id``. A later line for the same id wins."""
    out: dict[str, str] = {}
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as e:
        raise PredictionsError(f"cannot read predictions {path}: {e.strerror or e}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise PredictionsError(f"{path}:{n}: not JSON ({e.msg})") from None
        if isinstance(row, dict) and "id" in row and "answer" in row:
            out[str(row["id"])] = str(row["answer"])
        elif isinstance(row, dict) and len(row) == 1:
            ((k, v),) = row.items()
            out[str(k)] = str(v)
        else:
            raise PredictionsError(f'{path}:{n}: expected {{"id": ..., "answer": ...}}, got {line[:80]!r}')
    return out


@dataclass(frozen=True)
class Scored:
    item: Item
    reply: str | None  # None: no prediction for this item
    parsed: Parsed
    metric: str  # "accuracy", "MRA", or for grounded answers "IoU", "distance", "map"
    score: float


# the metrics whose items score 0 or 1: a group's ``accuracy`` (grounded ones: ``grounding.METRICS``)
HIT_METRICS = ("accuracy", "IoU", "distance")


def qa_score(qa: QA, reply: str | None) -> tuple[Parsed, str, float]:
    """How ``reply`` (None: no prediction) reads as an answer to ``qa``, the metric ("accuracy",
    "MRA", "IoU", "distance" or "map") and the score in [0, 1] (module docstring)."""
    parsed = parse(reply, qa) if reply is not None else Parsed()
    if qa.abstain:
        return parsed, "accuracy", float(parsed.abstain)
    if qa.answer_type == "number":
        return parsed, "MRA", mean_relative_accuracy(None if parsed.abstain else parsed.number, qa.value)
    if qa.answer_type in GROUNDED:
        given = parsed.cells if qa.answer_type == "cognitive map" else parsed.coords
        value = grounded_score(qa.answer_type, qa.answer, given, qa.tolerance, qa.grounding)
        return parsed, METRICS[qa.answer_type], value
    return parsed, "accuracy", float(not parsed.abstain and parsed.text == qa.answer)


def score_item(item: Item, reply: str | None) -> Scored:
    return Scored(item, reply, *qa_score(item.qa, reply))


class Group(BaseModel):
    n: int
    score: float  # mean item score
    accuracy: float | None  # over the items scored 0 or 1 (accuracy, and grounded IoU and distance hits)
    mra: float | None  # over the numeric items
    unanswered: int  # no prediction, or a reply that says nothing the question asks
    map: float | None = None  # over the cognitive maps (issue #33): the mean share of right object pairs


class Abstention(BaseModel):
    expected: int  # items whose answer is the abstention
    predicted: int  # replies that abstain
    precision: float | None
    recall: float | None


class Report(BaseModel):
    items: int
    missing: int  # items without a prediction
    unknown_ids: int  # predictions for ids the dataset does not have (or filtered out)
    score: float  # mean over families of the family score
    overall: Group
    abstention: Abstention
    families: dict[str, Group]
    tags: dict[str, Group]
    degradations: dict[str, dict[int, Group]]  # type -> severity -> group; "clean" -> {0: ...}
    # per difficulty level (issue #32; items without one, abstentions, under UNRATED), overall and per family
    levels: dict[str, Group] = {}
    family_levels: dict[str, dict[str, Group]] = {}
    adaptation: Adaptation | None = None  # the weights the scored dataset was made with (--adapt-from), if any


UNRATED = "unrated"  # the level key of items without a difficulty (abstentions, older datasets)


def level_of(qa: QA) -> str:
    """An item's difficulty level, or ``UNRATED``."""
    return qa.difficulty.level if qa.difficulty else UNRATED


def _by_level(rows: list[Scored]) -> dict[str, Group]:
    found = defaultdict(list)
    for r in rows:
        found[level_of(r.item.qa)].append(r)
    return {lv: _group(found[lv]) for lv in (*LEVELS, UNRATED) if found[lv]}


def _mean(rows: list[Scored], metrics: tuple[str, ...]) -> float | None:
    scores = [r.score for r in rows if r.metric in metrics]
    return sum(scores) / len(scores) if scores else None


def _group(rows: list[Scored]) -> Group:
    return Group(
        n=len(rows),
        score=sum(r.score for r in rows) / len(rows),
        accuracy=_mean(rows, HIT_METRICS),
        mra=_mean(rows, ("MRA",)),
        unanswered=sum(1 for r in rows if not r.parsed.understood),
        map=_mean(rows, ("map",)),
    )


def family_tags(families: dict[str, Family] | None = None) -> dict[str, tuple[str, ...]]:
    """Tags per family id: the library's, plus those of ``families`` (e.g. a run's compiled ones)."""
    return {fid: f.tags for fid, f in {**FAMILIES, **(families or {})}.items()}


def score(items: Iterable[Item], predictions: dict[str, str], tags: dict[str, tuple[str, ...]] | None = None) -> Report:
    """Score ``predictions`` (item id -> reply text) on ``items``."""
    items = list(items)
    if not items:
        raise ValueError("no items to score")
    tags = tags if tags is not None else family_tags()
    rows = [score_item(i, predictions.get(i.id)) for i in items]
    by_family, by_tag, by_deg = defaultdict(list), defaultdict(list), defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_family[r.item.qa.family].append(r)
        for t in tags.get(r.item.qa.family) or ("untagged",):
            by_tag[t].append(r)
        by_deg[r.item.degradation][r.item.severity].append(r)
    families = {f: _group(v) for f, v in sorted(by_family.items())}
    expected = [r for r in rows if r.item.qa.abstain]
    predicted = [r for r in rows if r.parsed.abstain]
    both = sum(1 for r in expected if r.parsed.abstain)
    ids = {i.id for i in items}
    return Report(
        items=len(rows),
        missing=sum(1 for r in rows if r.reply is None),
        unknown_ids=sum(1 for k in predictions if k not in ids),
        score=sum(g.score for g in families.values()) / len(families),
        overall=_group(rows),
        abstention=Abstention(
            expected=len(expected),
            predicted=len(predicted),
            precision=both / len(predicted) if predicted else None,
            recall=both / len(expected) if expected else None,
        ),
        families=families,
        tags={t: _group(v) for t, v in sorted(by_tag.items())},
        degradations={d: {s: _group(v) for s, v in sorted(sev.items())} for d, sev in sorted(by_deg.items())},
        levels=_by_level(rows),
        family_levels={f: _by_level(v) for f, v in sorted(by_family.items())},
    )


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:5.1f}"


def format_report(report: Report) -> str:
    """The report as terminal tables (a ``map`` column where cognitive maps were scored)."""
    maps = report.overall.map is not None
    columns = ("score", "acc", "MRA", *(("map",) if maps else ()), "unans")
    head = f"{'':26s} {'n':>6s} " + " ".join(f"{c:>6s}" for c in columns)

    def row(name: str, g: Group) -> str:
        cells = f"{_pct(g.score)} {_pct(g.accuracy)} {_pct(g.mra)}" + (f" {_pct(g.map)}" if maps else "")
        return f"{name:26s} {g.n:6d} {cells} {g.unanswered:6d}"

    lines = ["per family", head, *(row(f, g) for f, g in report.families.items())]
    lines += ["", "per tag", head, *(row(t, g) for t, g in report.tags.items())]
    lines += ["", "per difficulty level", head, *(row(lv, g) for lv, g in report.levels.items())]
    lines += ["", "per degradation (severity)", head]
    lines += [
        row(f"{d} {s}" if d != "clean" else d, g) for d, sev in report.degradations.items() for s, g in sev.items()
    ]
    a = report.abstention
    lines += [
        "",
        f"abstention: precision {_pct(a.precision).strip()}%, recall {_pct(a.recall).strip()}% "
        f"({a.predicted} replies abstain, {a.expected} items expect it)",
        f"overall: score {_pct(report.score).strip()} (mean over {len(report.families)} families), "
        f"accuracy {_pct(report.overall.accuracy).strip()}%, MRA {_pct(report.overall.mra).strip()}"
        + (f", map {_pct(report.overall.map).strip()}" if maps else "")
        + "; "
        f"{report.items} items, {report.missing} without a prediction, {report.overall.unanswered} unanswered"
        + (f", {report.unknown_ids} predictions for unknown ids" if report.unknown_ids else ""),
    ]
    return "\n".join(lines)
