"""``python -m synth.evaluation.reference DIR``: the dataset's own answers as a predictions file (JSONL on
stdout), in the replies a model trained on ``synth export`` gives. Scoring it must give 100%: a
check of a dataset, an export and the scorer together."""

from __future__ import annotations

import json
import sys

from synth.evaluation.items import read_items
from synth.evaluation.prompt import expected_reply
from synth.storage.s3 import local_dataset


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m synth.evaluation.reference DIR|s3://bucket/prefix > predictions.jsonl", file=sys.stderr)
        return 2
    for item in read_items(local_dataset(argv[0])):
        print(json.dumps({"id": item.id, "answer": expected_reply(item.qa)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
