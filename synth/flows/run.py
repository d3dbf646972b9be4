"""Where a run builds its dataset, what is left to do, and how it ends: shared by the Prefect
flow and the direct (flow-less) run used by the tests and benchmarks as a baseline."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from synth.backends.registry import prepare_source
from synth.core.cache import cache_root
from synth.flows.config import RunConfig
from synth.flows.episode import ask, sample_keys
from synth.flows.pool import rendering
from synth.flows.version import code_version
from synth.programs.sandbox import SandboxPool
from synth.storage.dataset import (
    MANIFEST,
    RUN_FILE,
    STAGING,
    VERSIONS,
    DatasetError,
    DatasetWriter,
    Sample,
    is_finished,
)
from synth.storage.s3 import drop_staging, is_s3, mirror, pull_staging, push, remote_is_finished


def staging_dir(uri: str) -> Path:
    """Local folder in which a run bound for object storage is built (and resumed)."""
    return cache_root() / "staging" / uri.removeprefix("s3://").strip("/")


def dataset_root(out: Path | str) -> Path:
    """The local folder the dataset is built in: ``out``, or its staging folder for s3://."""
    return staging_dir(str(out)) if is_s3(out) else Path(out)


def writer(cfg: RunConfig, root: Path | str) -> DatasetWriter:
    return DatasetWriter(
        Path(root), cfg.model_dump(mode="json"), cfg.samples_per_shard, code_version(), debias=cfg.debias
    )


def _built(cfg: RunConfig, root: Path) -> bool:
    """A finished local build of this very config (for s3://, only its push may be missing)."""
    return is_finished(root) and json.loads((root / RUN_FILE).read_text()) == cfg.model_dump(mode="json")


def open_run(
    cfg: RunConfig,
    out: Path | str,
    overwrite: bool = False,
    across_versions: bool = False,
    log: Callable[[str], None] = lambda msg: None,
) -> list[int]:
    """Check and prepare ``out`` for ``cfg``; return the episodes still to render. A rerun into an
    unfinished dataset with the same config and code version resumes (another code version only
    with ``across_versions``); a finished one needs ``overwrite``. The scene source's assets are
    made first (``prepare_source``, which says through ``log`` what it generates): a machine that
    cannot make them fails before anything is written."""
    prepare_source(cfg.simulator, log, assets=cfg.assets, asset_variants=cfg.asset_variants)
    root = dataset_root(out)
    if is_s3(out):
        if remote_is_finished(str(out)) and not overwrite:
            raise DatasetError(f"{out} already holds a finished dataset; pass --overwrite or choose another --out")
        if _built(cfg, root):
            return []
        if overwrite:
            drop_staging(str(out))
        elif not is_finished(root):
            pull_staging(str(out), root)  # what a run on another machine finished before it stopped
    staged = writer(cfg, root).open(
        overwrite=overwrite or (is_s3(out) and is_finished(root)), across_versions=across_versions
    )
    if is_s3(out):
        for name in (RUN_FILE, VERSIONS):
            mirror(root / name, str(out))
    return [i for i in range(cfg.episodes) if not set(sample_keys(cfg, i)) <= staged]


def stage(cfg: RunConfig, out: Path | str, sample: Sample) -> None:
    """Keep a finished sample until the run closes: in the dataset's staging folder, and for
    s3:// also under the output's ``.staging/`` (so that another machine can resume the run)."""
    root = dataset_root(out)
    writer(cfg, root).stage(sample)
    if is_s3(out):
        mirror(root / STAGING / f"{sample.key}.tar", str(out))


def warm_up() -> None:
    """Import what ``close_run`` needs (``datasets`` for the card's features, scikit-learn for
    the blind baselines; ~0.7 s), called while the render workers start and a core is idle."""
    import datasets  # noqa: F401

    import synth.evaluation.baselines  # noqa: F401


def close_run(cfg: RunConfig, out: Path | str) -> dict:
    """Shards, card and manifest (written last); then, for s3://, the push (resumable)."""
    root = dataset_root(out)
    if is_s3(out) and _built(cfg, root):
        manifest = json.loads((root / MANIFEST).read_text())
    else:
        manifest = writer(cfg, root).finalize([k for i in range(cfg.episodes) for k in sample_keys(cfg, i)])
    if is_s3(out):
        push(root, str(out))
        drop_staging(str(out))
    return manifest


def run(
    cfg: RunConfig,
    out: Path | str,
    overwrite: bool = False,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    sandbox_workers: int = 1,
    across_versions: bool = False,
    timings: dict[str, float] | None = None,
) -> dict:
    """Generate ``cfg.episodes`` episodes into ``out`` (a folder or ``s3://bucket/prefix``)
    without Prefect; returns the manifest. Reruns resume whichever step was interrupted.
    ``timings``, if given, gets the seconds spent per stage, summed over the episodes (the keys
    of ``Rendered.timings`` and "questions"), plus "start-up" (from the start of the run until
    the first episode arrived, less that episode's own stages: worker processes, Blender),
    "stage" (samples written to staging) and "finalize" (``close_run``)."""
    spent: dict[str, float] = {} if timings is None else timings
    started = time.perf_counter()
    todo = open_run(cfg, out, overwrite, across_versions)
    done = cfg.episodes - len(todo)
    if progress:
        progress(done, cfg.episodes)
    with rendering(cfg, todo, workers) as episodes, SandboxPool(workers=sandbox_workers) as sandbox:
        warm_up()
        for rendered in episodes:
            if "start-up" not in spent:
                spent["start-up"] = time.perf_counter() - started - sum(rendered.timings.values())
            samples = ask(cfg, rendered, sandbox)
            t = time.perf_counter()
            for sample in samples:
                stage(cfg, out, sample)
            _add(spent, {**rendered.timings, "stage": time.perf_counter() - t})
            done += 1
            if progress:
                progress(done, cfg.episodes)
    t = time.perf_counter()
    manifest = close_run(cfg, out)
    spent["finalize"] = time.perf_counter() - t
    return manifest


def _add(total: dict[str, float], more: dict[str, float]) -> None:
    for k, v in more.items():
        total[k] = total.get(k, 0.0) + v
