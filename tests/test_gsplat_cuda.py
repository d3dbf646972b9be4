"""gsplat's CUDA rasteriser gives the CPU rasteriser's images. Runs where torch sees a CUDA device;
needs no Blender, so a bare GPU machine runs it with ``pytest --noconftest tests/test_gsplat_cuda.py``
(bench/gsplat_cuda.py compares the two on a rendered episode and inside every degradation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synth.degradations import raster as R
from tests.splats import random_gaussians

pytestmark = pytest.mark.skipif(
    not R.cuda_available(), reason="no CUDA device: gsplat's rasteriser cannot run on this machine"
)


@pytest.mark.parametrize("width, height, n_ids", [(320, 240, R.MAX_IDS), (96, 72, 3)])
def test_gsplat_cuda_agrees_with_cpu(width, height, n_ids):
    g = random_gaussians(np.random.default_rng(width), 150, n_ids)
    f = 0.8 * width
    K = np.array([[f, 0, (width - 1) / 2], [0, f, (height - 1) / 2], [0, 0, 1]])
    view = np.eye(4)
    view[:3, :3] = [[math.cos(0.3), 0, math.sin(0.3)], [0, 1, 0], [-math.sin(0.3), 0, math.cos(0.3)]]
    view[:3, 3] = [0.2, -0.1, 0.4]
    cpu = R.render(g, view, K, width, height, backend="numba" if R.numba else "numpy")
    gpu = R.render(g, view, K, width, height, backend="cuda")
    assert cpu.alpha.max() > 0.99 and cpu.alpha.min() < 0.5  # opaque and thin pixels both
    assert np.abs(cpu.color - gpu.color).mean() < 2e-3
    assert np.abs(cpu.alpha - gpu.alpha).mean() < 2e-3
    assert (cpu.ids == gpu.ids).mean() > 0.99
    solid = (cpu.alpha > 0.5) & (gpu.alpha > 0.5)
    rel = np.abs(cpu.depth[solid] - gpu.depth[solid]) / cpu.depth[solid]
    assert np.median(rel) < 1e-3 and np.quantile(rel, 0.99) < 1e-2
