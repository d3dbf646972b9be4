"""Recompute every answer of a finished dataset from its shipped JSON."""

from __future__ import annotations

from pathlib import Path

from synth.core.records import SampleMeta
from synth.programs.family_io import load_user_families
from synth.programs.generate import recompute, retrace
from synth.programs.library import FAMILIES
from synth.programs.sandbox import SandboxPool
from synth.storage.dataset import read_manifest, read_tar, sha256


def verify_dataset(root: Path, families_dir: Path | None = None, traces: bool = False) -> tuple[int, list[str]]:
    """Return (questions checked, problems). Checks shard checksums, then every answer (library
    programs, plus the compiled families in ``families_dir`` if the run used any); with
    ``traces``, every answered item's reasoning trace too (``synth.programs.generate.retrace``)."""
    families = {**FAMILIES, **(load_user_families(families_dir) if families_dir else {})}
    root = Path(root)
    manifest = read_manifest(root)
    problems, checked, seen = [], 0, set()
    with SandboxPool() as pool:
        for shard in manifest["shards"]:
            checked += _verify_shard(root, shard, pool, problems, seen, families, traces)
    if len(seen) != manifest["num_samples"]:
        problems.append(f"manifest lists {manifest['num_samples']} samples, shards hold {len(seen)}")
    return checked, problems


def _verify_shard(
    root: Path, shard: dict, pool: SandboxPool, problems: list[str], seen: set[str], families: dict, traces: bool
) -> int:
    path = root / shard["path"]
    if not path.exists() or sha256(path) != shard["sha256"]:
        problems.append(f"{shard['path']}: missing or checksum mismatch")
        return 0
    checked = 0
    for sample in read_tar(path):
        if sample.key in seen:
            problems.append(f"{sample.key}: duplicate sample")
        seen.add(sample.key)
        meta = SampleMeta.model_validate_json(sample.files["json"])
        items = meta.questions
        found = recompute(meta.episode, items, pool, families)
        if traces:
            found += retrace(meta.episode, items, pool, families)
        problems += [f"{sample.key}/{p}" for p in found]
        checked += len(items)
    return checked
