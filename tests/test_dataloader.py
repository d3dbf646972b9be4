"""A two-worker ``torch.utils.data.DataLoader`` over ``datasets.load_dataset`` of a synth dataset: map-style in
the default and the torch format, streaming from the folder and from S3 (SeaweedFS), batched by
``synth.storage.collate.collate``. Every sample arrives once, its frames decoded in a worker equal to the
shipped mp4's, its ground truth and questions equal to the shard's."""

from __future__ import annotations

import io
import json

import datasets
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, get_worker_info

from synth.storage.collate import collate
from synth.storage.dataset import iter_samples
from synth.storage.media import decode_mp4


def _collate_in_worker(samples: list[dict]) -> dict:
    """``collate``, plus which worker built the batch."""
    return {**collate(samples), "worker": get_worker_info().id}


def _check_batches(ds, root, manifest) -> None:
    assert len(manifest["shards"]) >= 2  # a shard per worker when streaming
    shipped = {s.key: s for s in iter_samples(root)}
    seen, workers = [], set()
    for batch in DataLoader(ds, batch_size=2, num_workers=2, collate_fn=_collate_in_worker):
        keys = batch["__key__"]
        workers.add(batch["worker"])
        video = batch["mp4"]
        assert video.dtype == torch.uint8 and video.shape[:3] == (len(keys), manifest["config"]["video"]["frames"], 3)
        for i, key in enumerate(keys):
            sample = shipped[key]
            assert np.array_equal(video[i].permute(0, 2, 3, 1).numpy(), decode_mp4(sample.files["mp4"]))
            with np.load(io.BytesIO(sample.files["gt.npz"])) as gt:
                for name in ("depth_mm", "instance"):
                    assert np.array_equal(batch["gt.npz"][name][i].numpy(), gt[name])
            questions = json.loads(sample.files["json"])["questions"]
            read = batch["json"][i]["questions"]
            assert [(q["id"], q["question"]) for q in read] == [(q["id"], q["question"]) for q in questions]
        seen += keys
    assert sorted(seen) == sorted(k for shard in manifest["shards"] for k in shard["keys"])
    assert workers == {0, 1}


@pytest.mark.parametrize("mode", ["default", "torch", "streaming"])
def test_two_workers_read_every_sample_once(tiny_dataset, mode):
    root, manifest = tiny_dataset
    ds = datasets.load_dataset(str(root), split="train", streaming=mode == "streaming")
    if mode == "torch":
        ds = ds.with_format("torch")
    _check_batches(ds, root, manifest)


def test_two_workers_stream_from_s3(tiny_dataset, tmp_path, monkeypatch):
    from synth.storage.s3 import load, push
    from synth.storage.seaweed import LocalS3

    root, manifest = tiny_dataset
    with LocalS3(tmp_path / "seaweed") as s3:
        for k, v in s3.env().items():
            monkeypatch.setenv(k, v)
        s3.create_bucket("synth-dataloader")
        uri = "s3://synth-dataloader/run1"
        push(root, uri)
        _check_batches(load(uri, streaming=True), root, manifest)
