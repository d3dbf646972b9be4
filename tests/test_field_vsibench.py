"""``synth eval``'s scores against VSI-Bench's own evaluator (lmms-eval 0.7.3's ``vsibench`` task,
installed in ``.venv-oracles``, run by ``tests/field/lmms_vsibench.py``): synth's numeric items
become VSI-Bench documents, with replies of which many land exactly on an MRA threshold, and every
item and every family mean must score the same in both.

The replies are what both read the same way: a number in the question's unit (bare, with its unit
or as a word), or no number. synth reads more (units to convert, thousands separators, the final
answer of a reasoning reply); lmms-eval takes the first number of the whole reply, so those are
not compared here (``tests/test_eval.py`` covers them).
"""

from __future__ import annotations

import dataclasses
import re
from fractions import Fraction

import pytest

from synth.evaluation.items import Item, read_items
from synth.evaluation.prompt import ABSTENTION_SENTENCE, options
from synth.evaluation.scorer import score, score_item
from synth.programs.family import QA
from tests.field import run_oracle

MRA = "MRA:.5:.95:.05"
# synth's unit -> the VSI-Bench question type of the same kind (angles have none; the scoring of
# every numeric type is the same MRA)
QUESTION_TYPE = {
    "": "object_counting",
    "m": "object_abs_distance",
    "cm": "object_size_estimation",
    "m^2": "room_size_estimation",
    "deg": "object_abs_distance",
}
DIRECTION_TIERS = ("object_rel_direction_easy", "object_rel_direction_medium", "object_rel_direction_hard")
# relative errors, several exactly on a threshold (1 - theta for theta in 0.50, 0.55, ..., 0.95)
FACTORS = (1.0, 1.5, 0.5, 1.25, 0.75, 1.3, 0.7, 1.2, 0.8, 1.05, 0.95, 1.1, 1.45, 1.55, 0.9, 2.0, 3.0)


def _item(family: str, unit: str, value: float, n: int) -> Item:
    qa = QA(
        id=f"{family}-{n}",
        family=family,
        program_id=f"{family}@0",
        question=f"How large is thing {n}?",
        slots={},
        answer=f"{value:g}",
        value=value,
        answer_type="number",
        unit=unit,
    )
    return Item(f"hand/{qa.id}", "hand", 0, "clean", qa)


# the issue's cases (3 for 2, 5 for 4, 1.3 and 1.2 for 1.0) and more round truths where errors land on thresholds
HAND = [
    _item("hand_count", "", 2.0, 0),
    _item("hand_count", "", 4.0, 1),
    _item("hand_count", "", 10.0, 2),
    _item("hand_count", "", 20.0, 3),
    _item("hand_distance", "m", 1.0, 0),
    _item("hand_distance", "m", 2.0, 1),
    _item("hand_distance", "m", 0.4, 2),
    _item("hand_distance", "m", 3.3, 3),
    _item("hand_distance", "m", 0.3, 4),
    _item("hand_size", "cm", 125.0, 0),
    _item("hand_size", "cm", 40.0, 1),
    _item("hand_area", "m^2", 12.5, 0),
    _item("hand_area", "m^2", 20.0, 1),
]
# the issue's cases and one float rounding puts above a threshold: (question, factor) -> the reference's MRA
ISSUE_CASES = {("hand_count-0", 1.5): 0.1, ("hand_count-1", 1.25): 0.6, ("hand_distance-0", 1.3): 0.5}
ISSUE_CASES[("hand_distance-0", 1.2)] = 0.7
ISSUE_CASES[("hand_distance-4", 1.3)] = 0.4  # 0.39 for 0.3: in floats just above 1 - 0.70, not counted
THRESHOLD_ERRORS = {Fraction(50 - 5 * k, 100) for k in range(10)}  # 1 - theta, exactly


def _replies(item: Item) -> list[str]:
    """Replies to a numeric item, one per round: the truth times each factor, written as a model
    might, then a word, an abstention and a reply without a number."""
    unit = {"m^2": "square metres", "deg": "degrees"}.get(item.qa.unit, item.qa.unit)
    numbers = [f"{item.qa.value * f:.10g}" for f in FACTORS]
    written = [(n, f"{n} {unit}", f"about {n} {unit}")[k % 3].strip() for k, n in enumerate(numbers)]
    return [*written, "three", ABSTENTION_SENTENCE, "no idea"]


