"""How a question is put to a model and how its expected reply reads: one definition, used by the
training exports (``exports``), the endpoint evaluation (``synth.evaluation.endpoint``) and the answer
parser (``synth.evaluation.answers``).

- Questions with options (multiple choice, and object answers: ``QA.choices``, whose last option
  is always the abstention) list them lettered ``A.``, ``B.``, ... in the order the dataset asked
  them; the expected reply is the letter plus the option's text: ``"B. left"``.
- yes/no questions: ``"yes"`` or ``"no"``.
- Numbers: the shipped value with its unit, ``"3.3 m"``, ``"144 cm"``, ``"17 degrees"``,
  ``"12.5 m²"``; counts have no unit.
- Grounded answers (issue #33): the answer's JSON text (``synth.core.records.Grounding``); the
  instruction (``GROUNDED_INSTRUCTIONS``) names its shape and convention: a 2D box or point in
  pixels of the frame's width x height or on a 0-1000 scale of them, a 3D box or point in metres
  and radians in the camera coordinates of the frame the question names, a cognitive map as the
  JSON object of VSI-Bench's cognitive-map probe on its grid. The frame itself is named by the
  question only (``name_frame`` rewords it as the model is shown it).
- Abstention items (the video does not show what the question needs): the abstention option
  (``"E. cannot be determined from the video"``) where there are options, else the abstention
  sentence ``ABSTENTION_SENTENCE``.
"""

from __future__ import annotations

import re
import string

from synth.core.records import GROUNDED, Grounding
from synth.programs.family import ABSTAIN, QA

LETTERS = string.ascii_uppercase
ABSTENTION_SENTENCE = "It cannot be determined from the video."
UNIT_NAMES = {"m": "metres", "cm": "centimetres", "deg": "degrees", "m^2": "square metres"}  # in the prompt
UNIT_SYMBOLS = {"m": "m", "cm": "cm", "deg": "degrees", "m^2": "m²"}  # in the reply
INSTRUCTIONS = {
    "choice": "Answer with the option's letter and text.",
    "yes/no": "Answer yes or no.",
    "number": "Answer with a number{unit}.",
}
ABSTAIN_HINT = " If the video does not show what the question needs, say that it cannot be determined from the video."
# per grounded answer type; {where}: the convention (``_where``)
_CAMERA = "in the camera coordinates of the frame the question names (metres; x right, y down, z forward)"
GROUNDED_INSTRUCTIONS = {
    "2d box": "Answer with the object's bounding box as [x1, y1, x2, y2] (top-left and bottom-right corners) {where}.",
    "2d point": "Answer with a point on the object as [x, y] {where}.",
    "3d box": "Answer with the object's 3D bounding box as [x, y, z, l, w, h, roll, pitch, yaw]: its centre "
    + _CAMERA
    + "; its length, width and height along its own front, left and up axes (metres); and its rotation from "
    "those axes to the camera's, Rz(yaw) Ry(pitch) Rx(roll), in radians.",
    "3d point": "Answer with the object's centre as [x, y, z] " + _CAMERA + ".",
    "cognitive map": "Answer with a JSON object mapping each category to its cell [[column, row]] on the "
    '{cells}x{cells} grid, e.g. {{"chair": [[2, 7]], "table": [[5, 5]]}}.',
}


def options(qa: QA) -> list[tuple[str, str]]:
    """(letter, text) of the question's options, in the order asked; empty for yes/no and numbers."""
    if len(qa.choices) > len(LETTERS):
        raise ValueError(f"question {qa.id} has {len(qa.choices)} options; at most {len(LETTERS)} can be lettered")
    return list(zip(LETTERS, qa.choices))


def _where(grounding: Grounding) -> str:
    """Where a 2D answer's coordinates live, as the instruction says it."""
    size = f"{grounding.width}x{grounding.height}"
    if grounding.convention == "0-1000":
        return f"on a 0-1000 scale of the width and height of the {size} frame"
    return f"in pixels of the {size} frame"


def grounded_instruction(qa: QA) -> str:
    """What to answer for a grounded item (``GROUNDED_INSTRUCTIONS``), in its convention."""
    grounding = qa.grounding
    if grounding is None:
        raise ValueError(f"grounded question {qa.id} has no grounding")
    where = _where(grounding) if qa.answer_type in ("2d box", "2d point") else ""
    return GROUNDED_INSTRUCTIONS[qa.answer_type].format(where=where, cells=grounding.cells)


def prompt(qa: QA) -> str:
    """The question as a model reads it: the question, its lettered options, what to answer."""
    lines = [qa.question]
    if qa.choices:
        lines += ["Options:", *(f"{letter}. {text}" for letter, text in options(qa)), INSTRUCTIONS["choice"]]
    elif qa.answer_type in GROUNDED:
        lines.append(grounded_instruction(qa) + ABSTAIN_HINT)
    elif qa.answer_type == "yes/no":
        lines.append(INSTRUCTIONS["yes/no"] + ABSTAIN_HINT)
    else:
        unit = UNIT_NAMES.get(qa.unit, qa.unit)
        lines.append(INSTRUCTIONS["number"].format(unit=f" in {unit}" if unit else "") + ABSTAIN_HINT)
    return "\n".join(lines)


def expected_reply(qa: QA) -> str:
    """The reply a model should give (the training target)."""
    if qa.choices:
        letter = dict((text, letter) for letter, text in options(qa))[qa.answer]
        return f"{letter}. {qa.answer}"
    if qa.abstain or qa.answer == ABSTAIN:
        return ABSTENTION_SENTENCE
    if qa.answer_type == "number":
        unit = UNIT_SYMBOLS.get(qa.unit, qa.unit)
        return f"{qa.answer} {unit}" if unit else qa.answer
    return qa.answer


def name_frame(qa: QA, words: str) -> QA:
    """``qa`` with its one frame (a ``frame`` slot, 0-based; the dataset's question says
    "frame N", 1-based) named by ``words`` instead, as the model is shown it ("frame 3" of the
    frames sent, "the frame at 1.38 s" of a video). Questions without a frame slot are returned as they are."""
    if "frame" not in qa.slots:
        return qa
    text = re.sub(rf"\bframe {int(qa.slots['frame']) + 1}\b", words, qa.question)
    return qa if text == qa.question else qa.model_copy(update={"question": text})
