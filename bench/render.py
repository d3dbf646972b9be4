"""Render benchmark.

Prints, at 320x240 on this machine:
1. seconds per frame of each quality level (Cycles photoreal, Workbench draft), in-process, and
   where Blender sees a CUDA/OptiX device, Cycles frames/s on it against the CPU;
2. the pipeline's whole wall time (sample, plan, render in a worker process, questions, video
   and GT encoding, shards, card, manifest) against pure Blender render time of the same
   episodes measured in the same run: the ratio is the pipeline's overhead (target <= 1.03),
   also without the run's one-time start-up and finalize (what a long run tends to), and the
   split of the difference by stage;
3. house tours (issue 27): seconds per frame of a tour through a house (preset ``vsi-tour``)
   against today's default frame (preset ``default``: one room, a clip) at the same resolution and
   quality (target: ratio <= 1); planning a tour against its render time (target < 5%); house
   generation with a warm asset cache against a tour's render time (target < 5%); per house its
   rooms, objects and categories with 4 or more instances.

    python bench/render.py [--episodes 4] [--frames 16] [--quality photoreal] [--no-assets]
    python bench/render.py --tours-only [--tour-episodes 2] [--duration 60]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

# run as a script, bench/ would be sys.path[0] and bench/programs.py would shadow the package
sys.path[0] = str(Path(__file__).resolve().parents[1])

from synth.backends.registry import open_renderer, prepare_source, scene_source  # noqa: E402
from synth.degradations.gaussians import psnr  # noqa: E402
from synth.flows.config import RunConfig  # noqa: E402
from synth.flows.episode import shoot_episode  # noqa: E402
from synth.flows.run import run  # noqa: E402
from synth.storage.media import decode_mp4, encode_mp4  # noqa: E402

REFERENCE_SPP = 64  # samples of the reference frames the noise is measured against
# the frame every ratio is measured against: primitive furniture at 320x240, 8 samples (the defaults
# before Infinigen assets and 448x336 became the dataset defaults)
BASELINE = dict(assets="primitives", width=320, height=240, samples=8)


def rendered(cfg: RunConfig) -> tuple[float, list]:
    """Render time of the episodes' final frames alone (planning excluded) and their RGB frames."""
    renderer = open_renderer(cfg.renderer)
    total, frames = 0.0, []
    for i in range(cfg.episodes):
        timings: dict[str, float] = {}
        _, _, buffers = shoot_episode(cfg, i, renderer, timings)
        total += timings["render"]
        frames += list(buffers.rgb)
    renderer.close()
    return total, frames


def pure_render_seconds(cfg: RunConfig) -> float:
    return rendered(cfg)[0]


