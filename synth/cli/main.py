"""The ``synth`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from synth.cli.flags import add_config_flags
from synth.exports.formats import FORMATS as EXPORT_FORMATS
from synth.storage.dataset import DatasetError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one clear line, not the usage block
        self.exit(2, f"{self.prog}: error: {message}\n")


def _output(text: str) -> Path | str:
    return text if text.startswith("s3://") else Path(text)


def _positive(kind: type):
    name = "an integer" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {name}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be positive")
        return value

    return parse


_positive_int = _positive(int)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="synth", description="Verifiable spatial-reasoning video QA datasets from simulators.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    r = sub.add_parser("run", help="generate a dataset")
    r.add_argument("--out", type=_output, required=True, help="output directory or s3://bucket/prefix")
    add_config_flags(r)
    r.add_argument(
        "--workers", type=_positive_int, default=None, help="render processes (default: as the renderer prefers)"
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
    v = sub.add_parser("verify", help="recompute every answer of a dataset from its shipped JSON")
    v.add_argument("dir", help="dataset folder or s3://bucket/prefix")
    v.add_argument("--families", type=Path, help="folder of compiled families (synth compile --out) the run used")
    v.add_argument(
        "--evidence",
        action="store_true",
        help="also audit every answer against the rendered passes (masks, depth, delivered video)",
    )
    u = sub.add_parser("push", help="upload a finished dataset to S3 (checksums, resume, manifest last)")
    u.add_argument("dir", type=Path)
    u.add_argument("dest", help="s3://bucket/prefix (endpoint and credentials: standard AWS configuration)")
    u.add_argument("--workers", type=_positive_int, default=4, help="parallel uploads")
    c = sub.add_parser("compile", help="compile natural-language question families with an LLM and verify them")
    c.add_argument("--families", type=Path, required=True, help="YAML file of question families")
    c.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 ($OPENAI_BASE_URL)")
    c.add_argument("--model", help="model name at that endpoint ($OPENAI_MODEL)")
    c.add_argument(
        "--api-key-env",
        default="OPENAI_API_KEY",
        metavar="VAR",
        help="environment variable that holds the API key (default OPENAI_API_KEY; never logged)",
    )
    c.add_argument("--out", type=Path, default=Path("data/families"), help="library of compiled families")
    c.add_argument("--cache-dir", type=Path, help="reply cache (default ~/.cache/synth/compile)")
    c.add_argument("--no-cache", action="store_true", help="always ask the model")
    c.add_argument("--max-attempts", type=_positive_int, default=3, help="attempts per family (default 3)")
    c.add_argument("--episodes", type=_positive_int, default=6, help="sample episodes for verification (default 6)")
    c.add_argument("--timeout", type=_positive(float), default=60.0, help="seconds per request (default 60)")
    c.add_argument("--max-tokens", type=_positive_int, default=256, help="reply length limit (default 256)")
    c.add_argument("--no-paraphrase", action="store_true", help="skip the paraphrases the YAML asks for")
    sub.add_parser("degradations", help="list the degradation types (identifier first) and their parameters")
    d = sub.add_parser("deploy", help="create the synth-pool work pool and the prefect.yaml deployments on a server")
    d.add_argument("--api-url", help="the server's API (default: $PREFECT_API_URL), e.g. http://127.0.0.1:4200/api")
    e = sub.add_parser(
        "export",
        help="write a dataset as training records (LLaVA-Video, ShareGPT, Qwen-VL), or scenes as a Habitat scene "
        "dataset (synth export habitat DIR_OR_SEED --out PATH)",
    )
    e.add_argument("dir", help="dataset folder or s3://bucket/prefix; or 'habitat' followed by DIR_OR_SEED")
    e.add_argument("habitat_source", nargs="?", metavar="DIR_OR_SEED", help="(habitat) a dataset, or seeds: 7 or 0,1,2")
    e.add_argument("--format", choices=EXPORT_FORMATS, help="training format (docs/exports.md)")
    e.add_argument("--out", type=Path, required=True, help="output folder")
    e.add_argument("--per-sample", action="store_true", help="one multi-turn record per sample, not per question")
    e.add_argument("--frames", type=_positive_int, help="N frames sampled evenly as images instead of the video")
    e.add_argument("--variants", help="only these variants, e.g. clean,fog or fog-2 (default: all)")
    e.add_argument("--overwrite", action="store_true", help="replace a finished export in --out")
    ev = sub.add_parser("eval", help="score a model's answers (a predictions file, or an OpenAI-compatible endpoint)")
    ev.add_argument("dir", help="dataset folder or s3://bucket/prefix")
    ev.add_argument(
        "--predictions",
        type=Path,
        help='JSONL {"id": ITEM_ID, "answer": TEXT} per line (ids: SAMPLE_KEY/QUESTION_ID); with --base-url the '
        "file the replies are appended to (default eval/MODEL/predictions.jsonl; a rerun resumes)",
    )
    ev.add_argument("--base-url", help="ask this OpenAI-compatible vision endpoint, e.g. http://127.0.0.1:8000/v1")
    ev.add_argument("--model", help="model name at that endpoint")
    ev.add_argument(
        "--api-key-env", default="OPENAI_API_KEY", metavar="VAR", help="environment variable holding the API key"
    )
    ev.add_argument("--frames", type=_positive_int, default=8, help="frames sent per question (default 8)")
    ev.add_argument("--size", type=_positive_int, default=448, help="longer side of each frame, px (default 448)")
    ev.add_argument("--concurrency", type=_positive_int, default=4, help="requests in flight (default 4)")
    ev.add_argument("--timeout", type=_positive(float), default=120.0, help="seconds per request (default 120)")
    ev.add_argument("--max-retries", type=int, default=3, help="retries per request (default 3)")
    ev.add_argument("--variants", help="only these variants, e.g. clean,fog or fog-2 (default: all)")
    ev.add_argument("--families", type=Path, help="folder of compiled families the run used (their tags)")
    ev.add_argument("--report", type=Path, help="JSON report (default: beside the predictions, .report.json)")
    ev.add_argument("--chart", type=Path, help="PNG chart (default: beside the predictions, .png)")
    ld = sub.add_parser("load", help="read a dataset (folder or s3://) back with datasets.load_dataset")
    ld.add_argument("uri")
    ld.add_argument("--streaming", action="store_true")
    return p


def _cmd_run(args) -> int:
    """Validate everything up front (one-line errors), then run the Prefect flow ``synth`` in
    ephemeral mode with a progress bar."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from tqdm import tqdm

    from synth.cli.flags import config_from_args
    from synth.flows.embedded import call_embedded
    from synth.flows.run import open_run

    cfg = config_from_args(args)
    from synth.flows import flow

    if args.ray_address:  # bad input fails here, before anything is written or Prefect starts
        flow.check_ray_address(args.ray_address)
    if args.export and isinstance(args.out, str):
        raise ValueError("--export habitat writes next to a local --out; export an s3:// dataset with synth export")
    open_run(
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

    flow.progress_hook = progress
    try:
        manifest = call_embedded(
            lambda: flow.synth(
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
    from synth.storage.card import blind_summary

    print(blind_summary(manifest))
    if args.export == "habitat":
        from synth.exports.habitat import export_habitat

        done = export_habitat(str(args.out), Path(args.out) / "habitat")
        print(f"Habitat scene dataset: {done.dataset_config} ({len(done.scenes)} scenes with trajectories)")
    return 0


def _cmd_verify(args) -> int:
    from synth.evaluation.verify import verify_dataset
    from synth.storage.s3 import local_dataset

    root = local_dataset(args.dir)
    checked, problems = verify_dataset(root, families_dir=args.families)
    for p in problems:
        print(f"MISMATCH {p}")
    print(f"{checked} answers checked, {len(problems)} problem(s)")
    if not args.evidence:
        return 1 if problems else 0
    from synth.audit.dataset import agreement, audit_dataset

    findings = audit_dataset(root)
    wrong = [f for f in findings if not f.agrees]
    for f in wrong:
        print(f"NOT IN THE VIDEO {f.line()}")
    print("evidence audit, items the video supports per family:")
    for family, (ok, n) in agreement(findings).items():
        print(f"  {family:24s} {ok:5d}/{n:<5d} {ok / n:6.1%}")
    print(f"{len(findings)} answers audited against the rendered evidence, {len(wrong)} disagreement(s)")
    return 1 if problems or wrong else 0


def _cmd_export(args) -> int:
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
        raise ValueError("give --format llava-video|sharegpt|qwen-vl (or: synth export habitat DIR_OR_SEED)")
    from synth.evaluation.items import parse_variants
    from synth.exports.export import export_dataset
    from synth.storage.s3 import local_dataset

    report = export_dataset(
        local_dataset(args.dir),
        args.format,
        args.out,
        per_sample=args.per_sample,
        frames=args.frames,
        variants=parse_variants(args.variants),
        overwrite=args.overwrite,
    )
    print(
        f"{report.records} {args.format} records ({report.questions} questions, {report.samples} samples) in "
        f"{report.records_file}; media paths are relative to {report.out}"
    )
    return 0


def _cmd_eval(args) -> int:
    """Exit 0 when every item was scored; 1 if some replies are missing (the endpoint failed on
    them after retries: rerun to resume); 2 for invalid input."""
    from synth.evaluation.chart import save_chart
    from synth.evaluation.items import iter_metas, parse_variants, read_items, sample_items
    from synth.evaluation.scorer import family_tags, format_report, read_predictions, score
    from synth.programs.family_io import load_user_families
    from synth.storage.s3 import local_dataset

    root = local_dataset(args.dir)
    variants = parse_variants(args.variants)
    predictions = args.predictions
    failed = 0
    if args.base_url:
        from synth.evaluation.endpoint import ask_endpoint
        from synth.programs.llm import ChatClient

        if not args.model:
            raise ValueError("--base-url needs --model")
        client = ChatClient(
            args.base_url,
            args.model,
            os.environ.get(args.api_key_env, ""),
            timeout=args.timeout,
            max_retries=args.max_retries,
        )
        predictions = predictions or Path("eval") / args.model.replace("/", "_") / "predictions.jsonl"
        asked = ask_endpoint(
            ((s.files["mp4"], sample_items(m)) for s, m in iter_metas(root, variants)),
            client,
            predictions,
            frames=args.frames,
            size=args.size,
            concurrency=args.concurrency,
            log=lambda msg: print(f"synth eval: {msg}", file=sys.stderr, flush=True),
        )
        failed = len(asked.failed)
        for item_id, error in list(asked.failed.items())[:5]:
            print(f"synth eval: no reply for {item_id}: {error}", file=sys.stderr)
        print(f"{asked.asked} questions asked, {asked.skipped} already answered, {failed} failed -> {predictions}")
    elif not predictions:
        raise ValueError("give --predictions FILE, or --base-url URL --model NAME to ask an endpoint")
    items = read_items(root, variants)
    families = load_user_families(args.families) if args.families else None
    report = score(items, read_predictions(predictions), family_tags(families))
    print(format_report(report))
    stem = predictions.with_suffix("")
    report_path = args.report or stem.with_name(stem.name + ".report.json")
    chart_path = args.chart or stem.with_name(stem.name + ".png")
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(report.model_dump_json(indent=2))
    save_chart(report, chart_path, title=f"{args.model or predictions.name} on {args.dir}")
    print(f"report: {report_path}; chart: {chart_path}")
    return 1 if failed else 0


def _cmd_push(args) -> int:
    from synth.storage.s3 import push

    report = push(args.dir, args.dest, workers=args.workers)
    print(
        f"pushed {args.dir} to {args.dest}: {len(report['uploaded'])} uploaded, {len(report['skipped'])} already there"
    )
    return 0


def _cmd_load(args) -> int:
    from synth.storage.s3 import load

    ds = load(args.uri, streaming=args.streaming)
    rows = questions = 0
    for row in ds:
        rows += 1
        questions += len(row["json"]["questions"])
    print(f"{args.uri}: {rows} samples, {questions} questions, columns {', '.join(ds.column_names or [])}")
    return 0


def _cmd_compile(args) -> int:
    """Progress on stderr, the report on stdout. Exit 0 if every family was accepted; 1 if any
    was rejected or hit an endpoint error (accepted ones are still written); 2 for invalid input
    or no endpoint/model."""
    from synth.programs.compiler import compile_families
    from synth.programs.family import FamilySpecError
    from synth.programs.llm import LLMError

    try:
        report = compile_families(
            args.families,
            args.base_url,
            args.model,
            os.environ.get(args.api_key_env, ""),
            out_dir=args.out,
            cache_dir=args.cache_dir,
            use_cache=not args.no_cache,
            max_attempts=args.max_attempts,
            episodes=args.episodes,
            timeout=args.timeout,
            max_tokens=args.max_tokens,
            paraphrase=not args.no_paraphrase,
            log=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    except (FamilySpecError, LLMError) as e:
        print(f"synth compile: error: {e}", file=sys.stderr)
        return 2
    print(report.format())
    return 0 if report.ok else 1


def _cmd_degradations(args) -> int:
    from synth.degradations import DEGRADATIONS

    for d in DEGRADATIONS.values():
        print(f"{d.id}\tseverity 1-5\t{d.method}\t{d.description}\tparameters: {', '.join(d.params)}")
    return 0


def _cmd_deploy(args) -> int:
    from synth.flows.deploy import POOL, deploy

    report = deploy(args.api_url)
    print(report.strip())
    print(f"work pool {POOL} and the deployments in prefect.yaml are on the server; start a worker with")
    print(f"  prefect worker start --pool {POOL}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands = {
        "deploy": _cmd_deploy,
        "run": _cmd_run,
        "verify": _cmd_verify,
        "push": _cmd_push,
        "load": _cmd_load,
        "export": _cmd_export,
        "eval": _cmd_eval,
        "compile": _cmd_compile,
        "degradations": _cmd_degradations,
    }
    try:
        return commands[args.command](args)
    except ValidationError as e:
        from synth.cli.flags import flag_for

        err = e.errors()[0]
        print(f"synth: error: invalid {flag_for(err['loc'])}: {err['msg']}", file=sys.stderr)
    except (DatasetError, ValueError, RuntimeError, OSError) as e:
        print(f"synth: error: {e}", file=sys.stderr)
    except KeyboardInterrupt:
        print("synth: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
