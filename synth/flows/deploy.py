"""Server-side set-up for a Prefect server: the ``synth-pool`` process work pool and every
deployment in ``prefect.yaml`` (``synth deploy``, ``make deploy``, ``make stack-up``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # the checkout: prefect.yaml
POOL = "synth-pool"


def deploy(api_url: str | None = None, env: dict[str, str] | None = None) -> str:
    """Create (or update) the work pool and the deployments on the server ``api_url`` (default:
    ``$PREFECT_API_URL``); returns ``prefect deploy``'s report. Flow code is pulled from this
    checkout (``$SYNTH_HOME``), so workers on this machine run it in place."""
    env = {**os.environ, **(env or {}), "SYNTH_HOME": str(REPO), "PREFECT_CLI_PROMPT": "false"}
    if api_url:
        env["PREFECT_API_URL"] = api_url
    if not env.get("PREFECT_API_URL"):
        raise ValueError("no Prefect server: pass --api-url or set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)")
    prefect = str(Path(sys.executable).with_name("prefect"))
    steps = (
        [prefect, "work-pool", "create", POOL, "--type", "process", "--overwrite"],
        [prefect, "deploy", "--all", "--no-prompt"],
    )
    for args in steps:
        r = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            detail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"`prefect {' '.join(args[1:3])}` failed against {env['PREFECT_API_URL']}: {detail[0]}")
    return r.stdout
