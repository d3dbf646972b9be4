"""The Prefect flow ``synth``: one task chain per episode (render -> questions -> write), fanned
out and gathered, then the shards, card and manifest, and run artifacts in the Prefect UI.

``synth run`` calls this flow in Prefect's ephemeral mode; deployments (``prefect.yaml``) run it
on a work pool. Renders happen in worker processes (a local process pool, or plain Ray tasks when
``ray_address`` is given: measured far cheaper than prefect-ray's task runner), never in threads.
Episode seeds derive from the run seed, so the data does not depend on scheduling.
Imports are absolute: Prefect loads this file by path (``synth/flows/flow.py:synth``).
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import INPUTS
from prefect.futures import wait

from synth.flows.config import RunConfig
from synth.flows.episode import Rendered, ask
from synth.flows.pool import _work, default_workers, start_render_pool
from synth.flows.progress import Board, Reporter, discard
from synth.flows.run import close_run, dataset_root, open_run, stage, warm_up
from synth.flows.version import code_version
from synth.programs.sandbox import SandboxPool
from synth.storage.dataset import Sample
from synth.storage.s3 import is_s3

# progress hook for the command line's progress bar (None in deployments), called per event
progress_hook: Callable[[Board], None] | None = None
PROGRESS_ARTIFACT_SECONDS = 1.0  # at most one progress artifact update per second

_lock = threading.Lock()
_pools: dict[tuple, ProcessPoolExecutor] = {}
_sandbox: SandboxPool | None = None
_events = None  # progress events of this process's render workers and tasks (synth.flows.progress)
_events_lock = threading.Lock()


def _event_queue():
    global _events
    with _events_lock:
        if _events is None:
            _events = multiprocessing.get_context("spawn").Queue()
        return _events


def _render_pool(cfg: RunConfig, workers: int | None) -> ProcessPoolExecutor:
    n = workers or default_workers(cfg.episodes, cfg)
    key = (cfg.renderer, n)
    events = _event_queue()
    with _lock:
        if key not in _pools:
            _pools[key] = start_render_pool(cfg, n, events)
        return _pools[key]


def _shutdown() -> None:
    global _sandbox
    with _lock:
        for pool in _pools.values():
            pool.shutdown(cancel_futures=True)
        _pools.clear()
        if _sandbox is not None:
            _sandbox.close()
            _sandbox = None


def check_ray_address(address: str, timeout: float = 5.0) -> None:
    """Fail fast with a clear error when the Ray head does not answer (``ray.init`` would retry
    for minutes). ``auto`` (a cluster on this machine) is left to Ray."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"ray_address {address!r}: expected HOST:PORT, ray://HOST:PORT or auto")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as e:
        raise RuntimeError(f"cannot reach the Ray cluster at {address}: {e.strerror or e}") from e


def _ray_render(address: str, cfg: RunConfig, index: int) -> Rendered:
    import ray

    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    return ray.get(_remote_render().remote(cfg, index))


_REMOTE = None


def _remote_render():
    """A Ray task that renders in a Ray worker process (one renderer per process, reused)."""
    global _REMOTE
    if _REMOTE is None:
        import ray

        @ray.remote(num_cpus=1, max_retries=2)
        def render_on_ray(cfg: RunConfig, index: int) -> Rendered:
            from synth.flows import pool

            if pool._renderer is None or pool._renderer.settings != cfg.renderer:
                pool._init(cfg.renderer, threads=1)
            return pool._work(cfg, index)

        _REMOTE = render_on_ray
    return _REMOTE


@task(
    name="render",
    cache_policy=INPUTS - "ray_address" - "workers",
    persist_result=True,
    retries=1,
    retry_delay_seconds=2,
)
def render_task(
    cfg: RunConfig, index: int, dataset: str, code: str, ray_address: str | None, workers: int | None
) -> Rendered:
    """Sample, plan, render and encode one episode in a worker process. Cached by the config,
    the episode index, the dataset it belongs to and the version of synth's code."""
    if ray_address:
        return _ray_render(ray_address, cfg, index)
    return _render_pool(cfg, workers).submit(_work, cfg, index).result()


