"""``synth export``: a dataset as training records, or scenes as a Habitat scene dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from synth.cli.common import positive, positive_int
from synth.exports.formats import FORMATS as EXPORT_FORMATS
from synth.exports.formats import VSIBENCH
from synth.exports.tokens import MODELS as TOKEN_MODELS


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand and its flags."""
    e = sub.add_parser(
        "export",
        help="write a dataset as training records (LLaVA-Video, ShareGPT, Qwen-VL), as VSI-Bench documents for "
        "lmms-eval (vsibench), or scenes as a Habitat scene dataset (synth export habitat DIR_OR_SEED --out PATH)",
    )
    e.add_argument("dir", help="dataset folder or s3://bucket/prefix; or 'habitat' followed by DIR_OR_SEED")
    e.add_argument("habitat_source", nargs="?", metavar="DIR_OR_SEED", help="(habitat) a dataset, or seeds: 7 or 0,1,2")
    e.add_argument(
        "--format",
        choices=(*EXPORT_FORMATS, VSIBENCH),
        help="training format (docs/exports.md), or vsibench: VSI-Bench documents and an lmms-eval task "
        "(docs/vsibench.md)",
    )
    e.add_argument("--out", type=Path, required=True, help="output folder")
    e.add_argument("--per-sample", action="store_true", help="one multi-turn record per sample, not per question")
    e.add_argument(
        "--with-traces",
        action="store_true",
        help="each answer after the reasoning trace its program recorded, in a <think> block (synth verify --traces)",
    )
    e.add_argument("--frames", type=positive_int, help="N frames sampled evenly as images instead of the video")
    e.add_argument(
        "--fps", type=positive(float), help="the frames at F per second (below 1 too) as images instead of the video"
    )
    e.add_argument(
        "--max-tokens",
        type=positive_int,
        help="token budget per record for --model: fewer frames, and per-sample records split, to fit",
    )
    e.add_argument(
        "--model",
        choices=TOKEN_MODELS,
        default="qwen2-vl",
        help="model family whose patching counts the media tokens (default qwen2-vl: Qwen2-VL / Qwen2.5-VL)",
    )
    e.add_argument("--variants", help="only these variants, e.g. clean,fog or fog-2 (default: all)")
    e.add_argument("--overwrite", action="store_true", help="replace a finished export in --out")


def run(args: argparse.Namespace) -> int:
    """``synth export habitat DIR_OR_SEED`` or ``synth export DIR --format FORMAT``."""
    if args.dir == "habitat":
        from synth.exports.habitat import export_habitat

        if not args.habitat_source:
            raise ValueError("synth export habitat needs DIR_OR_SEED: a dataset, or procedural seeds (7 or 0,1,2)")
        done = export_habitat(args.habitat_source, args.out)
        print(
            f"{len(done.scenes)} scene(s) and {done.trajectories} trajectories in the Habitat scene dataset "
            f"{done.dataset_config}; render it with synth run --simulator habitat --scene-dataset {done.out}"
        )
        return 0
    if args.habitat_source or not args.format:
        raise ValueError("give --format llava-video|sharegpt|qwen-vl|vsibench (or: synth export habitat DIR_OR_SEED)")
    from synth.evaluation.items import parse_variants
    from synth.exports.export import Budget, export_dataset
    from synth.storage.s3 import local_dataset

    if args.format == VSIBENCH:
        return _vsibench(args)
    report = export_dataset(
        local_dataset(args.dir),
        args.format,
        args.out,
        per_sample=args.per_sample,
        frames=args.frames,
        variants=parse_variants(args.variants),
        overwrite=args.overwrite,
        fps=args.fps,
        budget=Budget(args.max_tokens, args.model) if args.max_tokens else None,
        traces=args.with_traces,
    )
    print(
        f"{report.records} {args.format} records ({report.questions} questions, {report.samples} samples) in "
        f"{report.records_file}; media paths are relative to {report.out}"
    )
    sampling, dropped, budget = (report.summary[k] for k in ("sampling", "dropped", "budget"))
    shown = ", ".join(f"{n} frames: {k} samples" for n, k in sampling["frames_shown"].items())
    print(f"shown: {shown}" + (f"; train with {sampling['trainer']}" if sampling["trainer"] else ""))
    if dropped["total"]:
        print(f"{dropped['total']} questions dropped (their evidence is not among the shown frames; see export.json)")
    if budget:
        print(
            f"within {budget['max_tokens']} tokens ({budget['model']}): {budget['samples_with_fewer_frames']} samples "
            f"with fewer frames, {budget['records_split_off']} records split off; largest record "
            f"{budget['tokens_per_record_max']} tokens"
        )
    return 0


def _vsibench(args: argparse.Namespace) -> int:
    """``synth export DIR --format vsibench``: the documents, videos and lmms-eval task file."""
    from synth.evaluation.items import parse_variants
    from synth.exports.vsibench import TASK, export_vsibench
    from synth.storage.s3 import local_dataset

    given = [
        f
        for f, v in (
            ("--per-sample", args.per_sample),
            ("--frames", args.frames),
            ("--fps", args.fps),
            ("--max-tokens", args.max_tokens),
        )
        if v
    ]
    if given:
        raise ValueError(
            f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to --format vsibench: it ships "
            "whole videos, which the evaluated model samples itself (lmms-eval's model settings)"
        )
    report = export_vsibench(
        local_dataset(args.dir), args.out, variants=parse_variants(args.variants), overwrite=args.overwrite
    )
    s = report.summary
    types = ", ".join(f"{t}: {n}" for t, n in s["question_types"].items())
    print(f"{report.records} VSI-Bench documents ({report.samples} videos) in {report.records_file}: {types}")
    mapped = ", ".join(f"{f} -> {t}" for f, t in s["families"].items() if f != t)
    if mapped:
        print(f"families asked as a VSI-Bench question type of another name (docs/vsibench.md): {mapped}")
    left = sum(n for reasons in s["left_out"].values() for n in reasons.values())
    if left:
        print(f"{left} questions left out (not a VSI-Bench question type, abstentions, ...; see export.json)")
    if s["missing_direction_tiers"]:
        print(
            f"note: no {', '.join(s['missing_direction_tiers'])} question: every document scores, but lmms-eval's "
            "vsibench aggregation needs all three object_rel_direction tiers (docs/vsibench.md)"
        )
    out = report.out.resolve()
    print(f"evaluate: HF_HOME={out} lmms-eval --include_path {out} --tasks {TASK} --model ...")
    return 0
