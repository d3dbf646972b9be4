"""Prefect result storage left behind by a finished run, against the dataset's size (issue 30).

Runs the flow ``synth`` (ephemeral mode, a fresh ``PREFECT_HOME``) on a small configuration,
then measures what ``$PREFECT_HOME/storage`` (Prefect's default result storage) holds and the
dataset's own bytes (shards, card, manifest).

    python bench/result_storage.py [--episodes 20] [--degradations fog:3] [--renderer zbuffer]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUN = """
import sys
from synth.flows.config import RunConfig
from synth.flows.flow import synth
options = dict(episodes=int(sys.argv[2]), seed=5, frames=6, width=160, height=120, samples_per_shard=8,
               min_pixels=20, assets="primitives", degradations=sys.argv[3] or None)
cfg = RunConfig.from_options(sys.argv[4], **options)
synth(config=cfg, out=sys.argv[1])
"""


def tree(path: Path) -> tuple[int, int]:
    """(bytes, files) of every file under ``path``."""
    files = [p for p in path.rglob("*") if p.is_file()] if path.exists() else []
    return sum(p.stat().st_size for p in files), len(files)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--degradations", default="fog:3", help="'' for none")
    ap.add_argument("--renderer", default="zbuffer", choices=("zbuffer", "blender"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, out = Path(tmp) / "prefect", Path(tmp) / "ds"
        env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_LOGGING_LEVEL": "WARNING"}
        env |= {"PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        env.pop("PREFECT_API_URL", None)
        cmd = [sys.executable, "-c", RUN, str(out), str(args.episodes), args.degradations, args.renderer]
        subprocess.run(cmd, env=env, cwd=REPO, check=True)
        stored, files = tree(home / "storage")
        dataset, _ = tree(out)
    print(f"{args.episodes} episodes, renderer {args.renderer}, degradations {args.degradations or 'none'}:")
    print(f"  dataset            {dataset:12,d} bytes")
    print(f"  result storage     {stored:12,d} bytes in {files} files ({stored / dataset:.1%} of the dataset)")


if __name__ == "__main__":
    main()
