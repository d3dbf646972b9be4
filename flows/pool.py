"""Worker processes that render episodes, one Blender per process."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from sim_adapters.blender_backend import BlenderRenderer, BlenderSettings

from .config import RunConfig
from .episode import Rendered, render_episode

_renderer: BlenderRenderer | None = None


def _init(settings: BlenderSettings) -> None:
    global _renderer
    # A parent that imported bpy hands its sys.path to spawned children, including Blender's
    # own scripts/modules folder, whose pure-Python ``bpy`` would shadow the wheel's module.
    sys.path[:] = [p for p in sys.path if not ("/scripts/" in p and ("bpy" in p or "blender" in p))]
    _renderer = BlenderRenderer(settings)


def _work(cfg: RunConfig, index: int) -> Rendered:
    assert _renderer is not None
    return render_episode(cfg, index, _renderer)


def default_workers(n_tasks: int, quality: str) -> int:
    """Cycles uses every core of one process as well as several processes do (measured in
    bench/render.py: 2 single-threaded processes were slower than 1 with 2 threads); Workbench
    is single-threaded, so draft renders get a process per core."""
    if quality == "photoreal":
        return 1
    return max(1, min(n_tasks, os.cpu_count() or 1))


def start_render_pool(cfg: RunConfig, workers: int) -> ProcessPoolExecutor:
    """``workers`` spawned processes, each with its own Blender sharing the cores between them."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    settings = BlenderSettings(quality=cfg.quality, samples=cfg.samples, threads=threads)
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init, initargs=(settings,))


def render_episodes(cfg: RunConfig, indices: list[int], workers: int | None = None) -> Iterator[Rendered]:
    """Yield rendered episodes as they finish, in completion order."""
    if not indices:
        return
    workers = workers or default_workers(len(indices), cfg.quality)
    with start_render_pool(cfg, workers) as pool:
        pending = {pool.submit(_work, cfg, i) for i in indices[: 2 * workers]}
        queue = list(indices[2 * workers :])
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
                if queue:
                    pending.add(pool.submit(_work, cfg, queue.pop(0)))
