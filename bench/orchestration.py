"""Orchestration benchmark.

1. Wall time of N episodes through the Prefect flow ``synth`` (ephemeral mode, tasks, result
   persistence, artifacts) versus calling the same stage functions directly in one process
   (``synth.flows.run.run``), same config, same machine (target overhead <= 10% at N=8).
2. The flow with renders on a local Ray cluster using 2 CPUs versus 1 CPU (scaling ratio).

    python bench/orchestration.py [--episodes 8] [--quality draft]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

from synth.flows.config import RunConfig  # noqa: E402
from synth.flows.flow import synth  # noqa: E402
from synth.flows.run import run  # noqa: E402

RAY = str(Path(sys.executable).with_name("ray"))


def _ray(cpus: int, port: int, tmp: str) -> str:
    subprocess.run(
        [
            RAY,
            "start",
            "--head",
            "--node-ip-address=127.0.0.1",
            f"--port={port}",
            f"--num-cpus={cpus}",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={tmp}",
        ],
        check=True,
        capture_output=True,
    )
    return f"127.0.0.1:{port}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=8)
    ap.add_argument("--quality", default="draft", choices=("draft", "photoreal"))
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray scaling part")
    args = ap.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    cfg = RunConfig.from_options(  # the configuration docs/benchmarks.md records: primitives at 320x240
        episodes=args.episodes, quality=args.quality, frames=args.frames, assets="primitives", width=320, height=240
    )
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        run(cfg, Path(tmp) / "direct")
        direct = time.perf_counter() - t
        t = time.perf_counter()
        synth(config=cfg, out=str(Path(tmp) / "flow"))
        flowed = time.perf_counter() - t
        print(f"{args.episodes} episodes x {args.frames} frames, {args.quality}:")
        print(f"  stage functions, one process  {direct:7.1f} s")
        print(f"  Prefect flow (ephemeral)      {flowed:7.1f} s  overhead {flowed / direct - 1:+.1%}")
        times = {}
        for cpus in () if args.no_ray else (1, 2):
            address = _ray(cpus, 6390 + cpus, str(Path(tmp) / f"ray{cpus}"))
            try:
                import ray

                t = time.perf_counter()
                synth(config=cfg, out=str(Path(tmp) / f"ray{cpus}-out"), ray_address=address)
                times[cpus] = time.perf_counter() - t
                ray.shutdown()
            finally:
                subprocess.run([RAY, "stop", "--force"], capture_output=True)
            print(f"  flow on Ray, {cpus} CPU(s)          {times[cpus]:7.1f} s")
        if times:
            print(f"  Ray scaling 1 -> 2 CPUs       {times[1] / times[2]:7.2f}x")


if __name__ == "__main__":
    main()
