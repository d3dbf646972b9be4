"""The ``synth`` command: bad input gets one clear error line and leaves no finished dataset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("busy_machine")  # they must pass on a loaded machine

SYNTH = [sys.executable, "-m", "synth.cli.main"]
PRIMITIVES = ["--assets", "primitives"]  # fast furniture; the Infinigen default runs in test_infinigen.py


def synth(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*SYNTH, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--bogus"], "unrecognized arguments"),
        (["--resolution", "0x240"], "invalid --width"),
        (["--resolution", "320by240"], "WIDTHxHEIGHT"),
        (["--resolution", "321x240"], "even"),
        (["--episodes", "0"], "invalid --episodes"),
        (["--episodes", "-3"], "invalid --episodes"),
        (["--frames", "1"], "--frames"),
        (["--frames", "abc"], "invalid int value"),
        (["--quality", "ultra"], "invalid choice"),
        (["--renderer", "zbuffer", "--samples", "4"], "does not apply to renderer 'zbuffer'"),
        (["--simulator", "unreal"], "unknown simulator"),
        (["--preset", "huge"], "unknown preset"),
        (["--min-pixels", "0"], "invalid --min-pixels"),
        (["--fps", "7.123456"], "not a rate a video can store exactly"),
        (["--trajectory", "tour", "--duration", "20"], "a tour lasts 30-180 s"),
        (["--preset", "vsi-tour", "--fps", "12"], "2-8 frames per second"),
        (["--duration", "10", "--frames", "20"], "disagree"),
        (["--trajectory", "walk"], "invalid choice"),
        (["--preset", "vsi-tour", "--max-rooms", "8"], "cannot visit houses of 8 rooms"),
    ],
)
def test_bad_options(tmp_path, args, message):
    out = tmp_path / "out"
    r = (
        synth("run", "--out", str(out), "--quality", "draft", *args)
        if "--quality" not in args
        else synth("run", "--out", str(out), *args)
    )
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("synth") and message in lines[0], r.stderr
    assert not (out / "manifest.json").exists()


def test_every_run_config_field_is_a_flag():
    """The flags are generated from RunConfig: every leaf field has one, with its help text."""
    from synth.flows.config import FLAGS

    r = synth("run", "--help")
    for name, flag in FLAGS.items():
        assert f"--{name.replace('_', '-')}" in r.stdout, name
        assert flag.field.description, f"{name} has no description for its help text"


def test_run_with_another_renderer(tmp_path):
    """A second registered backend runs the whole pipeline (the software z-buffer, no Blender)."""
    out = tmp_path / "ds"
    r = synth("run", "--out", str(out), "--renderer", "zbuffer", "--episodes", "1", "--frames", "4", "--no-progress",
              *PRIMITIVES)  # fmt: skip
    assert r.returncode == 0, r.stderr
    import json

    assert json.loads((out / "run.json").read_text())["renderer"]["backend"] == "zbuffer"
    r = synth("verify", str(out))
    assert r.returncode == 0 and "0 problem(s)" in r.stdout, r.stdout


@pytest.mark.parametrize("fps", ["7.5", "29.97"])
def test_non_integer_frame_rate_is_encoded_exactly(tmp_path, fps):
    """The decoded video's frame rate and frame times are the JSON's (7.5 fps used to be 8)."""
    import io
    import json
    from fractions import Fraction

    import av

    from synth.storage.dataset import read_tar

    out = tmp_path / "ds"
    r = synth("run", "--out", str(out), "--renderer", "zbuffer", "--episodes", "1", "--frames", "4", "--fps", fps,
              *PRIMITIVES)  # fmt: skip
    assert r.returncode == 0, r.stderr
    (sample,) = read_tar(next(out.glob("train-*.tar")))
    meta = json.loads(sample.files["json"])
    with av.open(io.BytesIO(sample.files["mp4"])) as c:
        rate = c.streams.video[0].average_rate
        times = [float(f.time) for f in c.decode(video=0)]
    assert meta["episode"]["video"]["fps"] == float(fps) and rate == Fraction(fps)
    assert times == pytest.approx([f["time"] for f in meta["episode"]["frames"]], abs=1e-4)


def test_embedded_server_that_does_not_start_is_retried_then_named(tmp_path):
    """Prefect's embedded server given no time to start (as on a very busy machine): synth tries
    once more, then ends with one line naming the setting to raise; nothing is finished."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env |= {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "0", "PREFECT_HOME": str(tmp_path / "prefect")}
    out = tmp_path / "out"
    args = ["run", "--out", str(out), "--renderer", "zbuffer", "--episodes", "1", "--frames", "2", *PRIMITIVES]
    r = subprocess.run([*SYNTH, *args], capture_output=True, text=True, timeout=300, env=env)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and "trying once more" in lines[0], r.stderr
    assert lines[-1].startswith("synth: error:") and "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in lines[-1]
    assert not (out / "manifest.json").exists()


