"""``synth export DIR --format F --out OUT``: a finished dataset as training records.

Layout of OUT::

    videos/{sample key}.mp4            the sample's video, as shipped (or, with --frames / --fps:)
    frames/{sample key}/{k:03d}.jpg    the shown frames (k: the frame's index in the video)
    videos/{sample key}@{q:03d}.mp4    a prefix record's video: frames 0..q, re-encoded
    llava_video.json | sharegpt.json | qwen_vl.json    the records (a JSON list), written last
    dataset_info.json                  (sharegpt) LLaMA-Factory's declaration of the columns
    export.json                        what was exported, from where, how many records; the
                                       sampling and the trainer settings it needs; drops per family

What the model is shown is stated, never left to a trainer's defaults (``exports.sampling``):
Qwen-VL video records carry ``nframes``; LLaMA-Factory and LLaVA-Video take the training
arguments in ``export.json`` ``sampling.trainer`` (``video_fps``/``video_maxlen``,
``video_fps``/``frames_upbound``). Questions about one frame name it as the model sees it, and
items whose evidence is not among the shown frames are dropped (``exports.recheck``). Streaming
items (asked at query frame q, answered from the frames up to it) go into prefix records, whose
media end at q (ids ``{key}@{q:03d}/...``); ``export.json`` counts them (``prefix_records``).

Every path in a record is relative to OUT. Media are written atomically and kept when a rerun
finds them complete, so an interrupted export resumes; the records file and ``export.json`` are
written last. An OUT that holds another export needs ``overwrite``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from synth.core.records import RENDERED
from synth.evaluation.items import iter_metas
from synth.exports.formats import FORMATS, RECORDS_FILE, Media, dataset_info, record
from synth.exports.recheck import recheck
from synth.exports.sampling import Sampling, choose, fewer, under
from synth.exports.tokens import MODELS, media_tokens, text_tokens
from synth.programs.family import QA
from synth.storage.dataset import DatasetError, read_manifest
from synth.storage.media import decode_mp4, encode_mp4, jpeg

SUMMARY = "export.json"


@dataclass(frozen=True)
class ExportReport:
    out: Path
    records_file: Path
    records: int
    samples: int
    questions: int
    summary: dict  # what export.json says


def write_file(path: Path, data: bytes, keep_existing: bool = False) -> None:
    """Atomic write; ``keep_existing``: a medium already there at this size was written by an
    earlier, interrupted export of the same sample and is kept."""
    if keep_existing and path.exists() and path.stat().st_size == len(data):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _frames(key: str, mp4: bytes, indices: tuple[int, ...], out: Path) -> tuple[str, ...]:
    """The shown frames of a sample as JPEG files (``frames/{key}/{index:03d}.jpg``, the index in
    the delivered video)."""
    video = decode_mp4(mp4)
    paths = []
    for k in indices:
        rel = f"frames/{key}/{k:03d}.jpg"
        write_file(out / rel, jpeg(video[k], quality=92), keep_existing=True)
        paths.append(rel)
    return tuple(paths)


def prepare_out(out: Path, overwrite: bool, source: Path, media: tuple[str, ...] = ("videos", "frames")) -> None:
    """Make ``out`` ready for an export of ``source``: created, or emptied of a finished export
    (``overwrite``), or an unfinished one holding only its ``media`` folders (resumed).
    ``DatasetError`` for an ``out`` inside the dataset, a file, or another folder's contents."""
    if out.resolve() == source.resolve() or source.resolve() in out.resolve().parents:
        raise DatasetError(f"--out {out} must be outside the dataset {source}")
    if out.exists() and not out.is_dir():
        raise DatasetError(f"--out {out} exists and is not a directory")
    if (out / SUMMARY).exists():
        if not overwrite:
            raise DatasetError(f"{out} already holds a finished export; pass --overwrite or choose another --out")
        shutil.rmtree(out)
    elif out.exists() and any(p.name not in media for p in out.iterdir()):
        raise DatasetError(f"--out {out} is not empty and is not an unfinished synth export")
    out.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class Budget:
    """``--max-tokens`` for ``--model``'s patching (``exports.tokens``)."""

    max_tokens: int
    model: str = "qwen2-vl"


