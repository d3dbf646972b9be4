"""The layout's import contracts hold (``[tool.importlinter]`` in pyproject.toml): ``core`` imports
nothing else from synth, backends only ``core`` and ``planning`` and not each other, the auditor
never the programs, storage neither programs nor evaluation, and nothing outside tests/ imports
tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout and " KEPT" in done.stdout


def test_no_module_outside_tests_names_the_test_data():
    shipped = [
        p for p in (ROOT / "synth").rglob("*.py") if "tests/data" in p.read_text() or "tests.standins" in p.read_text()
    ]
    assert not shipped, shipped
