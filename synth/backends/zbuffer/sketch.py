"""Episodes without Blender, for verifying programs on many scenes quickly and for fast tests.

Visibility is measured, not approximated: every frame is rendered by a software z-buffer
(``synth.core.zbuffer``) of the same meshes Blender renders, with occlusion, pixel for pixel
(planar depth and instance ids; no lighting, so no RGB). ``sketch_passes`` returns those
passes, on which the evidence layer can be measured. Shipped data still comes from Blender.
"""

from __future__ import annotations

import numpy as np

from synth.backends.zbuffer.renderer import ZBufferRenderer
from synth.core.scene import Episode, Scene, VideoSpec, VisibilityRule
from synth.core.zbuffer import render_passes
from synth.planning.shoot import shoot


def sketch_episode(
    scene: Scene, video: VideoSpec, rule: VisibilityRule, rng: np.random.Generator, dynamic: bool
) -> Episode:
    """A planned (camera path, ego actions, object motion) episode whose visibility (for
    planning and in the episode) is counted on z-buffered instance masks."""
    episode, _ = shoot(ZBufferRenderer(), scene, video, rule, rng, dynamic=dynamic)
    return episode


def sketch_passes(episode: Episode) -> tuple[np.ndarray, np.ndarray]:
    """The episode's planar depth (F, H, W) float32 (inf: no surface) and instance ids
    (F, H, W) uint16, z-buffered at its width and height."""
    return render_passes(episode.scene, episode.frames, episode.width, episode.height)
