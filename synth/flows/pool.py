"""Worker processes that render episodes, one renderer per process (Blender holds one global
scene per process, so renders never share a process)."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

from synth.backends.registry import open_renderer
from synth.core.plugin import Renderer
from synth.flows.config import RunConfig
from synth.flows.episode import Rendered, render_episode
from synth.flows.progress import Reporter

_renderer: Renderer | None = None
_events = None  # the queue progress events go to (synth.flows.progress), if the parent gave one


def _init(settings, threads: int = 0, events=None) -> None:
    global _renderer, _events
    _events = events
    # A parent that imported bpy hands its sys.path to spawned children, including Blender's
    # own scripts/modules folder, whose pure-Python ``bpy`` would shadow the wheel's module.
    sys.path[:] = [p for p in sys.path if not ("/scripts/" in p and ("bpy" in p or "blender" in p))]
    _renderer = open_renderer(settings, threads)


def _work(cfg: RunConfig, index: int) -> Rendered:
    assert _renderer is not None
    rendered = render_episode(cfg, index, _renderer, Reporter(_events, index) if _events is not None else None)
    rendered.worker_rss_mb = rss_mb()
    return rendered


def rss_mb() -> float:
    """This process's resident memory, MiB (Linux ``/proc/self/statm``; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def default_workers(n_tasks: int, cfg: RunConfig) -> int:
    """As many processes as the renderer makes good use of (``RendererSettings.processes``)."""
    return max(1, min(n_tasks, cfg.renderer.processes(os.cpu_count() or 1)))


def start_render_pool(cfg: RunConfig, workers: int, events=None) -> ProcessPoolExecutor:
    """``workers`` spawned processes, each with its own renderer sharing the cores between them;
    ``events``: a queue of the spawn context for progress events (``synth.flows.progress``)."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init, initargs=(cfg.renderer, threads, events))


@contextmanager
def rendering(cfg: RunConfig, indices: list[int], workers: int | None = None) -> Iterator[Iterator[Rendered]]:
    """Start the render workers on ``indices`` at once (Blender's start-up then overlaps what the
    caller does next); yields an iterator of the rendered episodes in completion order."""
    if not indices:
        yield iter(())
        return
    workers = workers or default_workers(len(indices), cfg)
    pool = start_render_pool(cfg, workers)
    try:
        pending = {pool.submit(_work, cfg, i) for i in indices[: 2 * workers]}
        yield _finished(pool, cfg, pending, list(indices[2 * workers :]))
    finally:
        # the workers exit (Blender's teardown, ~0.4 s) while the caller goes on
        pool.shutdown(wait=False, cancel_futures=True)


def _finished(pool: ProcessPoolExecutor, cfg: RunConfig, pending: set, queue: list[int]) -> Iterator[Rendered]:
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            yield fut.result()
            if queue:
                pending.add(pool.submit(_work, cfg, queue.pop(0)))


def render_episodes(cfg: RunConfig, indices: list[int], workers: int | None = None) -> Iterator[Rendered]:
    """Yield rendered episodes as they finish, in completion order."""
    with rendering(cfg, indices, workers) as episodes:
        yield from episodes
