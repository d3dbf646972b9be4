"""Question families and the QA items they produce."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

AnswerType = Literal["yes/no", "multiple choice", "number", "object"]
SlotKind = Literal["object", "frame", "category", "choice"]
ABSTAIN = "cannot be determined from the video"
FLOOR = "the floor"


@dataclass(frozen=True)
class Family:
    """A question family: paraphrased templates with slots, an answer type and a program.

    The program is untrusted source text defining ``answer(scene, **slots)`` (see
    ``programs.restricted``); it returns the answer, or None when the question does not apply
    to these slot values (e.g. two objects at the same height for "which is taller").
    """

    id: str
    templates: tuple[str, ...]  # str.format over slot renderings
    slots: dict[str, SlotKind]
    answer_type: AnswerType
    source: str
    unit: str = ""
    tolerance: float = 0.0  # relative tolerance for number answers
    options: tuple[str, ...] = ()  # multiple choice: the fixed options
    symmetric: bool = False  # object slots are unordered (one binding per set)
    slot_values: dict[str, tuple[str, ...]] = field(default_factory=dict)  # values of "choice" slots
    # answers that scenes produce far more often than others are kept with this probability
    # (e.g. "how many" is mostly 1), so that no answer dominates the family in a large run
    keep: dict[str, float] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    definition: str = ""
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def program_id(self) -> str:
        """Content address of the program: the same id always means the same code."""
        return f"{self.id}@{hashlib.sha256(self.source.encode()).hexdigest()[:12]}"

    def object_slots(self) -> list[str]:
        return [s for s, k in self.slots.items() if k == "object"]


class QA(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    family: str
    program_id: str
    question: str
    slots: dict[str, int | str]  # object ids, 0-based frame indices, category names
    answer: str  # canonical answer text; numbers with the family's precision
    value: float | None = None  # the exact number, for number answers
    choices: list[str] = []  # multiple choice / object answers: options in the order asked
    answer_type: AnswerType
    abstain: bool = False  # the video does not show what the question needs
    unit: str = ""
    tolerance: float = 0.0
    definition: str = ""
    evidence_frames: list[int] = []  # frames in which every named object is visible


def plural(noun: str) -> str:
    if noun.endswith("shelf"):
        return noun[:-1] + "ves"
    if noun.endswith(("x", "s", "ch", "sh")):
        return noun + "es"
    return noun + "s"
