"""``synth run``: generate a dataset."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from synth.cli.common import output, positive_int
from synth.cli.flags import add_config_flags


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` subcommand and its flags."""
    r = sub.add_parser("run", help="generate a dataset")
    r.add_argument("--out", type=output, required=True, help="output directory or s3://bucket/prefix")
    add_config_flags(r)
    r.add_argument(
        "--workers", type=positive_int, default=None, help="render processes (default: as the renderer prefers)"
    )
    r.add_argument("--ray-address", help="render on this Ray cluster (HOST:PORT, ray://HOST:PORT or auto)")
    r.add_argument("--overwrite", action="store_true", help="replace a finished dataset in --out")
    r.add_argument(
        "--resume-across-versions",
        action="store_true",
        help="resume a run that an earlier version of synth's code started (both versions are recorded)",
    )
    r.add_argument("--no-progress", action="store_true")
    r.add_argument(
        "--export",
        choices=("habitat",),
        help="also write the run's scenes and trajectories as a Habitat scene dataset in OUT/habitat (local OUT)",
    )


def run(args: argparse.Namespace) -> int:
    """Validate everything and open the run up front (one-line errors), then run the Prefect flow
    ``synth`` on it in ephemeral mode with a progress bar. Prefect logs only warnings, and its
    console nothing unless ``--debug`` (a failure is one line: synth.cli.main; its traceback stays
    in the Prefect run's logs); the environment is given back afterwards, so that processes the
    caller starts later do not inherit the silence."""
    quiet = {"PREFECT_LOGGING_LEVEL": "WARNING"}
    if not args.debug:
        quiet["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "CRITICAL"
    added = [k for k in quiet if k not in os.environ]
    os.environ.update({k: quiet[k] for k in added})
    try:
        return _run(args)
    finally:
        for k in added:
            os.environ.pop(k, None)


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from synth.cli.flags import config_from_args
    from synth.flows.embedded import call_embedded
    from synth.flows.executor import check_ray_address
    from synth.flows.flow import synth_flow
    from synth.flows.run import open_run

    cfg = config_from_args(args)
    if args.ray_address:  # bad input fails here, before anything is written or Prefect starts
        check_ray_address(args.ray_address)
    if args.export and isinstance(args.out, str):
        raise ValueError("--export habitat writes next to a local --out; export an s3:// dataset with synth export")
    opened = open_run(
        cfg,
        args.out,
        overwrite=args.overwrite,
        across_versions=args.resume_across_versions,
        log=lambda msg: print(f"synth: {msg}", file=sys.stderr),
    )

    bars: list[tqdm] = []

    def progress(board) -> None:
        """Frames rendered across all episodes, with rate and ETA, and what each episode is doing."""
        if not bars:
            bars.append(
                tqdm(
                    total=board.frames_total,
                    unit="frame",
                    mininterval=0,
                    disable=args.no_progress,
                    file=sys.stderr,
                    dynamic_ncols=True,
                )
            )
        bar = bars[0]
        bar.n = board.frames_done
        bar.set_postfix_str(board.summary(), refresh=False)
        bar.refresh()

    try:
        manifest = call_embedded(
            lambda: synth_flow(progress, opened)(
                config=cfg,
                out=str(args.out),
                workers=args.workers,
                ray_address=args.ray_address,
                overwrite=args.overwrite,
                resume_across_versions=args.resume_across_versions,
            ),
            log=lambda msg: print(f"synth: {msg}", file=sys.stderr),
        )
    finally:
        for bar in bars:
            bar.close()
    print(f"dataset: {args.out if isinstance(args.out, str) else args.out.resolve()}")
    print(
        f"{cfg.episodes} episodes, {manifest['num_samples']} samples, {manifest['num_questions']} questions in "
        f"{len(manifest['shards'])} shard(s); load with datasets.load_dataset('{args.out}')"
    )
    from synth.storage.card import blind_summary, order_summary

    print(blind_summary(manifest))
    print(order_summary(manifest))
    if args.export == "habitat":
        from synth.exports.habitat import export_habitat

        done = export_habitat(str(args.out), Path(args.out) / "habitat")
        print(f"Habitat scene dataset: {done.dataset_config} ({len(done.scenes)} scenes with trajectories)")
    return 0
