"""A run across several hosts that loses one mid-run and loses no sample.

Three network namespaces on one bridge stand for three machines (``tests/hosts.py``): a Ray
head on host 0 and Ray worker nodes on hosts 1 and 2 (``ray start --address``), each limited to
one CPU; the S3 server (SeaweedFS) listens on the bridge, so every host reaches it over its veth
link, and the run (driver on host 0) writes its dataset there. While host 1 renders an episode,
its raylet is killed (SIGKILL): Ray retries the episode on the remaining nodes and the dataset
must hold every episode exactly once, byte-identical to a single-machine run of the same seed.
Then the flow run itself is killed mid-run on host 0 and resumed from host 2, which has a disk
of its own: the finished episodes come from the output's S3 mirror (``synth.storage.s3.pull_staging``),
only the others are rendered, and the dataset is again byte-identical.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synth.storage.dataset import iter_samples, read_manifest
from tests.hosts import Hosts, netns_available

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(netns_available() is not None, reason=f"needs network namespaces: {netns_available()}"),
]

RAY = str(Path(sys.executable).with_name("ray"))
RUN = """
import sys
from synth.flows.config import RunConfig
from synth.flows.flow import synth
cfg = RunConfig.from_options(episodes=6, frames=3, width=128, height=96, quality="draft", seed=11, assets="primitives")
synth(config=cfg, out=sys.argv[1], ray_address=sys.argv[2] or None)
"""
ALIVE = """
import sys, time, ray
ray.init(address=sys.argv[1], log_to_driver=False)
deadline = time.monotonic() + 120  # Ray's health checks declare a silent node dead within about a minute
while time.monotonic() < deadline and all(n["Alive"] for n in ray.nodes()):
    time.sleep(1)
for n in ray.nodes():
    print(n["NodeManagerAddress"], n["Alive"])
"""
PORT = 6379  # each host has its own network stack: the port is free in a fresh namespace


def _env(tmp: Path, extra: dict | None = None) -> dict:
    env = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        "PREFECT_HOME": str(tmp / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "SYNTH_CACHE": str(tmp / "cache"),
        **(extra or {}),
    }
    env.pop("PREFECT_API_URL", None)
    return env


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from synth.storage.seaweed import LocalS3

    tmp = tmp_path_factory.mktemp("hosts")
    with Hosts(3) as hosts:
        s3 = LocalS3(tmp / "s3", ip=hosts.bridge_ip).start()
        try:
            s3.create_bucket("runs")
            env = _env(tmp)
            head = [RAY, "start", "--head", f"--node-ip-address={hosts.ips[0]}", f"--port={PORT}"]
            head += ["--num-cpus=1", "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={tmp}/ray"]
            done = hosts.run(0, head, env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr[-3000:]
            for i in (1, 2):
                worker = [RAY, "start", f"--address={hosts.ips[0]}:{PORT}", f"--node-ip-address={hosts.ips[i]}"]
                done = hosts.run(i, [*worker, "--num-cpus=1", "--disable-usage-stats"], env=env, capture_output=True,
                                 text=True, timeout=300)  # fmt: skip
                assert done.returncode == 0, done.stderr[-3000:]
            yield hosts, s3, tmp
        finally:
            s3.stop()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The single-machine run: no Ray, this machine's own namespace, a local folder."""
    tmp = tmp_path_factory.mktemp("reference")
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(tmp / "ds"), ""], env=_env(tmp), capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return tmp / "ds"


def _fetch(uri: str, s3, tmp: Path, monkeypatch) -> Path:
    from synth.storage.s3 import local_dataset

    for k, v in {**s3.env(), "SYNTH_CACHE": str(tmp / "fetched")}.items():
        monkeypatch.setenv(k, v)
    return local_dataset(uri)


def _samples(root: Path) -> dict[str, dict[str, bytes]]:
    return {s.key: s.files for s in iter_samples(root)}


def _rendering_on(hosts: Hosts, i: int) -> bool:
    """Whether a Ray worker on host ``i`` is running synth's render task now."""
    for pid in hosts.pids(i):
        try:
            if b"render_in_worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:
            pass
    return False


