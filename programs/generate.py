"""Turn an episode into verified QA items."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np

from sim_adapters.scene import Episode

from .family import QA, Family, canonical_answer
from .library import FAMILIES
from .scene_api import SceneAPI


class VerificationError(ValueError):
    """An answer failed verification (type or determinism)."""


def visible_objects(episode: Episode, min_pixels: int, min_frames: int) -> list[int]:
    """Objects seen with at least ``min_pixels`` pixels in at least ``min_frames`` frames."""
    return sorted(v.id for v in episode.visibility if sum(c >= min_pixels for c in v.pixels) >= min_frames)


def unambiguous(episode: Episode) -> set[int]:
    """Objects whose description names exactly one object in the scene."""
    counts = Counter(o.description for o in episode.scene.objects)
    return {o.id for o in episode.scene.objects if counts[o.description] == 1}


def check_type(family: Family, value) -> None:
    ok = {
        "number": isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
        "yes/no": value in ("yes", "no"),
        "object": isinstance(value, int) and not isinstance(value, bool),
        "multiple choice": isinstance(value, str),
    }[family.answer_type]
    if not ok:
        raise VerificationError(f"{family.id}: answer {value!r} is not a valid {family.answer_type}")


def run_program(family: Family, api: SceneAPI, slots: dict[str, int]):
    """Run a family's program twice; return the answer if it type-checks and is deterministic."""
    first = family.program(api, **slots)
    check_type(family, first)
    if family.program(api, **slots) != first:
        raise VerificationError(f"{family.id}: program is not deterministic on {slots}")
    return first


def generate_questions(
    episode: Episode,
    rng: np.random.Generator,
    per_family: int = 3,
    min_pixels: int = 100,
    min_frames: int = 2,
    families: dict[str, Family] | None = None,
) -> list[QA]:
    """Up to ``per_family`` verified questions per family about objects visible in the video."""
    api = SceneAPI(episode, min_visible_pixels=min_pixels)
    candidates = sorted(set(visible_objects(episode, min_pixels, min_frames)) & unambiguous(episode))
    items: list[QA] = []
    for family in (families or FAMILIES).values():
        bindings = list(itertools.permutations(candidates, len(family.slots)))
        if family.slots == ("a", "b"):  # symmetric pair: one order per pair
            bindings = [b for b in bindings if b[0] < b[1]]
        if not bindings:
            continue
        for k in rng.permutation(len(bindings))[:per_family]:
            slots = dict(zip(family.slots, (int(x) for x in bindings[k])))
            value = run_program(family, api, slots)
            evidence = [f for f in range(api.num_frames) if all(api.is_visible(o, f) for o in slots.values())]
            template = family.templates[int(rng.integers(len(family.templates)))]
            question = template.format(**{s: episode.scene.object(o).description for s, o in slots.items()})
            text, number = canonical_answer(family.answer_type, value, lambda i: episode.scene.object(i).description)
            items.append(
                QA(
                    id=f"{family.id}-{len(items)}",
                    family=family.id,
                    program_id=family.program_id,
                    question=question,
                    slots=slots,
                    answer=text,
                    value=number,
                    answer_type=family.answer_type,
                    unit=family.unit,
                    tolerance=family.tolerance,
                    definition=family.definition,
                    evidence_frames=evidence,
                )
            )
    return items


def recompute(episode: Episode, items: list[QA], min_pixels: int) -> list[str]:
    """Re-run every item's program on the episode; return a message per mismatch."""
    api = SceneAPI(episode, min_visible_pixels=min_pixels)
    by_program = {f.program_id: f for f in FAMILIES.values()}
    problems = []
    for qa in items:
        family = by_program.get(qa.program_id)
        if family is None:
            problems.append(f"{qa.id}: unknown program {qa.program_id}")
            continue
        text, number = canonical_answer(
            family.answer_type, family.program(api, **qa.slots), lambda i: episode.scene.object(i).description
        )
        if (text, number) != (qa.answer, qa.value):
            problems.append(f"{qa.id}: shipped answer {qa.answer!r}, recomputed {text!r}")
    return problems
