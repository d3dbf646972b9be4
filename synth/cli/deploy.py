"""``synth deploy``: create the work pool and the prefect.yaml deployments on a Prefect server."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``deploy`` subcommand and its flags."""
    d = sub.add_parser("deploy", help="create the synth-pool work pool and the prefect.yaml deployments on a server")
    d.add_argument("--api-url", help="the server's API (default: $PREFECT_API_URL), e.g. http://127.0.0.1:4200/api")


def run(args: argparse.Namespace) -> int:
    """Deploy, then say how to start a worker."""
    from synth.flows.deploy import POOL, deploy

    report = deploy(args.api_url)
    print(report.strip())
    print(f"work pool {POOL} and the deployments in prefect.yaml are on the server; start a worker with")
    print(f"  prefect worker start --pool {POOL}")
    return 0