def asset_costs() -> None:
    """Infinigen's asset generation (cold cache, then warm) and photoreal seconds per frame of
    both asset sets at several resolutions and sample counts (same seeds, in-process)."""
    from synth.backends.procedural.infinigen_assets import FACTORIES, InfinigenAssets

    with tempfile.TemporaryDirectory() as cache, mock.patch.dict(os.environ, {"SYNTH_CACHE": cache}):
        t = time.perf_counter()
        made = InfinigenAssets(variants=1).ensure()
        cold = time.perf_counter() - t
        t = time.perf_counter()
        InfinigenAssets(variants=1).ensure()
        warm = time.perf_counter() - t
        print(f"\nInfinigen assets, {len(FACTORIES)} categories x 1 variant:")
        triangles = sum(r["triangles"] for r in made) / len(made)
        print(f"  cold cache: {cold:.1f} s ({cold / len(made):.2f} s per asset, start-up included), "
              f"{triangles:,.0f} triangles per asset after decimation")  # fmt: skip
        print(f"  warm cache: {warm * 1000:.1f} ms (a run reads the records)")
        slow = sorted(made, key=lambda r: -r["seconds"])[:3]
        print("  slowest: " + ", ".join(f"{r['key']} {r['seconds']:.1f} s" for r in slow))
        base = None
        reference = {}  # (width, height) -> frames at REFERENCE_SPP: the noise-free look
        print(f"\nphotoreal s/frame (2 episodes x 4 frames, same seeds); noise: PSNR of the denoised frames "
              f"against {REFERENCE_SPP} spp")  # fmt: skip
        print("  assets       resolution  samples  s/frame  ratio to primitives 320x240 8 spp  PSNR dB")
        for assets, (w, h), spp in [
            ("primitives", (320, 240), 8),
            ("primitives", (448, 336), 8),
            ("infinigen", (320, 240), 8),
            ("infinigen", (448, 336), 2),
            ("infinigen", (448, 336), 4),
            ("infinigen", (448, 336), 8),
            ("infinigen", (448, 336), 16),
            ("infinigen", (640, 480), 8),
        ]:
            options = dict(episodes=2, frames=4, quality="photoreal", width=w, height=h, assets=assets,
                           asset_variants=1, seed=100)  # fmt: skip
            sec, frames = rendered(RunConfig.from_options(samples=spp, **options))
            sec /= len(frames)
            base = base or sec
            noise = ""
            if assets == "infinigen" and (w, h) == (448, 336):
                if (w, h) not in reference:
                    reference[w, h] = rendered(RunConfig.from_options(samples=REFERENCE_SPP, **options))[1]
                noise = f"{min(psnr(a, b) for a, b in zip(frames, reference[w, h], strict=True)):7.1f}"
            print(f"  {assets:12s} {w}x{h}     {spp:7d}  {sec:7.3f}  {sec / base:5.2f}x{noise:>37s}")
        for (w, h), frames in reference.items():  # the video's own loss, for scale: synth's H.264 encode
            decoded = decode_mp4(encode_mp4(np.stack(frames), 8.0))
            worst = min(psnr(a, b) for a, b in zip(decoded, frames, strict=True))
            print(f"  (H.264 as synth encodes the {REFERENCE_SPP}-spp frames at {w}x{h}: PSNR {worst:.1f} dB)")


def stage_seconds(cfg: RunConfig, houses: bool = False) -> dict[str, float]:
    """Seconds per stage summed over the run's episodes (``shoot_episode``'s timings) and their
    frames; with ``houses``, one line per house (rooms, objects, categories with 4+ instances)."""
    from collections import Counter

    prepare_source(cfg.source, print)
    renderer = open_renderer(cfg.renderer)
    total: Counter = Counter()
    try:
        for i in range(cfg.episodes):
            timings: dict[str, float] = {}
            _, episode, _ = shoot_episode(cfg, i, renderer, timings)
            total.update(timings)
            total["frames"] += len(episode.frames)
            if houses:
                scene = episode.scene
                counts = Counter(o.category for o in scene.objects)
                many = ", ".join(f"{c} {n}" for c, n in sorted(counts.items()) if n >= 4) or "-"
                rooms = ", ".join(r.function for r in scene.rooms)
                print(f"  house {i}: {len(scene.rooms)} rooms ({rooms}), {len(scene.objects)} objects; 4+: {many}")
    finally:
        renderer.close()
    return dict(total)


