"""``synth load``: read a dataset back with ``datasets.load_dataset``."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``load`` subcommand and its flags."""
    ld = sub.add_parser("load", help="read a dataset (folder or s3://) back with datasets.load_dataset")
    ld.add_argument("uri")
    ld.add_argument("--streaming", action="store_true")


def run(args: argparse.Namespace) -> int:
    """Count the samples and questions read back."""
    from synth.storage.s3 import load

    ds = load(args.uri, streaming=args.streaming)
    rows = questions = 0
    for row in ds:
        rows += 1
        questions += len(row["json"]["questions"])
    print(f"{args.uri}: {rows} samples, {questions} questions, columns {', '.join(ds.column_names or [])}")
    return 0
