"""Program throughput benchmark.

Runs every library family on the same episodes and slot bindings
1. in the sandbox: restricted compile + 2 worker processes with limits (2 cores), and
2. unsandboxed, in-process: plain ``exec`` of the same sources, plain builtins;
both execute each program twice per answer (the determinism check) and build the scene API
once per episode. Prints answers/s of each and the sandbox overhead ratio
(targets: >= 2,000 answers/s sandboxed, overhead <= 3x).

    python bench/programs.py [--episodes 40]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

# run as a script, bench/ would be sys.path[0] and bench/programs.py would shadow the package
sys.path[0] = str(Path(__file__).resolve().parents[1])

from synth.core.scene import Episode  # noqa: E402
from synth.programs.generate import _bindings, unambiguous  # noqa: E402
from synth.programs.library import FAMILIES  # noqa: E402
from synth.programs.sandbox import SandboxPool, Task  # noqa: E402
from synth.programs.scene_api import SceneAPI  # noqa: E402
from tests.cheap import cheap_episode  # noqa: E402

MIN_PX, MIN_FRAMES = 30, 2


def workload(n: int) -> list[tuple[str, list[Task]]]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        ep = cheap_episode(5000 + i, frames=16)
        api = SceneAPI(ep, MIN_PX, MIN_FRAMES)
        seen = sorted(o for o in unambiguous(ep) if api.seen(o))
        tasks = [Task(f.source, s) for f in FAMILIES.values() for s in _bindings(f, api, seen, rng)]
        out.append((ep.model_dump_json(), tasks))
    return out


def unsandboxed(work) -> int:
    fns = {}
    for f in FAMILIES.values():
        env = {"math": math}
        exec(f.source, env)
        fns[f.source] = env["answer"]
    n = 0
    for episode_json, tasks in work:
        api = SceneAPI(Episode.model_validate_json(episode_json), MIN_PX, MIN_FRAMES)
        for t in tasks:
            fns[t.program](api, **t.slots)
            fns[t.program](api, **t.slots)
            n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=40)
    args = ap.parse_args()
    work = workload(args.episodes)
    total = sum(len(t) for _, t in work)
    print(f"{args.episodes} episodes, {total} answers ({len(FAMILIES)} families)")

    t = time.perf_counter()
    unsandboxed(work)
    base = time.perf_counter() - t

    t = time.perf_counter()
    pool = SandboxPool(workers=2)
    pool.run(work[0][0], work[0][1][:1])
    startup = time.perf_counter() - t
    t = time.perf_counter()
    for episode_json, tasks in work:
        outs = pool.run(episode_json, tasks, MIN_PX, MIN_FRAMES)
        assert all(o.ok for o in outs)
    sandboxed = time.perf_counter() - t
    pool.close()

    print(f"  unsandboxed, in-process     {total / base:9.0f} answers/s")
    print(f"  sandboxed, 2 workers        {total / sandboxed:9.0f} answers/s  (pool start-up {startup:.2f} s, once)")
    print(f"  sandbox overhead ratio      {sandboxed / base:9.2f}x")


if __name__ == "__main__":
    main()
