"""gsplat's CUDA rasteriser against synth's CPU rasteriser, on one episode's Gaussians.

Needs a CUDA device and toolkit (gsplat JIT-compiles its kernels on first use); without one it
stops with a clear error. The episode is rendered by Blender in this run, or rendered once on a
machine with Blender (``--save``) and read back on the GPU machine (``--load``), which then needs
no Blender.

Prints, for the same Gaussians and cameras:
1. per resolution: the two rasterisers' agreement (mean |colour| and |alpha| difference in linear
   units, PSNR of the sRGB images, share of pixels with the same object id) and ms per frame of
   each, with the speed-up (CPU time / CUDA time, both measured in this run);
2. per degradation type at severity 3, every frame: ms per frame on each backend, the speed-up,
   PSNR between the two outputs, and how many (object, frame) visibility decisions differ.

    python bench/gsplat_cuda.py --save .devcheck/episode    # a machine with Blender
    python bench/gsplat_cuda.py --load .devcheck/episode    # a machine with CUDA
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path[0] = str(Path(__file__).resolve().parents[1])

from synth.core.render_types import FrameBuffers  # noqa: E402
from synth.core.scene import Episode  # noqa: E402
from synth.degradations import DEGRADATIONS, build_splats, degrade  # noqa: E402
from synth.degradations import raster as R  # noqa: E402
from synth.degradations.gaussians import linear_to_srgb, psnr  # noqa: E402

W, H, FPS = 320, 240, 8.0
MIN_PIXELS = 100  # the run's default visibility threshold (RunConfig.min_visible_pixels)


def render_episode(seed: int, frames: int) -> tuple[Episode, FrameBuffers]:
    """A dynamic episode rendered by Blender (photoreal), as bench/degradations.py renders it."""
    from synth.backends.procedural.sampler import sample_scene
    from synth.backends.registry import open_renderer, renderer_settings
    from synth.core.scene import VideoSpec, VisibilityRule
    from synth.planning.shoot import shoot

    scene = sample_scene(seed)
    renderer = open_renderer(renderer_settings("blender", quality="photoreal"))
    try:
        video = VideoSpec(frames=frames, width=W, height=H, fps=FPS)
        ep, buf = shoot(renderer, scene, video, VisibilityRule(), np.random.default_rng(seed), dynamic=True)
    finally:
        renderer.close()
    return ep, buf


def save(path: Path, ep: Episode, buf: FrameBuffers) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "episode.json").write_text(ep.model_dump_json())
    np.savez_compressed(path / "buffers.npz", rgb=buf.rgb, depth=buf.depth, instance=buf.instance)


def load(path: Path) -> tuple[Episode, FrameBuffers]:
    ep = Episode.model_validate_json((path / "episode.json").read_text())
    with np.load(path / "buffers.npz") as z:
        return ep, FrameBuffers(rgb=z["rgb"], depth=z["depth"], instance=z["instance"])


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def compare_rasterisers(ep: Episode, splats, cpu: str, gpu: str, scale: int) -> None:
    w, h = W * scale, H * scale
    views = []
    for i, f in enumerate(ep.frames):
        K = np.array(f.camera.K, float)
        K[:2] *= scale  # the same pinhole at `scale` times the resolution (pixel centres stay at integers)
        K[:2, 2] += (scale - 1) / 2
        views.append((splats.at(f.time, splats.anchored(i)), splats.camera(f.time), K))
    for backend in (cpu, gpu):  # warm-up: numba's JIT, gsplat's kernels
        R.render(*views[0], w, h, backend=backend)
    secs = {cpu: 0.0, gpu: 0.0}
    d_color, d_alpha, same_id, scores = [], [], [], []
    for g, view, K in views:
        a, t_a = timed(R.render, g, view, K, w, h, backend=cpu)
        b, t_b = timed(R.render, g, view, K, w, h, backend=gpu)
        secs[cpu] += t_a
        secs[gpu] += t_b
        d_color.append(np.abs(a.color - b.color).mean())
        d_alpha.append(np.abs(a.alpha - b.alpha).mean())
        same_id.append((a.ids == b.ids).mean())
        scores.append(psnr(linear_to_srgb(a.color), linear_to_srgb(b.color)))
    ms = {k: 1000 * v / len(views) for k, v in secs.items()}
    print(
        f"  {w}x{h}: |colour| {max(d_color):.2e} |alpha| {max(d_alpha):.2e} (worst frame), "
        f"PSNR min {min(scores):.1f} dB, same id {100 * min(same_id):.2f}%; "
        f"{cpu} {ms[cpu]:.1f} ms/frame, {gpu} {ms[gpu]:.2f} ms/frame -> {ms[cpu] / ms[gpu]:.1f}x"
    )


def compare_degradations(ep: Episode, buf: FrameBuffers, splats, cpu: str, gpu: str) -> None:
    n = len(ep.frames)
    print(f"  {'type':16s} {cpu + ' ms':>10s} {gpu + ' ms':>9s} {'speed-up':>9s} {'PSNR dB':>8s} {'vis. diff':>10s}")
    for kind in DEGRADATIONS:
        out, secs = {}, {}
        for backend in (cpu, gpu):
            os.environ["SYNTH_RASTERISER"] = backend
            degrade(ep, buf, kind, 3, 0, frames=[0], splats=splats)  # warm-up
            out[backend], secs[backend] = timed(degrade, ep, buf, kind, 3, 0, splats=splats)
        os.environ.pop("SYNTH_RASTERISER")
        a, b = out[cpu], out[gpu]
        flips = sum(
            (p >= MIN_PIXELS) != (q >= MIN_PIXELS)
            for va, vb in zip(a.visibility, b.visibility, strict=True)
            for p, q in zip(va.pixels, vb.pixels, strict=True)
        )
        decisions = sum(len(v.pixels) for v in a.visibility)
        ms = {k: 1000 * v / n for k, v in secs.items()}
        print(
            f"  {kind:16s} {ms[cpu]:10.1f} {ms[gpu]:9.1f} {ms[cpu] / ms[gpu]:8.1f}x "
            f"{psnr(a.rgb, b.rgb):8.1f} {flips:4d}/{decisions:<5d} ({b.record.get('renderer', 'image')})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--save", type=Path, help="render the episode with Blender, save it here and stop")
    ap.add_argument("--load", type=Path, help="read a saved episode instead of rendering one")
    ap.add_argument("--scales", default="1,4", help="resolutions to compare, as multiples of 320x240")
    ap.add_argument("--against", default="cuda", choices=("cuda", "numpy"), help="the backend compared with numba")
    args = ap.parse_args()

    if args.save:
        save(args.save, *render_episode(args.seed, args.frames))
        print(f"saved the episode to {args.save}")
        return
    if args.against == "cuda" and not R.cuda_available():
        sys.exit("bench/gsplat_cuda.py needs a CUDA device (torch sees none); --save works anywhere")
    ep, buf = load(args.load) if args.load else render_episode(args.seed, args.frames)
    cpu = R.resolve("numba")
    splats, secs = timed(build_splats, ep, buf)
    print(
        f"episode: {len(ep.frames)} frames at {W}x{H}, {len(splats.fused):,} fused Gaussians (built in {secs:.1f} s); "
        f"{cpu} on {os.cpu_count()} cores against {args.against}"
    )
    if args.against == "cuda":
        import torch

        print(f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    print("rasterisers, every frame:")
    for scale in (int(s) for s in args.scales.split(",")):
        compare_rasterisers(ep, splats, cpu, args.against, scale)
    print("degradations, severity 3, every frame:")
    compare_degradations(ep, buf, splats, cpu, args.against)


if __name__ == "__main__":
    main()
