"""Many episodes for tests without Blender: passes from the software z-buffer (see
synth.backends.zbuffer.sketch), visibility and evidence measured from them as for rendered episodes."""

from __future__ import annotations

import numpy as np

from synth.backends.procedural.sampler import sample_scene
from synth.backends.zbuffer.sketch import sketch_episode, sketch_passes
from synth.core.evidence import with_evidence
from synth.core.scene import Episode, VideoSpec, VisibilityRule


def cheap_episode(
    seed: int,
    frames: int = 8,
    width: int = 160,
    height: int = 120,
    dynamic: bool | None = None,
    min_pixels: int = 30,
    min_frames: int = 2,
) -> Episode:
    rng = np.random.default_rng([seed, 1])
    dynamic = bool(rng.random() < 0.5) if dynamic is None else dynamic
    video = VideoSpec(frames=frames, width=width, height=height)
    ep = sketch_episode(
        sample_scene(seed), video, VisibilityRule(min_pixels=min_pixels, min_frames=min_frames), rng, dynamic
    )
    return with_evidence(ep, *sketch_passes(ep))
