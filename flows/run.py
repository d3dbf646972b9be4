"""Run a whole generation job into a dataset directory (resumable)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from programs.sandbox import SandboxPool
from storage.dataset import MANIFEST, DatasetError, DatasetWriter, is_finished
from storage.s3 import is_s3, push, remote_is_finished

from .config import RunConfig
from .episode import ask, sample_keys
from .pool import render_episodes


def staging_dir(uri: str) -> Path:
    """Local folder in which a run bound for object storage is built (and resumed)."""
    base = Path(os.environ.get("SYNTH_CACHE", Path.home() / ".cache" / "synth"))
    return base / "staging" / uri.removeprefix("s3://").strip("/")


def run(
    cfg: RunConfig,
    out: Path | str,
    overwrite: bool = False,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    sandbox_workers: int = 1,
) -> dict:
    """Generate ``cfg.episodes`` episodes into ``out``; returns the manifest.

    A rerun into an unfinished directory with the same config renders only what is missing.
    ``out`` may be ``s3://bucket/prefix``: the dataset is built in ``staging_dir(out)`` and then
    pushed (a rerun resumes whichever of the two was interrupted).
    """
    if is_s3(out):
        return _run_to_s3(cfg, str(out), overwrite, workers, progress, sandbox_workers)
    writer = DatasetWriter(out, cfg.model_dump(mode="json"), cfg.samples_per_shard)
    staged = writer.open(overwrite=overwrite)
    per_episode = [sample_keys(cfg, i) for i in range(cfg.episodes)]
    keys = [k for ks in per_episode for k in ks]
    todo = [i for i, ks in enumerate(per_episode) if not set(ks) <= staged]
    done = cfg.episodes - len(todo)
    if progress:
        progress(done, cfg.episodes)
    with SandboxPool(workers=sandbox_workers) as sandbox:
        for rendered in render_episodes(cfg, todo, workers):
            for sample in ask(cfg, rendered, sandbox):
                writer.stage(sample)
            done += 1
            if progress:
                progress(done, cfg.episodes)
    return writer.finalize(keys)


def _run_to_s3(cfg: RunConfig, uri: str, overwrite: bool, workers, progress, sandbox_workers) -> dict:
    if remote_is_finished(uri) and not overwrite:
        raise DatasetError(f"{uri} already holds a finished dataset; pass --overwrite or choose another --out")
    local = staging_dir(uri)
    previous = local / "run.json"
    if is_finished(local) and json.loads(previous.read_text()) == cfg.model_dump(mode="json"):
        manifest = json.loads((local / MANIFEST).read_text())  # built before; only the push was missing
    else:
        manifest = run(
            cfg,
            local,
            overwrite=True if is_finished(local) else overwrite,
            workers=workers,
            progress=progress,
            sandbox_workers=sandbox_workers,
        )
    push(local, uri)
    return manifest
