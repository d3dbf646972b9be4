"""Episodes rendered on a Ray cluster (a local `ray start --head`) give byte-identical
questions and metadata to a local run; render tasks declare the memory measured for their
setting, and a render killed for memory fails once with one line."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from synth.storage.dataset import read_tar

pytestmark = pytest.mark.usefixtures("busy_machine")  # they must pass on a loaded machine

RAY = str(Path(sys.executable).with_name("ray"))
SYNTH = [sys.executable, "-m", "synth.cli.main"]
RUN = """
import sys
from synth.flows.config import RunConfig
from synth.flows.flow import synth
cfg = RunConfig.from_options(episodes=2, frames=3, width=128, height=96, quality="draft", seed=4, assets="primitives")
synth(config=cfg, out=sys.argv[1], ray_address=sys.argv[2] or None)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    port = _free_port()
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


TINY = ["--episodes", "1", "--frames", "3", "--resolution", "128x96", "--quality", "draft", "--assets", "primitives"]


@pytest.fixture
def memory_starved_node(tmp_path_factory):
    """A Ray cluster whose head runs nothing (no CPU) and whose one worker node has 2 CPUs and
    memory for exactly one render of ``TINY`` (``ray start --memory``), with its memory monitor's
    threshold at 5% of the machine's memory, which the machine's own use exceeds: Ray's memory
    monitor kills any render that runs there, as on a node without memory left. Yields the
    address and the cluster's log folder; stops exactly the processes it started."""
    import psutil

    need = _tiny_need()
    port, temp = _free_port(), tmp_path_factory.mktemp("ray")  # a short path: Ray's socket paths must fit 107 bytes
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    common = ["--node-ip-address=127.0.0.1", "--disable-usage-stats"]
    head = [RAY, "start", "--head", f"--port={port}", "--num-cpus=0", "--include-dashboard=false", *common]
    head += [f"--temp-dir={temp}", f"--ray-client-server-port={_free_port()}"]
    worker = [RAY, "start", f"--address=127.0.0.1:{port}", "--num-cpus=2", f"--memory={need}", *common]
    starved = {**env, "RAY_memory_usage_threshold": "0.05", "RAY_memory_monitor_refresh_ms": "100"}
    try:
        for args, node_env in ((head, env), (worker, starved)):
            r = subprocess.run(args, env=node_env, capture_output=True, text=True, timeout=180)
            assert r.returncode == 0, r.stdout + r.stderr
        yield f"127.0.0.1:{port}", temp / "session_latest" / "logs"
    finally:
        ours = [
            p
            for p in psutil.process_iter(["cmdline"])
            if any(str(temp) in arg or f":{port}" in arg for arg in p.info["cmdline"] or [])
        ]
        for p in ours:
            with contextlib.suppress(psutil.NoSuchProcess):
                for child in p.children(recursive=True):
                    child.kill()
                p.kill()


def _tiny_need() -> int:
    """The memory a render task of ``TINY`` declares, bytes."""
    from synth.cli.flags import config_from_args
    from synth.cli.main import build_parser
    from synth.flows.memory import render_memory

    return render_memory(config_from_args(build_parser().parse_args(["run", "--out", "x", *TINY])))


def _kills(logs: Path) -> list[str]:
    """The render tasks Ray's memory monitor killed, as its raylets log them."""
    return [
        line
        for log in logs.glob("raylet*.out")
        for line in log.read_text().splitlines()
        if line.startswith("Selected to kill") and "task name=render_in_worker" in line
    ]


def test_a_render_killed_for_memory_fails_once_with_a_line_naming_memory_and_the_setting(memory_starved_node, tmp_path):
    """Before: the render task asked for no memory, and a kill was retried by Ray (15 times by
    default, with back-off) and then again by Prefect."""
    address, logs = memory_starved_node
    out = tmp_path / "ds"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    run = [*SYNTH, "run", "--out", str(out), *TINY, "--ray-address", address, "--no-progress"]
    r = subprocess.run(run, env=env, capture_output=True, text=True, timeout=600)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr[-3000:]
    assert lines[0].startswith("synth: error: episode 0 (ep0000000): render failed: killed for memory on a Ray node:")
    assert "blender draft 128x96 x 3 frames, primitives assets" in lines[0] and "GiB" in lines[0]
    kills = _kills(logs)
    assert len(kills) == 1, kills  # once: neither Ray nor Prefect retried it
    assert f"memory: {_tiny_need():.6g}" in kills[0], kills[0]  # the task declared its memory
    assert not (out / "manifest.json").exists()

    # a setting that needs more memory than any node offers fails before rendering (Ray would wait for ever)
    run[run.index(str(out))] = str(tmp_path / "larger")
    r = subprocess.run([*run, "--resolution", "1280x960"], env=env, capture_output=True, text=True, timeout=600)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr[-3000:]
    assert "blender draft 1280x960 x 3 frames, primitives assets needs" in lines[0] and "no Ray node" in lines[0]
    assert len(_kills(logs)) == 1


MEASURE = """
import json, sys
from synth.flows.config import RunConfig
from synth.flows.worker import peak_rss_mb, render_in_worker
render_in_worker(RunConfig.model_validate_json(sys.argv[1]), 0)
print(json.dumps(peak_rss_mb()))
"""


@pytest.mark.parametrize("renderer, options", [("zbuffer", {}), ("blender", {"quality": "draft"})])
def test_the_declared_memory_covers_a_measured_render(renderer, options):
    """A fresh process renders one episode as a Ray render task does; its peak resident memory
    stays under what the task declares, and the measured figure is not far above it (stale)."""
    from synth.flows.config import RunConfig
    from synth.flows.memory import MIB, peak_mib, render_memory

    cfg = RunConfig.from_options(renderer, episodes=1, seed=1, frames=4, width=160, height=120, assets="primitives",
                                 plan_candidates=2, **options)  # fmt: skip
    r = subprocess.run([sys.executable, "-c", MEASURE, cfg.model_dump_json()], capture_output=True, text=True,
                       timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    peak = json.loads(r.stdout.strip().splitlines()[-1])
    assert 0.5 * peak_mib(cfg) < peak < render_memory(cfg) / MIB, (peak, peak_mib(cfg))
