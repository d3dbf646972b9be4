"""Synthetic Gaussian scenes for rasteriser tests (no Blender needed)."""

from __future__ import annotations

import numpy as np

from synth.degradations.gaussians import Gaussians


def random_gaussians(rng: np.random.Generator, n: int, n_ids: int = 4) -> Gaussians:
    """``n`` anisotropic Gaussians in front of an identity camera, some out of view."""
    return Gaussians(
        means=(rng.uniform(-1, 1, (n, 3)) * [2.5, 2.0, 2.0] + [0, 0, 2.5]).astype(np.float32),
        quats=rng.normal(size=(n, 4)).astype(np.float32),
        scales=rng.uniform(0.05, 0.4, (n, 3)).astype(np.float32),
        opacities=rng.uniform(0.3, 1.0, n).astype(np.float32),
        colors=rng.random((n, 3)).astype(np.float32),
        ids=rng.integers(0, n_ids, n).astype(np.int32),
    )
