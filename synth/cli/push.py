"""``synth push``: upload a finished dataset to S3."""

from __future__ import annotations

import argparse
from pathlib import Path

from synth.cli.common import positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``push`` subcommand and its flags."""
    u = sub.add_parser("push", help="upload a finished dataset to S3 (checksums, resume, manifest last)")
    u.add_argument("dir", type=Path)
    u.add_argument("dest", help="s3://bucket/prefix (endpoint and credentials: standard AWS configuration)")
    u.add_argument("--workers", type=positive_int, default=4, help="parallel uploads")


def run(args: argparse.Namespace) -> int:
    """Upload, then print what was uploaded and what was already there."""
    from synth.storage.s3 import push

    report = push(args.dir, args.dest, workers=args.workers)
    print(
        f"pushed {args.dir} to {args.dest}: {len(report['uploaded'])} uploaded, {len(report['skipped'])} already there"
    )
    return 0