@task(name="questions")
def questions_task(cfg: RunConfig, rendered: Rendered) -> list[Sample]:
    """Verified questions for one episode, programs in the sandbox."""
    global _sandbox
    with _lock:  # one sandbox pool per process, used by one task at a time
        if _sandbox is None:
            _sandbox = SandboxPool(workers=1)
        Reporter(_event_queue(), rendered.index).stage("questions")
        t = time.perf_counter()
        samples = ask(cfg, rendered, _sandbox)
        rendered.timings["questions"] = time.perf_counter() - t
    return samples


@task(name="write")
def write_task(cfg: RunConfig, out: str, samples: list[Sample], index: int) -> list[str]:
    Reporter(_event_queue(), index).stage("writing")
    for sample in samples:
        stage(cfg, out, sample)
    return [s.key for s in samples]


@task(name="finalize")
def finalize_task(cfg: RunConfig, out: str) -> dict:
    """Shards, card and manifest (last); the push for s3:// targets."""
    return close_run(cfg, out)


@flow(name="synth", log_prints=True)
def synth(
    config: RunConfig = RunConfig(),  # noqa: B008 - pydantic models are immutable
    out: str = "data/synth",
    ray_address: str | None = None,
    workers: int | None = None,
    overwrite: bool = False,
    resume_across_versions: bool = False,
) -> dict:
    """Generate a verified spatial-reasoning video QA dataset into ``out`` (folder or s3://).

    ``config`` is everything that shapes the data (``synth.flows.config.RunConfig``; ``preset`` fills
    in what is not given). The rest says where it goes and how it runs: ``ray_address`` renders on
    a Ray cluster, ``workers`` sets local render processes, ``overwrite`` replaces a finished
    dataset, ``resume_across_versions`` resumes a run an earlier version of synth started."""
    cfg = config
    if ray_address:
        check_ray_address(ray_address)
    log = get_run_logger()
    todo = open_run(cfg, out, overwrite, across_versions=resume_across_versions, log=log.info)
    root = str(dataset_root(out))
    log.info(
        "synth: %d episodes (%d already staged) into %s, preset %s",
        cfg.episodes,
        cfg.episodes - len(todo),
        out,
        cfg.preset,
    )
    board = Board(cfg.episodes, cfg.video.frames)
    for i in sorted(set(range(cfg.episodes)) - set(todo)):
        board.finish(i)
    shown = _Shown(board)
    started = time.perf_counter()
    try:
        code = code_version()
        events = _event_queue()
        discard(events)
        renders = [render_task.submit(cfg, i, str(Path(root).resolve()), code, ray_address, workers) for i in todo]
        asked = [questions_task.submit(cfg, r) for r in renders]
        written = [write_task.submit(cfg, out, s, i) for s, i in zip(asked, todo)]
        warm_up()
        timings: Counter = Counter()
        sheet = None
        for i, r, w in zip(todo, renders, written):
            while wait([w], timeout=0.25).not_done:  # done callbacks: no polling of the API
                board.drain(events, shown.update)
            w.result()
            board.drain(events, shown.update)
            timings.update(r.result().timings)
            sheet = sheet or r.result().contact_sheet
            board.finish(i)
            shown.update(board, force=True)
            log.info("progress: %d/%d frames, %s", board.frames_done, board.frames_total, board.summary())
    finally:
        _shutdown()
    manifest = finalize_task(cfg, out)
    from synth.storage.card import blind_summary

    log.info("synth: %s", blind_summary(manifest))
    _publish(out, root, manifest, timings, time.perf_counter() - started, sheet)
    return manifest


