"""Episodes rendered on a Ray cluster (a local `ray start --head`) give byte-identical
questions and metadata to a local run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from synth.storage.dataset import read_tar

pytestmark = pytest.mark.usefixtures("busy_machine")  # they must pass on a loaded machine

RAY = str(Path(sys.executable).with_name("ray"))
RUN = """
import sys
from synth.flows.config import RunConfig
from synth.flows.flow import synth
cfg = RunConfig.from_options(episodes=2, frames=3, width=128, height=96, quality="draft", seed=4, assets="primitives")
synth(config=cfg, out=sys.argv[1], ray_address=sys.argv[2] or None)
"""


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tmp_path_factory.mktemp("ray")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    r = subprocess.run(
        [
            RAY,
            "start",
            "--head",
            "--node-ip-address=127.0.0.1",
            f"--port={port}",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={tmp}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    yield f"127.0.0.1:{port}"
    subprocess.run([RAY, "stop", "--force"], env=env, capture_output=True, timeout=120)


def _run(out: Path, address: str, tmp: Path) -> dict[str, bytes]:
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    env.pop("PREFECT_API_URL", None)
    r = subprocess.run(
        [sys.executable, "-c", RUN, str(out), address], env=env, capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0, r.stderr[:6000]
    return {s.key: s.files["json"] for shard in sorted(out.glob("train-*.tar")) for s in read_tar(shard)}


def test_unreachable_ray_head_fails_fast_and_touches_nothing(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    out = tmp_path / "ds"
    r = subprocess.run(
        [sys.executable, "-c", RUN, str(out), f"127.0.0.1:{port}"], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode != 0 and f"cannot reach the Ray cluster at 127.0.0.1:{port}" in r.stderr
    assert not out.exists()


def test_ray_run_matches_local_run(ray_head, tmp_path):
    local = _run(tmp_path / "local", "", tmp_path)
    on_ray = _run(tmp_path / "ray", ray_head, tmp_path)
    assert sorted(local) == ["ep0000000", "ep0000001"]
    assert on_ray == local  # byte-identical questions, answers and metadata
