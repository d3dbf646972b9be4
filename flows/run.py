"""Run a whole generation job into a dataset directory (resumable)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from programs.sandbox import SandboxPool
from storage.dataset import DatasetWriter

from .config import RunConfig
from .episode import ask, episode_key
from .pool import render_episodes


def run(
    cfg: RunConfig,
    out: Path,
    overwrite: bool = False,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    sandbox_workers: int = 1,
) -> dict:
    """Generate ``cfg.episodes`` episodes into ``out``; returns the manifest.

    A rerun into an unfinished directory with the same config renders only what is missing.
    """
    writer = DatasetWriter(out, cfg.model_dump(mode="json"), cfg.samples_per_shard)
    staged = writer.open(overwrite=overwrite)
    keys = [episode_key(i) for i in range(cfg.episodes)]
    todo = [i for i, k in enumerate(keys) if k not in staged]
    done = cfg.episodes - len(todo)
    if progress:
        progress(done, cfg.episodes)
    with SandboxPool(workers=sandbox_workers) as sandbox:
        for rendered in render_episodes(cfg, todo, workers):
            writer.stage(ask(cfg, rendered, sandbox))
            done += 1
            if progress:
                progress(done, cfg.episodes)
    return writer.finalize(keys)
