"""The ``webdataset`` library as the oracle for synth's shards: ``webdataset.WebDataset`` over the local shard
files reads every sample the manifest lists, in its order, with exactly synth's members (mp4, json, gt.npz), and
decodes the same bytes, JSON and ground-truth arrays as synth's own readers."""

from __future__ import annotations

import io
import json

import numpy as np
import webdataset

from synth.core.records import SampleMeta
from synth.evaluation.items import iter_metas
from synth.storage.dataset import EXTENSIONS


def test_webdataset_reads_every_sample_with_synths_members(tiny_dataset):
    root, manifest = tiny_dataset
    urls = [str(root / shard["path"]) for shard in manifest["shards"]]
    raw = list(webdataset.WebDataset(urls, shardshuffle=False))
    decoded = list(webdataset.WebDataset(urls, shardshuffle=False).decode())

    listed = [(str(root / shard["path"]), key) for shard in manifest["shards"] for key in shard["keys"]]
    assert [(s["__url__"], s["__key__"]) for s in raw] == listed
    assert len(raw) == manifest["num_samples"]
    assert all({k for k in s if not k.startswith("__")} == set(EXTENSIONS) for s in raw)

    ours = list(iter_metas(root))
    assert [sample.key for sample, _ in ours] == [s["__key__"] for s in raw]
    for (sample, meta), r, d in zip(ours, raw, decoded, strict=True):
        assert all(r[ext] == sample.files[ext] for ext in EXTENSIONS)
        assert d["json"] == json.loads(sample.files["json"])
        assert SampleMeta.model_validate(d["json"]) == meta
        with np.load(io.BytesIO(sample.files["gt.npz"])) as gt:
            assert set(d["gt.npz"]) == set(gt.files) == {"depth_mm", "instance"}
            for name in gt.files:
                assert d["gt.npz"][name].dtype == np.uint16
                assert np.array_equal(d["gt.npz"][name], gt[name])
        assert d["mp4"] == sample.files["mp4"]  # no video decoder named: the bytes as shipped
