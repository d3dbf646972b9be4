"""The render worker process's side: one renderer per process, reused for every episode it is
given (Blender holds one global scene per process, so renders never share a process).

A ``ProcessPoolExecutor`` hands its spawned workers nothing but the initializer's call, and a
Ray worker process nothing but the task's arguments, so the process's ``RenderWorker`` is kept
in ``_process_worker`` below: synth's one process-level singleton, set only inside render
worker processes (``start_worker``) and read only by ``render_in_worker``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from synth.backends.registry import open_renderer
from synth.core.plugin import Renderer
from synth.flows.config import RunConfig
from synth.flows.episode import Rendered, render_episode
from synth.flows.progress import Reporter


class RenderWorker:
    """A worker process's renderer, and the queue its progress events go to (if any)."""

    def __init__(self, renderer: Renderer, events: Any = None):
        self.renderer, self.events = renderer, events

    def render(self, cfg: RunConfig, index: int) -> Rendered:
        report = Reporter(self.events, index) if self.events is not None else None
        rendered = render_episode(cfg, index, self.renderer, report)
        rendered.worker_rss_mb = rss_mb()
        return rendered


_process_worker: RenderWorker | None = None  # this process's worker; see the module docstring


def start_worker(settings: Any, threads: int = 0, events: Any = None) -> None:
    """Open this process's renderer (``settings``: ``RunConfig.renderer``; ``threads``: its CPU
    threads, 0 for all); the initializer of local render processes."""
    global _process_worker
    # A parent that imported bpy hands its sys.path to spawned children, including Blender's
    # own scripts/modules folder, whose pure-Python ``bpy`` would shadow the wheel's module.
    sys.path[:] = [p for p in sys.path if not ("/scripts/" in p and ("bpy" in p or "blender" in p))]
    _process_worker = RenderWorker(open_renderer(settings, threads), events)


def render_in_worker(cfg: RunConfig, index: int) -> Rendered:
    """Episode ``index`` rendered by this process's renderer; a process without one (a Ray
    worker) or with another renderer's opens ``cfg.renderer`` with one thread first."""
    if _process_worker is None or _process_worker.renderer.settings != cfg.renderer:
        start_worker(cfg.renderer, threads=1)
    assert _process_worker is not None
    return _process_worker.render(cfg, index)


def rss_mb() -> float:
    """This process's resident memory, MiB (Linux ``/proc/self/statm``; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, MiB (Linux ``VmHWM`` of ``/proc/self/status``;
    0 elsewhere)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0.0
    kib = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), "0")
    return int(kib) / 1024
