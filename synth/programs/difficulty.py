"""How hard an item is (issue #32): measured from the evidence its answer rests on, a level per
family from thresholds the family writes down, and the weights an adapted run draws items with.

``Difficulty`` (the record items ship, ``synth.core.records``) holds the measures; ``Levels`` (a
family's ``levels``) turns one measure into ``easy``/``medium``/``hard``, as VSI-Bench's
direction tiers turn the angle's distance from a direction's border into a task of their own;
``Adaptation`` (``RunConfig.adaptation``, computed from a ``synth eval`` report by
``synth.evaluation.adapt``) says how many items of each family and level a run keeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from synth.core.records import LEVELS, Difficulty, Level

if TYPE_CHECKING:  # the family schema (which holds ``Levels``) is read where the scene API's imports are not
    import numpy as np

    from synth.programs.scene_api import SceneAPI

Measure = Literal["margin", "seen", "look_alikes", "span", "count"]


class Levels(BaseModel):
    """A family's difficulty levels: thresholds on one ``Difficulty`` measure (``by``).

    Where ``easy`` > ``medium`` a larger value is easier (a margin, the share seen): at least
    ``easy`` is easy, at least ``medium`` medium, less hard. Where ``easy`` < ``medium`` a smaller
    value is easier (a count, look-alikes, frames apart): at most ``easy`` is easy, at most
    ``medium`` medium, more hard. An item without the measure (no ``scene.margin`` call, no named
    object) takes its level from ``FALLBACK``, then ``medium``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    by: Measure = "margin"
    medium: float = 1.5
    easy: float = 3.0

    @model_validator(mode="after")
    def _ordered(self) -> Levels:
        if self.easy == self.medium:
            raise ValueError("levels: easy and medium must differ (their order says which way is easier)")
        return self

    def level(self, value: float | None) -> Level | None:
        """The level of ``value`` (None where the item lacks the measure)."""
        if value is None:
            return None
        if self.easy > self.medium:
            return "easy" if value >= self.easy else "medium" if value >= self.medium else "hard"
        return "easy" if value <= self.easy else "medium" if value <= self.medium else "hard"


FALLBACK = Levels(by="seen", medium=0.15, easy=0.35)  # share of the objects' surface the video shows


def measure(
    levels: Levels, api: SceneAPI, objects: list[int], margin: float | None, count: int | None = None
) -> Difficulty:
    """The difficulty of an item naming ``objects`` (ids, picked ones included) whose program
    recorded ``margin`` (``Outcome.margin``), in the view of the video ``api`` gives."""
    seen = [o for o in api.object_ids() if api.seen(o)]
    categories = {api.object(o).category for o in objects}
    firsts = [f for f in (api.first_seen(o) for o in objects) if f >= 0]
    found = {
        "margin": None if margin is None else round(float(margin), 3),
        "seen": round(min(api.surface_seen(o) for o in objects), 3) if objects else None,
        "look_alikes": sum(1 for o in seen if o not in objects and api.object(o).category in categories),
        "span": max(firsts) - min(firsts) if firsts else 0,
        "count": count,
    }
    level = levels.level(found[levels.by]) or FALLBACK.level(found[FALLBACK.by]) or "medium"
    return Difficulty(level=level, **found)


class FamilyWeights(BaseModel):
    """How an adapted run draws one family's items."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    share: float = Field(1.0, ge=0.0, le=2.0)  # questions per episode, times ``questions_per_family``
    levels: dict[Level, float] = Field(default_factory=lambda: dict.fromkeys(LEVELS, 1.0))  # keep probability


class Adaptation(BaseModel):
    """Weights an adapted run draws items with (``synth run --adapt-from REPORT``): per family a
    share and a keep probability per level, and the scene knobs; the report it came from, by digest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    report_sha256: str
    band: tuple[float, float]  # the target accuracy band the weights steer toward (fractions)
    families: dict[str, FamilyWeights]
    # scene knobs: source settings the run sets (``min_objects``, ``max_objects`` of a procedural room)
    scene: dict[str, int] = Field(default_factory=dict)

    def keep(self, family: str, level: Level | None, rng: np.random.Generator) -> bool:
        """Whether to keep a candidate of ``family`` at ``level`` (one draw from ``rng`` only where
        its weight is below 1, so that families the report leaves alone ask what they asked)."""
        w = self.families[family].levels.get(level, 1.0) if family in self.families and level else 1.0
        return w >= 1.0 or rng.random() < w

    def per_family(self, family: str, n: int) -> int:
        """Questions to ask of ``family`` per episode where an unadapted run asks ``n``."""
        return n if family not in self.families else int(round(n * self.families[family].share))