def _record_tokens(
    fmt: str, model: str, sampling: Sampling, size: tuple[int, int], questions: list[QA], traces: bool
) -> int:
    media = Media(video="v") if sampling.media == "video" else Media(frames=("f",))
    rec = record(fmt, "x", questions, media, traces)
    text = " ".join(t["value"] for t in rec["conversations"])
    return media_tokens(model, sampling.media == "video", len(sampling.indices), *size) + text_tokens(text)


def _fit(
    fmt: str, budget: Budget, sampling: Sampling, size: tuple[int, int], questions: list[QA], traces: bool
) -> Sampling:
    """``sampling`` with as many frames as keep one question's record within the budget."""
    n = len(sampling.indices)
    while (
        n > 1
        and max(_record_tokens(fmt, budget.model, sampling, size, [q], traces) for q in questions) > budget.max_tokens
    ):
        n -= 1
        sampling = fewer(fmt, sampling, n)
    return sampling


def _groups(
    fmt: str, budget: Budget | None, sampling: Sampling, size: tuple[int, int], questions: list[QA], traces: bool
) -> list[list[QA]]:
    """A per-sample record's questions, split into consecutive records that each fit the budget."""
    if budget is None:
        return [questions]
    groups: list[list[QA]] = []
    for qa in questions:
        if groups and _record_tokens(fmt, budget.model, sampling, size, [*groups[-1], qa], traces) <= budget.max_tokens:
            groups[-1].append(qa)
        else:
            groups.append([qa])
    return groups


