"""STAND-IN MODEL (issue #32): not a vision model, a script whose accuracy is a known function of
each item's difficulty, to test that ``synth run --adapt-from`` steers a run by a model's report.

It answers right exactly when the item's margin (``QA.difficulty.margin``: the measured quantity
over the family's threshold) is at least ``MARGIN``, and, for items whose program compares against
no threshold, when their level is not ``hard``; abstention items it answers right (it abstains);
every other item gets a wrong reply (``wrong_reply``).

    python -m tests.standin_model DATASET PREDICTIONS.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from synth.core.records import GROUNDED
from synth.evaluation.items import read_items
from synth.evaluation.prompt import expected_reply
from synth.programs.family import ABSTAIN, QA

MARGIN = 1.25  # right from this margin on (a quarter above the family's threshold)


def wrong_reply(qa: QA) -> str:
    """A reply that is wrong for ``qa``: another option, the other of yes/no, a number ten times
    off, a box or point moved off the answer's (a 2D box by twice its width, a 2D point by the
    frame's width, a 3D box by 10 m, a 3D point to three times its distance), a cognitive map of
    none of the named categories, or an answer where the video shows none."""
    if qa.abstain:
        return next(c for c in qa.choices if c != ABSTAIN) if qa.choices else "Answer: 7"
    if qa.answer_type == "number":
        return f"Answer: {qa.value * 10 + 10:g}"
    if qa.answer_type == "yes/no":
        return "no" if qa.answer == "yes" else "yes"
    if qa.answer_type == "cognitive map":
        return 'Answer: {"nothing named": [[0, 0]]}'
    if qa.answer_type in GROUNDED:
        v = json.loads(qa.answer)
        moved = {
            "2d box": lambda: [v[0] + 2 * (v[2] - v[0]), v[1], v[2] + 2 * (v[2] - v[0]), v[3]],
            "2d point": lambda: [v[0] + (qa.grounding.width if qa.grounding.convention == "pixels" else 1000), v[1]],
            "3d box": lambda: [v[0] + 10, *v[1:]],
            "3d point": lambda: [3 * x for x in v],
        }[qa.answer_type]()
        return f"Answer: {json.dumps(moved)}"
    return next(c for c in qa.choices if c not in (qa.answer, ABSTAIN))


def right(qa: QA) -> bool:
    """Whether the stand-in answers ``qa`` right (see the module doc)."""
    if qa.abstain or qa.difficulty is None:
        return True
    if qa.difficulty.margin is not None:
        return qa.difficulty.margin >= MARGIN
    return qa.difficulty.level != "hard"


def predict(dataset: Path, out: Path) -> int:
    """Write the stand-in's replies to every item of ``dataset`` as a predictions file; the count."""
    items = read_items(dataset)
    lines = [
        json.dumps({"id": i.id, "answer": expected_reply(i.qa) if right(i.qa) else wrong_reply(i.qa)}) for i in items
    ]
    out.write_text("\n".join(lines) + "\n")
    return len(lines)


if __name__ == "__main__":
    print(predict(Path(sys.argv[1]), Path(sys.argv[2])), "predictions")
