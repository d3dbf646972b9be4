"""The records a dataset ships: one question-answer item (``QA``) and the JSON of one sample
(``SampleMeta``, ``{key}.json`` in the shards). The programs produce them and storage writes
them; neither owns their shape."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_serializer

from synth.core.scene import Episode

AnswerType = Literal["yes/no", "multiple choice", "number", "object"]


class QA(BaseModel):
    """One question about an episode and its verified answer."""

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
    # a streaming question: asked at this frame, answered from the frames up to and including it
    # only (``synth.programs.scene_api.prefix_episode``); None: about the whole video
    query_frame: int | None = None

    @model_serializer(mode="wrap")
    def _dump(self, handler) -> dict[str, Any]:
        """Every field; ``query_frame`` only where it is set (datasets without streaming
        questions stay as they were, byte for byte)."""
        data = handler(self)
        if data.get("query_frame", 0) is None:
            del data["query_frame"]
        return data


class FamilyGeneration(BaseModel):
    """How one family's candidates fared in an episode (``synth.programs.generate.GenerationReport``)."""

    candidates: int
    dropped: int  # no answer the evidence supports
    why: dict[str, int]  # dropped, per reason the program gave
    rejected: int  # the program failed or gave an invalid answer
    asked: int


class SampleMeta(BaseModel):
    """The JSON of one sample (``{key}.json``): the episode it shows, its questions and where
    they come from. ``config`` is the run's ``RunConfig`` minus run size and sharding."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    index: int  # episode index in the run
    seed: int  # the episode's seed (derived from the run seed)
    variant: str  # "clean" or "<degradation>-<severity>"
    episode: Episode
    questions: list[QA]
    config: dict[str, Any]
    degradation: dict[str, Any] | None = None  # the variant's degradation parameters
    generation: dict[str, FamilyGeneration] | None = None  # clean samples: per family
    code_version: str  # synth's code that wrote it (synth.flows.version)
