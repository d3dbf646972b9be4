"""Where a run's work happens: render worker processes (a local pool of spawned processes, or
plain Ray tasks when a Ray address is given: measured far cheaper than prefect-ray's task
runner), the programs' sandbox, and the queue of progress events the local workers report to.

One ``Executor`` per run, closed at its end: nothing outlives the run in the process."""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from synth.flows.config import RunConfig
from synth.flows.episode import Rendered, ask
from synth.flows.failures import RenderOutOfMemory
from synth.flows.memory import MIB, describe, gib, peak_mib, render_memory
from synth.flows.worker import render_in_worker, start_worker
from synth.programs.sandbox import SandboxPool
from synth.storage.dataset import Sample

RAY_MIN_SLOTS = 16  # renders kept in flight on a Ray cluster at least (an autoscaler grows on demand)


def default_workers(n_tasks: int, cfg: RunConfig) -> int:
    """As many processes as the renderer makes good use of (``RendererSettings.processes``)."""
    return max(1, min(n_tasks, cfg.renderer.processes(os.cpu_count() or 1)))


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


class Executor:
    """Renders and asks the episodes of one run of ``cfg``.

    ``render`` blocks until a worker process has rendered the episode: ``workers`` local spawned
    processes sharing the cores, each with its own renderer, spawned on first use; or, with
    ``ray_address``, a Ray task in a Ray worker process (one renderer per process, reused).
    ``ask`` runs the programs in the sandbox (one call at a time). ``events``: the queue local
    workers put progress events on (``synth.flows.progress``; Ray workers report none).
    Use as a context manager or call ``close``."""

    def __init__(self, cfg: RunConfig, workers: int, ray_address: str | None = None):
        self.cfg, self.workers, self.ray_address = cfg, workers, ray_address
        self.events: Any = multiprocessing.get_context("spawn").Queue()
        self.sandbox = SandboxPool(workers=1)
        self._pool: ProcessPoolExecutor | None = None
        self._remote: Any = None  # the Ray task, when rendering on Ray
        self._ray_started = False
        if ray_address:
            self._connect_ray(ray_address)
        else:  # processes are spawned as renders are submitted
            self._pool = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=start_worker,
                initargs=(cfg.renderer, max(1, (os.cpu_count() or 1) // workers), self.events),
            )

    @property
    def slots(self) -> int:
        """How many renders run at once: the local processes, or the Ray cluster's CPUs."""
        if not self.ray_address:
            return self.workers
        import ray

        return max(RAY_MIN_SLOTS, int(ray.cluster_resources().get("CPU", 0)))

    def _connect_ray(self, address: str) -> None:
        """Join the cluster and make the render task: one CPU and the memory measured for the
        run's setting (``synth.flows.memory``), retried twice on another node when a node is
        lost, never when Ray's memory monitor killed it (the same setting needs the same memory:
        ``RAY_task_oom_retries`` is 0 for this process unless set, where Ray's default retries it
        15 times). ``RuntimeError`` when no node with a CPU has that much memory (Ray would
        wait for one for ever)."""
        import ray

        check_ray_address(address)
        if not ray.is_initialized():
            os.environ.setdefault("RAY_task_oom_retries", "0")  # read by the Ray core worker ray.init starts
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, logging_level=logging.WARNING)
            self._ray_started = True
        need = render_memory(self.cfg)
        nodes = [n["Resources"] for n in ray.nodes() if n["Alive"] and n["Resources"].get("CPU", 0) >= 1]
        largest = max((r.get("memory", 0) for r in nodes), default=0)
        if largest < need:
            raise RuntimeError(
                f"a render of {describe(self.cfg)} needs {gib(need)} of memory (measured, with a margin) and no "
                f"Ray node with a CPU offers that much (the largest offers {gib(largest)}): start nodes with more "
                "memory (ray start --memory), or lower --resolution, --frames or --quality"
            )
        self._remote = ray.remote(num_cpus=1, memory=need, max_retries=2)(render_in_worker)

    def render(self, index: int) -> Rendered:
        """Sample, plan, render and encode episode ``index`` in a worker process."""
        if self._remote is not None:
            import ray

            try:
                return ray.get(self._remote.remote(self.cfg, index))
            except ray.exceptions.OutOfMemoryError as e:
                raise RenderOutOfMemory(
                    f"killed for memory on a Ray node: a render of {describe(self.cfg)} peaks at "
                    f"{gib(peak_mib(self.cfg) * MIB)} (measured) and declares {gib(render_memory(self.cfg))}; give the "
                    "Ray nodes more memory, or lower --resolution, --frames or --quality"
                ) from e
        assert self._pool is not None, "closed"
        return self._pool.submit(render_in_worker, self.cfg, index).result()

    def ask(self, rendered: Rendered) -> list[Sample]:
        """The episode's verified questions and its samples (``synth.flows.episode.ask``)."""
        return ask(self.cfg, rendered, self.sandbox)

    def close(self) -> None:
        """Stop the sandbox and the render workers (they exit while the caller goes on: Blender's
        teardown takes ~0.4 s), and leave Ray if this executor joined it."""
        self.sandbox.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._ray_started:
            import ray

            ray.shutdown()
            self._ray_started = False

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