def test_progress_bar_moves_with_every_rendered_frame(tmp_path):
    """The bar counts frames across all episodes (not episodes: the demo sat at 0/4 for minutes)
    and shows what the episodes are doing."""
    import re

    out = tmp_path / "ds"
    args = ["--episodes", "2", "--frames", "4", "--resolution", "128x96", "--quality", "draft", "--workers", "1"]
    args += PRIMITIVES
    r = synth("run", "--out", str(out), *args)
    assert r.returncode == 0, r.stderr
    counts = {int(n) for n in re.findall(r"\b(\d+)/8 \[", r.stderr)}
    assert set(range(9)) <= counts, (sorted(counts), r.stderr[-2000:])
    assert "rendering" in r.stderr and "episodes 2/2" in r.stderr and "frame/s" in r.stderr


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    for out in (blocker, blocker / "sub"):
        r = synth("run", "--out", str(out), "--episodes", "1", "--frames", "2", "--quality", "draft", *PRIMITIVES)
        assert r.returncode != 0
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("synth: error:"), r.stderr
    assert blocker.read_text() == "not a directory"


def test_default_run_without_infinigen_is_one_clear_error_before_anything_is_written(tmp_path):
    """The defaults furnish rooms with Infinigen: a machine without it (and without its assets
    in the cache) is told how to get it, in one line, and nothing is written."""
    env = {**os.environ, "SYNTH_CACHE": str(tmp_path / "cache"), "SYNTH_INFINIGEN_PYTHON": str(tmp_path / "none")}
    out = tmp_path / "out"
    r = subprocess.run([*SYNTH, "run", "--out", str(out), "--episodes", "1"], capture_output=True, text=True,
                       timeout=300, env=env)  # fmt: skip
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and lines[-1].startswith("synth: error:") and "bootstrap.sh --infinigen" in lines[-1]
    from synth.backends.procedural.infinigen_assets import FACTORIES

    assert f"generating {4 * len(FACTORIES)} Infinigen assets" in r.stderr  # what it was about to do
    assert not out.exists()


def test_unreachable_ray_address_and_deploy_without_a_server(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    out = tmp_path / "out"
    for address, message in ((f"127.0.0.1:{port}", "cannot reach the Ray cluster"), ("nonsense", "HOST:PORT")):
        r = synth("run", "--out", str(out), "--quality", "draft", "--ray-address", address)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and message in lines[0], r.stderr
    assert not out.exists()  # checked before anything is written
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    r = subprocess.run([*SYNTH, "deploy"], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 2 and "no Prefect server" in r.stderr


def test_run_and_verify_from_the_command_line(tmp_path):
    out = tmp_path / "ds"
    r = synth(
        "run",
        "--out",
        str(out),
        "--episodes",
        "1",
        "--frames",
        "4",
        "--resolution",
        "128x96",
        "--quality",
        "draft",
        "--no-progress",
        *PRIMITIVES,
    )
    assert r.returncode == 0, r.stderr
    assert str(out.resolve()) in r.stdout and "1 episodes" in r.stdout
    r = synth("verify", str(out))
    assert r.returncode == 0 and "0 problem(s)" in r.stdout
    r = synth(
        "run", "--out", str(out), "--episodes", "1", "--frames", "4", "--resolution", "128x96", "--quality", "draft",
        *PRIMITIVES,
    )  # fmt: skip
    assert r.returncode != 0 and "already holds a finished dataset" in r.stderr
    r = synth("verify", str(tmp_path))
    assert r.returncode != 0 and "not a finished synth dataset" in r.stderr


def test_an_unexpected_failure_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    """Any exception a subcommand raises is one ``synth: error:`` line and exit 2; ``--debug``
    (before or after the subcommand) lets the traceback through."""
    import synth.cli.degradations
    from synth.cli.main import main

    def broken(args):
        raise KeyError("no such thing\nsecond line")

    monkeypatch.setattr(synth.cli.degradations, "run", broken)
    assert main(["degradations"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("synth: error: KeyError:") and "--debug" in err[0]
    for argv in (["--debug", "degradations"], ["degradations", "--debug"]):
        with pytest.raises(KeyError):
            main(argv)
