"""A run from start to end: where it builds its dataset and what is left to do (``open_run``),
the one loop that takes every episode through render -> questions -> write (``produce``), and
how it ends (``close_run``: the blind baselines decide which questions ship, then the shards).

The Prefect flow (``synth.flows.flow``) and the direct, flow-less ``run`` (the tests' and
benchmarks' baseline) both run this loop; the flow only wraps each step in a Prefect task."""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from synth.backends.registry import prepare_source
from synth.core.cache import cache_root
from synth.flows.config import RunConfig
from synth.flows.episode import Rendered, pair_key, sample_keys
from synth.flows.executor import Executor, default_workers
from synth.flows.failures import EpisodeFailed
from synth.flows.progress import Board
from synth.flows.version import code_version
from synth.storage.card import clean_questions
from synth.storage.dataset import (
    MANIFEST,
    RUN_FILE,
    STAGING,
    VERSIONS,
    DatasetError,
    DatasetWriter,
    Sample,
    is_finished,
    pruned,
)
from synth.storage.s3 import drop_staging, is_s3, mirror, pull_staging, push, remote_is_finished

PROGRESS_SECONDS = 0.25  # how often the loop applies the workers' progress events while it waits


def staging_dir(uri: str) -> Path:
    """Local folder in which a run bound for object storage is built (and resumed)."""
    return cache_root() / "staging" / uri.removeprefix("s3://").strip("/")


def dataset_root(out: Path | str) -> Path:
    """The local folder the dataset is built in: ``out``, or its staging folder for s3://."""
    return staging_dir(str(out)) if is_s3(out) else Path(out)


def writer(cfg: RunConfig, root: Path | str) -> DatasetWriter:
    return DatasetWriter(Path(root), cfg.model_dump(mode="json"), cfg.samples_per_shard, code_version())


def _built(cfg: RunConfig, root: Path) -> bool:
    """A finished local build of this very config (for s3://, only its push may be missing)."""
    return is_finished(root) and json.loads((root / RUN_FILE).read_text()) == cfg.model_dump(mode="json")


@dataclass(frozen=True)
class OpenRun:
    """A run whose output ``open_run`` checked and prepared."""

    cfg: RunConfig
    out: Path | str  # a folder or s3://bucket/prefix
    todo: list[int]  # the episodes still to render, in order


def open_run(
    cfg: RunConfig,
    out: Path | str,
    overwrite: bool = False,
    across_versions: bool = False,
    log: Callable[[str], None] = lambda msg: None,
) -> OpenRun:
    """Check and prepare ``out`` for ``cfg``; return it with the episodes still to render. A rerun
    into an unfinished dataset with the same config and code version resumes (another code version
    only with ``across_versions``); a finished one needs ``overwrite``. The scene source's assets are
    made first (``prepare_source``, which says through ``log`` what it generates): a machine that
    cannot make them fails before anything is written."""
    prepare_source(cfg.source, log)
    root = dataset_root(out)
    if is_s3(out):
        if remote_is_finished(str(out)) and not overwrite:
            raise DatasetError(f"{out} already holds a finished dataset; pass --overwrite or choose another --out")
        if _built(cfg, root):
            return OpenRun(cfg, out, [])
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
    return OpenRun(cfg, out, [i for i in range(cfg.episodes) if not set(sample_keys(cfg, i)) <= staged])


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


class Steps:
    """The steps of one episode: render (in a worker process), ask (in the sandbox), write (to
    staging). The flow's subclass runs each as a Prefect task."""

    def __init__(self, run: OpenRun, executor: Executor):
        self.run, self.executor = run, executor

    def render(self, index: int) -> Rendered:
        return self.executor.render(index)

    def ask(self, rendered: Rendered) -> list[Sample]:
        return self.executor.ask(rendered)

    def write(self, index: int, samples: list[Sample]) -> None:
        """Stage the samples of episode ``index``."""
        for sample in samples:
            stage(self.run.cfg, self.run.out, sample)


@dataclass
class Produced:
    """What ``produce`` measured: seconds per stage summed over the episodes (the keys of
    ``Rendered.timings``, "questions" and "stage"), plus "start-up" (from the start until the
    first episode arrived, less that episode's own stages: worker processes, Blender); and the
    first episode's contact sheet of the degradations (JPEG), if any."""

    timings: dict[str, float] = field(default_factory=dict)
    contact_sheet: bytes | None = None


def produce(
    run: OpenRun,
    progress: Callable[[Board], None] | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    steps: type[Steps] = Steps,
) -> Produced:
    """The run loop: every episode of ``run.todo`` rendered (``workers`` local processes, default
    as the renderer prefers, or on the Ray cluster at ``ray_address``; twice as many renders in
    flight as run at once, so that no worker waits), then asked and written here, one at a time,
    as the renders finish. ``progress(board)`` follows every event: each rendered frame, each
    episode's stage. The first step that fails ends the loop with ``EpisodeFailed`` (one line
    naming the episode, the step and the cause; the cause chained): what was staged stays staged,
    nothing else is written, and a rerun resumes from there."""
    cfg = run.cfg
    board = Board(cfg.episodes, cfg.video.frames)
    for i in sorted(set(range(cfg.episodes)) - set(run.todo)):
        board.finish(i)
    show = progress or (lambda _: None)
    show(board)
    produced = Produced()
    if not run.todo:
        return produced
    started = time.perf_counter()
    queue = list(run.todo)
    with Executor(cfg, workers or default_workers(len(queue), cfg), ray_address) as executor:
        chain = steps(run, executor)
        in_flight = 2 * executor.slots
        threads = ThreadPoolExecutor(in_flight, thread_name_prefix="render")
        pending: dict[Future[Rendered], int] = {}

        def top_up() -> None:
            while queue and len(pending) < in_flight:
                index = queue.pop(0)  # a thread waits on each render; it runs in this context (the flow run's)
                pending[threads.submit(contextvars.copy_context().run, chain.render, index)] = index

        try:
            top_up()
            warm_up()
            while pending:
                done, _ = wait(pending, timeout=PROGRESS_SECONDS, return_when=FIRST_COMPLETED)
                board.drain(executor.events, show)
                for future in sorted(done, key=pending.__getitem__):
                    index = pending.pop(future)
                    try:
                        rendered = future.result()
                    except Exception as e:
                        raise EpisodeFailed(index, "render", e) from e
                    if "start-up" not in produced.timings:
                        produced.timings["start-up"] = time.perf_counter() - started - sum(rendered.timings.values())
                    top_up()
                    _ask_and_write(chain, rendered, board, show, produced)
        finally:
            threads.shutdown(wait=False, cancel_futures=True)  # renders still running end with the executor
    return produced


