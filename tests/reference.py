"""Fingerprints of a small dataset, to compare a run with one written by earlier code.

``tests/data/reference_run/samples.json.gz`` was written by commit 7182f4e (before the
simulator-plugin redesign) with::

    synth run --out REF --preset sat-dynamic --episodes 3 --frames 8 --resolution 160x120 \\
        --quality draft --degradations fog:2 --seed 5

and ``python -m tests.reference REF`` (the run's ``run.json`` and, per sample, its JSON, the
SHA-256 of its decoded depth and instance maps, and the mean colour of each decoded frame).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from synth.storage.dataset import read_tar
from synth.storage.media import decode_gt, decode_mp4

REFERENCE = Path(__file__).parent / "data" / "reference_run" / "samples.json.gz"


def fingerprint(root: Path) -> dict:
    samples = {}
    for shard in sorted(root.glob("train-*.tar")):
        for s in read_tar(shard):
            depth, instance = decode_gt(s.files["gt.npz"])
            rgb = decode_mp4(s.files["mp4"])
            samples[s.key] = {
                "json": json.loads(s.files["json"]),
                "depth_sha256": hashlib.sha256(np.ascontiguousarray(depth).tobytes()).hexdigest(),
                "instance_sha256": hashlib.sha256(np.ascontiguousarray(instance).tobytes()).hexdigest(),
                "rgb_mean": rgb.reshape(len(rgb), -1, 3).mean(axis=1).round(3).tolist(),
            }
    return {"run": json.loads((root / "run.json").read_text()), "samples": samples}


def load_reference() -> dict:
    return json.loads(gzip.decompress(REFERENCE.read_bytes()))


if __name__ == "__main__":
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(fingerprint(Path(sys.argv[1])), sort_keys=True).encode()
    REFERENCE.write_bytes(gzip.compress(data, mtime=0))
    print(f"{REFERENCE}: {REFERENCE.stat().st_size} bytes")
