"""``synth compile``: compile natural-language question families with an LLM and verify them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from synth.cli.common import endpoint_settings, positive, positive_int
from synth.core.scene import Episode


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``compile`` subcommand and its flags."""
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
    c.add_argument("--max-attempts", type=positive_int, default=3, help="attempts per family (default 3)")
    c.add_argument("--episodes", type=positive_int, default=6, help="sample episodes for verification (default 6)")
    c.add_argument("--timeout", type=positive(float), default=60.0, help="seconds per request (default 60)")
    c.add_argument("--max-tokens", type=positive_int, default=256, help="reply length limit (default 256)")
    c.add_argument("--no-paraphrase", action="store_true", help="skip the paraphrases the YAML asks for")


def verification_episodes(n: int = 6, seed: int = 0) -> list[Episode]:
    """The sample episodes ``synth compile`` verifies programs on: procedural scenes with primitive
    furniture, planned and measured by the software z-buffer (``synth.programs.verification.sample_episodes``)."""
    from synth.backends.registry import open_renderer, renderer_settings, scene_source
    from synth.programs.verification import sample_episodes

    renderer = open_renderer(renderer_settings("zbuffer"))
    try:
        return sample_episodes(scene_source("procedural", assets="primitives"), renderer, n, seed)
    finally:
        renderer.close()


def run(args: argparse.Namespace) -> int:
    """Progress on stderr, the report on stdout. Exit 0 if every family was accepted; 1 if any
    was rejected or hit an endpoint error (accepted ones are still written); 2 for invalid input
    or no endpoint/model."""
    from synth.programs.compiler import CompileSettings, compile_families
    from synth.programs.family import FamilySpecError
    from synth.programs.llm import LLMError

    settings = CompileSettings(
        endpoint=endpoint_settings(args),
        out_dir=args.out,
        cache_dir=args.cache_dir,
        use_cache=not args.no_cache,
        max_attempts=args.max_attempts,
        episodes=args.episodes,
        max_tokens=args.max_tokens,
        paraphrase=not args.no_paraphrase,
    )
    try:
        report = compile_families(
            args.families,
            verification_episodes,
            settings,
            log=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    except (FamilySpecError, LLMError) as e:
        print(f"synth compile: error: {e}", file=sys.stderr)
        return 2
    print(report.format())
    return 0 if report.ok else 1