def _ask_and_write(
    chain: Steps, rendered: Rendered, board: Board, show: Callable[[Board], None], produced: Produced
) -> None:
    index = rendered.index
    board.apply((index, "questions", 0))
    show(board)
    t = time.perf_counter()
    try:
        samples = chain.ask(rendered)
    except Exception as e:
        raise EpisodeFailed(index, "questions", e) from e
    asked = time.perf_counter()
    board.apply((index, "writing", 0))
    show(board)
    try:
        chain.write(index, samples)
    except Exception as e:
        raise EpisodeFailed(index, "write", e) from e
    spent = {**rendered.timings, "questions": asked - t, "stage": time.perf_counter() - asked}
    for name, seconds in spent.items():
        produced.timings[name] = produced.timings.get(name, 0.0) + seconds
    produced.contact_sheet = produced.contact_sheet or rendered.contact_sheet
    board.finish(index)
    show(board)


def baselines_and_pruning(cfg: RunConfig, metas: list[dict]) -> tuple[set[tuple[int, str]], list[dict]]:
    """Which questions ship: the blind baselines of every family, measured on the clean samples
    among ``metas`` (sample JSON dicts; ``synth.evaluation.baselines``), and with ``cfg.debias``
    the questions a blind model answers, as (episode index, question id), to drop from every
    variant of their episode until no family is answerable without the video. Returns them and
    the baselines as manifest rows (the ``FamilyBaseline`` fields and ``flagged``)."""
    from synth.evaluation.baselines import baselines, blind_items, debias

    blind = blind_items(metas)
    drop, table = debias(blind) if cfg.debias else (set(), baselines(blind))
    return drop, [{**row.model_dump(), "flagged": row.flagged} for row in table]


def order_rows(cfg: RunConfig, metas: list[dict]) -> list[dict]:
    """Per family, over the clean samples' answered items (``QA.needs_order``, ``single_frame``;
    issue #34): how many, the share that needs the frames' order and the share one frame settles,
    whether the family is tagged ``temporal``, and ``defect``: tagged temporal, yet no item needs
    the order (its questions are answered as well from the frames in any order)."""
    from synth.flows.episode import families

    tags = {fid: f.tags for fid, f in families(cfg).items()}
    found: dict[str, list[dict]] = {}
    for q in clean_questions(metas):
        if q.get("needs_order") is not None:
            found.setdefault(q["family"], []).append(q)
    rows = []
    for family, qs in sorted(found.items()):
        order = sum(q["needs_order"] for q in qs) / len(qs)
        temporal = "temporal" in tags.get(family, ())
        rows.append(
            {
                "family": family,
                "items": len(qs),
                "needs_order": round(order, 3),
                "single_frame": round(sum(q["single_frame"] for q in qs) / len(qs), 3),
                "temporal": temporal,
                "defect": temporal and order == 0,
            }
        )
    return rows


def close_run(cfg: RunConfig, out: Path | str) -> dict:
    """Which questions ship (``baselines_and_pruning``), then shards, card and manifest (written
    last); then, for s3://, the push (resumable)."""
    root = dataset_root(out)
    if is_s3(out) and _built(cfg, root):
        manifest = json.loads((root / MANIFEST).read_text())
    else:
        dataset = writer(cfg, root)
        pairs = [
            pair_key(i) if cfg.minimal_pairs and dataset.is_staged(pair_key(i)) else None for i in range(cfg.episodes)
        ]
        keys = [k for i in range(cfg.episodes) for k in (*sample_keys(cfg, i), pairs[i]) if k]  # pairs made: last
        metas = dataset.staged_metas(keys)
        drop, rows = baselines_and_pruning(cfg, metas)
        manifest = dataset.finalize(keys, drop, rows, metas, order_rows(cfg, pruned(metas, drop)))
    if is_s3(out):
        push(root, str(out))
        drop_staging(str(out))
    return manifest


def run(
    cfg: RunConfig,
    out: Path | str,
    overwrite: bool = False,
    workers: int | None = None,
    progress: Callable[[Board], None] | None = None,
    across_versions: bool = False,
    timings: dict[str, float] | None = None,
) -> dict:
    """Generate ``cfg.episodes`` episodes into ``out`` (a folder or ``s3://bucket/prefix``)
    without Prefect; returns the manifest. Reruns resume whichever step was interrupted.
    ``progress(board)`` follows the run (``produce``). ``timings``, if given, gets
    ``Produced.timings`` and "finalize" (``close_run``)."""
    spent: dict[str, float] = {} if timings is None else timings
    spent.update(produce(open_run(cfg, out, overwrite, across_versions), progress, workers).timings)
    t = time.perf_counter()
    manifest = close_run(cfg, out)
    spent["finalize"] = time.perf_counter() - t
    return manifest
