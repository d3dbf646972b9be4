"""``synth export DIR --format F --out OUT``: a finished dataset as training records.

Layout of OUT::

    videos/{sample key}.mp4            the sample's video, as shipped (or, with --frames N:)
    frames/{sample key}/{k:03d}.jpg    N frames sampled evenly from first to last
    llava_video.json | sharegpt.json | qwen_vl.json    the records (a JSON list), written last
    dataset_info.json                  (sharegpt) LLaMA-Factory's declaration of the columns
    export.json                        what was exported, from where, how many records

Every path in a record is relative to OUT. Media are written atomically and kept when a rerun
finds them complete, so an interrupted export resumes; the records file and ``export.json`` are
written last. An OUT that holds another export needs ``overwrite``.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from synth.evaluation.items import iter_metas, sample_items
from synth.exports.formats import FORMATS, RECORDS_FILE, Media, dataset_info, record
from synth.storage.dataset import DatasetError, read_manifest
from synth.storage.media import jpeg, sample_frames

SUMMARY = "export.json"


@dataclass(frozen=True)
class ExportReport:
    out: Path
    records_file: Path
    records: int
    samples: int
    questions: int


def _write(path: Path, data: bytes, keep_existing: bool = False) -> None:
    """Atomic write; ``keep_existing``: a medium already there at this size was written by an
    earlier, interrupted export of the same sample and is kept."""
    if keep_existing and path.exists() and path.stat().st_size == len(data):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _frames(key: str, mp4: bytes, n: int, out: Path) -> tuple[str, ...]:
    paths = []
    for k, frame in enumerate(sample_frames(mp4, n)):
        rel = f"frames/{key}/{k:03d}.jpg"
        _write(out / rel, jpeg(frame, quality=92), keep_existing=True)
        paths.append(rel)
    return tuple(paths)


def _prepare(out: Path, overwrite: bool, source: Path) -> None:
    if out.resolve() == source.resolve() or source.resolve() in out.resolve().parents:
        raise DatasetError(f"--out {out} must be outside the dataset {source}")
    if out.exists() and not out.is_dir():
        raise DatasetError(f"--out {out} exists and is not a directory")
    if (out / SUMMARY).exists():
        if not overwrite:
            raise DatasetError(f"{out} already holds a finished export; pass --overwrite or choose another --out")
        shutil.rmtree(out)
    elif out.exists() and any(p.name not in ("videos", "frames") for p in out.iterdir()):
        raise DatasetError(f"--out {out} is not empty and is not an unfinished synth export")
    out.mkdir(parents=True, exist_ok=True)


def export_dataset(
    source: Path,
    fmt: str,
    out: Path,
    per_sample: bool = False,
    frames: int | None = None,
    variants: set[str] | None = None,
    overwrite: bool = False,
) -> ExportReport:
    """Write the training records of ``fmt`` for the finished dataset ``source`` into ``out``
    (module docstring). ``frames``: sample this many frames as images instead of the video;
    ``variants``: the ``synth.evaluation.items.parse_variants`` filter."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if frames is not None and frames < 1:
        raise ValueError("--frames must be at least 1")
    manifest = read_manifest(source)
    out = Path(out)
    _prepare(out, overwrite, Path(source))
    records, samples, questions = [], 0, 0
    for sample, meta in iter_metas(source, variants):
        if not meta.questions:
            continue
        samples += 1
        if frames:
            media = Media(frames=_frames(meta.key, sample.files["mp4"], frames, out))
        else:
            rel = f"videos/{meta.key}.mp4"
            _write(out / rel, sample.files["mp4"], keep_existing=True)
            media = Media(video=rel)
        groups = [(meta.key, meta.questions)] if per_sample else [(i.id, [i.qa]) for i in sample_items(meta)]
        for record_id, qs in groups:
            records.append(record(fmt, record_id, qs, media))
        questions += len(meta.questions)
    if not records:
        raise DatasetError(f"{source} has no questions{' in the variants asked for' if variants else ''} to export")
    records_file = out / RECORDS_FILE[fmt]
    _write(records_file, json.dumps(records, indent=1, ensure_ascii=False).encode())
    if fmt == "sharegpt":
        _write(out / "dataset_info.json", json.dumps(dataset_info(records_file.name, bool(frames)), indent=2).encode())
    summary = {
        "source": str(source),
        "source_manifest_shards": [s["sha256"] for s in manifest["shards"]],
        "format": fmt,
        "records_file": records_file.name,
        "records": len(records),
        "samples": samples,
        "questions": questions,
        "per_sample": per_sample,
        "frames": frames,
        "variants": sorted(variants) if variants else "all",
    }
    _write(out / SUMMARY, json.dumps(summary, indent=2).encode())
    return ExportReport(out, records_file, len(records), samples, questions)
