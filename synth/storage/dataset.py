"""A dataset directory: staged samples -> WebDataset shards -> dataset card -> manifest.

Layout of a finished dataset::

    run.json              the configuration that produced it (written first)
    versions.json         the versions of synth's code that wrote its samples, in order
    train-00000.tar ...   WebDataset shards: {key}.mp4, {key}.json, {key}.gt.npz
    README.md             dataset card with YAML ``configs`` for ``datasets.load_dataset``
    manifest.json         written last: a directory without it is an unfinished run

While a run is in progress, each finished sample is staged atomically under ``.staging/`` so
that a rerun resumes where the last one stopped; shards are assembled from the staged
samples only when every sample is there.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from synth.core.records import QA, SampleMeta
from synth.core.render_types import FrameBuffers
from synth.core.scene import Episode
from synth.storage.card import dataset_card

SPLIT = "train"
RUN_FILE = "run.json"
VERSIONS = "versions.json"
MANIFEST = "manifest.json"
STAGING = ".staging"
EXTENSIONS = ("mp4", "json", "gt.npz")
VIEWS_FILE = "views.npz"  # a sample's candidate views (--settle-views; synth.storage.media.encode_views)
OPTIONAL = (VIEWS_FILE,)  # files a run's samples carry where it asks for them (all of its samples)


class DatasetError(RuntimeError):
    """The output directory cannot be used as asked."""


@dataclass(frozen=True)
class Sample:
    key: str  # no dots: WebDataset splits the key from the extension at the first dot
    files: dict[str, bytes]  # extension -> bytes, extensions as in EXTENSIONS


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # nothing half-written stays behind
        raise


def _tar_bytes(samples: list[Sample]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for s in samples:
            for ext in (*EXTENSIONS, *(e for e in OPTIONAL if e in s.files)):
                info = tarfile.TarInfo(f"{s.key}.{ext}")
                info.size, info.mtime, info.mode = len(s.files[ext]), 0, 0o644
                tar.addfile(info, io.BytesIO(s.files[ext]))
    return buf.getvalue()


def read_tar(data_or_path: bytes | Path) -> list[Sample]:
    """Samples of a WebDataset tar, in order."""
    samples: dict[str, dict[str, bytes]] = {}
    is_bytes = isinstance(data_or_path, bytes)
    source = {"fileobj": io.BytesIO(data_or_path)} if is_bytes else {"name": str(data_or_path)}
    with tarfile.open(mode="r", **source) as tar:
        for member in tar:
            key, _, ext = member.name.partition(".")
            samples.setdefault(key, {})[ext] = tar.extractfile(member).read()
    return [Sample(k, v) for k, v in samples.items()]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class DatasetWriter:
    """Writes one dataset directory; resumable, never overwrites a finished one silently."""

    def __init__(self, root: Path, config: dict, samples_per_shard: int = 64, code_version: str = ""):
        if samples_per_shard < 1:
            raise ValueError("samples_per_shard must be >= 1")
        self.root = Path(root)
        self.config = config
        self.code_version = code_version
        self.samples_per_shard = samples_per_shard
        self.staging = self.root / STAGING

    def open(self, overwrite: bool = False, across_versions: bool = False) -> set[str]:
        """Prepare the directory; return the keys of samples already staged by an earlier run.
        Resuming a run that another code version started needs ``across_versions``."""
        root = self.root
        if root.exists() and not root.is_dir():
            raise DatasetError(f"output {root} exists and is not a directory")
        if (root / MANIFEST).exists():
            if not overwrite:
                raise DatasetError(f"{root} already holds a finished dataset; pass --overwrite or choose another --out")
            self._remove_dataset_files()
        elif (root / RUN_FILE).exists():
            previous = json.loads((root / RUN_FILE).read_text())
            if previous != self.config:
                if not overwrite:
                    changed = sorted(
                        k for k in set(previous) | set(self.config) if previous.get(k) != self.config.get(k)
                    )
                    raise DatasetError(
                        f"{root} holds an unfinished run with different options ({', '.join(changed)}); "
                        "rerun with the same options to resume, or pass --overwrite"
                    )
                self._remove_dataset_files()
        elif root.exists() and any(root.iterdir()):
            raise DatasetError(f"output {root} is not empty and is not a synth dataset")
        versions = self.versions()
        if versions and versions[-1] != self.code_version:
            if not across_versions:
                raise DatasetError(
                    f"{root} holds an unfinished run started by synth code {versions[-1]}, this is "
                    f"{self.code_version}; pass --resume-across-versions to finish it with both "
                    "(recorded in versions.json and the manifest), or --overwrite"
                )
            versions.append(self.code_version)
        try:
            self.staging.mkdir(parents=True, exist_ok=True)
            _atomic_write(root / RUN_FILE, json.dumps(self.config, indent=2, sort_keys=True).encode())
            _atomic_write(root / VERSIONS, json.dumps(versions or [self.code_version]).encode())
        except OSError as e:
            raise DatasetError(f"cannot write to {root}: {e.strerror or e}") from e
        return {p.name[: -len(".tar")] for p in self.staging.glob("*.tar")}

    def _remove_dataset_files(self) -> None:
        for p in [
            *self.root.glob(f"{SPLIT}-*.tar"),
            self.root / "README.md",
            self.root / MANIFEST,
            self.root / RUN_FILE,
            self.root / VERSIONS,
        ]:
            p.unlink(missing_ok=True)
        shutil.rmtree(self.staging, ignore_errors=True)

    def versions(self) -> list[str]:
        """Code versions that wrote this directory's samples (empty for a new one)."""
        path = self.root / VERSIONS
        return json.loads(path.read_text()) if path.exists() else []

    def stage(self, sample: Sample) -> None:
        missing = [e for e in EXTENSIONS if e not in sample.files]
        if missing or "." in sample.key:
            raise ValueError(f"sample {sample.key!r} is malformed (missing {missing})")
        _atomic_write(self.staging / f"{sample.key}.tar", _tar_bytes([sample]))

    def is_staged(self, key: str) -> bool:
        return (self.staging / f"{key}.tar").exists()

    def staged_metas(self, keys: list[str]) -> list[dict]:
        """The JSON of the staged samples ``keys``, in order (``DatasetError`` if one is missing)."""
        missing = [k for k in keys if not (self.staging / f"{k}.tar").exists()]
        if missing:
            raise DatasetError(f"cannot finish {self.root}: {len(missing)} samples missing, e.g. {missing[0]}")
        metas = []
        for key in keys:
            with tarfile.open(self.staging / f"{key}.tar") as tar:  # reads the JSON only, not the media
                metas.append(json.loads(tar.extractfile(f"{key}.json").read()))
        return metas

    def _staged(self, key: str) -> Sample:
        return read_tar(self.staging / f"{key}.tar")[0]  # stage() writes one sample per tar

    def finalize(
        self,
        keys: list[str],
        drop: Collection[tuple[int, str]] = (),
        blind_baselines: list[dict] = (),
        metas: list[dict] | None = None,
        order_checks: list[dict] = (),
    ) -> dict:
        """Assemble shards from the staged samples ``keys`` (in order), then card, then manifest.

        ``drop``: the questions, as (episode index, question id), to leave out of every variant
        of their episode; ``blind_baselines``: the per-family rows the manifest and the card
        report. Both are the run's decisions (``synth.flows.run.close_run``): this only writes.
        ``metas``: ``staged_metas(keys)`` where the caller has read them already (for its decisions);
        ``order_checks``: the per-family rows of the order and single-frame checks."""
        metas = self.staged_metas(keys) if metas is None else metas
        kept = pruned(metas, drop)
        shards = []
        for n, start in enumerate(range(0, len(keys), self.samples_per_shard)):
            group = keys[start : start + self.samples_per_shard]
            samples = []
            for i, key in enumerate(group, start):
                sample = self._staged(key)
                if len(kept[i]["questions"]) != len(metas[i]["questions"]):  # pruning touched its JSON
                    sample = Sample(key, {**sample.files, "json": json.dumps(kept[i], sort_keys=True).encode()})
                samples.append(sample)
            path = self.root / f"{SPLIT}-{n:05d}.tar"
            _atomic_write(path, _tar_bytes(samples))
            shards.append({"path": path.name, "sha256": sha256(path), "bytes": path.stat().st_size, "keys": group})
        manifest = {
            "format": "webdataset",
            "split": SPLIT,
            "config": self.config,
            "code_versions": self.versions(),
            "num_samples": len(keys),
            "num_questions": sum(len(m["questions"]) for m in kept),
            "pruned_questions": sum(len(m["questions"]) for m in metas) - sum(len(m["questions"]) for m in kept),
            "blind_baselines": list(blind_baselines),
            "order_checks": list(order_checks),
            "shards": shards,
        }
        _atomic_write(self.root / "README.md", dataset_card(manifest, kept).encode())
        _atomic_write(self.root / MANIFEST, json.dumps(manifest, indent=2).encode())
        shutil.rmtree(self.staging, ignore_errors=True)
        return manifest


