"""Reference answers for the LLM-compiler tests (tests/test_compile.py): the metadata definitions
of two families, written with numpy from the episode model. They exercise the compiler's
verification against a reference; they are not evidence audits (the auditor that checks answers
against what the video shows is synth/audit/)."""

from __future__ import annotations

from synth.core.scene import Episode


def oracle(family: str, ep: Episode, slots: dict, min_px: int, min_frames: int):
    """The family's answer for ``slots`` from the scene metadata, or None where it does not apply."""
    objects = {o.id: o for o in ep.scene.objects}
    if family == "object_height":
        return round(objects[slots["a"]].box.size[2], 2)
    if family == "relative_vertical":
        a, b = (objects[slots[s]] for s in ("a", "b"))
        bottom = {o.id: ep.pose(o.id, 0).position[2] - o.box.size[2] / 2 for o in (a, b)}
        top = {o.id: ep.pose(o.id, 0).position[2] + o.box.size[2] / 2 for o in (a, b)}
        if bottom[a.id] > top[b.id] + 0.05:
            return "above"
        if top[a.id] < bottom[b.id] - 0.05:
            return "below"
        return None
    raise KeyError(f"no reference for {family!r}")
