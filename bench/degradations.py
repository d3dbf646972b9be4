"""Degradation benchmark.

Prints, at 320x240 on this machine, for one planned episode rendered by Blender in this run:
1. Blender's clean render time per frame (photoreal and draft), and the Gaussian model's
   build time and clean re-render quality (PSNR/SSIM against the Blender frames);
2. per degradation type (severity 3, every frame): ms per frame and the ratio to Blender's
   clean render time per frame;
3. motion blur at severity 5 of the fastest-moving frame through the Gaussians against
   rendering the same N sub-frames in Blender and averaging them (target: >= 5x faster).

    python bench/degradations.py [--frames 8] [--seed 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

# run as a script, bench/ would be sys.path[0] and bench/programs.py would shadow the package
sys.path[0] = str(Path(__file__).resolve().parents[1])

from synth.backends.procedural.sampler import sample_scene  # noqa: E402
from synth.backends.registry import open_renderer, renderer_settings  # noqa: E402
from synth.core.scene import CameraFrame, Episode, Frame, ObjectPose, VideoSpec, VisibilityRule  # noqa: E402  # noqa: E402
from synth.degradations import DEGRADATIONS, build_splats, degrade  # noqa: E402
from synth.degradations import raster as R  # noqa: E402
from synth.degradations.base import Source, fill_holes  # noqa: E402
from synth.degradations.blur import exposure_times, image_motion  # noqa: E402
from synth.degradations.gaussians import linear_to_srgb, psnr, srgb_to_linear  # noqa: E402
from synth.degradations.path import camera_at, object_poses_at  # noqa: E402
from synth.planning.shoot import shoot  # noqa: E402

W, H, FPS = 320, 240, 8.0


def ssim(a: np.ndarray, b: np.ndarray, sigma: float = 1.5) -> float:
    """Mean SSIM of two uint8 images on luminance (Gaussian window, the usual constants)."""
    from synth.degradations.sensor import gaussian_blur

    x, y = (np.asarray(i, float) @ [0.299, 0.587, 0.114] for i in (a, b))
    blur = lambda z: gaussian_blur(z[..., None], sigma)[..., 0]  # noqa: E731
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(s.mean())


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def subframes(ep: Episode, index: int, times: np.ndarray) -> list[Frame]:
    """Frames at the exposure's sub-times, on the same continuous path the Gaussians follow."""
    K = ep.frames[index].camera.K
    out = []
    for k, t in enumerate(times):
        T = camera_at(ep, float(t))
        poses = object_poses_at(ep, float(t))
        out.append(
            Frame(
                index=k,
                time=float(t),
                camera=CameraFrame(K=K, world_to_camera=tuple(tuple(float(v) for v in row) for row in T)),
                object_poses=[
                    ObjectPose(id=i, position=tuple(p.tolist()), yaw=float(y)) for i, (y, p) in poses.items()
                ],
            )
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()

    renderer = open_renderer(renderer_settings("blender", quality="draft"))
    scene = sample_scene(args.seed)
    video = VideoSpec(frames=args.frames, width=W, height=H, fps=FPS)
    ep, _ = shoot(renderer, scene, video, VisibilityRule(), np.random.default_rng(args.seed), dynamic=True)
    buffers, per_frame = {}, {}
    for quality in ("draft", "photoreal"):
        renderer.settings = renderer_settings("blender", quality=quality)
        buffers[quality], secs = timed(renderer.open(scene, video).render, ep.frames)
        per_frame[quality] = secs / args.frames
    buf = buffers["photoreal"]
    backend = "numba" if R.numba else "numpy"
    print(f"episode: seed {args.seed}, {args.frames} frames at {W}x{H}, {FPS:g} fps, CPU rasteriser: {backend}")
    print("Blender clean render:")
    for q, s in per_frame.items():
        print(f"  {q:10s} {1000 * s:8.1f} ms/frame")

    print("Gaussians (photoreal frames):")
    splats, secs = timed(build_splats, ep, buf)
    print(f"  build {1000 * secs:.0f} ms/episode, keyframes {splats.keyframes}, {len(splats.fused):,} fused Gaussians")
    held_out = [i for i in range(args.frames) if i not in splats.keyframes]
    holes = [(R.render(splats.at(f.time), splats.camera(f.time), f.camera.K, W, H).alpha < 0.5).mean() for f in
             (ep.frames[i] for i in held_out)]  # fmt: skip
    print(f"  fused keyframes on the {len(held_out)} held-out frames: holes max {100 * max(holes, default=0):.3f}%")
    scores = []
    for i, f in enumerate(ep.frames):
        img = R.render(splats.at(f.time, splats.anchored(i)), splats.camera(f.time), f.camera.K, W, H)
        rgb = linear_to_srgb(fill_holes(img.color, img.alpha))
        scores.append((psnr(rgb, buf.rgb[i]), ssim(rgb, buf.rgb[i])))
    p, s = np.array(scores).T
    print(f"  clean re-render vs Blender: PSNR min {p.min():.2f} mean {p.mean():.2f} dB, SSIM min {s.min():.4f}")

    print("\nper type, severity 3, every frame (Gaussians built once, above):")
    print(f"  {'type':16s} {'ms/frame':>9s} {'x photoreal':>12s} {'x draft':>9s}")
    for kind in DEGRADATIONS:
        _, secs = timed(degrade, ep, buf, kind, 3, 0, splats=splats)
        ms = 1000 * secs / args.frames
        ratios = [ms / (1000 * per_frame[q]) for q in ("photoreal", "draft")]
        print(f"  {kind:16s} {ms:9.1f} {ratios[0]:12.2f} {ratios[1]:9.2f}")

    src = Source(ep, buf, [], splats)
    i = max(range(args.frames), key=lambda k: image_motion(src, k, ep.frames[k].time - 0.05, ep.frames[k].time + 0.05))
    blurred, gs_secs = timed(degrade, ep, buf, "motion_blur", 5, 0, frames=[i], splats=splats)
    n = blurred.record["params"]["subframes"][0]
    exposure = blurred.record["params"]["exposure_s"]
    frames = subframes(ep, i, exposure_times(ep.frames[i].time, exposure, n))
    print(f"\nmotion blur, frame {i}, exposure {exposure:.3f} s, N = {n} sub-frames:")
    print(f"  through the Gaussians       {gs_secs:7.2f} s")
    for quality in ("photoreal", "draft"):
        renderer.settings = renderer_settings("blender", quality=quality)
        sub, secs = timed(renderer.open(scene, video.model_copy(update={"frames": len(frames)})).render, frames)
        line = f"  Blender {quality:10s} N frames {secs:7.2f} s  -> 3DGS is {secs / gs_secs:5.1f}x faster"
        if quality == "photoreal":  # the Gaussians were built from the photoreal frames
            mean = linear_to_srgb(srgb_to_linear(sub.rgb).mean(0))  # the exposure's mean radiance
            line += f"; PSNR of the two blurred frames {psnr(mean, blurred.rgb[0]):.1f} dB"
        print(line)
    renderer.close()


if __name__ == "__main__":
    main()
