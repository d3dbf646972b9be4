"""Run untrusted programs in a pool of worker processes with CPU, memory and time limits.

Each worker is a separate process (spawned, so it shares nothing with the parent) that:
- has no writable filesystem (RLIMIT_FSIZE = 0, working directory an empty temporary folder),
- may use at most ``memory_mb`` of address space (RLIMIT_AS),
- gets a CPU-time budget per batch (RLIMIT_CPU, which kills it when exceeded) and a per-call
  CPU timer that interrupts runaway loops (the program's module body, each call, the JSON of
  its answer and the text of its error each run under it; it fires again every
  ``TIMER_REPEAT`` seconds of CPU until disarmed, so one time-out swallowed where the handler
  itself cannot run, at the recursion limit, is followed by the next),
- runs each task on a fresh instance of the program (its module body executed anew): nothing
  a program keeps in its globals or default arguments reaches another task,
- talks to the parent only in JSON (never pickle), so a hostile program cannot smuggle objects.

The parent enforces a wall-clock limit per batch (``SandboxPool.wall_limit``: a base plus each
task's CPU limit); a worker that dies or hangs is killed and
replaced, and the tasks of a batch of several are retried one by one so that only the culprit
fails. Workers are reused across batches (compiled programs and episodes are cached by content
hash). ``tests/test_hostile_programs.py`` holds the hostile programs it is tested with.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

MAX_RESULT_BYTES = 64_000
MAX_ERROR_CHARS = 300  # of a program's error message
TIMER_REPEAT = 0.05  # CPU seconds between time-outs once a call is over its limit
TIMED_RUNS_PER_TASK = 5  # module body, two calls with their JSON, error text: the batch's CPU budget


@dataclass(frozen=True)
class Limits:
    cpu_seconds_per_call: float = 1.0
    wall_seconds_per_batch: float = 20.0
    memory_mb: int = 1024
    recursion: int = 200


@dataclass(frozen=True)
class Task:
    program: str  # program source
    slots: dict[str, int | str]
    trace: bool = False  # also record what the program reads (``Outcome.trace``; synth.programs.trace)


@dataclass
class Outcome:
    ok: bool
    value: object = None
    error: str = ""
    deterministic: bool = True
    why: str = ""  # for a None answer: the reason the program gave with ``scene.drop(reason)``
    margin: float | None = None  # measured / threshold, the smallest ``scene.margin`` call (None: no call)
    trace: list[dict] | None = None  # for a ``Task.trace``: the ``TraceStep`` dicts of its first run


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()  # a program may hold lone surrogates


# ---------------------------------------------------------------------------- worker side
class _CallTimeout(BaseException):  # not an Exception: `except Exception` in a program cannot swallow it
    pass


def _worker_main(conn: Connection, limits: Limits) -> None:  # pragma: no cover - runs in a child
    import resource
    import signal
    import sys
    import tempfile

    from synth.core.meshes import MeshCache
    from synth.core.scene import Episode
    from synth.programs.restricted import ProgramRejected, compile_program, program_function
    from synth.programs.scene_api import SceneAPI
    from synth.programs.trace import record, steps_of

    os.chdir(tempfile.mkdtemp(prefix="synth-sandbox-"))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    mem = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    sys.setrecursionlimit(limits.recursion + 50)

    def on_timer(signum, frame):
        raise _CallTimeout

    signal.signal(signal.SIGPROF, on_timer)
    codes: dict[str, object] = {}
    episodes: dict[str, SceneAPI] = {}
    surfaces: dict[str, dict] = {}  # scene digest -> what its SceneAPIs measure of its surfaces, shared
    meshes = MeshCache()  # the objects' meshes, kept from scene to scene (one pool of assets)

    def timed(thunk):
        """``thunk()`` under the per-call CPU timer."""
        signal.setitimer(signal.ITIMER_PROF, limits.cpu_seconds_per_call, TIMER_REPEAT)
        try:
            return thunk()
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)

    def answer_of(fn, api, slots) -> tuple[object, str]:
        def run():
            value = fn(api, **slots)
            return value, json.dumps(value, allow_nan=False)

        value, text = timed(run)
        if len(text) > MAX_RESULT_BYTES:
            raise ValueError(f"answer is larger than {MAX_RESULT_BYTES} bytes")
        return value, text

    def error_text(e: BaseException) -> str:
        """``Type: message`` of what a program raised; its message (which the program chose: a
        huge int, a deep list) is cut to MAX_ERROR_CHARS, computed under the timer, and replaced
        when it cannot be printed."""
        try:
            message = timed(lambda: str(e)[:MAX_ERROR_CHARS])
        except BaseException:  # noqa: BLE001 - whatever printing it raised
            message = "(its message cannot be printed)"
        return f"{type(e).__name__}: {message}"

    while True:
        try:
            msg = json.loads(conn.recv_bytes())
        except EOFError:
            return
        used = resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime
        per_task = (limits.cpu_seconds_per_call + TIMER_REPEAT) * TIMED_RUNS_PER_TASK
        budget = int(used + 2 + per_task * len(msg["tasks"])) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (budget, resource.getrlimit(resource.RLIMIT_CPU)[1]))
        key = msg["episode_key"]
        if key not in episodes:
            if len(episodes) > 8:
                episodes.clear()
                surfaces.clear()
            episode = Episode.model_validate_json(msg["episode"])
            shared = surfaces.setdefault(_digest(episode.scene.model_dump_json()), {})
            episodes[key] = SceneAPI(episode, shared, meshes)
        api = episodes[key]
        out = []
        for pid, slots, trace in msg["tasks"]:
            try:
                if pid not in codes:
                    codes[pid] = compile_program(msg["programs"][pid], f"<program {pid[:12]}>")
                code = codes[pid]
                fn = timed(lambda code=code: program_function(code))  # this task's own instance
                api._take_drop_reason(), api._take_margin()
                recorder = record(api) if trace else None
                value, first = answer_of(fn, recorder or api, slots)
                why, margin = (recorder or api)._take_drop_reason(), (recorder or api)._take_margin()
                _, second = answer_of(fn, api, slots)
                api._take_margin()
                done = {"ok": True, "value": value, "deterministic": first == second, "why": why, "margin": margin}
                out.append(done | ({"trace": steps_of(recorder)} if recorder else {}))
            except _CallTimeout:
                out.append({"ok": False, "error": f"killed: more than {limits.cpu_seconds_per_call} s of CPU"})
            except MemoryError:
                out.append({"ok": False, "error": f"killed: more than {limits.memory_mb} MB of memory"})
            except RecursionError:
                out.append({"ok": False, "error": "killed: recursion too deep"})
            except ProgramRejected as e:
                out.append({"ok": False, "error": f"rejected: {e}"})
            except BaseException as e:  # noqa: BLE001 - everything a program raises is its failure
                out.append({"ok": False, "error": error_text(e)})
        try:
            conn.send_bytes(json.dumps({"results": out}).encode())
        except (ValueError, TypeError):
            conn.send_bytes(
                json.dumps({"results": [{"ok": False, "error": "unserialisable answer"}] * len(out)}).encode()
            )


# ---------------------------------------------------------------------------- parent side
@dataclass
class _Worker:
    process: multiprocessing.Process
    conn: Connection


@dataclass
class SandboxPool:
    """A reusable pool of sandbox workers. Use as a context manager or call ``close``."""

    workers: int = 2
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self):
        self._ctx = multiprocessing.get_context("spawn")
        self._pool: list[_Worker] = [self._spawn() for _ in range(self.workers)]
        self.restarts = 0

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        p = self._ctx.Process(target=_worker_main, args=(child, self.limits), daemon=True)
        p.start()
        child.close()
        return _Worker(p, parent)

    def _replace(self, i: int) -> None:
        w = self._pool[i]
        if w.process.is_alive():
            w.process.kill()
        w.process.join(5)
        w.conn.close()
        self._pool[i] = self._spawn()
        self.restarts += 1

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for w in self._pool:
            w.conn.close()
            w.process.kill()
            w.process.join(5)
        self._pool = []

    def run(self, episode_json: str, tasks: list[Task]) -> list[Outcome]:
        """Run every task against one episode (visible by its own ``visibility_rule``); results in task order."""
        if not tasks:
            return []
        episode_key = _digest(episode_json)
        chunks = [list(range(k, len(tasks), len(self._pool))) for k in range(len(self._pool))]
        results: list[Outcome | None] = [None] * len(tasks)
        busy = []
        for i, idx in enumerate(chunks):
            if idx:
                self._send(i, episode_key, episode_json, [tasks[j] for j in idx])
                busy.append((i, idx))
        for i, idx in busy:
            got = self._receive(i, len(idx))
            if isinstance(got, str) and len(idx) == 1:  # the worker died or hung on this one task
                results[idx[0]] = Outcome(False, error=got)
            elif isinstance(got, str):  # the worker died or hung on one of several: isolate the culprit
                for j in idx:
                    self._send(i, episode_key, episode_json, [tasks[j]])
                    one = self._receive(i, 1)
                    results[j] = Outcome(False, error=one) if isinstance(one, str) else one[0]
            else:
                for j, r in zip(idx, got):
                    results[j] = r
        return results  # type: ignore[return-value]

    def _send(self, i: int, key: str, episode_json: str, tasks: list[Task]) -> None:
        programs = {_digest(t.program): t.program for t in tasks}
        msg = {
            "episode_key": key,
            "episode": episode_json,
            "programs": programs,
            "tasks": [[_digest(t.program), t.slots, t.trace] for t in tasks],
        }
        try:
            self._pool[i].conn.send_bytes(json.dumps(msg).encode())
        except OSError:  # died between batches: replace it and send again
            self._replace(i)
            self._pool[i].conn.send_bytes(json.dumps(msg).encode())

    def wall_limit(self, tasks: int) -> float:
        """Wall-clock seconds a batch of ``tasks`` may take: ``wall_seconds_per_batch`` plus the
        CPU limit of each task's two timed calls (a batch of slow but legitimate programs, such
        as mesh distances over Infinigen furniture, is not killed for its size)."""
        return self.limits.wall_seconds_per_batch + 2 * tasks * self.limits.cpu_seconds_per_call

    def _receive(self, i: int, tasks: int) -> list[Outcome] | str:
        """The batch's outcomes (``tasks`` of them), or why the worker had to be replaced."""
        w = self._pool[i]
        limit = self.wall_limit(tasks)
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if w.conn.poll(0.05):
                try:
                    data = json.loads(w.conn.recv_bytes())
                except (EOFError, OSError):
                    break
                return [
                    Outcome(
                        r["ok"],
                        r.get("value"),
                        r.get("error", ""),
                        r.get("deterministic", True),
                        r.get("why", ""),
                        r.get("margin"),
                        r.get("trace"),
                    )
                    for r in data["results"]
                ]
            if not w.process.is_alive():
                break
        reason = (
            f"killed: worker exceeded its limits (exit code {w.process.exitcode})"
            if not w.process.is_alive()
            else f"killed: more than {limit:g} s of wall-clock time"
        )
        self._replace(i)
        return reason
