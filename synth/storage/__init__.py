"""Datasets on disk and in object storage: ``storage.load(uri, config=..., streaming=...)`` reads
one back with ``datasets.load_dataset``, ``storage.push(dir, uri)`` uploads one (see synth.storage.s3)."""

from __future__ import annotations


def __getattr__(name: str):
    if name in ("load", "push"):  # imported on use: boto3 and datasets are heavy
        from synth.storage import s3

        return getattr(s3, name)
    raise AttributeError(f"module 'storage' has no attribute {name!r}")
