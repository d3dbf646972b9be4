"""Recompute every answer of a finished dataset from its shipped JSON."""

from __future__ import annotations

import json
from pathlib import Path

from programs.family import QA
from programs.generate import recompute
from sim_adapters.scene import Episode
from storage.dataset import MANIFEST, DatasetError, read_tar, sha256


def verify_dataset(root: Path) -> tuple[int, list[str]]:
    """Return (questions checked, problems). Checks shard checksums, then every answer."""
    root = Path(root)
    if not (root / MANIFEST).exists():
        raise DatasetError(f"{root} has no {MANIFEST}: not a finished synth dataset")
    manifest = json.loads((root / MANIFEST).read_text())
    problems, checked, seen = [], 0, set()
    for shard in manifest["shards"]:
        path = root / shard["path"]
        if not path.exists() or sha256(path) != shard["sha256"]:
            problems.append(f"{shard['path']}: missing or checksum mismatch")
            continue
        for sample in read_tar(path):
            if sample.key in seen:
                problems.append(f"{sample.key}: duplicate sample")
            seen.add(sample.key)
            meta = json.loads(sample.files["json"])
            episode = Episode.model_validate(meta["episode"])
            items = [QA.model_validate(q) for q in meta["questions"]]
            problems += [f"{sample.key}/{p}" for p in recompute(episode, items, meta["config"]["min_visible_pixels"])]
            checked += len(items)
    if len(seen) != manifest["num_samples"]:
        problems.append(f"manifest lists {manifest['num_samples']} samples, shards hold {len(seen)}")
    return checked, problems
