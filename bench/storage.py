"""Object-storage benchmark against a local SeaweedFS (started here, 127.0.0.1, authenticated).

1. push throughput of a ~200 MB dataset (`synth push`: checksums, parallel uploads, manifest
   last) versus plain sequential `boto3 upload_file` of the same files in the same run
   (target ratio push/boto3 >= 0.9);
2. read-back throughput in samples/s with `datasets` (non-streaming and streaming).

    python bench/storage.py [--mb 200] [--samples 200]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from datasets import Video

sys.path[0] = str(Path(__file__).resolve().parents[1])

from synth.storage.dataset import DatasetWriter, Sample  # noqa: E402
from synth.storage.media import encode_gt  # noqa: E402
from synth.storage.s3 import S3Uri, client, load, push  # noqa: E402
from synth.storage.seaweed import LocalS3  # noqa: E402


def synthetic_dataset(root: Path, samples: int, sample_mb: float, per_shard: int) -> Path:
    rng = np.random.default_rng(0)
    writer = DatasetWriter(root, {"synthetic": True}, samples_per_shard=per_shard)
    writer.open()
    keys = [f"ep{i:07d}" for i in range(samples)]
    gt = encode_gt(np.ones((2, 4, 4), np.float32), np.zeros((2, 4, 4), np.uint16))
    for i, key in enumerate(keys):
        meta = {"key": key, "questions": [{"family": "x", "answer": str(i % 7)}], "episode": {"index": i}}
        writer.stage(
            Sample(key, {"mp4": rng.bytes(int(sample_mb * (1 << 20))), "json": json.dumps(meta).encode(), "gt.npz": gt})
        )
    writer.finalize(keys)
    return root


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--samples", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalS3(Path(tmp) / "s3") as server:
        os.environ.update(server.env())
        server.create_bucket("bench")
        big = synthetic_dataset(Path(tmp) / "big", samples=40, sample_mb=args.mb / 40, per_shard=4)
        files = sorted(p for p in big.iterdir() if p.name != "run.json")
        size = sum(p.stat().st_size for p in files) / (1 << 20)

        s3 = client()
        t = time.perf_counter()
        for p in files:
            s3.upload_file(str(p), "bench", f"plain/{p.name}")
        plain = time.perf_counter() - t
        t = time.perf_counter()
        push(big, "s3://bench/synth", workers=4)
        ours = time.perf_counter() - t
        print(f"push {size:.0f} MB in {len(files)} files to SeaweedFS:")
        print(f"  plain boto3 upload_file (sequential)  {size / plain:7.1f} MB/s")
        print(f"  synth push (sha256, 4 workers)        {size / ours:7.1f} MB/s  ratio to boto3 {plain / ours:.2f}")

        small = synthetic_dataset(Path(tmp) / "small", samples=args.samples, sample_mb=0.05, per_shard=50)
        push(small, "s3://bench/small")
        for streaming in (False, True):
            t = time.perf_counter()
            ds = load(str(S3Uri("bench", "small")), streaming=streaming).cast_column("mp4", Video(decode=False))
            n = sum(1 for _ in ds)
            dt = time.perf_counter() - t
            mode = "streaming from S3" if streaming else "download + load  "
            print(f"  read back, {mode} {n} samples: {n / dt:7.1f} samples/s (50 KB video each)")


if __name__ == "__main__":
    main()
