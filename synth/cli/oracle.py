"""``synth oracle``: answer and verify one proposed question about an episode of a dataset (self-play)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``oracle`` subcommand and its flags."""
    o = sub.add_parser(
        "oracle", help="answer and verify one proposed question about an episode, or say why it is invalid"
    )
    o.add_argument("dir", help="dataset folder or s3://bucket/prefix")
    o.add_argument("--key", required=True, help="the sample's key, e.g. ep0000003")
    o.add_argument("--family", required=True, help="a library family id (or one of --families), e.g. relative_depth")
    o.add_argument("--slots", required=True, help='JSON object of the family\'s slots, e.g. \'{"a": 3, "b": 7}\'')
    o.add_argument("--program", type=Path, help="a program file of the questioner's own, run instead of the family's")
    o.add_argument("--query-frame", type=int, help="answer from the frames up to this one (0-based) only")
    o.add_argument("--families", type=Path, help="folder of compiled families (synth compile --out) the run used")


def run(args: argparse.Namespace) -> int:
    """Print the verdict as JSON; exit 0 for a valid question, 1 for one the oracle refuses, 2 for bad input."""
    from synth.evaluation.oracle import Oracle
    from synth.programs.family_io import load_user_families

    try:
        slots = json.loads(args.slots)
    except json.JSONDecodeError as e:
        raise ValueError(f"--slots is not JSON ({e.msg})") from None
    if not isinstance(slots, dict):
        raise ValueError('--slots must be a JSON object, e.g. {"a": 3, "b": 7}')
    program = args.program.read_text() if args.program else None
    families = load_user_families(args.families) if args.families else None
    with Oracle(args.dir, families) as oracle:
        verdict = oracle.ask(args.key, args.family, slots, program=program, query_frame=args.query_frame)
    print(verdict.json())
    return 0 if verdict.valid else 1