def pruned(metas: list[dict], drop: Collection[tuple[int, str]]) -> list[dict]:
    """``metas`` (sample JSON dicts) without the questions ``drop`` names as (episode index, question id)."""
    drop = set(drop)
    return [{**m, "questions": [q for q in m["questions"] if (m["index"], q["id"]) not in drop]} for m in metas]


def is_finished(root: Path) -> bool:
    return (Path(root) / MANIFEST).exists()


def read_manifest(root: Path) -> dict:
    """The manifest of a finished dataset directory (DatasetError if it is not one)."""
    path = Path(root) / MANIFEST
    if not path.exists():
        raise DatasetError(f"{root} has no {MANIFEST}: not a finished synth dataset")
    return json.loads(path.read_text())


def iter_samples(root: Path) -> Iterator[Sample]:
    """Every sample of a finished dataset directory, shard by shard, in manifest order."""
    for shard in read_manifest(root)["shards"]:
        yield from read_tar(Path(root) / shard["path"])


def build_sample(meta: SampleMeta, media: dict[str, bytes]) -> Sample:
    """One sample: encoded media (``mp4``, ``gt.npz``, see ``synth.storage.media``) and its JSON."""
    data = json.loads(meta.model_dump_json())
    return Sample(meta.key, {**media, "json": json.dumps(data, sort_keys=True).encode()})


def save_episode(
    root: Path | str, episode: Episode, buffers: FrameBuffers, questions: list[QA], key: str = "ep0"
) -> dict:
    """Write one rendered episode and its questions as a finished one-sample dataset in ``root``
    (replacing one there): shard, card and manifest, readable with ``datasets.load_dataset``.
    ``buffers``: the episode's rendered passes (``FrameBuffers``); the video is encoded at the
    episode's ``fps``. Returns the manifest. A run (``synth run``) writes many, with blind baselines."""
    from synth.storage.media import encode_gt, encode_mp4  # PyAV: only where videos are encoded

    meta = SampleMeta(
        key=key, index=0, seed=0, variant="clean", episode=episode, questions=questions, config={}, code_version=""
    )
    media = {"mp4": encode_mp4(buffers.rgb, episode.video.fps), "gt.npz": encode_gt(buffers.depth, buffers.instance)}
    writer = DatasetWriter(Path(root), config={})
    writer.open(overwrite=True)
    writer.stage(build_sample(meta, media))
    return writer.finalize([key])
