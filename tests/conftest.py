from __future__ import annotations

import os
import subprocess
import sys

import bpy  # noqa: F401  (imported first on purpose: worker pools must survive a parent with bpy loaded)
import pytest

from synth.flows.config import RunConfig
from synth.flows.run import run


def pytest_configure(config: pytest.Config) -> None:
    """The test stand-ins (``tests/standins``: AI2-THOR's Unity side, the habitat worker's
    interpreter) run with the interpreter that runs the tests, in every process that starts them."""
    os.environ.setdefault("SYNTH_STANDIN_PYTHON", sys.executable)


def tiny_config(**overrides) -> RunConfig:
    """A small, fast configuration: draft renders of primitive furniture, few frames, low resolution."""
    base = dict(
        episodes=3,
        seed=5,
        frames=6,
        width=160,
        height=120,
        quality="draft",
        samples_per_shard=2,
        min_pixels=20,
        assets="primitives",
    )
    return RunConfig.from_options(**{**base, **overrides})


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """One finished tiny dataset shared by read-only tests."""
    out = tmp_path_factory.mktemp("tiny") / "ds"
    manifest = run(tiny_config(), out)
    return out, manifest


@pytest.fixture(scope="module")
def busy_machine():
    """A parallel CPU hog for the module's tests: two busy-looping processes per core (load
    about 3x the cores, like a machine shared with other work). The command line, Prefect and
    Ray tests run under it: they must not depend on an idle machine."""
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], stdout=subprocess.DEVNULL)
        for _ in range(2 * (os.cpu_count() or 1))
    ]
    yield
    for h in hogs:
        h.kill()
        h.wait()
