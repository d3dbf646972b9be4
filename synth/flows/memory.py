"""What one render needs in memory, declared to Ray with each render task (``synth.flows.executor``)
so that a node runs no more renders at once than its memory holds.

The figures are measured, not guessed: ``bench/render_memory.py`` (2026-12-06, this project's
2-core machine, Blender 4.x wheel, one render thread as in a Ray worker) rendered episode 0 of
each setting in a fresh process and read its peak resident memory (``VmHWM``):

| renderer | quality | assets | resolution | frames | peak MiB |
|---|---|---|---|---|---|
| zbuffer | - | primitives | 160x120 | 4 | 201 |
| zbuffer | - | primitives | 448x336 | 4 | 214 |
| blender | draft | primitives | 160x120 | 4 | 563 |
| blender | draft | primitives | 448x336 | 4 | 612 |
| blender | draft | primitives | 448x336 | 16 | 733 |
| blender | draft | primitives | 1280x960 | 4 | 1048 |
| blender | photoreal | primitives | 160x120 | 2 | 453 |
| blender | photoreal | primitives | 448x336 | 2 | 506 |
| blender | draft | infinigen | 448x336 | 4 | 745 |
| blender | photoreal | infinigen | 448x336 | 2 | 984 |
| blender | photoreal | infinigen | 448x336 | 16 | 1024 (the defaults) |

``PEAK`` fits them as a base plus bytes per pixel (the renderer's buffers) plus bytes per pixel
and frame (every frame's RGB, depth and ids are held until the episode is encoded): within 1% of
the rows it was fitted on, 9% above the defaults' row (not fitted). A Ray worker process holds
``RAY_WORKER_MIB`` more than a plain one (``bench/memory.py``: 579 against 500 MiB), and the
declared figure adds ``MARGIN`` for scenes fuller than the measured ones.
"""

from __future__ import annotations

from synth.flows.config import RunConfig

MIB = 2**20
PEAK: dict[tuple[str, str, str], tuple[float, float, float]] = {
    # (renderer, quality, assets): (base MiB, bytes per pixel, bytes per pixel and frame)
    ("blender", "draft", "primitives"): (555.0, 155.0, 67.0),
    ("blender", "draft", "infinigen"): (684.0, 155.0, 67.0),
    ("blender", "photoreal", "primitives"): (445.0, 290.0, 67.0),
    ("blender", "photoreal", "infinigen"): (923.0, 290.0, 67.0),
    ("zbuffer", "-", "primitives"): (199.0, 0.0, 26.0),
}
UNMEASURED = ("blender", "photoreal", "infinigen")
"""The figure for settings not measured (AI2-THOR, Habitat, the z-buffer with Infinigen
furniture): the largest measured one."""
RAY_WORKER_MIB = 80.0
MARGIN = 1.25


def setting(cfg: RunConfig) -> tuple[str, str, str]:
    """The measured setting ``cfg`` renders: (renderer, quality or "-", assets or the simulator)."""
    assets = getattr(cfg.source, "assets", cfg.source.simulator)
    return cfg.renderer.backend, getattr(cfg.renderer, "quality", "-"), assets


def describe(cfg: RunConfig) -> str:
    """The setting in words, e.g. ``blender photoreal 448x336 x 16 frames, infinigen assets``."""
    renderer, quality, assets = setting(cfg)
    video = cfg.video
    what = renderer if quality == "-" else f"{renderer} {quality}"
    scenes = f"{assets} assets" if hasattr(cfg.source, "assets") else f"{assets} scenes"
    return f"{what} {video.width}x{video.height} x {video.frames} frames, {scenes}"


def peak_mib(cfg: RunConfig) -> float:
    """The measured peak resident memory of one render of ``cfg`` in a plain process, MiB."""
    base, per_pixel, per_pixel_frame = PEAK.get(setting(cfg), PEAK[UNMEASURED])
    pixels = cfg.video.width * cfg.video.height
    return base + (per_pixel * pixels + per_pixel_frame * pixels * cfg.video.frames) / MIB


def render_memory(cfg: RunConfig) -> int:
    """Bytes a Ray render task of ``cfg`` declares: the measured peak, a Ray worker's own share,
    and the margin."""
    return int((peak_mib(cfg) + RAY_WORKER_MIB) * MARGIN * MIB)


def gib(n_bytes: float) -> str:
    """``1.46 GiB``."""
    return f"{n_bytes / 2**30:.2f} GiB"
