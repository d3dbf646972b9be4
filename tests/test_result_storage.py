"""Prefect's result storage stays bounded: a render's persisted result lives only until its
episode is staged, so a finished run leaves (almost) nothing behind, while a rerun of a failed
run still takes the renders that were finished but not staged from Prefect's cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from synth.flows.config import RunConfig
from synth.storage.dataset import STAGING, read_tar

# The flow in ephemeral mode, as `synth run` runs it, then the render task runs' states as JSON.
RUN = """
import json, sys
from prefect.client.orchestration import get_client
from synth.flows.config import RunConfig
from synth.flows.flow import synth
cfg = RunConfig.model_validate_json(sys.argv[2])
try:
    synth(config=cfg, out=sys.argv[1], workers=1)
finally:
    with get_client(sync_client=True) as client:
        runs = [r for r in client.read_task_runs() if r.name.startswith("render")]
        print(json.dumps(sorted(r.state.name for r in runs)))
"""


def config(**options) -> RunConfig:
    """tiny_config's run on the software z-buffer renderer (no Blender), 2 frames."""
    base = dict(seed=5, frames=2, width=160, height=120, samples_per_shard=2, min_pixels=20, assets="primitives")
    return RunConfig.from_options("zbuffer", **{**base, **options})


def _flow(out: Path, cfg, home: Path) -> tuple[subprocess.CompletedProcess, list[str]]:
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env |= {"PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("PREFECT_API_URL", None)
    r = subprocess.run(
        [sys.executable, "-c", RUN, str(out), cfg.model_dump_json()],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    states = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else []
    return r, states


def _bytes(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    return sum(p.stat().st_size for p in files), len(files)


def test_a_finished_run_leaves_its_render_results_behind_no_more(tmp_path):
    """Before: every render's result (media of the episode and its variants) stayed in
    $PREFECT_HOME/storage for ever, about the dataset's size again (107.6% measured)."""
    out, home = tmp_path / "ds", tmp_path / "prefect"
    r, states = _flow(out, config(episodes=3, degradations="fog:3"), home)
    assert r.returncode == 0, r.stderr[-3000:]
    assert states == ["Completed"] * 3
    stored, _ = _bytes(home / "storage")
    dataset, _ = _bytes(out)
    assert stored < 0.05 * dataset, (stored, dataset)


def test_a_rerun_takes_unstaged_renders_from_the_cache_and_then_drops_them(tmp_path):
    """Episode 0 renders but cannot be staged (a directory where one of its sample files goes: a
    real write error), so the run fails and its render result stays; the rerun, once the
    obstacle is gone, takes that render from Prefect's cache instead of rendering it again,
    stages it, and leaves no render result behind."""
    from synth.flows.run import open_run

    out, home = tmp_path / "ds", tmp_path / "prefect"
    cfg = config(episodes=2, degradations="fog:3")
    open_run(cfg, out)  # the unfinished dataset a run leaves, then the obstacle in it
    blocker = out / STAGING / "ep0000000-fog-3.tar"
    blocker.mkdir()
    r, states = _flow(out, cfg, home)
    assert r.returncode != 0 and "Is a directory" in r.stderr, r.stderr[-3000:]
    assert _bytes(home / "storage")[1] >= 1  # episode 0's render, kept
    blocker.rmdir()
    r, states = _flow(out, cfg, home)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Cached" in states, states  # not rendered again
    keys = [s.key for shard in sorted(out.glob("train-*.tar")) for s in read_tar(shard)]
    assert sorted(keys) == ["ep0000000", "ep0000000-fog-3", "ep0000001", "ep0000001-fog-3"]
    stored, _ = _bytes(home / "storage")  # the first run's failure (its exception, a few hundred bytes) stays
    assert stored < 0.05 * _bytes(out)[0], stored