class _Shown:
    """Where progress goes: the command line's hook on every event, and a Prefect progress
    artifact (percent of frames rendered) at most once per ``PROGRESS_ARTIFACT_SECONDS``."""

    def __init__(self, board: Board):
        self.artifact = create_progress_artifact(
            progress=self._percent(board), key="synth-progress", description="frames rendered, all episodes"
        )
        self.last = time.monotonic()
        self.update(board)

    @staticmethod
    def _percent(board: Board) -> float:
        return 100.0 * board.frames_done / max(1, board.frames_total)

    def update(self, board: Board, force: bool = False) -> None:
        if progress_hook:
            progress_hook(board)
        if force or time.monotonic() - self.last >= PROGRESS_ARTIFACT_SECONDS:
            update_progress_artifact(self.artifact, progress=self._percent(board))
            self.last = time.monotonic()


def _publish(out: str, root: str, manifest: dict, timings: Counter, wall: float, sheet: bytes | None) -> None:
    """Summary table, report with a preview gallery, and a link to the dataset."""
    from synth.storage.card import balance_table, blind_summary
    from synth.storage.dataset import iter_samples
    from synth.storage.media import frame_sheet

    metas, previews, clean = [], [], []
    for sample in iter_samples(Path(root)):
        metas.append(json.loads(sample.files["json"]))
        if len(previews) < 8:
            previews.append((sample.key, _thumbnail(sample.files["mp4"])))
        if "-" not in sample.key and len(clean) < 12:  # clean samples: "ep0000003", not "ep0000003-fog-2"
            clean.append(sample.files["mp4"])
    table = balance_table(metas)
    abstentions = sum(r["abstentions"] for r in table)
    rows = [
        {"what": "episodes", "value": manifest["config"]["episodes"]},
        {"what": "samples (episodes x variants)", "value": manifest["num_samples"]},
        {"what": "questions", "value": manifest["num_questions"]},
        {"what": "abstentions", "value": abstentions},
        {"what": "degradation variants", "value": manifest["config"].get("degradations") or "none"},
        {"what": "episodes with object motion", "value": sum(bool(m["episode"]["motions"]) for m in metas)},
        {"what": "wall seconds", "value": round(wall, 1)},
        {"what": "blind baselines", "value": blind_summary(manifest)},
    ]
    rows += [{"what": f"seconds in {stage} (sum)", "value": round(sec, 1)} for stage, sec in sorted(timings.items())]
    rows += [{"what": f"questions: {r['family']}", "value": r["questions"]} for r in table]
    create_table_artifact(key="synth-summary", table=rows, description=f"synth run into {out}")
    gallery = " ".join(f"![{key}]({uri})" for key, uri in previews)
    frames = frame_sheet(clean, n=12, cols=4, quality=75, max_side=640)
    gallery += "\n\n## Contact sheet (12 frames)\n\n![frames](data:image/jpeg;base64,"
    gallery += base64.b64encode(frames).decode() + ")"
    if sheet:  # degradation types x severities on the first episode
        gallery += "\n\n## Degradations (types x severities)\n\n![contact sheet](data:image/jpeg;base64,"
        gallery += base64.b64encode(sheet).decode() + ")"
    create_markdown_artifact(
        key="synth-report",
        markdown="\n".join(
            [
                f"# synth dataset: {out}",
                "",
                f"{manifest['num_samples']} episodes, {manifest['num_questions']} questions "
                f"({abstentions} abstentions).",
                "",
                "## Preview (first frame of each episode)",
                "",
                gallery,
                "",
                "## Answer balance",
                "",
                "| family | questions | top answer | top share |",
                "|---|---|---|---|",
                *[f"| {r['family']} | {r['questions']} | {r['top']} | {r['top_share']:.0%} |" for r in table],
            ]
        ),
    )
    link = out if is_s3(out) else Path(out).resolve().as_uri()
    create_link_artifact(key="synth-dataset", link=link, link_text=out, description="the dataset")


def _thumbnail(mp4: bytes, width: int = 96) -> str:
    """First frame as a small JPEG data URI (a few KB: artifacts stay far below 1 MB)."""
    from synth.storage.media import decode_mp4, jpeg

    return "data:image/jpeg;base64," + base64.b64encode(jpeg(decode_mp4(mp4)[0], quality=70, max_side=width)).decode()
