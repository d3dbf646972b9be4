"""Times every degradation type on one pickled episode with the ``synth`` package found at a
given root: bench/degradations.py runs it on this checkout and on an earlier commit's tree, so
both codes are timed on the same machine in the same run.

    python bench/degradation_worker.py ROOT EPISODE.pkl OUT.npz

Prints one JSON line: seconds to build the Gaussians, then per type (severity 3, every frame,
one shared Gaussian model, as ``synth.flows.episode.degraded_variants`` runs them); OUT.npz
holds each type's frames and visible pixels, to compare the two codes' outputs.
"""

from __future__ import annotations

import json
import pickle
import sys
import time

import numpy as np


def main() -> None:
    root, episode_path, out_path = sys.argv[1:4]
    sys.path[0] = root  # this file's folder would come first otherwise
    from synth.degradations import DEGRADATIONS, build_splats, degrade

    with open(episode_path, "rb") as f:
        episode, buffers = pickle.load(f)
    degrade(episode, buffers, "fog", 3, 0, frames=[0])  # compiles (or loads) the numba rasteriser
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    splats = build_splats(episode, buffers)
    seconds["build"] = time.perf_counter() - t
    arrays = {}
    for kind in DEGRADATIONS:
        t = time.perf_counter()
        d = degrade(episode, buffers, kind, 3, 0, splats=splats)
        seconds[kind] = time.perf_counter() - t
        arrays[f"{kind}.rgb"] = d.rgb
        arrays[f"{kind}.visible"] = np.array([v.pixels for v in d.visibility])
    np.savez(out_path, **arrays)
    print(json.dumps(seconds))


if __name__ == "__main__":
    main()
