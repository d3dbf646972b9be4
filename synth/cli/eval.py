"""``synth eval``: score a model's answers, from a predictions file or by asking an OpenAI-compatible endpoint."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from synth.cli.common import endpoint_settings, positive, positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``eval`` subcommand and its flags."""
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
    ev.add_argument("--frames", type=positive_int, default=8, help="frames sent per question (default 8)")
    ev.add_argument("--size", type=positive_int, default=448, help="longer side of each frame, px (default 448)")
    ev.add_argument("--concurrency", type=positive_int, default=4, help="requests in flight (default 4)")
    ev.add_argument(
        "--max-tokens",
        type=positive_int,
        default=4096,
        help="reply length limit, tokens (default 4096: room for a reasoning model's thinking)",
    )
    ev.add_argument("--timeout", type=positive(float), default=120.0, help="seconds per request (default 120)")
    ev.add_argument("--max-retries", type=int, default=3, help="retries per request (default 3)")
    ev.add_argument("--variants", help="only these variants, e.g. clean,fog or fog-2 (default: all)")
    ev.add_argument(
        "--streaming",
        action="store_true",
        help="also the streaming questions (asked at a moment of the video): each is sent only the frames up to "
        "its query frame; without it they are neither asked nor scored",
    )
    ev.add_argument("--families", type=Path, help="folder of compiled families the run used (their tags)")
    ev.add_argument("--report", type=Path, help="JSON report (default: beside the predictions, .report.json)")
    ev.add_argument("--chart", type=Path, help="PNG chart (default: beside the predictions, .png)")


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every item was scored; 1 if some replies are missing (the endpoint failed on
    them after retries: rerun to resume); 2 for invalid input."""
    from synth.evaluation.chart import save_chart
    from synth.evaluation.items import iter_metas, parse_variants, read_items, sample_items
    from synth.evaluation.scorer import family_tags, format_report, read_predictions, score
    from synth.programs.difficulty import Adaptation
    from synth.programs.family_io import load_user_families
    from synth.storage.dataset import read_manifest
    from synth.storage.s3 import local_dataset

    root = local_dataset(args.dir)

    def keep(item) -> bool:
        return args.streaming or item.qa.query_frame is None

    variants = parse_variants(args.variants)
    predictions = args.predictions
    failed = 0
    if args.base_url:
        from synth.evaluation.endpoint import AskSettings, ask_endpoint

        if not args.model:
            raise ValueError("--base-url needs --model")
        settings = AskSettings(
            endpoint=endpoint_settings(args, max_retries=args.max_retries),
            frames=args.frames,
            size=args.size,
            concurrency=args.concurrency,
            max_tokens=args.max_tokens,
        )
        predictions = predictions or Path("eval") / args.model.replace("/", "_") / "predictions.jsonl"
        asked = ask_endpoint(
            ((s.files, [i for i in sample_items(m) if keep(i)]) for s, m in iter_metas(root, variants)),
            settings,
            predictions,
            log=lambda msg: print(f"synth eval: {msg}", file=sys.stderr, flush=True),
        )
        failed = len(asked.failed)
        for item_id, error in list(asked.failed.items())[:5]:
            print(f"synth eval: no reply for {item_id}: {error}", file=sys.stderr)
        if asked.cut_off:
            print(
                f"synth eval: {asked.cut_off} replies stopped at --max-tokens {args.max_tokens} (finish_reason "
                "length); a reply cut off while reasoning answers nothing: raise --max-tokens and ask again "
                "with a new --predictions file",
                file=sys.stderr,
            )
        print(f"{asked.asked} questions asked, {asked.skipped} already answered, {failed} failed -> {predictions}")
    elif not predictions:
        raise ValueError("give --predictions FILE, or --base-url URL --model NAME to ask an endpoint")
    items = [i for i in read_items(root, variants) if keep(i)]
    if not items:
        raise ValueError(f"{args.dir} has only streaming questions: pass --streaming")
    families = load_user_families(args.families) if args.families else None
    report = score(items, read_predictions(predictions), family_tags(families))
    adapted = read_manifest(root)["config"].get("adaptation")  # a run made --adapt-from: its weights, for the next
    report = report.model_copy(update={"adaptation": Adaptation.model_validate(adapted) if adapted else None})
    print(format_report(report))
    stem = predictions.with_suffix("")
    report_path = args.report or stem.with_name(stem.name + ".report.json")
    chart_path = args.chart or stem.with_name(stem.name + ".png")
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(report.model_dump_json(indent=2))
    save_chart(report, chart_path, title=f"{args.model or predictions.name} on {args.dir}")
    print(f"report: {report_path}; chart: {chart_path}")
    return 1 if failed else 0
