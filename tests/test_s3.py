"""Object storage against a real, authenticated S3 server (SeaweedFS) on 127.0.0.1."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import requests

from synth.core.records import QA
from synth.storage.dataset import DatasetError, DatasetWriter, Sample, read_tar
from synth.storage.s3 import S3Uri, client, load, push
from synth.storage.seaweed import LocalS3


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with LocalS3(tmp_path_factory.mktemp("seaweed")) as s3:
        yield s3


@pytest.fixture
def aws_env(server, monkeypatch):
    for k, v in server.env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    return server


def _bucket(server, name):
    server.create_bucket(name)
    return f"s3://{name}/datasets/run1"


def _objects(uri: str) -> dict[str, str]:
    loc = S3Uri.parse(uri)
    s3 = client()
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=loc.bucket, Prefix=loc.prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=loc.bucket, Key=obj["Key"])["Body"].read()
            out[obj["Key"].rsplit("/", 1)[-1]] = hashlib.sha256(body).hexdigest()
    return out


def _local(root) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.iterdir()
        if p.is_file() and p.name not in ("run.json", "versions.json")
    }


def test_round_trip_push_and_load(tiny_dataset, aws_env):
    root, manifest = tiny_dataset
    uri = _bucket(aws_env, "synth-roundtrip")
    report = push(root, uri)
    assert report["uploaded"][-1] == "manifest.json"
    assert _objects(uri) == _local(root)
    local = {s.key: s for shard in sorted(root.glob("train-*.tar")) for s in read_tar(shard)}
    import datasets

    from synth import storage

    for streaming in (False, True):
        ds = storage.load(uri, config="default", streaming=streaming).cast_column("mp4", datasets.Video(decode=False))
        rows = list(ds)
        assert sorted(r["__key__"] for r in rows) == sorted(local)
        for r in rows:
            assert r["mp4"]["bytes"] == local[r["__key__"]].files["mp4"]
            shipped = [QA.model_validate(q) for q in json.loads(local[r["__key__"]].files["json"])["questions"]]
            # arrow gives every item the union of all families' slot names and of the optional fields
            # (absent ones as None, which the model reads as unset)
            loaded = [
                QA.model_validate({**q, "slots": {k: v for k, v in q["slots"].items() if v is not None}})
                for q in r["json"]["questions"]
            ]
            assert loaded == shipped
    with pytest.raises(DatasetError, match="no config 'fog'; it has default"):
        load(uri, config="fog")
    again = push(root, uri)  # nothing changed: nothing uploaded
    assert again["uploaded"] == [] and len(again["skipped"]) == len(manifest["shards"]) + 1


def _big_dataset(root, shards=5, mb=3):
    rng = np.random.default_rng(0)
    writer = DatasetWriter(root, {"synthetic": True}, samples_per_shard=1)
    writer.open()
    keys = []
    for i in range(shards):
        key = f"ep{i:07d}"
        meta = {"key": key, "questions": [], "episode": {"index": i}, "config": {}}
        writer.stage(
            Sample(key, {"mp4": rng.bytes(mb << 20), "json": json.dumps(meta).encode(), "gt.npz": rng.bytes(1000)})
        )
        keys.append(key)
    writer.finalize(keys)
    return root


def test_server_killed_mid_upload_then_rerun_completes(aws_env, tmp_path):
    root = _big_dataset(tmp_path / "big")
    uri = _bucket(aws_env, "synth-faults")
    done = []

    def crash_after_two(name):
        done.append(name)
        if len(done) == 2:
            aws_env.kill()

    with pytest.raises(DatasetError):
        push(root, uri, workers=1, on_uploaded=crash_after_two)
    aws_env.start()
    remote = _objects(uri)
    assert "manifest.json" not in remote  # an interrupted push is never marked finished
    report = push(root, uri, workers=2)
    assert set(done[:2]) <= set(report["skipped"])  # finished objects are not sent again
    assert _objects(uri) == _local(root)  # identical content, no extra or duplicate objects
    manifest = json.loads((root / "manifest.json").read_text())
    assert {s["path"] for s in manifest["shards"]} <= set(_objects(uri))


def test_wrong_credentials_fail_clearly_and_upload_nothing(tiny_dataset, aws_env, monkeypatch):
    root, _ = tiny_dataset
    uri = _bucket(aws_env, "synth-wrongkey")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(DatasetError, match="denied") as info:
        push(root, uri)
    assert "not-the-secret" not in str(info.value) and aws_env.secret_key not in str(info.value)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws_env.secret_key)
    assert _objects(uri) == {}
    with pytest.raises(DatasetError, match="does not exist"):
        push(root, "s3://no-such-bucket/x")


def test_corrupted_local_shard_is_caught_before_upload(tiny_dataset, aws_env, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(tiny_dataset[0], root)
    shard = sorted(root.glob("train-*.tar"))[0]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    uri = _bucket(aws_env, "synth-corrupt")
    with pytest.raises(DatasetError, match="checksum"):
        push(root, uri)
    assert _objects(uri) == {}


def test_anonymous_requests_are_refused(tiny_dataset, aws_env):
    uri = _bucket(aws_env, "synth-private")
    push(tiny_dataset[0], uri)
    loc = S3Uri.parse(uri)
    assert requests.get(f"{aws_env.endpoint}/{loc.bucket}/{loc.key('manifest.json')}", timeout=5).status_code == 403
    assert requests.get(f"{aws_env.endpoint}/{loc.bucket}?list-type=2", timeout=5).status_code == 403
    assert requests.put(f"{aws_env.endpoint}/{loc.bucket}/evil", data=b"x", timeout=5).status_code == 403


def test_run_straight_to_s3_and_the_cli(aws_env, tmp_path, monkeypatch):
    import subprocess
    import sys

    from synth.flows.run import run
    from tests.conftest import tiny_config

    monkeypatch.setenv("SYNTH_CACHE", str(tmp_path / "cache"))
    uri = _bucket(aws_env, "synth-direct")
    manifest = run(tiny_config(episodes=1, frames=3), uri)
    assert set(_objects(uri)) == {"README.md", "manifest.json", *(s["path"] for s in manifest["shards"])}
    with pytest.raises(DatasetError, match="finished"):
        run(tiny_config(episodes=1, frames=3), uri)
    before = _objects(uri)
    assert run(tiny_config(episodes=1, frames=3), uri, overwrite=True) == manifest  # only pushed again
    assert _objects(uri) == before
    synth = [sys.executable, "-m", "synth.cli.main"]
    args = ["--out", uri, "--episodes", "1", "--frames", "3", "--resolution", "160x120", "--quality", "draft"]
    args += ["--assets", "primitives"]  # as tiny_config
    out = subprocess.run([*synth, "run", *args, "--no-progress"], capture_output=True, text=True, timeout=300)
    assert out.returncode != 0 and "already holds a finished dataset" in out.stderr
    out = subprocess.run([*synth, "run", *args, "--overwrite"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert _objects(uri)["manifest.json"] != before["manifest.json"]  # the flow's run (another config) replaced it
    out = subprocess.run([*synth, "load", uri], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "1 samples" in out.stdout, out.stderr
    out = subprocess.run([*synth, "verify", uri, "--evidence"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "0 disagreement(s)" in out.stdout, out.stdout + out.stderr
    out = subprocess.run(
        [*synth, "push", str(tmp_path / "cache" / "staging" / uri[5:]), uri],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0 and "0 uploaded" in out.stdout, out.stderr
    env = {**__import__("os").environ, "AWS_SECRET_ACCESS_KEY": "wrong"}
    out = subprocess.run([*synth, "load", uri], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode != 0 and out.stderr.strip().splitlines()[-1].startswith("synth: error: access")


def test_export_and_eval_read_a_dataset_from_s3(tiny_dataset, aws_env, tmp_path, capsys, monkeypatch):
    from synth.cli.main import main
    from synth.evaluation.items import read_items
    from synth.evaluation.prompt import expected_reply

    monkeypatch.setenv("SYNTH_CACHE", str(tmp_path / "cache"))
    root, _ = tiny_dataset
    uri = _bucket(aws_env, "synth-export")
    push(root, uri)
    out = tmp_path / "qwen"
    assert main(["export", uri, "--format", "qwen-vl", "--out", str(out)]) == 0
    records = json.loads((out / "qwen_vl.json").read_text())
    items = read_items(root)
    assert [r["id"] for r in records] == [i.id for i in items]
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": i.id, "answer": expected_reply(i.qa)}) + "\n" for i in items))
    assert main(["eval", uri, "--predictions", str(preds)]) == 0
    assert "overall: score 100.0" in capsys.readouterr().out


def test_a_run_whose_machine_died_resumes_on_another_machine(aws_env, tmp_path, monkeypatch):
    """Finished samples are mirrored under the output's .staging/ as they are staged: a run that
    stops half-way on machine A (its disk gone with it) finishes on machine B, rendering only what
    A had not finished, into the same dataset a single uninterrupted run writes; the mirror goes
    once the dataset is pushed."""
    from synth.flows import run as run_mod
    from synth.storage.dataset import iter_samples
    from synth.storage.s3 import local_dataset
    from tests.conftest import tiny_config

    cfg = tiny_config(episodes=2, frames=3)
    reference = tmp_path / "reference"
    run_mod.run(cfg, reference)
    uri = _bucket(aws_env, "synth-resume")
    real_ask, asked = run_mod.Steps.ask, []

    def machine_a_dies_on_its_second_episode(steps, rendered):
        asked.append(rendered.index)
        if len(asked) == 2:
            raise RuntimeError("machine A died")
        return real_ask(steps, rendered)

    monkeypatch.setenv("SYNTH_CACHE", str(tmp_path / "machine-a"))
    monkeypatch.setattr(run_mod.Steps, "ask", machine_a_dies_on_its_second_episode)
    with pytest.raises(RuntimeError, match="machine A died"):
        run_mod.run(cfg, uri)
    first = asked[0]
    mirrored = _objects(uri)
    assert {f"ep{first:07d}.tar", "run.json", "versions.json"} <= set(mirrored) and "manifest.json" not in mirrored

    resumed: list[int] = []
    monkeypatch.setenv("SYNTH_CACHE", str(tmp_path / "machine-b"))
    monkeypatch.setattr(run_mod.Steps, "ask", lambda steps, r: resumed.append(r.index) or real_ask(steps, r))
    manifest = run_mod.run(cfg, uri)
    assert resumed == [1 - first]
    assert set(_objects(uri)) == {"README.md", "manifest.json", *(s["path"] for s in manifest["shards"])}
    monkeypatch.setenv("SYNTH_CACHE", str(tmp_path / "reader"))
    got = {s.key: s.files for s in iter_samples(local_dataset(uri))}
    assert got == {s.key: s.files for s in iter_samples(reference)}


# ------------------------------------------------------------------------------ SIGKILL mid-push
KILLER = Path(__file__).parent / "push_killer.py"


def _synth(args: list[str], tmp_path: Path, log: Path | None = None, kill: str = "", **env: str):
    """``synth <args>`` in its own process group through ``tests/push_killer.py`` (S3 writes
    logged to ``log``, SIGKILL at ``kill``); whatever it left running (Prefect's server) is killed
    with its group. Returns (exit status, stdout, stderr)."""
    import os
    import signal
    import subprocess
    import sys

    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    env = {**os.environ, "PUSH_LOG": str(log or ""), "PUSH_KILL": kill, **env}
    with open(out, "w") as o, open(err, "w") as e:
        p = subprocess.Popen([sys.executable, str(KILLER), *args], stdout=o, stderr=e, env=env, start_new_session=True)
        try:
            p.wait(timeout=900)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
    return p.returncode, out.read_text(), err.read_text()


def _keys(uri: str) -> dict[str, str]:
    """Every object under ``uri``: its key below the prefix -> SHA-256 of its content."""
    loc = S3Uri.parse(uri)
    s3 = client()
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=loc.bucket, Prefix=loc.key("")):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=loc.bucket, Key=obj["Key"])["Body"].read()
            out[obj["Key"].removeprefix(loc.key(""))] = hashlib.sha256(body).hexdigest()
    return out


def _unfinished_uploads(uri: str) -> list[str]:
    loc = S3Uri.parse(uri)
    uploads = client().list_multipart_uploads(Bucket=loc.bucket, Prefix=loc.key("")).get("Uploads", [])
    return [u["Key"] for u in uploads]


def _writes(log: Path) -> list[tuple[str, str]]:
    return [tuple(line.split(" ", 1)) for line in log.read_text().splitlines()]


@pytest.mark.parametrize("workers", [1, 4])
def test_push_killed_mid_upload_then_rerun(tiny_dataset, aws_env, tmp_path, workers):
    """``synth push`` SIGKILLed while the second shard's body is half sent: what landed is whole,
    the manifest is absent; the rerun sends only what is missing, the manifest last, and leaves
    exactly the dataset's objects (no duplicate, nothing extra), which ``synth verify`` passes."""
    root, manifest = tiny_dataset
    uri = _bucket(aws_env, f"synth-sigkill-{workers}")
    local = _local(root)
    shards = [s["path"] for s in manifest["shards"]]
    push_args = ["push", str(root), uri, "--workers", str(workers)]
    status, _, _ = _synth(push_args, tmp_path, kill="shard:2")
    assert status == -9
    landed = _keys(uri)
    assert "manifest.json" not in landed and set(shards) - set(landed)
    assert all(local[name] == digest for name, digest in landed.items())  # whole objects only
    if workers == 1:
        assert set(landed) == {shards[0]}
    log = tmp_path / "rerun.log"
    status, out, err = _synth(push_args, tmp_path, log)
    assert status == 0, err
    sent = [key.rsplit("/", 1)[-1] for op, key in _writes(log) if op == "PutObject"]
    assert sent[-1] == "manifest.json" and len(set(sent)) == len(sent) and not set(sent) & set(landed)
    assert f"{len(sent)} uploaded, {len(local) - len(sent)} already there" in out, out
    assert _keys(uri) == local and _unfinished_uploads(uri) == []
    status, out, err = _synth(["verify", uri], tmp_path, SYNTH_CACHE=str(tmp_path / "cache"))
    assert status == 0 and " 0 problem(s)" in out, out + err


def test_push_killed_mid_multipart_upload_leaves_no_parts(aws_env, tmp_path):
    """A shard sent in parts, the process SIGKILLed with its second part half sent: the rerun
    aborts the unfinished upload (its parts would stay stored, and billed, for ever) and completes."""
    root = _big_dataset(tmp_path / "big", shards=3, mb=6)
    uri = _bucket(aws_env, "synth-sigkill-parts")
    parts = {"PUSH_MULTIPART_BYTES": str(5 << 20)}  # s3transfer's smallest part: 6 MB shards in 2 parts
    status, _, _ = _synth(["push", str(root), uri, "--workers", "1"], tmp_path, kill="shard:2", **parts)
    assert status == -9
    assert "manifest.json" not in _keys(uri) and _unfinished_uploads(uri)
    log = tmp_path / "rerun.log"
    status, _, err = _synth(["push", str(root), uri, "--workers", "1"], tmp_path, log, **parts)
    assert status == 0, err
    assert _keys(uri) == _local(root) and _unfinished_uploads(uri) == []
    visible = [key for op, key in _writes(log) if op in ("PutObject", "CompleteMultipartUpload")]
    assert visible[-1].endswith("/manifest.json")


@pytest.mark.slow
def test_run_killed_during_its_final_push_resumes(aws_env, tmp_path):
    """``synth run --out s3://...`` SIGKILLed in its final push, twice (a shard's body half sent;
    then, rerun, when it removes the staging mirror): each time the output holds no manifest; the
    third run renders nothing again, sends the manifest last and leaves the dataset's objects
    only (no staging mirror), which ``synth verify`` passes."""
    uri = _bucket(aws_env, "synth-sigkill-run")
    args = ["run", "--out", uri, "--episodes", "2", "--frames", "3", "--resolution", "160x120", "--quality", "draft"]
    args += ["--assets", "primitives", "--samples-per-shard", "1", "--no-progress"]
    env = {"SYNTH_CACHE": str(tmp_path / "cache")}

    status, _, err = _synth(args, tmp_path, kill="shard:2", **env)
    assert status == -9, err
    remote = _keys(uri)
    assert "manifest.json" not in remote and {".staging/ep0000000.tar", ".staging/ep0000001.tar"} <= set(remote)

    log = tmp_path / "second.log"
    status, _, err = _synth(args, tmp_path, log, kill="DeleteObjects:1", **env)
    assert status == -9, err
    assert "manifest.json" not in _keys(uri)  # the staging mirror goes before the manifest lands
    assert not [key for op, key in _writes(log) if "/.staging/ep" in key]  # nothing rendered again

    log = tmp_path / "third.log"
    status, _, err = _synth(args, tmp_path, log, **env)
    assert status == 0, err
    remote = _keys(uri)
    manifest = json.loads(client().get_object(**_location(uri, "manifest.json"))["Body"].read())
    assert set(remote) == {"README.md", "manifest.json", *(s["path"] for s in manifest["shards"])}
    assert {s["sha256"] for s in manifest["shards"]} == {remote[s["path"]] for s in manifest["shards"]}
    writes = _writes(log)
    assert writes[-1] == ("PutObject", S3Uri.parse(uri).key("manifest.json"))
    assert not [key for op, key in writes if op == "PutObject" and "/.staging/ep" in key]
    status, out, err = _synth(["verify", uri], tmp_path, **env)
    assert status == 0 and " 0 problem(s)" in out, out + err


def _location(uri: str, name: str) -> dict[str, str]:
    loc = S3Uri.parse(uri)
    return {"Bucket": loc.bucket, "Key": loc.key(name)}
