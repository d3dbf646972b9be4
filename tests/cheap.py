"""Many episodes for tests, without rendering (see sim_adapters.sketch). Program-vs-oracle
agreement does not depend on where visibility came from, only that both read the same table."""

from __future__ import annotations

import numpy as np

from sim_adapters.procedural import sample_scene
from sim_adapters.scene import Episode
from sim_adapters.sketch import sketch_episode


def cheap_episode(
    seed: int, frames: int = 8, width: int = 160, height: int = 120, dynamic: bool | None = None, min_pixels: int = 30
) -> Episode:
    rng = np.random.default_rng([seed, 1])
    dynamic = bool(rng.random() < 0.5) if dynamic is None else dynamic
    return sketch_episode(sample_scene(seed), frames, width, height, rng, dynamic, min_pixels)
