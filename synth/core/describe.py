"""Descriptions that tell look-alikes apart.

Sources describe objects in their own words (the procedural sampler: colour, material and
category; AI2-THOR: the object type only, so a kitchen has several identical "chair"s). A
description used for more than one object would make a question ambiguous; instead of
dropping those objects, ``describe`` adds the first qualifier that separates the group, in
this order, each only when it is plain to see:

1. what it stands on, when those differ and are themselves unambiguous: "chair on the floor",
   "vase on the dining table";
2. height, when every pair in the group differs by at least ``SIZE_MARGIN`` (relative):
   "taller chair" / "shorter chair" for two, "tallest" / "shortest" plus "middle" for three;
3. size of the footprint (depth x width), with the same margin: "larger" / "smaller" ...

A qualified object records its group in ``look_alikes``: a viewer can only pick "the taller
chair" after seeing both, so question generation names it only when the video shows every
member of its group. Groups that no qualifier separates keep their shared description and are
not asked about (``synth.programs.generate.unambiguous``).
"""

from __future__ import annotations

from collections import defaultdict

from synth.core.scene import ROOM_ID, Scene, SceneObject

SIZE_MARGIN = 0.15  # sizes within 15% of each other are not told apart by eye
HUNG = 0.05  # metres: a thing the room holds with its bottom this high or higher hangs on a wall
HEIGHT_WORDS = (("taller", "shorter"), ("tallest", "middle", "shortest"))
SIZE_WORDS = (("larger", "smaller"), ("largest", "middle", "smallest"))


def describe(scene: Scene) -> Scene:
    """``scene`` with colliding descriptions qualified and ``look_alikes`` filled in."""
    groups: dict[str, list[SceneObject]] = defaultdict(list)
    for o in scene.objects:
        groups[o.description.strip().lower()].append(o)
    if all(len(g) == 1 for g in groups.values()):
        return scene
    unique = {g[0].id: g[0].description for g in groups.values() if len(g) == 1}
    updates: dict[int, dict] = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        ids = [o.id for o in group]
        words = (
            _on_what(group, unique)
            or _ranked(group, lambda o: o.box.size[2], HEIGHT_WORDS)
            or _ranked(group, lambda o: o.box.size[0] * o.box.size[1], SIZE_WORDS)
        )
        for o in group:
            update: dict = {"look_alikes": [i for i in ids if i != o.id]}
            if words:
                update["description"] = words[o.id]
            updates[o.id] = update
    objects = [o.model_copy(update=updates.get(o.id, {})) for o in scene.objects]
    return scene.model_copy(update={"objects": objects})


def _on_what(group: list[SceneObject], unique: dict[int, str]) -> dict[int, str] | None:
    supports = [o.supported_by for o in group]
    if len(set(supports)) < len(group) or any(s != ROOM_ID and s not in unique for s in supports):
        return None
    return {o.id: f"{o.description} on the {_support_word(o, unique)}" for o in group}


def _support_word(obj: SceneObject, unique: dict[int, str]) -> str:
    """What holds ``obj``: its supporter's unique words, else the floor, or the wall for a thing
    the room holds off the floor (hung: wall art, a mirror)."""
    if obj.supported_by != ROOM_ID:
        return unique[obj.supported_by]
    return "floor" if obj.box.center[2] - obj.box.size[2] / 2 < HUNG else "wall"


def _ranked(group: list[SceneObject], size, words: tuple[tuple[str, ...], ...]) -> dict[int, str] | None:
    """Qualifiers by ``size`` (largest first) for groups of two or three whose sizes differ
    pairwise by more than the margin."""
    ranked = sorted(group, key=size, reverse=True)
    values = [size(o) for o in ranked]
    if len(group) > 3 or any(b > a * (1 - SIZE_MARGIN) for a, b in zip(values, values[1:])):
        return None
    return {o.id: f"{w} {o.description}" for o, w in zip(ranked, words[len(group) - 2])}
