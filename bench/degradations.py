"""Degradation benchmark.

Prints, at 320x240 on this machine, for one planned episode rendered by Blender in this run:
1. Blender's clean render time per frame (photoreal and draft), and the Gaussian model's
   build time and clean re-render quality (PSNR/SSIM against the Blender frames);
2. per degradation type (severity 3, every frame): ms per frame and the ratio to Blender's
   clean render time per frame;
3. motion blur at severity 5 of the fastest-moving frame through the Gaussians against
   rendering the same N sub-frames in Blender and averaging them (target: >= 5x faster);
4. (``--against COMMIT``, default the commit before issue 31's changes) the cost per variant
   frame of all nine types on one default episode (448x336, Infinigen furniture, 16 frames,
   one shared Gaussian model as a run builds it) with this checkout's code against that
   commit's, each timed ``--repeats`` times in alternation in this run (medians; target: ratio
   <= 0.5), and how far the outputs differ (8-bit levels, visible pixels).

    python bench/degradations.py [--frames 8] [--seed 3] [--against 5ba1175] [--repeats 3] [--only-against]
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
BEFORE_ISSUE_31 = "5ba1175"  # the last commit with the degradations as they were before issue 31


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


def against(commit: str, repeats: int) -> None:
    """Section 4: this checkout's degradations against ``commit``'s on one default episode."""
    import json
    import pickle
    import subprocess
    import tempfile

    from synth.backends.registry import open_renderer as open_backend
    from synth.flows.config import RunConfig
    from synth.flows.episode import shoot_episode

    repo = Path(__file__).resolve().parents[1]
    cfg = RunConfig.from_options(preset="default", episodes=1, seed=3, dynamic_share=1.0)
    renderer = open_backend(cfg.renderer)
    _, episode, buffers = shoot_episode(cfg, 0, renderer, {})
    renderer.close()
    with tempfile.TemporaryDirectory() as tmp:
        earlier = Path(tmp) / "earlier"
        earlier.mkdir()
        archive = subprocess.run(["git", "-C", str(repo), "archive", commit, "synth"], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(earlier)], input=archive.stdout, check=True)
        data = Path(tmp) / "episode.pkl"
        data.write_bytes(pickle.dumps((episode, buffers)))
        worker = repo / "bench" / "degradation_worker.py"
        runs: dict[str, list[dict[str, float]]] = {"earlier": [], "now": []}
        for _ in range(repeats):
            for name, root in (("earlier", earlier), ("now", repo)):
                out = subprocess.run(
                    [sys.executable, str(worker), str(root), str(data), str(Path(tmp) / f"{name}.npz")],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
        outputs = {name: np.load(Path(tmp) / f"{name}.npz") for name in runs}
        med = {name: {k: float(np.median([r[k] for r in rs])) for k in rs[0]} for name, rs in runs.items()}
        n = len(episode.frames)
        print(f"\nall nine types (severity 3) on one default episode ({n} frames, {episode.width}x{episode.height}), "
              f"this checkout against {commit}, medians of {repeats} alternating runs:")  # fmt: skip
        head = f"{'before ms/frame':>16s} {'now ms/frame':>13s} {'ratio':>6s}"
        print(f"  {'':16s} {head}  {'max diff':>8s} {'pixels differ':>13s} {'visible px same':>15s}")
        for kind in med["now"]:
            b, a = med["earlier"][kind], med["now"][kind]
            line = f"  {kind:16s} {1000 * b / n:16.1f} {1000 * a / n:13.1f} {a / b:6.2f}"
            if kind != "build":
                x, y = (outputs[name][f"{kind}.rgb"].astype(int) for name in ("earlier", "now"))
                diff = np.abs(x - y)
                same = np.array_equal(outputs["earlier"][f"{kind}.visible"], outputs["now"][f"{kind}.visible"])
                line += f"  {diff.max():8d} {100 * (diff > 0).mean():12.3f}% {str(same):>15s}"
            print(line)
        total_b, total_a = sum(med["earlier"].values()), sum(med["now"].values())
        per = 9 * n
        print(f"  per variant frame (build shared): before {1000 * total_b / per:.1f} ms, "
              f"now {1000 * total_a / per:.1f} ms, ratio {total_a / total_b:.2f} (target <= 0.5)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--against", default=BEFORE_ISSUE_31, help="the commit whose degradations section 4 times")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only-against", action="store_true", help="only section 4")
    args = ap.parse_args()
    if args.only_against:
        against(args.against, args.repeats)
        return

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
    against(args.against, args.repeats)


if __name__ == "__main__":
    main()