def tour_costs(episodes: int, duration: float, quality: str) -> None:
    """Issue 27's ratios at the dataset defaults' resolution (448x336) with Infinigen furniture."""
    common = dict(quality=quality, episodes=episodes, seed=0)
    default = RunConfig.from_options(preset="default", **common)
    tour = RunConfig.from_options(preset="vsi-tour", duration=duration, **common)
    w, h = tour.video.width, tour.video.height
    print(f"\nhouse tours ({tour.source.assets} furniture, {quality} at {w}x{h}, same run):")
    base = stage_seconds(default)
    print(f"  default preset: {default.episodes} clips of {default.video.frames} frames")
    walk = stage_seconds(tour, houses=True)
    print(f"  vsi-tour preset: {tour.episodes} tours of {tour.video.frames} frames ({duration:g} s)")
    base_frame, tour_frame = base["render"] / base["frames"], walk["render"] / walk["frames"]
    source = scene_source(tour.source, None)
    times = []
    for seed in range(5):
        t = time.perf_counter()
        source(10_000 + seed)
        times.append(time.perf_counter() - t)
    house_s = sorted(times)[2]
    per_tour = walk["render"] / tour.episodes
    print(f"  default frame     {base_frame:.3f} s")
    ratio = tour_frame / base_frame
    print(f"  tour frame        {tour_frame:.3f} s  ratio to the default frame {ratio:.2f} (target <= 1)")
    print(f"  tour planning     {walk['plan'] / tour.episodes:.2f} s per tour, "
          f"{100 * walk['plan'] / walk['render']:.1f}% of its render time (target < 5%)")  # fmt: skip
    print(f"  house generation  {house_s:.2f} s (median of 5, warm asset cache), "
          f"{100 * house_s / per_tour:.2f}% of a tour's render time (target < 5%)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=4)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--quality", default="photoreal", choices=("photoreal", "draft"))
    ap.add_argument("--no-assets", action="store_true", help="skip the Infinigen asset and resolution table")
    ap.add_argument("--tours-only", action="store_true", help="only the house-tour ratios")
    ap.add_argument("--tour-episodes", type=int, default=2)
    ap.add_argument("--duration", type=float, default=60.0, help="tour length, seconds")
    args = ap.parse_args()
    if args.tours_only:
        tour_costs(args.tour_episodes, args.duration, args.quality)
        return

    print("seconds per frame at 320x240 (in-process, 2 episodes x 8 frames):")
    per_frame = {}
    for quality in ("draft", "photoreal"):
        cfg = RunConfig.from_options(episodes=2, frames=8, quality=quality, seed=100, **BASELINE)
        per_frame[quality] = pure_render_seconds(cfg) / (cfg.episodes * cfg.video.frames)
        print(f"  {quality:10s} {per_frame[quality]:.3f} s/frame")
    print(f"  photoreal / draft = {per_frame['photoreal'] / per_frame['draft']:.1f}x")
    probe = open_renderer(RunConfig.from_options(device="cpu").renderer)
    gpu = probe._gpu()
    probe.close()
    if gpu:
        cpu_cfg = RunConfig.from_options(episodes=2, frames=8, quality="photoreal", device="cpu", seed=100, **BASELINE)
        gpu_cfg = RunConfig.from_options(episodes=2, frames=8, quality="photoreal", device="gpu", seed=100, **BASELINE)
        cpu_s = pure_render_seconds(cpu_cfg) / 16
        gpu_s = pure_render_seconds(gpu_cfg) / 16
        print(f"  Cycles on {gpu}: {1 / gpu_s:.1f} frames/s, CPU: {1 / cpu_s:.1f} frames/s ({cpu_s / gpu_s:.1f}x)")
    else:
        print("  (Blender sees no CUDA/OptiX device here: no GPU figure)")

    if not args.no_assets:
        asset_costs()

    cfg = RunConfig.from_options(episodes=args.episodes, frames=args.frames, quality=args.quality, seed=0, **BASELINE)
    pure = pure_render_seconds(cfg)
    split: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        run(cfg, Path(tmp) / "one", workers=1)
        one = time.perf_counter() - t
        t = time.perf_counter()
        run(cfg, Path(tmp) / "all", timings=split)
        parallel = time.perf_counter() - t
    n = cfg.episodes * cfg.video.frames
    print(f"\n{cfg.episodes} episodes x {cfg.video.frames} frames, {cfg.renderer.quality}:")
    print(f"  pure Blender render          {pure:7.1f} s ({pure / n:.3f} s/frame)")
    print(f"  pipeline, 1 worker process   {one:7.1f} s  ratio to pure render {one / pure:.3f}")
    print(f"  pipeline, default workers    {parallel:7.1f} s  ratio to pure render {parallel / pure:.3f}")
    once = split.get("start-up", 0.0) + split.get("finalize", 0.0)
    print(f"  per episode, without the run's start-up and finalize: ratio {(parallel - once) / pure:.3f}")
    print("\nwhere the default-workers run's time went (seconds, summed over episodes):")
    split["render (pipeline - pure)"] = split.pop("render") - pure
    rest = parallel - pure - sum(v for v in split.values())
    for stage, sec in sorted({**split, "other (waits, transfers)": rest}.items(), key=lambda kv: -kv[1]):
        print(f"  {stage:26s} {sec:6.2f} s  {100 * sec / pure:5.1f}% of pure render")
    tour_costs(args.tour_episodes, args.duration, args.quality)


if __name__ == "__main__":
    main()
