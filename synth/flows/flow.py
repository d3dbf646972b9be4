"""The Prefect flow ``synth``: the run loop (``synth.flows.run.produce``) with each step of an
episode (render -> questions -> write) as a Prefect task, then the shards, card and manifest,
and run artifacts in the Prefect UI.

``synth run`` calls this flow in Prefect's ephemeral mode (``synth_flow``: with its progress bar
and the run it opened); deployments (``prefect.yaml``) run ``synth`` on a work pool and may give
any field of ``RunConfig`` by name on top of their ``config`` (``--param episodes=100``). Renders
happen in worker processes (``synth.flows.executor``), never in threads. Episode seeds derive
from the run seed, so the data does not depend on scheduling.
Imports are absolute: Prefect loads this file by path (``synth/flows/flow.py:synth``).
"""

from __future__ import annotations

import base64
import inspect
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from prefect import Flow, flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import INPUTS, NO_CACHE
from prefect.results import ResultRecord
from prefect.settings import get_current_settings
from pydantic import Field

from synth.flows.config import COMPUTED, RunConfig
from synth.flows.episode import Rendered
from synth.flows.executor import Executor, check_ray_address
from synth.flows.failures import PERMANENT
from synth.flows.progress import Board
from synth.flows.run import OpenRun, Steps, close_run, dataset_root, open_run, produce, stage
from synth.flows.version import code_version
from synth.storage.card import balance_table, blind_summary, order_summary
from synth.storage.dataset import Sample
from synth.storage.s3 import is_s3

PROGRESS_ARTIFACT_SECONDS = 1.0  # at most one progress artifact update per second


@task(
    name="render",
    cache_policy=INPUTS - "executor",
    persist_result=True,
    cache_result_in_memory=False,
    retries=1,
    retry_delay_seconds=2,
    retry_condition_fn=lambda task, run, state: not isinstance(state.result(raise_on_failure=False), PERMANENT),
)
def render_task(cfg: RunConfig, index: int, dataset: str, code: str, executor: Executor) -> Rendered:
    """Sample, plan, render and encode one episode in a worker process. Cached by the config,
    the episode index, the dataset it belongs to and the version of synth's code; the cached
    result lives only until the episode is staged (``TaskSteps``), and never in memory (a run
    would otherwise hold Prefect's last 1000 results: every episode's media)."""
    return executor.render(index)


@task(name="questions", cache_policy=NO_CACHE)
def questions_task(cfg: RunConfig, rendered: Rendered, executor: Executor) -> list[Sample]:
    """Verified questions for one episode, programs in the sandbox."""
    return executor.ask(rendered)


@task(name="write", cache_policy=NO_CACHE)
def write_task(cfg: RunConfig, out: str, samples: list[Sample]) -> list[str]:
    for sample in samples:
        stage(cfg, out, sample)
    return [s.key for s in samples]


@task(name="finalize")
def finalize_task(cfg: RunConfig, out: str) -> dict:
    """Which questions ship, shards, card and manifest (last); the push for s3:// targets."""
    return close_run(cfg, out)


class TaskSteps(Steps):
    """An episode's steps as Prefect tasks (task runs in the UI; renders cached by their inputs).

    A render's result is persisted (a rerun of an interrupted run takes the renders that finished
    but were not staged from Prefect's cache) in Prefect's local result storage of the machine
    running the flow, and deleted once its episode is staged: a staged episode is never rendered
    again (``open_run``), so a finished run leaves no render results behind."""

    def __init__(self, run: OpenRun, executor: Executor):
        super().__init__(run, executor)
        self.dataset, self.code = str(dataset_root(run.out).resolve()), code_version()
        self.render_task = render_task.with_options(result_storage=local_result_storage())
        self.stored: dict[int, Path] = {}  # episode index -> its render's result file, until staged

    def render(self, index: int) -> Rendered:
        state = self.render_task(self.run.cfg, index, self.dataset, self.code, self.executor, return_state=True)
        rendered = state.result()  # the task's exception if it failed
        if isinstance(state.data, ResultRecord):
            self.stored[index] = Path(state.data.metadata.storage_key)
        return rendered

    def ask(self, rendered: Rendered) -> list[Sample]:
        return questions_task(self.run.cfg, rendered, self.executor)

    def write(self, index: int, samples: list[Sample]) -> None:
        write_task(self.run.cfg, str(self.run.out), samples)
        stored = self.stored.pop(index, None)
        if stored is not None:
            stored.unlink(missing_ok=True)


def local_result_storage() -> Path:
    """Prefect's local result storage folder (``PREFECT_LOCAL_STORAGE_PATH``): render results are
    kept there even where a default result storage block is configured, so that they stay on the
    machine running the flow and can be deleted once staged."""
    return Path(get_current_settings().results.local_storage_path)


def run_config(config: RunConfig | dict, fields: dict[str, Any]) -> RunConfig:
    """``config`` with the named ``fields`` that are not None in place of its own values,
    validated by ``RunConfig``: a named field replaces that field whole (a nested one too), and
    the preset (the named one, else the config's) fills in what neither gives."""
    given = {name: value for name, value in fields.items() if value is not None}
    if isinstance(config, RunConfig):
        if not given:
            return config
        config = config.model_dump(mode="json", exclude_unset=True)
    return RunConfig.model_validate({**config, **given})


