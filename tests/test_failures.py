"""A failure inside a render, question or write task ends ``synth run`` with one line naming the
episode, the step and the cause, exit status 2, nothing half-written, and the traceback only with
``--debug``; a rerun resumes. (A deployment run's state message: tests/test_prefect.py.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from synth.storage.dataset import MANIFEST, STAGING, read_tar

SYNTH = [sys.executable, "-m", "synth.cli.main"]
THOR_WITHOUT_BUILD = ["--simulator", "ai2thor", "--scene", "FloorPlan1", "--platform", "Linux64"]
ZBUFFER = ["--renderer", "zbuffer", "--frames", "2", "--resolution", "160x120", "--assets", "primitives"]
# `synth run` with the questions step broken (an unexpected exception in the flow's questions task)
BROKEN_QUESTIONS = """
import sys
import synth.flows.episode

def broken(*args, **kwargs):
    raise ZeroDivisionError("a family divided by zero")

synth.flows.episode.generate_questions = broken
from synth.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _env(tmp: Path) -> dict[str, str]:
    env = {**os.environ, "PREFECT_HOME": str(tmp / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    return env


def synth(tmp: Path, *args: str, script: str | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", script] if script else SYNTH
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=600, env=_env(tmp))


def _nothing_finished(out: Path) -> None:
    assert not (out / MANIFEST).exists() and not list(out.glob("train-*.tar"))
    assert not [p.name for p in (out / STAGING).iterdir() if not p.name.endswith(".tar")]  # no partial file


def test_a_backend_that_cannot_run_is_one_line_naming_the_episode(tmp_path):
    """AI2-THOR without its Unity build: the BackendUnavailable text as is, after the episode.
    Before: 163 lines on stderr, two tracebacks of Prefect's, and a retry of the render."""
    from synth.backends.registry import open_renderer, renderer_settings
    from synth.core.plugin import BackendUnavailable

    build = str(tmp_path / "thor-build")  # no build there
    renderer = open_renderer(renderer_settings("ai2thor", platform="Linux64", local_executable_path=build))
    with pytest.raises(BackendUnavailable) as raised:
        renderer.scene(0, scene="FloorPlan1")
    renderer.close()
    out = tmp_path / "thor"
    args = ["run", "--out", str(out), *THOR_WITHOUT_BUILD, "--local-executable-path", build, "--episodes", "2"]
    r = synth(tmp_path, *args, "--frames", "2", "--no-progress")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr[-3000:]
    # both episodes fail alike; the line names whichever failed first
    assert re.fullmatch(
        rf"synth: error: episode (\d) \(ep000000\1\): render failed: {re.escape(str(raised.value))}", lines[0]
    )
    _nothing_finished(out)
    r = synth(tmp_path, *args, "--frames", "2", "--no-progress", "--debug")
    assert r.returncode != 0 and "Traceback" in r.stderr and "BackendUnavailable" in r.stderr
    failed = r"episode (\d) \(ep000000\1\): render failed: AI2-THOR could not start"  # whichever failed first
    assert re.search(failed, r.stderr), r.stderr[-3000:]


def test_a_failing_questions_step_is_one_line_pointing_to_debug(tmp_path):
    out = tmp_path / "ds"
    r = synth(tmp_path, "run", "--out", str(out), *ZBUFFER, "--episodes", "1", script=BROKEN_QUESTIONS)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr[-3000:]
    assert lines[-1] == (
        "synth: error: episode 0 (ep0000000): questions failed: ZeroDivisionError: a family divided by zero "
        "(synth --debug shows the traceback)"
    )
    assert "Traceback" not in r.stderr
    _nothing_finished(out)
    assert not list((out / STAGING).iterdir())


def test_a_failing_write_is_one_line_and_the_rerun_resumes(tmp_path):
    """Episode 0's fog variant cannot be staged (a directory where its file goes: a real write
    error). The run stops with one line; nothing half-written stays; the rerun finishes the
    dataset with every sample once."""
    from synth.cli.flags import config_from_args
    from synth.cli.main import build_parser
    from synth.flows.run import open_run

    out = tmp_path / "ds"
    args = ["run", "--out", str(out), *ZBUFFER, "--episodes", "2", "--degradations", "fog:3", "--no-progress"]
    open_run(config_from_args(build_parser().parse_args(args)), out)  # the unfinished dataset, then the obstacle
    blocker = out / STAGING / "ep0000000-fog-3.tar"
    blocker.mkdir()
    r = synth(tmp_path, *args)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr[-3000:]
    assert lines[0].startswith("synth: error: episode 0 (ep0000000): write failed: [Errno 21] Is a directory")
    assert not (out / MANIFEST).exists() and not list((out / STAGING).glob(".*.tmp"))
    blocker.rmdir()
    r = synth(tmp_path, *args)
    assert r.returncode == 0, r.stderr[-3000:]
    keys = [s.key for shard in sorted(out.glob("train-*.tar")) for s in read_tar(shard)]
    assert sorted(keys) == ["ep0000000", "ep0000000-fog-3", "ep0000001", "ep0000001-fog-3"]
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["num_samples"] == 4
    r = synth(tmp_path, "verify", str(out))
    assert r.returncode == 0 and "0 problem(s)" in r.stdout, r.stdout + r.stderr