def test_a_node_lost_mid_run_loses_no_sample(cluster, reference, tmp_path, monkeypatch):
    hosts, s3, tmp = cluster
    # the run across three hosts, written to S3 over the veth links; host 1 dies mid-run
    uri = "s3://runs/node-loss"
    env = _env(tmp_path, s3.env())
    log = open(tmp_path / "driver.log", "w")  # noqa: SIM115 - a pipe could fill and stall the driver
    driver = hosts.popen(0, [sys.executable, "-c", RUN, uri, f"{hosts.ips[0]}:{PORT}"], env=env, stdout=log,
                         stderr=subprocess.STDOUT)  # fmt: skip
    killed = False
    deadline = time.monotonic() + 900
    while driver.poll() is None and time.monotonic() < deadline:
        if not killed and _rendering_on(hosts, 1):
            raylets = hosts.pids_named(1, "raylet")
            assert raylets, "host 1 has no raylet"
            for pid in raylets:
                os.kill(pid, 9)
            killed = True
        time.sleep(0.1)
    driver.wait(timeout=60)
    log.close()
    assert killed, "host 1 never rendered: the cluster did not spread the episodes"
    assert driver.returncode == 0, (tmp_path / "driver.log").read_text()[-4000:]
    nodes = hosts.run(0, [sys.executable, "-c", ALIVE, f"{hosts.ips[0]}:{PORT}"], env=env, capture_output=True,
                      text=True, timeout=120)  # fmt: skip
    assert nodes.returncode == 0, nodes.stderr[-2000:]
    alive = dict(line.split() for line in nodes.stdout.split("\n") if line.count(" ") == 1)
    assert alive[hosts.ips[1]] == "False" and alive[hosts.ips[0]] == alive[hosts.ips[2]] == "True"

    got = _fetch(uri, s3, tmp_path, monkeypatch)
    keys = [k for shard in read_manifest(got)["shards"] for k in shard["keys"]]
    assert sorted(keys) == [f"ep{i:07d}" for i in range(6)] and len(keys) == len(set(keys))
    assert _samples(got) == _samples(reference)  # every file of every sample, byte for byte


def _mirrored(s3, prefix: str) -> set[str]:
    import boto3

    c = boto3.client("s3", endpoint_url=s3.endpoint, aws_access_key_id=s3.access_key,
                     aws_secret_access_key=s3.secret_key, region_name=s3.region)  # fmt: skip
    found = c.list_objects_v2(Bucket="runs", Prefix=f"{prefix}/.staging/").get("Contents", [])
    return {o["Key"].rsplit("/", 1)[-1] for o in found if o["Key"].endswith(".tar")}


def test_a_driver_killed_mid_run_resumes_from_another_host(cluster, reference, tmp_path, monkeypatch):
    """The flow run on host 0 is killed (SIGKILL, with its disk's staging and Prefect results as
    good as gone); host 2, with a disk of its own, resumes the run against the same S3 output and
    renders only what was not finished."""
    hosts, s3, tmp = cluster
    uri, head = "s3://runs/driver-loss", f"{hosts.ips[0]}:{PORT}"
    for disk in ("host0", "host2"):  # each host's own disk: Prefect home, synth's cache and staging
        (tmp_path / disk).mkdir()
    with open(tmp_path / "driver.log", "w") as log:
        driver = hosts.popen(0, [sys.executable, "-c", RUN, uri, head], env=_env(tmp_path / "host0", s3.env()),
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 900
    while driver.poll() is None and time.monotonic() < deadline and len(_mirrored(s3, "driver-loss")) < 2:
        time.sleep(0.2)
    assert driver.poll() is None, (tmp_path / "driver.log").read_text()[-4000:]  # still running: kill it
    os.killpg(driver.pid, 9)
    driver.wait(timeout=60)
    staged = _mirrored(s3, "driver-loss")
    assert 2 <= len(staged) < 6, staged

    env = _env(tmp_path / "host2", {**s3.env(), "PREFECT_LOGGING_LEVEL": "INFO"})
    done = hosts.run(2, [sys.executable, "-c", RUN, uri, head], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    assert f"({len(staged)} already staged)" in done.stdout + done.stderr
    assert not _mirrored(s3, "driver-loss"), "the mirror of the unfinished run should be gone"
    got = _fetch(uri, s3, tmp_path, monkeypatch)
    assert _samples(got) == _samples(reference)