def _on_threshold(item: Item, reply: str) -> bool:
    """Whether the reply's number is off the truth by exactly 1 - theta for a threshold theta."""
    number = re.search(r"\d+(?:\.\d+)?", reply)
    truth = Fraction(repr(item.qa.value))
    return bool(number) and abs(Fraction(number.group()) - truth) / truth in THRESHOLD_ERRORS


def _doc(item: Item, prediction: str, question_type: str) -> dict:
    qa = item.qa
    doc = {"question_type": question_type, "question": qa.question, "dataset": "synth", "scene_name": item.key}
    if qa.choices:
        letters = {text: letter for letter, text in options(qa)}
        doc |= {"options": [f"{letter}. {text}" for letter, text in options(qa)], "ground_truth": letters[qa.answer]}
    else:
        doc |= {"options": None, "ground_truth": repr(qa.value)}
    return doc | {"prediction": prediction}


def test_synth_eval_scores_numeric_items_as_vsibench_reference_does(tiny_dataset):
    items = read_items(tiny_dataset[0])
    numeric = [i for i in items if i.qa.answer_type == "number" and not i.qa.abstain and i.qa.value > 0]
    choice = [i for i in items if i.qa.choices and not i.qa.abstain and i.qa.answer_type == "multiple choice"]
    assert numeric and len(choice) >= 3
    # every item asked once per round; the copies keep the family, so synth's family mean is over all rounds
    rounds, predictions = [], {}
    for item in numeric + HAND:
        for k, reply in enumerate(_replies(item)):
            copy = dataclasses.replace(item, id=f"{item.id}#{k}")
            rounds.append(copy)
            predictions[copy.id] = reply
    # the three direction tiers every lmms-eval group needs: synth's multiple-choice items, replied with
    # the right letter, a wrong letter, and the letter with its option's text
    directions = []
    for tier, item, kind in zip(DIRECTION_TIERS, choice, ("right", "wrong", "text")):
        letter = {text: letter for letter, text in options(item.qa)}[item.qa.answer]
        wrong = next(k for k, t in options(item.qa) if t != item.qa.answer)
        reply = {"right": letter, "wrong": wrong, "text": f"{letter}. {item.qa.answer}"}[kind]
        directions.append((item, reply, tier))
    families = sorted({i.qa.family for i in rounds})
    groups = {
        f: [_doc(i, predictions[i.id], QUESTION_TYPE[i.qa.unit]) for i in rounds if i.qa.family == f]
        + [_doc(i, reply, tier) for i, reply, tier in directions]
        for f in families
    }
    oracle = run_oracle("lmms_vsibench.py", {"groups": groups})

    ours = score(rounds, predictions)
    on_threshold = 0
    for f in families:
        members = [i for i in rounds if i.qa.family == f]
        theirs = oracle["items"][f]
        assert len(theirs) == len(members) + len(directions)
        for item, reference in zip(members, theirs):
            mine = score_item(item, predictions[item.id]).score
            assert mine == reference, (item.id, predictions[item.id], item.qa.value, mine, reference)
            on_threshold += _on_threshold(item, predictions[item.id])
        for (item, reply, _), reference in zip(directions, theirs[len(members) :]):
            assert score_item(item, reply).score == reference, (item.id, reply)
        qtype = QUESTION_TYPE[members[0].qa.unit]
        assert ours.families[f].mra == pytest.approx(oracle["subscores"][f][f"{qtype}_{MRA}"], abs=1e-12), f
        direction = sum(score_item(i, r).score for i, r, _ in directions) / 3
        assert direction == pytest.approx(oracle["subscores"][f]["object_rel_direction_accuracy"], abs=1e-12)

    assert on_threshold >= 13 * len(HAND)  # many errors exactly on a threshold, where a strict "<" would differ
    # the issue's threshold cases, as the reference scores them (and synth, by the loop above)
    for (qid, factor), expected in ISSUE_CASES.items():
        family = qid.rsplit("-", 1)[0]
        index = [i.id for i in rounds if i.qa.family == family].index(f"hand/{qid}#{FACTORS.index(factor)}")
        assert oracle["items"][family][index] == pytest.approx(expected), (qid, factor)
