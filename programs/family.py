"""Question families and the QA items they produce."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

AnswerType = Literal["yes/no", "multiple choice", "number", "object"]


@dataclass(frozen=True)
class Family:
    """A question family: paraphrased templates with slots, an answer type and a program."""

    id: str
    templates: tuple[str, ...]  # str.format templates over slot descriptions
    slots: tuple[str, ...]  # slot names; each binds an object id
    answer_type: AnswerType
    program: Callable[..., Any]  # answer(scene_api, **slots)
    program_id: str  # "<module>:<function>@<version>"
    unit: str | None = None
    tolerance: float | None = None  # relative tolerance for numbers
    definition: str = ""  # what the answer measures, shipped with every item


class QA(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    family: str
    program_id: str
    question: str
    slots: dict[str, int]  # slot -> object id
    answer: str  # canonical answer text (numbers with 2 decimals)
    value: float | None = None  # the exact number, for number answers
    answer_type: AnswerType
    unit: str | None = None
    tolerance: float | None = None
    definition: str = ""
    evidence_frames: list[int]  # frames in which every named object is visible


def canonical_answer(answer_type: AnswerType, value: Any, describe: Callable[[int], str]) -> tuple[str, float | None]:
    """A program's raw output -> (answer text, numeric value or None)."""
    if answer_type == "number":
        return f"{value:.2f}", float(value)
    if answer_type == "object":
        return describe(value), None
    return str(value), None
