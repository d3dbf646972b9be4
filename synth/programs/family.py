"""Question families (the QA items they produce are ``synth.core.records.QA``, re-exported here).

``Family`` is the one schema of a question family: library families, compiled families and the
families users describe in YAML (``FamilySpec``, the same fields without a program yet, plus two
compile settings) are all validated by it. ``synth.programs.family_io`` reads and writes it on disk.
"""

from __future__ import annotations

import hashlib
import keyword
import re
import string
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from synth.core.records import QA as QA  # the items families produce (defined with the sample records)
from synth.core.records import AnswerType
from synth.programs.difficulty import Levels

SlotKind = Literal["object", "frame", "category", "choice"]
Distractors = Literal["seen", "movable", "supporters"]
CategoryPool = Literal["unambiguous", "seen"]
ANSWER_TYPES: tuple[str, ...] = get_args(AnswerType)
SLOT_KINDS: tuple[str, ...] = get_args(SlotKind)
ABSTAIN = "cannot be determined from the video"
FLOOR = "the floor"
FAMILY_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # ids name files
_SLOT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class FamilySpecError(ValueError):
    """A family description or family file is invalid (the message names the family and the field)."""


def template_slots(template: str) -> set[str]:
    """The ``{placeholders}`` of a str.format template (ValueError if it is malformed)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


class Family(BaseModel):
    """A question family: paraphrased templates with slots, an answer type and a program.

    The program (``source``) is untrusted source text defining ``answer(scene, **slots)`` (see
    ``synth.programs.restricted``); it returns the answer, or None when the question does not apply
    to these slot values (e.g. two objects at the same height for "which is taller"). It is ""
    only while a family is still being compiled. Construction validates every field and the
    rules between them (pydantic ``ValidationError``, a ``ValueError``): every template uses
    exactly the slots, choice slots have their values, options exactly for multiple choice, ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    id: str
    templates: tuple[str, ...]  # str.format over slot renderings
    slots: dict[str, SlotKind] = Field(default_factory=dict)  # name -> kind, in signature order
    answer_type: AnswerType
    source: str = ""
    unit: str = ""
    tolerance: float = 0.0  # relative tolerance for number answers
    options: tuple[str, ...] = ()  # multiple choice: the fixed options
    symmetric: bool = False  # object slots are unordered (one binding per set)
    slot_values: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # values of "choice" slots
    # answers that scenes produce far more often than others are kept with this probability
    # (e.g. "how many" is mostly 1), so that no answer dominates the family in a large run
    keep: dict[str, float] = Field(default_factory=dict)
    # choice slots whose values the question shows and that could tell the answer (a 1 m step
    # "forward" mostly brings things "closer"): items are picked in sets holding every answer once
    # per combination of these values, so that the words alone never tell the answer
    balance_by: tuple[str, ...] = ()
    # object answers: which objects the wrong options come from (any the video shows, or only those
    # that could be the answer: ones that can move, ones something stands on), so that no option
    # is ruled out by what it is
    distractors: Distractors = "seen"
    # VSI-Bench (issue #28): the slots whose values make an item's options, listed in the question
    # -- object slots (an object answer: the options are the objects they name, "which of these
    # four") or category slots (a multiple choice answer: an order of their values, "chair, table,
    # sofa, lamp", the wrong options other orders); empty: fixed ``options``, or objects per
    # ``symmetric`` and ``distractors``
    option_slots: tuple[str, ...] = ()
    # which categories a category slot takes: those of the seen, unambiguously described objects
    # (one drawn per episode), or every category with a seen object, each a candidate ("seen")
    category_pool: CategoryPool = "unambiguous"
    # streaming (issue #28): each item is asked again at several moments of the video, answered from
    # the frames up to each (``QA.query_frame``; ``generate.streaming_items``)
    streaming: bool = False
    # object slots the program picks (VSI-Bench's route planning picks the landmarks of a route):
    # called without them it returns ``{"answer": ..., slot: object id, ...}``; called with them
    # (re-answered, recomputed) it answers only for those, the same dict
    chosen_slots: tuple[str, ...] = ()
    # multiple choice: how many of ``options`` an item offers (the answer and others drawn at
    # random, as VSI-Bench's four of its route plans); 0: every option
    offer: int = 0
    # slot bindings tried per episode (a program that drops most, as route planning does for
    # objects not standing on the floor, needs more)
    candidates: int = Field(16, ge=1, le=256)
    # depth families (issue #34): items are labelled against the perspective prior (QA.perspective,
    # from the two object slots in the frame slot), and a run with ``balance_perspective`` asks as
    # many that go against it as agree with it
    contrast: bool = False
    # difficulty levels (issue #32): thresholds on one measure of ``Difficulty`` (default: the
    # program's ``scene.margin`` over 1.5 medium, over 3 easy)
    levels: Levels = Levels()
    tags: tuple[str, ...] = ()
    definition: str = ""
    provenance: dict[str, str] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not FAMILY_ID.match(v):
            raise ValueError(f"id must match {FAMILY_ID.pattern} (it names files)")
        return v

    @field_validator("answer_type", mode="before")
    @classmethod
    def _answer_type(cls, v: Any) -> Any:
        if v not in ANSWER_TYPES:
            raise ValueError(f"answer_type must be one of {', '.join(ANSWER_TYPES)}, got {v!r}")
        return v

    @field_validator("slots", mode="before")
    @classmethod
    def _slots(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            raise ValueError(f"slots must map names to kinds ({', '.join(SLOT_KINDS)})")
        for name, kind in v.items():
            if not _SLOT_NAME.match(str(name)) or keyword.iskeyword(name) or name in ("scene", "math"):
                raise ValueError(f"slot name {name!r} is not a lowercase identifier (or is reserved)")
            if kind not in SLOT_KINDS:
                raise ValueError(
                    f"slot {name!r} has kind {kind!r}; use one of object, frame, category or {{choice: [value, ...]}}"
                )
        return v

    @field_validator("templates")
    @classmethod
    def _templates(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v or not all(t.strip() for t in v):
            raise ValueError("needs a question (templates: a list of questions)")
        return tuple(t.strip() for t in v)

    @field_validator("definition")
    @classmethod
    def _definition(cls, v: str) -> str:
        return v.strip()

    @model_validator(mode="after")
    def _consistent(self) -> Family:
        for t in self.templates:
            try:
                used = template_slots(t)
            except ValueError as e:
                raise ValueError(f"question {t!r} is not a valid template: {e}") from None
            if used != set(self.slots):
                raise ValueError(
                    f"question {t!r} uses slots {sorted(used)} but the family declares {sorted(self.slots)}"
                )
        for name, kind in self.slots.items():
            if kind == "choice" and len(self.slot_values.get(name, ())) < 2:
                raise ValueError(f"choice slot {name!r} needs a list of at least two values")
        if extra := sorted(set(self.slot_values) - {s for s, k in self.slots.items() if k == "choice"}):
            raise ValueError(f"slot_values given for {extra}, which are not choice slots")
        if self.option_slots:
            kinds = {self.slots.get(s) for s in self.option_slots}
            if len(self.option_slots) < 2 or not (
                (kinds == {"object"} and self.answer_type == "object")
                or (kinds == {"category"} and self.answer_type == "multiple choice" and not self.options)
            ):
                raise ValueError(
                    "option_slots names two or more object slots (an object answer) or category slots"
                    " (a multiple choice answer without fixed options)"
                )
        elif self.answer_type == "multiple choice" and len(self.options) < 2:
            raise ValueError("a multiple choice family needs options (at least two)")
        if self.answer_type != "multiple choice" and self.options:
            raise ValueError("options only apply to multiple choice families")
        if not 0 <= self.tolerance < 1:
            raise ValueError("tolerance must be in [0, 1)")
        if self.symmetric and len(self.object_slots()) < 2:
            raise ValueError("symmetric needs at least two object slots")
        if not all(0 <= p <= 1 for p in self.keep.values()):
            raise ValueError("keep probabilities must be in [0, 1]")
        if bad := [s for s in self.balance_by if self.slots.get(s) != "choice"]:
            raise ValueError(f"balance_by names {bad}, which are not choice slots")
        if self.balance_by and self.answer_type not in ("multiple choice", "yes/no"):
            raise ValueError("balance_by needs a fixed set of answers (multiple choice or yes/no)")
        if bad := [s for s in self.chosen_slots if self.slots.get(s) != "object"]:
            raise ValueError(f"chosen_slots names {bad}, which are not object slots")
        if self.offer and not (self.answer_type == "multiple choice" and 2 <= self.offer <= len(self.options)):
            raise ValueError("offer is a number of a multiple choice family's fixed options (at least two)")
        if self.distractors != "seen" and self.answer_type != "object":
            raise ValueError("distractors only apply to object answers")
        if self.contrast and (len(self.object_slots()) != 2 or "frame" not in self.slots.values()):
            raise ValueError("contrast needs two object slots and a frame slot (the pair's depths in that frame)")
        return self

    @property
    def program_id(self) -> str:
        """Content address of the program: the same id always means the same code."""
        return f"{self.id}@{hashlib.sha256(self.source.encode()).hexdigest()[:12]}"

    def object_slots(self) -> list[str]:
        return [s for s, k in self.slots.items() if k == "object"]

    def drawn_slots(self) -> list[str]:
        """The object slots a generator draws (all but ``chosen_slots``)."""
        return [s for s in self.object_slots() if s not in self.chosen_slots]

    @property
    def orders(self) -> bool:
        """The answer is an order of the option slots' categories (``option_slots``)."""
        return bool(self.option_slots) and self.answer_type == "multiple choice"


class FamilySpec(Family):
    """A family as a user describes it, before compilation: a ``Family`` without a program, plus
    what the compiler needs to know (the reference to agree with, how many paraphrases to ask for)."""

    reference: str = ""  # id of a library family / oracle this family must agree with
    paraphrases: int = Field(0, ge=0, le=5)  # extra templates to ask the model for (kept if the slots survive)

    def family(self, source: str = "", **changes: Any) -> Family:
        """The compiled ``Family``: this spec with ``source`` as its program, tagged user/compiled,
        with ``changes`` (e.g. ``templates``, ``provenance``) applied."""
        fields = self.model_dump(exclude={"reference", "paraphrases"})
        return Family(**{**fields, "source": source, "tags": (*self.tags, "user", "compiled"), **changes})


def plural(noun: str) -> str:
    if noun.endswith("shelf"):
        return noun[:-1] + "ves"
    if noun.endswith(("x", "s", "ch", "sh")):
        return noun + "es"
    return noun + "s"
