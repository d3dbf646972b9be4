"""Peak memory of one render per setting: the figures ``synth.flows.memory`` declares to Ray.

Each setting renders episode 0 in a fresh process, as a Ray render task does (the renderer opened
with one thread, ``synth.flows.worker.render_in_worker``: scene, planning, render, evidence,
encoding), and reports the process's peak resident memory (``VmHWM``), MiB. The grid varies
what the issue names: renderer and quality, resolution, assets, and the frame count (every
frame's buffers are held until the episode is encoded).

    python bench/render_memory.py [--only blender]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MEASURE = """
import json, sys
from synth.flows.config import RunConfig
from synth.flows.worker import peak_rss_mb, render_in_worker
render_in_worker(RunConfig.model_validate_json(sys.argv[1]), 0)
print(json.dumps({"peak_mib": peak_rss_mb()}))
"""
GRID = [  # (renderer, quality, assets, width, height, frames)
    ("zbuffer", None, "primitives", 160, 120, 4),
    ("zbuffer", None, "primitives", 448, 336, 4),
    ("blender", "draft", "primitives", 160, 120, 4),
    ("blender", "draft", "primitives", 448, 336, 4),
    ("blender", "draft", "primitives", 448, 336, 16),
    ("blender", "draft", "primitives", 1280, 960, 4),
    ("blender", "photoreal", "primitives", 160, 120, 2),
    ("blender", "photoreal", "primitives", 448, 336, 2),
    ("blender", "draft", "infinigen", 448, 336, 4),
    ("blender", "photoreal", "infinigen", 448, 336, 2),
]


def measure(renderer: str, quality: str | None, assets: str, width: int, height: int, frames: int) -> float:
    from synth.flows.config import RunConfig

    options = dict(episodes=1, seed=1, frames=frames, width=width, height=height, assets=assets, plan_candidates=2)
    if quality:
        options["quality"] = quality
    cfg = RunConfig.from_options(renderer, **options)
    r = subprocess.run(
        [sys.executable, "-c", MEASURE, cfg.model_dump_json()],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])["peak_mib"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="only this renderer")
    args = ap.parse_args()
    print("| renderer | quality | assets | resolution | frames | peak MiB | seconds |")
    print("|---|---|---|---|---|---|---|")
    for renderer, quality, assets, width, height, frames in GRID:
        if args.only and renderer != args.only:
            continue
        t = time.perf_counter()
        peak = measure(renderer, quality, assets, width, height, frames)
        row = [renderer, quality or "-", assets, f"{width}x{height}", frames, f"{peak:.0f}"]
        print("| " + " | ".join(map(str, row)) + f" | {time.perf_counter() - t:.0f} |", flush=True)


if __name__ == "__main__":
    main()
