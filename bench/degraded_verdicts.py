"""How many discernibility verdicts of degraded variants change when they are made on the
delivered video (the degraded frames through the sample's H.264 encoding, decoded) instead of
on the degraded frames before encoding (as synth did before issue 30), and what that does to
the answers.

For each planned episode of a run configuration (draft Blender by default, the run defaults'
448x336, 16 frames) and each setting, per (object, frame) with owned pixels that the test can
judge (``synth.degradations.base.judge``):

- verdicts: discernible (margin >= 1) on the frames before encoding vs on the delivered video;
  lost (discernible before encoding, not in the video) and gained (the other way);
- faint: how many of them the current rule counts as a glimpse (0.5 <= margin < 1);
- visible: (object, frame) whose visibility (>= min_pixels) differs between the old rule (hard
  verdict on the frames before encoding) and the current one (``recount`` on the video);
- items: questions of the episode (generated on the clean episode, as a run asks them) whose
  answer or abstention differs in the variant between the old rule and the current one.

    python bench/degraded_verdicts.py [--episodes 4] [--seed 78] \\
        [--settings low_light:5,snow:5,compression:3,compression:4,compression:5] [--assets infinigen]

Types that move pixels (lens distortion) are not supported here (their variant needs its own passes).
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

# run as a script, bench/ would be sys.path[0] and bench/programs.py would shadow the package
sys.path[0] = str(Path(__file__).resolve().parents[1])

from synth.backends.registry import open_renderer  # noqa: E402
from synth.core.evidence import with_evidence  # noqa: E402
from synth.core.scene import Episode, ObjectVisibility  # noqa: E402
from synth.degradations import DEGRADATIONS, build_splats, parse_spec  # noqa: E402
from synth.degradations.base import FAINT_MARGIN, Source, judge, recount  # noqa: E402
from synth.flows.config import RunConfig  # noqa: E402
from synth.flows.episode import shoot_episode  # noqa: E402
from synth.programs.generate import generate_questions, reanswer  # noqa: E402
from synth.programs.sandbox import SandboxPool  # noqa: E402
from synth.storage.media import decode_mp4, encode_mp4  # noqa: E402

DEFAULT_SETTINGS = "low_light:5,snow:5,compression:3,compression:4,compression:5"


def old_rule(src: Source, out, frames: np.ndarray) -> list[ObjectVisibility]:
    """The visibility as synth counted it before issue 30: the ownership share, 0 where the
    discernibility test fails (no faint band) on ``frames`` (the frames before encoding)."""
    return [
        ObjectVisibility(id=j.id, pixels=[0 if m is not None and m < 1.0 else n for n, m in zip(j.owned, j.margin)])
        for j in judge(src, out, frames)
    ]


def variant(episode: Episode, buffers, visibility: list[ObjectVisibility]) -> Episode:
    return with_evidence(episode.model_copy(update={"visibility": visibility}), buffers.depth, buffers.instance)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--episodes", type=int, default=4)
    ap.add_argument("--seed", type=int, default=78)
    ap.add_argument("--settings", default=DEFAULT_SETTINGS)
    ap.add_argument("--assets", default="infinigen", choices=["infinigen", "primitives"])
    ap.add_argument("--resolution", default=None, help="WxH (default: the run default)")
    args = ap.parse_args()
    settings = parse_spec(args.settings)
    options = dict(episodes=args.episodes, seed=args.seed, quality="draft", assets=args.assets)
    if args.resolution:
        options["width"], options["height"] = (int(x) for x in args.resolution.split("x"))
    cfg = RunConfig.from_options(**options)
    renderer = open_renderer(cfg.renderer)
    tally: dict[tuple[str, int], Counter] = {s: Counter() for s in settings}
    seconds = Counter()
    with SandboxPool(workers=2) as pool:
        for index in range(args.episodes):
            seed, episode, buffers = shoot_episode(cfg, index, renderer, {})
            episode = with_evidence(episode, buffers.depth, buffers.instance)
            questions = generate_questions(
                episode,
                np.random.default_rng([seed, 2]),
                pool,
                per_family=cfg.questions_per_family,
                abstention_share=cfg.abstention_share,
            )
            splats = build_splats(episode, buffers)
            frames = list(range(len(episode.frames)))
            min_px = episode.visibility_rule.min_pixels
            for kind, severity in settings:
                src = Source(episode, buffers, frames, splats)
                out = DEGRADATIONS[kind].apply(src, severity, np.random.default_rng([seed, zlib.crc32(kind.encode())]))
                if out.instance is not None:
                    raise SystemExit(f"{kind}: moves pixels, not supported by this bench")
                t = time.perf_counter()
                delivered = decode_mp4(encode_mp4(out.rgb, episode.fps))
                seconds["encode+decode"] += time.perf_counter() - t
                before, after = judge(src, out, out.rgb), judge(src, out, delivered)
                t = time.perf_counter()
                now = recount(src, out, delivered)
                seconds["recount"] += time.perf_counter() - t
                then = old_rule(src, out, out.rgb)
                c = tally[(kind, severity)]
                for jb, ja, vt, vn in zip(before, after, then, now):
                    for mb, ma, pt, pn in zip(jb.margin, ja.margin, vt.pixels, vn.pixels):
                        if mb is None or ma is None:
                            continue
                        c["judged"] += 1
                        c["lost"] += mb >= 1.0 > ma
                        c["gained"] += ma >= 1.0 > mb
                        c["faint"] += FAINT_MARGIN <= ma < 1.0
                        c["visible changed"] += (pt >= min_px) != (pn >= min_px)
                old_items = reanswer(variant(episode, buffers, then), questions, pool)
                new_items = reanswer(variant(episode, buffers, now), questions, pool)
                c["items"] += len(questions)
                for a, b in zip(old_items, new_items):
                    if (a.answer, a.abstain) != (b.answer, b.abstain):
                        c["items changed"] += 1
                        c["answered -> abstained"] += b.abstain and not a.abstain
                        c["abstained -> answered"] += a.abstain and not b.abstain
            print(f"episode {index} done", flush=True)
    renderer.close()
    v = cfg.video
    print(f"\n{args.episodes} episodes, seed {args.seed}, {v.width}x{v.height}, {v.frames} frames, {args.assets}")
    head = ("setting", "judged", "lost", "gained", "faint", "vis.chg", "items", "changed", "ans->abs", "abs->ans")
    print("".join(f"{h:>10s}" if i else f"{h:16s}" for i, h in enumerate(head)))
    for (kind, severity), c in tally.items():
        row = [c[k] for k in ("judged", "lost", "gained", "faint", "visible changed", "items", "items changed")]
        row += [c["answered -> abstained"], c["abstained -> answered"]]
        print(f"{kind}:{severity:<{15 - len(kind)}d}" + "".join(f"{v:10d}" for v in row))
    n = args.episodes * len(settings)
    print(f"per variant: encode+decode {seconds['encode+decode'] / n:.2f} s, recount {seconds['recount'] / n:.2f} s")


if __name__ == "__main__":
    main()
