"""``synth verify``: recompute every answer of a dataset from its shipped JSON, and optionally audit it
against the rendered evidence."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``verify`` subcommand and its flags."""
    v = sub.add_parser("verify", help="recompute every answer of a dataset from its shipped JSON")
    v.add_argument("dir", help="dataset folder or s3://bucket/prefix")
    v.add_argument("--families", type=Path, help="folder of compiled families (synth compile --out) the run used")
    v.add_argument(
        "--evidence",
        action="store_true",
        help="also audit every answer against the rendered passes (masks, depth, delivered video)",
    )
    v.add_argument(
        "--traces",
        action="store_true",
        help="also run each answered item's program again, recorded, and require its shipped reasoning trace: "
        "every step's call, frame, object and value, and the text",
    )


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every answer checks out (and, with --evidence, the video supports it); 1 otherwise."""
    from synth.evaluation.verify import verify_dataset
    from synth.storage.s3 import local_dataset

    root = local_dataset(args.dir)
    checked, problems = verify_dataset(root, families_dir=args.families, traces=args.traces)
    for p in problems:
        print(f"MISMATCH {p}")
    print(f"{checked} answers checked, {len(problems)} problem(s)")
    if not args.evidence:
        return 1 if problems else 0
    from synth.audit import agreement, audit_dataset

    findings = audit_dataset(root)
    wrong = [f for f in findings if not f.agrees]
    for f in wrong:
        print(f"NOT IN THE VIDEO {f.line()}")
    print("evidence audit, items the video supports per family:")
    for family, (ok, n) in agreement(findings).items():
        print(f"  {family:24s} {ok:5d}/{n:<5d} {ok / n:6.1%}")
    print(f"{len(findings)} answers audited against the rendered evidence, {len(wrong)} disagreement(s)")
    return 1 if problems or wrong else 0