def with_run_fields(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Give ``fn`` (which takes ``**fields``) a signature with one keyword parameter per field of
    ``RunConfig`` in place of ``**fields`` (its type, constraints and description; default None:
    the config's value), so that Prefect's form and parameter schema list them and a deployment
    run accepts them by name."""
    signature = inspect.signature(fn, eval_str=True)
    params = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    clash = set(RunConfig.model_fields) & {p.name for p in params}
    if clash:
        raise TypeError(f"flow parameters {sorted(clash)} are also RunConfig fields")
    for name, info in RunConfig.model_fields.items():
        if name in COMPUTED:
            continue
        kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        params.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=Field(None, description=info.description),
                annotation=kind | None,
            )
        )
    fn.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return fn


def synth_flow(progress: Callable[[Board], None] | None = None, opened: OpenRun | None = None) -> Flow:
    """The flow ``synth``, reporting progress to ``progress`` (after every event: each rendered
    frame, each episode's stage) besides its Prefect artifact; ``opened``: the run, when the
    caller opened it already (``synth run`` checks the output before Prefect starts). The
    deployments' flow is ``synth`` (no progress hook; it opens its run)."""

    @flow(name="synth", log_prints=True, validate_parameters=False)
    @with_run_fields
    def synth(
        config: RunConfig = RunConfig(),  # noqa: B008 - pydantic models are immutable
        out: str = "data/synth",
        ray_address: str | None = None,
        workers: int | None = None,
        overwrite: bool = False,
        resume_across_versions: bool = False,
        **fields: Any,
    ) -> dict:
        """Generate a verified spatial-reasoning video QA dataset into ``out`` (folder or s3://).

        ``config`` is everything that shapes the data (``synth.flows.config.RunConfig``; ``preset``
        fills in what is not given); each field of it may also be given by name, which replaces
        the config's value. The rest says where it goes and how it runs: ``ray_address`` renders
        on a Ray cluster, ``workers`` sets local render processes, ``overwrite`` replaces a
        finished dataset, ``resume_across_versions`` resumes a run an earlier version of synth
        started."""
        cfg = run_config(config, fields)  # validated here: a bad value fails the run before anything is written
        if ray_address:
            check_ray_address(ray_address)
        log = get_run_logger()
        if opened is not None and (opened.cfg != cfg or str(opened.out) != out):
            raise ValueError("the run opened for this flow has another config or output")
        run = opened or open_run(cfg, out, overwrite, across_versions=resume_across_versions, log=log.info)
        log.info(
            "synth: %d episodes (%d already staged) into %s, preset %s",
            cfg.episodes,
            cfg.episodes - len(run.todo),
            out,
            cfg.preset,
        )
        started = time.perf_counter()
        produced = produce(run, _Shown(progress).update, workers, ray_address, steps=TaskSteps)
        manifest = finalize_task(cfg, out)
        log.info("synth: %s", blind_summary(manifest))
        log.info("synth: %s", order_summary(manifest))
        root = str(dataset_root(out))
        _publish(out, root, manifest, produced.timings, time.perf_counter() - started, produced.contact_sheet)
        return manifest

    return synth


synth = synth_flow()  # the deployments' entrypoint


class _Shown:
    """Where progress goes: the caller's hook on every event, the log once per finished episode,
    and a Prefect progress artifact (percent of frames rendered) at most once per
    ``PROGRESS_ARTIFACT_SECONDS`` and whenever an episode finishes."""

    def __init__(self, hook: Callable[[Board], None] | None):
        self.hook, self.artifact, self.last, self.finished = hook, None, 0.0, -1

    def update(self, board: Board) -> None:
        if self.hook:
            self.hook(board)
        percent = 100.0 * board.frames_done / max(1, board.frames_total)
        finished = board.episodes_done != self.finished
        if self.artifact is None:
            self.artifact = create_progress_artifact(
                progress=percent, key="synth-progress", description="frames rendered, all episodes"
            )
        elif finished or time.monotonic() - self.last >= PROGRESS_ARTIFACT_SECONDS:
            update_progress_artifact(self.artifact, progress=percent)
        else:
            return
        self.last = time.monotonic()
        if finished and self.finished >= 0:
            get_run_logger().info("progress: %d/%d frames, %s", board.frames_done, board.frames_total, board.summary())
        self.finished = board.episodes_done


def _publish(out: str, root: str, manifest: dict, timings: dict[str, float], wall: float, sheet: bytes | None) -> None:
    """Summary table, report with a preview gallery, and a link to the dataset. Episodes are
    counted as episodes (the clean samples), samples as samples (an episode and each of its
    degradation variants)."""
    from synth.storage.dataset import iter_samples
    from synth.storage.media import frame_sheet

    metas, previews, clean = [], [], []
    for sample in iter_samples(Path(root)):
        meta = json.loads(sample.files["json"])
        metas.append(meta)
        if meta["variant"] != "clean":
            continue
        if len(previews) < 8:
            previews.append((sample.key, _thumbnail(sample.files["mp4"])))
        if len(clean) < 12:
            clean.append(sample.files["mp4"])
    episodes = [m for m in metas if m["variant"] == "clean"]
    table = balance_table(metas)
    abstentions = sum(r["abstentions"] for r in table)
    rows = [
        {"what": "episodes", "value": len(episodes)},
        {"what": "samples (episodes x variants)", "value": manifest["num_samples"]},
        {"what": "questions (all samples)", "value": manifest["num_questions"]},
        {"what": "abstentions (all samples)", "value": abstentions},
        {"what": "degradation variants", "value": manifest["config"].get("degradations") or "none"},
        {"what": "episodes with object motion", "value": sum(bool(m["episode"]["motions"]) for m in episodes)},
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
                f"{len(episodes)} episodes, {manifest['num_samples']} samples (each episode and each of its "
                f"degradation variants), {manifest['num_questions']} questions over all samples "
                f"({abstentions} abstentions).",
                "",
                "## Preview (first frame of each episode)",
                "",
                gallery,
                "",
                "## Answer balance (all samples)",
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