def export_dataset(
    source: Path,
    fmt: str,
    out: Path,
    per_sample: bool = False,
    frames: int | None = None,
    variants: set[str] | None = None,
    overwrite: bool = False,
    fps: float | None = None,
    budget: Budget | None = None,
    traces: bool = False,
) -> ExportReport:
    """Write the training records of ``fmt`` for the finished dataset ``source`` into ``out``
    (module docstring). Sampling (``exports.sampling``): ``frames`` frames, or the frames at
    ``fps`` per second, as images; by default the video with the trainer settings that show every
    frame. Every item is re-checked against the shown frames (``exports.recheck``); ``budget``
    lowers the frame count and splits per-sample records to fit; ``variants``: the
    ``synth.evaluation.items.parse_variants`` filter; ``traces``: each answer after its reasoning
    trace in a ``<think>`` block (``QA.reasoning``)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    choose(fmt, 16, 8.0, frames, fps)  # the options' errors before anything is read or written
    if budget is not None and budget.model not in MODELS:
        raise ValueError(f"unknown model family {budget.model!r}; use one of {', '.join(MODELS)}")
    manifest = read_manifest(source)
    out = Path(out)
    prepare_out(out, overwrite, Path(source))
    subset = frames is not None or fps is not None or budget is not None
    clean_videos: dict[int, bytes] = {}

    def clean_video(meta) -> bytes | None:
        """The clean video of a degraded variant's episode, where the auditor needs it."""
        if meta.variant in RENDERED:
            return None
        if not clean_videos:
            clean_videos.update({m.index: s.files["mp4"] for s, m in iter_metas(source, {"clean"})})
        return clean_videos.get(meta.index)

    records, samples, questions = [], 0, 0
    dropped: Counter[tuple[str, str]] = Counter()
    levels: Counter[tuple[str, str]] = Counter()  # exported items per (family, difficulty level)
    trainer: dict | None = None
    shown_counts, lowered, split, tokens, prefixes = Counter(), 0, 0, [], 0
    for sample, meta in iter_metas(source, variants):
        if not meta.questions:
            continue
        video, size = meta.episode.video, (meta.episode.video.height, meta.episode.video.width)
        # the whole video, then a prefix record per moment streaming items are asked at
        moments = [None, *sorted({q.query_frame for q in meta.questions if q.query_frame is not None})]
        exported = False
        for moment in moments:
            sampling = choose(fmt, video.frames if moment is None else moment + 1, video.fps, frames, fps)
            if sampling.trainer and trainer not in (None, sampling.trainer):  # other trainer settings:
                sampling = under(sampling, trainer) or fewer(fmt, sampling, len(sampling.indices))  # or a frame list
            trainer = trainer or sampling.trainer or None
            asked = [q for q in meta.questions if q.query_frame == moment]
            if budget is not None and asked:
                fitted = _fit(fmt, budget, sampling, size, asked, traces)
                lowered += len(fitted.indices) < len(sampling.indices)
                sampling = fitted
            audited = subset or moment is not None
            kept, lost = recheck(meta, sample.files, sampling, clean_video(meta) if audited else None, moment)
            dropped.update(lost)
            if not kept:
                continue
            exported = True
            key = meta.key if moment is None else f"{meta.key}@{moment:03d}"
            shown_counts[len(sampling.indices)] += 1
            if sampling.media == "frames":
                media = Media(frames=_frames(meta.key, sample.files["mp4"], sampling.indices, out))
            else:
                rel = f"videos/{key}.mp4"
                if moment is None:
                    write_file(out / rel, sample.files["mp4"], keep_existing=True)
                elif not (out / rel).exists():  # the video up to the query frame, re-encoded
                    write_file(out / rel, encode_mp4(decode_mp4(sample.files["mp4"])[: moment + 1], video.fps))
                media = Media(video=rel, settings=sampling.record)
            if per_sample:
                groups = _groups(fmt, budget, sampling, size, kept, traces)
                split += len(groups) - 1
                ids = [key] if len(groups) == 1 else [f"{key}#{k}" for k in range(len(groups))]
            else:
                groups, ids = [[q] for q in kept], [f"{key}/{q.id}" for q in kept]
            for record_id, qs in zip(ids, groups):
                records.append(record(fmt, record_id, qs, media, traces))
                if budget is not None:
                    tokens.append(_record_tokens(fmt, budget.model, sampling, size, qs, traces))
            questions += len(kept)
            levels.update((q.family, q.difficulty.level if q.difficulty else "unrated") for q in kept)
            prefixes += len(groups) if moment is not None else 0
        samples += exported
    if not records:
        raise DatasetError(f"{source} has no questions{' in the variants asked for' if variants else ''} to export")
    records_file = out / RECORDS_FILE[fmt]
    write_file(records_file, json.dumps(records, indent=1, ensure_ascii=False).encode())
    if fmt == "sharegpt":
        write_file(out / "dataset_info.json", json.dumps(dataset_info(records_file.name, records), indent=2).encode())
    drops: dict[str, dict[str, int]] = defaultdict(dict)
    for (family, reason), n in sorted(dropped.items()):
        drops[family][reason] = n
    summary = {
        "source": str(source),
        "source_manifest_shards": [s["sha256"] for s in manifest["shards"]],
        "format": fmt,
        "records_file": records_file.name,
        "records": len(records),
        "samples": samples,
        "questions": questions,
        "per_sample": per_sample,
        "prefix_records": prefixes,
        "sampling": {
            "frames": frames,
            "fps": fps,
            "media": "frames" if frames is not None or fps is not None else "video",
            "frames_shown": {str(k): v for k, v in sorted(shown_counts.items())},
            "trainer": trainer or {},
        },
        "dropped": {"total": sum(dropped.values()), "per_family": drops},
        # the exported items per family and difficulty level (QA.difficulty; the sample JSON has each item's)
        "levels": {
            f: {lv: n for (g, lv), n in sorted(levels.items()) if g == f} for f in sorted({f for f, _ in levels})
        },
        "budget": None
        if budget is None
        else {
            "max_tokens": budget.max_tokens,
            "model": budget.model,
            "samples_with_fewer_frames": lowered,
            "records_split_off": split,
            "tokens_per_record_max": max(tokens),
        },
        "variants": sorted(variants) if variants else "all",
    }
    write_file(out / SUMMARY, json.dumps(summary, indent=2).encode())
    return ExportReport(out, records_file, len(records), samples, questions, summary)
