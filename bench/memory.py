"""Memory of long-running render workers.

Renders many small episodes (2 frames at 64x48, 2 planning candidates) in one render worker
process per quality level, and in one Ray worker, and prints the worker's resident memory (RSS)
along the way: its value after the first 20 episodes (warm), at the end, the growth per 100
episodes after warm-up (least squares), and the ratio end / warm (1.00 = no growth). Blender
keeps data blocks alive across scenes unless they are freed: a long run must not grow.

    python bench/memory.py [--episodes 300] [--no-ray]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

import numpy as np  # noqa: E402

from synth.flows.config import RunConfig  # noqa: E402
from synth.flows.executor import Executor  # noqa: E402

WARM = 20


def config(quality: str, episodes: int) -> RunConfig:
    return RunConfig.from_options(episodes=episodes, frames=2, width=64, height=48, quality=quality, samples=1,
                                  plan_candidates=2, seed=1, assets="primitives")  # fmt: skip


def curve(rss: list[float]) -> str:
    x = np.arange(len(rss))[WARM:]
    slope = np.polyfit(x, np.asarray(rss)[WARM:], 1)[0] if len(x) > 1 else 0.0
    marks = ", ".join(f"{i}: {rss[i]:.0f}" for i in range(0, len(rss), max(1, len(rss) // 6)))
    return (
        f"warm {rss[WARM]:.0f} MiB, end {rss[-1]:.0f} MiB, {100 * slope:+.1f} MiB per 100 episodes, "
        f"end/warm {rss[-1] / rss[WARM]:.2f}  [{marks}]"
    )


def ray_rss(cfg: RunConfig) -> list[float]:
    """The same episodes as Ray tasks on a private one-CPU Ray instance (one worker process)."""
    import os

    import ray

    from synth.flows.memory import render_memory
    from synth.flows.worker import render_in_worker

    # a private instance without token auth: Ray 2.60 would otherwise write ~/.ray/auth_token,
    # which clusters started later with `ray start` then disagree with
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1, memory=render_memory(cfg), max_retries=2)(render_in_worker)  # as Executor does
        return [ray.get(remote.remote(cfg, i)).worker_rss_mb for i in range(cfg.episodes)]
    finally:
        ray.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=300)
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    for quality in ("draft", "photoreal"):
        cfg = config(quality, args.episodes)
        t = time.perf_counter()
        with Executor(cfg, workers=1) as executor:
            rss = [executor.render(i).worker_rss_mb for i in range(cfg.episodes)]
        print(f"{quality:9s} worker, {args.episodes} episodes in {time.perf_counter() - t:.0f} s: {curve(rss)}")
    if not args.no_ray:
        t = time.perf_counter()
        rss = ray_rss(config("draft", args.episodes))
        print(f"draft Ray worker, {args.episodes} episodes in {time.perf_counter() - t:.0f} s: {curve(rss)}")


if __name__ == "__main__":
    main()
