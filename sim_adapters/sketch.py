"""Episodes without rendering, for verifying programs on many scenes quickly: visibility is
approximated by the clipped area of each object's projected 3D box (no occlusion). Never used
for shipped data, whose visibility always comes from rendered instance masks."""

from __future__ import annotations

import numpy as np

from .geometry import project
from .planner import plan_episode
from .scene import Episode, Frame, ObjectVisibility, Scene


def box_visibility(scene: Scene, frames: list[Frame], width: int, height: int) -> dict[int, list[int]]:
    """Approximate visible pixels per object per frame (60% of the projected box's rectangle)."""
    out = {o.id: [0] * len(frames) for o in scene.objects}
    for f, frame in enumerate(frames):
        for pose in frame.object_poses:
            uv, z = project(frame.camera, np.asarray(scene.object(pose.id).box.at(pose).corners()))
            if (z <= 0.05).any():
                continue
            x0, x1 = np.clip([uv[:, 0].min(), uv[:, 0].max()], 0, width)
            y0, y1 = np.clip([uv[:, 1].min(), uv[:, 1].max()], 0, height)
            out[pose.id][f] = int((x1 - x0) * (y1 - y0) * 0.6)
    return out


def sketch_episode(
    scene: Scene, frames: int, width: int, height: int, rng: np.random.Generator, dynamic: bool, min_pixels: int
) -> Episode:
    """A planned (camera path, ego actions, object motion) episode with sketched visibility."""
    measure = lambda fr: box_visibility(scene, fr, width, height)  # noqa: E731
    plan = plan_episode(scene, frames, width, height, 8.0, rng, measure, dynamic=dynamic, min_pixels=min_pixels)
    visibility = [ObjectVisibility(id=i, pixels=p) for i, p in measure(plan.frames).items()]
    return plan.episode(scene, width, height, 8.0, visibility, min_pixels=min_pixels)
