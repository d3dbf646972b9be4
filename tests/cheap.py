"""Episodes without a renderer, for tests that need many: visibility is approximated by the
clipped area of each object's projected box (no occlusion). Program-vs-oracle agreement does
not depend on where visibility came from, only that both read the same table."""

from __future__ import annotations

import numpy as np

from sim_adapters.geometry import project
from sim_adapters.planner import plan_episode
from sim_adapters.procedural import sample_scene
from sim_adapters.scene import Episode, Frame, ObjectVisibility


def box_pixels(scene, frames: list[Frame], width: int, height: int) -> dict[int, list[int]]:
    out = {o.id: [0] * len(frames) for o in scene.objects}
    for f, frame in enumerate(frames):
        for pose in frame.object_poses:
            box = scene.object(pose.id).box.at(pose)
            uv, z = project(frame.camera, np.asarray(box.corners()))
            if (z <= 0.05).any():
                continue
            x0, x1 = np.clip([uv[:, 0].min(), uv[:, 0].max()], 0, width)
            y0, y1 = np.clip([uv[:, 1].min(), uv[:, 1].max()], 0, height)
            out[pose.id][f] = int((x1 - x0) * (y1 - y0) * 0.6)
    return out


def cheap_episode(
    seed: int, frames: int = 8, width: int = 160, height: int = 120, dynamic: bool | None = None, min_pixels: int = 30
) -> Episode:
    scene = sample_scene(seed)
    rng = np.random.default_rng([seed, 1])
    measure = lambda fr: box_pixels(scene, fr, width, height)  # noqa: E731
    plan = plan_episode(
        scene,
        frames,
        width,
        height,
        8.0,
        rng,
        measure,
        dynamic=bool(rng.random() < 0.5) if dynamic is None else dynamic,
        min_pixels=min_pixels,
    )
    vis = measure(plan.frames)
    return Episode(
        scene=scene,
        width=width,
        height=height,
        fps=8.0,
        frames=plan.frames,
        visibility=[ObjectVisibility(id=i, pixels=p) for i, p in vis.items()],
        actions=plan.actions,
        motions=plan.motions,
        targets=plan.targets,
    )
