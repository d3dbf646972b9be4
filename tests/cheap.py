"""Many episodes for tests without Blender: planned and rendered by synth's software z-buffer
(the ``zbuffer`` renderer: exact planar depth and instance ids, pixel for pixel the meshes Blender
renders, with occlusion), visibility and evidence measured from those passes as for rendered
episodes."""

from __future__ import annotations

import numpy as np

from synth.backends.registry import open_renderer, renderer_settings, scene_source
from synth.core.evidence import with_evidence
from synth.core.scene import Episode, VideoSpec, VisibilityRule
from synth.core.zbuffer import render_passes
from synth.planning.shoot import shoot


def sketch_passes(episode: Episode) -> tuple[np.ndarray, np.ndarray]:
    """The episode's planar depth (F, H, W) float32 (inf: no surface) and instance ids
    (F, H, W) uint16, z-buffered at its width and height."""
    return render_passes(episode.scene, episode.frames, episode.width, episode.height)


def cheap_episode(
    seed: int,
    frames: int = 8,
    width: int = 160,
    height: int = 120,
    dynamic: bool | None = None,
    min_pixels: int = 30,
    min_frames: int = 2,
) -> Episode:
    """Procedural room ``seed`` (primitive furniture), a planned camera path (and object motion
    when ``dynamic``; a seeded coin flip when None), with its evidence."""
    rng = np.random.default_rng([seed, 1])
    dynamic = bool(rng.random() < 0.5) if dynamic is None else dynamic
    video = VideoSpec(frames=frames, width=width, height=height)
    scene = scene_source("procedural", assets="primitives")(seed)
    rule = VisibilityRule(min_pixels=min_pixels, min_frames=min_frames)
    ep, _ = shoot(open_renderer(renderer_settings("zbuffer")), scene, video, rule, rng, dynamic=dynamic)
    return with_evidence(ep, *sketch_passes(ep))
