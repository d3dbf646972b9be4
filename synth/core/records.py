"""The records a dataset ships: one question-answer item (``QA``) and the JSON of one sample
(``SampleMeta``, ``{key}.json`` in the shards). The programs produce them and storage writes
them; neither owns their shape."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_serializer

from synth.core.scene import Episode, Frame

AnswerType = Literal[
    "yes/no", "multiple choice", "number", "object", "2d box", "2d point", "3d box", "3d point", "cognitive map"
]
# answers given as coordinates (issue #33): their text is JSON (``Grounding`` says where it lives)
GROUNDED: tuple[str, ...] = ("2d box", "2d point", "3d box", "3d point", "cognitive map")
# the coordinate conventions a grounded answer names (``Grounding.convention``): absolute pixels of
# the delivered frames (Qwen2.5-VL), 0-1000 of the frame's width and height (Qwen2-VL, InternVL),
# metres in the camera frame of a frame (OpenCV: x right, y down, z forward), cells of a top-down grid
Convention = Literal["pixels", "0-1000", "camera", "grid"]
Level = Literal["easy", "medium", "hard"]
LEVELS: tuple[Level, ...] = ("easy", "medium", "hard")


class Difficulty(BaseModel):
    """How hard one item is, measured from the evidence its answer rests on (issue #32); the
    family's ``levels`` (``synth.programs.difficulty.Levels``) turn one of these into ``level``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    level: Level
    # the program's measured quantity over the family's threshold (>= 1 for an asked item; the
    # smallest over its ``scene.margin`` checks): pixel separation, depth or distance gap, angle
    # from a direction's border, ...; None: the program compares against no threshold
    margin: float | None = None
    seen: float | None = None  # smallest share of a named object's surface the video shows (0-1); None: no object
    look_alikes: int = 0  # seen objects of a named object's category the item does not name
    span: int = 0  # frames between the first frames showing the named objects (0: one object, or all at once)
    count: int | None = None  # what the answer counts (objects, a route's steps), where it counts
    severity: int = 0  # the degradation's severity (1-5) of the sample's video; 0: the clean video


PAIR = "pair"  # the variant of a minimal pair's sample (issue #34): the episode with one object moved
RENDERED = ("clean", PAIR)  # variants whose video is a render of their own, not a degradation of the clean one
WHICH_VIEW = "which_view"  # the family of "which view would settle it" items (issue #34)

# QA fields a dump leaves out where unset (``QA._dump``)
ADDED_SINCE_28 = (
    "query_frame", "difficulty", "needs_order", "single_frame", "perspective", "trace", "reasoning", "grounding",
    "pair", "settles",
)  # fmt: skip


class Grounding(BaseModel):
    """Where the coordinates of a grounded answer (``GROUNDED``; issue #33) live.

    The answer text is JSON in this convention:
    - ``2d box``: ``[x1, y1, x2, y2]``, the tight box of the object's visible pixels in ``frame``,
      pixel edges (a one-pixel object at column u, row v is ``[u, v, u + 1, v + 1]``); ``0-1000``:
      each coordinate times 1000 over the frame's width or height, rounded.
    - ``2d point``: ``[x, y]``, a point on the object in ``frame`` (the visible pixel farthest from
      its mask's outline, at the pixel's centre), in ``pixels`` or ``0-1000``.
    - ``3d box``: ``[x, y, z, l, w, h, roll, pitch, yaw]``, the object's tight box in the camera
      frame of ``frame`` (``camera``: metres, OpenCV axes): centre, size along the box's own axes
      (its front, its left side, up), and its rotation R = Rz(yaw) Ry(pitch) Rx(roll) from those
      axes to the camera's, radians (the 9-DoF boxes of OpenSpatial and EmbodiedScan).
    - ``3d point``: ``[x, y, z]``, the centre of that box, camera frame of ``frame``, metres.
    - ``cognitive map``: ``{"category": [[column, row]], ...}``, the cell of each named category's
      object on a ``cells`` x ``cells`` top-down grid (VSI-Bench's cognitive map probe); the grid's
      axes run along the room's walls and it spans the smallest square holding the objects' centres.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    convention: Convention
    frame: int | None = None  # the frame (0-based) of 2D and camera-frame answers; None: the whole video
    width: int  # pixels of the delivered frames (what ``pixels`` and ``0-1000`` refer to)
    height: int
    cells: int = 0  # cognitive maps: grid cells per side


class TraceStep(BaseModel):
    """One read of a program's reasoning trace (issue #33; ``synth.programs.trace``): a scene API
    call, its arguments and the value it returned, each as JSON text (numbers to 4 decimals; text,
    so that every step has the same Arrow type whatever a call returns)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    call: str  # the SceneAPI method or property ("..." : the trace was cut off here)
    args: str = "[]"  # JSON list of the positional arguments
    kwargs: str = "{}"  # JSON object of the keyword arguments
    value: str = "null"  # JSON of the value returned


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
    difficulty: Difficulty | None = None  # None: an abstention, or a dataset made before issue #32
    # issue #34 (``synth.programs.generate.order_checks``): whether the answer needs the frames'
    # order (recomputed on the video reversed or shuffled, it changes or cannot be given), and
    # whether one frame alone settles it (recomputed on the middle evidence frame alone, it is the
    # same); None: an abstention, a streaming item, or a dataset made before
    needs_order: bool | None = None
    single_frame: bool | None = None
    # issue #34: for families with ``contrast`` (depth), whether the item agrees with the perspective
    # prior "higher in the image is farther" ("consistent") or goes against it: the farther object's
    # visible mask centroid is lower in the frame ("counter"); None: another family
    perspective: Literal["counter", "consistent"] | None = None
    # issue #33: what the program read to give the answer (recorded in the sandbox), and as text
    trace: list[TraceStep] | None = None
    reasoning: str | None = None
    # issue #33: a grounded answer's coordinate convention and frame (``GROUNDED`` answer types)
    grounding: Grounding | None = None
    # issue #34: a minimal pair's item (the same question, id and options in both samples, its answer
    # flipped by one object's move): the key of the other sample of the pair
    pair: str | None = None
    # issue #34: a "which view would settle it" item (``WHICH_VIEW``): per candidate view after the
    # video (``SampleMeta.views``), whether the asked family's question becomes answerable with it
    settles: list[bool] | None = None

    @model_serializer(mode="wrap")
    def _dump(self, handler) -> dict[str, Any]:
        """Every field; those added since issue #28 (``query_frame``, ``difficulty``, ``needs_order``,
        ``single_frame``, ``perspective``, ``trace``, ``reasoning``, ``grounding``, ``pair``,
        ``settles``) only where they are set (datasets without them stay as they were, byte for byte)."""
        data = handler(self)
        for optional in ADDED_SINCE_28:
            if optional in data and data[optional] is None:
                del data[optional]
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
    variant: str  # "clean", "<degradation>-<severity>" or "pair" (PAIR)
    episode: Episode
    questions: list[QA]
    config: dict[str, Any]
    degradation: dict[str, Any] | None = None  # the variant's degradation parameters
    generation: dict[str, FamilyGeneration] | None = None  # clean samples: per family
    # a minimal pair's sample (issue #34): the change that makes it from the clean episode (the object
    # moved, from and to where, the turn; ``synth.planning.pairs.Move.record``)
    change: dict[str, Any] | None = None
    # candidate views after the video (issue #34, ``--settle-views``; their pixels and passes in
    # ``views.npz``): the camera and the objects' poses of each
    views: list[Frame] | None = None
    code_version: str  # synth's code that wrote it (synth.flows.version)

    @model_serializer(mode="wrap")
    def _dump(self, handler) -> dict[str, Any]:
        """Every field; ``change`` and ``views`` only where set (the others stay as they were)."""
        data = handler(self)
        for optional in ("change", "views"):
            if data.get(optional) is None:
                data.pop(optional, None)
        return data
