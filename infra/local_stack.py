"""A local Prefect stack for synth: server + `synth-pool` process work pool + deployments +
worker, in the background (`make stack-up` / `make stack-down`).

    python infra/local_stack.py up [--dir data/prefect] [--port 4200]
    python infra/local_stack.py down [--dir data/prefect]

Then open http://127.0.0.1:4200/deployments (deployment `synth/sat-dynamic`) or run
`PREFECT_API_URL=http://127.0.0.1:4200/api prefect deployment run synth/sat-dynamic`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from synth.flows.deploy import deploy

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def stack_env(home: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "PREFECT_HOME": str(home.resolve()),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_CLI_PROMPT": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "SYNTH_HOME": str(REPO),
    }


def _spawn(args: list[str], env: dict, log: Path, pid_file: Path) -> None:
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    pid_file.write_text(str(proc.pid))


def up(home: Path, port: int) -> None:
    home.mkdir(parents=True, exist_ok=True)
    env = stack_env(home, port)
    _spawn(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--analytics-off"],
        env,
        home / "server.log",
        home / "server.pid",
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        raise SystemExit(f"Prefect server did not start (see {home / 'server.log'})")
    deploy(env=env)
    _spawn(
        [str(BIN / "prefect"), "worker", "start", "--pool", "synth-pool"], env, home / "worker.log", home / "worker.pid"
    )
    print(f"Prefect UI: http://127.0.0.1:{port}/deployments  (worker on synth-pool; logs in {home})")
    print(f"export PREFECT_API_URL=http://127.0.0.1:{port}/api; prefect deployment run synth/sat-dynamic --watch")


def down(home: Path) -> None:
    for name in ("worker", "server"):
        pid_file = home / f"{name}.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text())
            pid_file.unlink()
            for sig in (signal.SIGINT, signal.SIGINT, signal.SIGKILL):  # a worker ignores the first SIGINT
                try:
                    os.killpg(pid, sig)
                except ProcessLookupError:
                    break
                time.sleep(1.5)
    print("local Prefect stack stopped")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=("up", "down"))
    ap.add_argument("--dir", type=Path, default=Path("data/prefect"))
    ap.add_argument("--port", type=int, default=4200)
    args = ap.parse_args()
    up(args.dir, args.port) if args.action == "up" else down(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
