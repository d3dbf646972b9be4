"""``synth reward``: the reward of each reply in a predictions file, as RL trainers take it (``synth.reward``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from synth.cli.common import positive


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``reward`` subcommand and its flags."""
    r = sub.add_parser("reward", help="the reward of each reply in a predictions file (for reinforcement learning)")
    r.add_argument("dir", help="dataset folder or s3://bucket/prefix")
    r.add_argument(
        "--predictions",
        type=Path,
        required=True,
        help='JSONL {"id": ITEM_ID, "answer": TEXT} per line, as synth eval reads it (ids: SAMPLE_KEY/QUESTION_ID)',
    )
    r.add_argument(
        "--format-weight",
        type=positive(float, zero=True),
        default=0.0,
        help="added where a reply marks its final answer (Answer: ... or \\boxed{...}) and it reads as one (default 0)",
    )
    r.add_argument("--out", type=Path, help='JSONL {"id": ..., "reward": ...} per prediction (default: stdout)')


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every prediction's id is an item of the dataset; 2 otherwise (nothing written)."""
    from synth.evaluation.reward import Rewards
    from synth.evaluation.scorer import read_predictions

    predictions = read_predictions(args.predictions)
    rewards = Rewards(args.dir, format_weight=args.format_weight)
    unknown = [k for k in predictions if k not in rewards.items]
    if unknown:
        raise ValueError(f"{len(unknown)} prediction ids are not items of {args.dir}, e.g. {unknown[0]!r}")
    ids = list(predictions)
    values = rewards([predictions[i] for i in ids], id=ids) if ids else []
    lines = "".join(json.dumps({"id": i, "reward": v}) + "\n" for i, v in zip(ids, values, strict=True))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(lines)
    else:
        sys.stdout.write(lines)
    mean = sum(values) / len(values) if values else 0.0
    print(f"synth reward: {len(values)} replies, mean reward {mean:.4f}", file=sys.stderr)
    return 0
