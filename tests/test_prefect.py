"""The flow on a real Prefect server and worker (deployment `sat-dynamic`), crash and resume,
artifacts, and Ray."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from synth.storage.dataset import read_tar

pytestmark = pytest.mark.usefixtures("busy_machine")  # they must pass on a loaded machine

REPO = Path(__file__).resolve().parents[1]
PREFECT = str(Path(sys.executable).with_name("prefect"))


def small(**options) -> list[str]:
    """A small sat-dynamic ``config`` parameter (it replaces the deployment's config whole, so the
    preset is given again)."""
    config = {
        "preset": "sat-dynamic",
        "source": {"simulator": "procedural", "assets": "primitives"},
        "renderer": {"backend": "blender", "quality": "draft"},
        "video": {"frames": 4, "width": 160, "height": 120},
        **options,
    }
    return ["--param", f"config={json.dumps(config)}"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started (a worker's flow-run processes and their
    render workers run in sessions of their own)."""
    import psutil

    if proc.poll() is None:
        children = psutil.Process(proc.pid).children(recursive=True)
        os.killpg(proc.pid, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        proc.wait(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    port = _port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_CLI_PROMPT": "false",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "SYNTH_HOME": str(REPO),
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    log = open(home / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--analytics-off"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None, (home / "server.log").read_text()[-2000:]
            time.sleep(0.5)
        else:
            pytest.fail("Prefect server did not start within 90 s")
        cli = lambda *a, **kw: subprocess.run(
            [PREFECT, *a],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,  # noqa: E731
            timeout=kw.get("timeout", 300),
        )
        r = subprocess.run(  # `synth deploy`: the work pool and every deployment in prefect.yaml
            [sys.executable, "-m", "synth.cli.main", "deploy"], env=env, capture_output=True, text=True, timeout=300
        )
        assert r.returncode == 0 and "synth/sat-dynamic" in r.stdout, r.stdout + r.stderr
        assert json.loads(cli("work-pool", "inspect", "synth-pool", "--output", "json").stdout)["type"] == "process"
        yield {"env": env, "cli": cli, "api": env["PREFECT_API_URL"], "home": home}
    finally:
        _stop(proc)
        log.close()


def _worker(server) -> subprocess.Popen:
    log = open(server["home"] / "worker.log", "ab")  # noqa: SIM115
    return subprocess.Popen(
        [PREFECT, "worker", "start", "--pool", "synth-pool"],
        env=server["env"],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _keys(root: Path) -> list[str]:
    return [s.key for shard in sorted(root.glob("train-*.tar")) for s in read_tar(shard)]


def test_deployment_runs_on_a_worker_with_artifacts(server, tmp_path):
    worker = _worker(server)
    try:
        out = tmp_path / "sat"
        r = server["cli"](
            "deployment",
            "run",
            "synth/sat-dynamic",
            "--param",
            f"out={out}",
            *small(),
            *["--param", "episodes=2", "--param", "degradations=fog:3"],  # run fields by name, on top of config
            "--watch",
            "--watch-interval",
            "1",
        )
        assert r.returncode == 0 and "Completed" in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]
    finally:
        _stop(worker)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["num_samples"] == 4 and manifest["config"]["preset"] == "sat-dynamic"
    assert sorted(_keys(out)) == ["ep0000000", "ep0000000-fog-3", "ep0000001", "ep0000001-fog-3"]
    arts = requests.post(f"{server['api']}/artifacts/filter", json={"limit": 50}, timeout=10).json()
    by_key = {a["key"]: a for a in arts if a.get("key")}
    assert {"synth-summary", "synth-report", "synth-dataset", "synth-progress"} <= set(by_key)
    assert float(by_key["synth-progress"]["data"]) == 100.0  # frames rendered, all episodes
    report = by_key["synth-report"]["data"]
    assert "data:image/jpeg;base64," in report and len(report) < 1_000_000
    assert "Degradations (types x severities)" in report  # the contact sheet of the run's preview
    # episodes counted as episodes, samples as samples (it said "4 episodes" of 2 episodes x 2 variants)
    told = f"2 episodes, 4 samples (each episode and each of its degradation variants), {manifest['num_questions']} "
    assert told in report, report[:600]
    assert report.count("](data:image/jpeg;base64,") == 2 + 2  # one preview per episode, contact sheet, degradations
    assert str(out.resolve()) in by_key["synth-dataset"]["data"]
    table = by_key["synth-summary"]["data"]
    rows = {row["what"]: row["value"] for row in (json.loads(table) if isinstance(table, str) else table)}
    assert int(rows["episodes"]) == 2 and int(rows["samples (episodes x variants)"]) == 4
    assert int(rows["questions (all samples)"]) == manifest["num_questions"]
    metas = [json.loads(s.files["json"]) for shard in sorted(out.glob("train-*.tar")) for s in read_tar(shard)]
    moving = sum(bool(m["episode"]["motions"]) for m in metas if m["variant"] == "clean")
    assert int(rows["episodes with object motion"]) == moving <= 2


def test_a_deployment_run_takes_run_fields_by_name_on_top_of_its_config(server):
    """`--param episodes=100 --param degradations=fog:3` on `synth/sat-dynamic`: the run's config is
    the deployment's (preset sat-dynamic, 8 episodes) with those two fields replaced, as the flow
    validates it. The run is only created (and deleted again): nothing renders."""
    from synth.flows.config import RunConfig
    from synth.flows.flow import run_config

    r = server["cli"](
        "deployment", "run", "synth/sat-dynamic", "--param", "episodes=100", "--param", "degradations=fog:3"
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run_id = re.search(r"UUID: ([0-9a-f-]{36})", r.stdout).group(1)
    try:
        params = requests.get(f"{server['api']}/flow_runs/{run_id}", timeout=10).json()["parameters"]
    finally:
        requests.delete(f"{server['api']}/flow_runs/{run_id}", timeout=10)
    assert params["config"] == {"preset": "sat-dynamic", "episodes": 8}  # the deployment's own (prefect.yaml)
    cfg = run_config(params["config"], {k: v for k, v in params.items() if k in RunConfig.model_fields})
    assert (cfg.preset, cfg.episodes, cfg.degradations) == ("sat-dynamic", 100, "fog:3")
    assert cfg == RunConfig(preset="sat-dynamic", episodes=100, degradations="fog:3")  # the preset fills in the rest


def test_worker_killed_mid_run_then_retried_through_the_api_completes_without_duplicates(server, tmp_path):
    """SIGKILL the worker mid-run; the flow run is marked crashed and retried through Prefect's
    API (what the UI's Retry does): the same flow run resumes from the staged episodes and never
    writes a key twice."""
    out = tmp_path / "crash"
    params = ["--param", f"out={out}", *small(episodes=4), "--param", "workers=1"]
    api = server["api"]
    worker = _worker(server)
    try:
        r = server["cli"]("deployment", "run", "synth/sat-dynamic", *params)
        assert r.returncode == 0, r.stderr
        run_id = re.search(r"UUID: ([0-9a-f-]{36})", r.stdout).group(1)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not list((out / ".staging").glob("*.tar")):
            time.sleep(0.2)
        assert list((out / ".staging").glob("*.tar")), "no episode was staged before the deadline"
    finally:
        _stop(worker)  # SIGKILL mid-run: the worker, its flow-run process and its render workers
    time.sleep(1)
    assert not (out / "manifest.json").exists()
    staged_before = {p.name for p in (out / ".staging").glob("*.tar")}

    def set_state(state: dict) -> None:
        r = requests.post(f"{api}/flow_runs/{run_id}/set_state", json={"state": state, "force": True}, timeout=10)
        assert r.ok, r.text

    set_state({"type": "CRASHED", "message": "worker killed by the test"})
    set_state({"type": "SCHEDULED", "name": "AwaitingRetry", "message": "retried through the API"})
    worker = _worker(server)
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            state = requests.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["state"]
            if state["type"] in ("COMPLETED", "FAILED", "CRASHED"):
                break
            time.sleep(1)
        assert state["type"] == "COMPLETED", state
    finally:
        _stop(worker)
    keys = _keys(out)
    assert sorted(keys) == [f"ep{i:07d}" for i in range(4)]  # complete, no duplicates
    manifest = json.loads((out / "manifest.json").read_text())
    assert [k for s in manifest["shards"] for k in s["keys"]] == sorted(keys) and len(staged_before) >= 1


def test_a_failed_episode_is_one_line_in_the_deployment_runs_state(server, tmp_path):
    """AI2-THOR without its Unity build on the worker: the flow run fails, its state message
    carries the line naming the episode and the BackendUnavailable text (before: only the
    latter), and its logs keep the traceback; nothing is finished."""
    out = tmp_path / "thor"
    config = {
        "episodes": 1,
        "source": {"simulator": "ai2thor", "scene": "FloorPlan1"},
        "renderer": {"backend": "ai2thor", "platform": "Linux64", "local_executable_path": str(tmp_path / "no-build")},
        "video": {"frames": 2},
    }
    worker = _worker(server)
    try:
        r = server["cli"](
            "deployment", "run", "synth/default", "--param", f"out={out}", "--param", f"config={json.dumps(config)}",
            "--watch", "--watch-interval", "1",
        )  # fmt: skip
    finally:
        _stop(worker)
    run_id = re.search(r"UUID: ([0-9a-f-]{36})", r.stdout).group(1)
    api = server["api"]
    state = requests.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["state"]
    assert state["type"] == "FAILED", state
    assert "episode 0 (ep0000000): render failed: AI2-THOR could not start" in state["message"], state
    logs = requests.post(f"{api}/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}}, timeout=10).json()
    assert any("Traceback" in log["message"] and "BackendUnavailable" in log["message"] for log in logs)
    assert not (out / "manifest.json").exists()


def test_plain_prefect_deploy_from_the_project_runs_to_completed(server, tmp_path):
    """`prefect deploy --all` as Prefect users run it (no SYNTH_HOME exported), and a worker
    started elsewhere: the pull step finds the project, and the run completes."""
    env = {k: v for k, v in server["env"].items() if k != "SYNTH_HOME"}
    r = subprocess.run(
        [PREFECT, "deploy", "--all", "--no-prompt"], env=env, cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    log = open(server["home"] / "plain-worker.log", "ab")  # noqa: SIM115
    worker = subprocess.Popen(
        [PREFECT, "worker", "start", "--pool", "synth-pool"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out = tmp_path / "plain"
    config = {"preset": "static", "episodes": 1, "renderer": {"backend": "zbuffer"}, "video": {"frames": 2}}
    try:
        r = server["cli"](
            "deployment",
            "run",
            "synth/static",
            "--param",
            f"out={out}",
            "--param",
            f"config={json.dumps(config)}",
            "--watch",
            "--watch-interval",
            "1",
            timeout=600,
        )
        assert r.returncode == 0 and "Completed" in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]
    finally:
        _stop(worker)
        log.close()
    assert json.loads((out / "manifest.json").read_text())["num_samples"] == 1


@pytest.mark.parametrize(
    "params, message",
    [
        (["--param", 'config={"episodes": "abc"}'], "episodes"),
        (["--param", 'config={"episodes": 2.5}'], "episodes"),
        (["--param", 'config={"video": {"width": 641, "height": 361}}'], "even"),
        (["--param", 'config={"degradations": "smog:2"}'], "smog"),
        (["--param", "episodes=0"], "episodes"),  # a run field by name, validated as in config
        (["--param", "degradations=smog:2"], "smog"),
    ],
)
def test_bad_deployment_parameters_fail_before_anything_is_written(server, tmp_path, params, message):
    """Refused with the validation message (at creation, or in the flow run's state), never run
    with defaults instead; nothing is written."""
    out = tmp_path / "bad"
    worker = _worker(server)
    try:
        r = server["cli"](
            "deployment", "run", "synth/default", "--param", f"out={out}", *params, "--watch", "--watch-interval", "1"
        )
    finally:
        _stop(worker)
    text = r.stdout + r.stderr
    assert "Completed" not in text, text[-3000:]
    run_id = re.search(r"UUID: ([0-9a-f-]{36})", text)
    if run_id:  # created, then failed on the worker: the reason is in its state and its logs
        api = server["api"]
        state = requests.get(f"{api}/flow_runs/{run_id.group(1)}", timeout=10).json()["state"]
        logs = requests.post(
            f"{api}/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id.group(1)]}}}, timeout=10
        ).json()
        assert state["type"] == "FAILED" and message in state["message"], state
        assert any(message in log["message"] for log in logs), [log["message"] for log in logs]
    else:  # refused when the run was created
        assert message in text, text[-3000:]
    assert not out.exists()


def _chromium(url: str, out: Path, tmp: Path) -> str:
    """Screenshot ``url`` into ``out`` with headless Chromium; return the rendered DOM."""
    base = [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        "--virtual-time-budget=10000",
        "--window-size=1400,900",
    ]
    r = subprocess.run([*base, f"--screenshot={out}", url], capture_output=True, timeout=120)
    assert out.exists() and out.stat().st_size > 10_000, r.stderr[-2000:]
    r = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    return r.stdout


def test_ui_shows_the_deployment_and_the_run_report(server, tmp_path):
    """A real browser: the deployments page names sat-dynamic; the run's report artifact page
    shows the report with its preview gallery. Screenshots stay in the test's folder."""
    ui = server["api"].removesuffix("/api")
    dom = _chromium(f"{ui}/deployments", tmp_path / "deployments.png", tmp_path)
    assert "sat-dynamic" in dom
    reports = requests.post(
        f"{server['api']}/artifacts/filter",
        json={"artifacts": {"key": {"any_": ["synth-report"]}}, "limit": 1},
        timeout=10,
    ).json()
    assert reports, "the first test of this module publishes a report"
    dom = _chromium(f"{ui}/artifacts/artifact/{reports[0]['id']}", tmp_path / "report.png", tmp_path)
    assert "synth dataset" in dom and "Answer balance" in dom and "data:image/jpeg" in dom
