"""Plan and render one episode of a scene with any renderer backend."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import numpy as np

from synth.core.plugin import Renderer
from synth.core.render_types import FrameBuffers
from synth.core.scene import Episode, Scene, VideoSpec, VisibilityRule
from synth.core.visibility import visibility_table
from synth.planning.planner import plan_episode
from synth.planning.tour import plan_tour


def shoot(
    renderer: Renderer,
    scene: Scene,
    video: VideoSpec,
    rule: VisibilityRule,
    rng: np.random.Generator,
    *,
    dynamic: bool,
    targets: int = 3,
    candidates: int = 8,
    timings: dict[str, float] | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_frame: Callable[[], None] | None = None,
    trajectory: Literal["clip", "tour"] = "clip",
    rooms: list[int] | None = None,
) -> tuple[Episode, FrameBuffers]:
    """Open ``scene`` in ``renderer``, plan a camera path (and, if ``dynamic``, an object motion)
    for the renderer's camera, render it, and count visibility on the rendered instance masks.
    ``trajectory`` "clip": a short path around ``targets`` objects (``planner.plan_episode``);
    "tour": a walk through ``rooms`` (None: every room) filling the video
    (``tour.plan_tour``; no object motion, ``dynamic``, ``targets`` and ``candidates`` unused).
    ``planner.NoCameraPath`` when the scene leaves no path. ``timings`` gets "open" (the
    scene built in the renderer), "plan" and "render" seconds; ``on_stage("planning" |
    "rendering")`` and ``on_frame()`` report progress."""
    if trajectory not in ("clip", "tour"):
        raise ValueError(f"trajectory {trajectory!r} is not 'clip' or 'tour'")
    t = time.perf_counter()
    if on_stage:
        on_stage("planning")
    session = renderer.open(scene, video)
    t_open = time.perf_counter()
    try:
        if trajectory == "tour":
            plan = plan_tour(scene, video, rule, renderer.intrinsics(video), rng, session.measure_visibility, rooms)
        else:
            plan = plan_episode(
                scene,
                video,
                rule,
                renderer.intrinsics(video),
                rng,
                session.measure_visibility,
                dynamic=dynamic,
                n_targets=targets,
                candidates=candidates,
            )
        t1 = time.perf_counter()
        if on_stage:
            on_stage("rendering")
        buffers = session.render(plan.frames, on_frame)
    finally:
        session.close()
    if timings is not None:
        timings["open"] = t_open - t
        timings["plan"] = t1 - t_open
        timings["render"] = time.perf_counter() - t1
    visibility = visibility_table(buffers.instance, [o.id for o in scene.objects])
    return plan.episode(scene, video, rule, visibility, renderer=renderer.describe()), buffers
