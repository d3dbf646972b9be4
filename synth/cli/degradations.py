"""``synth degradations``: list the degradation types and their parameters."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``degradations`` subcommand (no flags)."""
    sub.add_parser("degradations", help="list the degradation types (identifier first) and their parameters")


def run(args: argparse.Namespace) -> int:
    """One tab-separated line per degradation type, identifier first."""
    from synth.degradations import DEGRADATIONS

    for d in DEGRADATIONS.values():
        print(f"{d.id}\tseverity 1-5\t{d.method}\t{d.description}\tparameters: {', '.join(d.params)}")
    return 0
