"""Many episodes for tests without Blender: passes from the software z-buffer (see
sim_adapters.sketch), visibility and evidence measured from them as for rendered episodes."""

from __future__ import annotations

import numpy as np

from programs.evidence import with_evidence
from sim_adapters.procedural import sample_scene
from sim_adapters.scene import Episode
from sim_adapters.sketch import sketch_episode, sketch_passes


def cheap_episode(
    seed: int, frames: int = 8, width: int = 160, height: int = 120, dynamic: bool | None = None, min_pixels: int = 30
) -> Episode:
    rng = np.random.default_rng([seed, 1])
    dynamic = bool(rng.random() < 0.5) if dynamic is None else dynamic
    ep = sketch_episode(sample_scene(seed), frames, width, height, rng, dynamic, min_pixels)
    return with_evidence(ep, *sketch_passes(ep))
