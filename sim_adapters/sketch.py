"""Episodes without Blender, for verifying programs on many scenes quickly and for fast tests.

Visibility is measured, not approximated: every frame is rendered by a software z-buffer
(``sim_adapters.zbuffer``) of the same meshes Blender renders, with occlusion, pixel for pixel
(planar depth and instance ids; no lighting, so no RGB). ``sketch_passes`` returns those
passes, on which the evidence layer can be measured. Shipped data still comes from Blender.
"""

from __future__ import annotations

import numpy as np

from .planner import plan_episode
from .scene import Episode, ObjectVisibility, Scene
from .zbuffer import SceneMeshes, measure_visibility, render_passes


def sketch_episode(
    scene: Scene, frames: int, width: int, height: int, rng: np.random.Generator, dynamic: bool, min_pixels: int
) -> Episode:
    """A planned (camera path, ego actions, object motion) episode whose visibility (for
    planning and in the episode) is counted on z-buffered instance masks."""
    meshes = SceneMeshes(scene)
    measure = lambda fr: measure_visibility(scene, fr, width, height, meshes)  # noqa: E731
    plan = plan_episode(scene, frames, width, height, 8.0, rng, measure, dynamic=dynamic, min_pixels=min_pixels)
    visibility = [ObjectVisibility(id=i, pixels=p) for i, p in measure(plan.frames).items()]
    renderer = {"backend": "zbuffer"}
    return plan.episode(scene, width, height, 8.0, visibility, min_pixels=min_pixels, renderer=renderer)


def sketch_passes(episode: Episode) -> tuple[np.ndarray, np.ndarray]:
    """The episode's planar depth (F, H, W) float32 (inf: no surface) and instance ids
    (F, H, W) uint16, z-buffered at its width and height."""
    return render_passes(episode.scene, episode.frames, episode.width, episode.height)
