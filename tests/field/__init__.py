"""The field's own code as test oracles (issue: "the real libraries as test oracles").

Packages whose pins conflict with synth's (LLaMA-Factory wants ``datasets<=4``, lmms-eval
``av<16``) live in ``.venv-oracles`` (``infra/oracles-requirements.txt``, installed by
``bash infra/bootstrap.sh --test``). Each oracle is a script in this folder that runs in that venv:
it reads one JSON document on stdin and writes one on stdout; :func:`run_oracle` calls it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ORACLES_PYTHON = ROOT / ".venv-oracles" / "bin" / "python"


def run_oracle(script: str, payload: dict, timeout: float = 900) -> dict:
    """Run ``tests/field/{script}`` in ``.venv-oracles`` with ``payload`` on stdin; its JSON reply.
    Raises ``RuntimeError`` with the script's stderr when it fails."""
    if not ORACLES_PYTHON.exists():
        raise RuntimeError(f"{ORACLES_PYTHON} is missing: run bash infra/bootstrap.sh --test")
    proc = subprocess.run(
        [str(ORACLES_PYTHON), str(Path(__file__).parent / script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT / ".cache" / "oracles"), "HF_HUB_OFFLINE": "1"},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"oracle {script} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
