"""Render benchmark.

Prints, on this machine:
1. a profile of the default frame (preset ``default``: Infinigen furniture, 448x336, photoreal)
   by stage, from Blender's own render-stats events and the renderer's read-back, for the first
   frame of an episode and for the frames after it, with today's settings and with the settings
   before issue 31 (4 samples, OIDN without prefilter, every frame synced from scratch);
2. s/frame of those two at the same seeds and the ratio (target <= 0.5), next to each one's
   worst-frame and mean PSNR against the same frames at 64 samples (target: no lower than
   before), and whether depth and ids are bit-identical; with ``--options``, the Cycles options
   tried one at a time on the same frames;
3. where Blender sees a CUDA/OptiX device, Cycles frames/s on it against the CPU;
4. Infinigen's asset costs and s/frame by assets, resolution and samples (``--no-assets`` skips);
5. the pipeline's whole wall time (sample, plan, render in a worker process, questions, video
   and GT encoding, shards, card, manifest) against pure Blender render time of the same
   episodes at the default settings, measured in the same run (``--repeats`` of each, in
   alternation): the ratio is the pipeline's overhead (target <= 1.03), also without the run's
   one-time start-up and finalize (what a long run tends to), and the split of the difference by
   stage;
6. the CPU Cycles leaves: a busy-looping process beside pure renders of the default episodes at
   several priorities (nice 19, 10, 0, ``SCHED_IDLE``), what it got and how much slower the
   render was (``--idle-rounds`` rounds, in alternation);
7. house tours (issue 27): seconds per frame of a tour through a house (preset ``vsi-tour``)
   against today's default frame (preset ``default``: one room, a clip) at the same resolution and
   quality (target: ratio <= 1); planning a tour against its render time (target < 5%); house
   generation with a warm asset cache against a tour's render time (target < 5%); per house its
   rooms, objects and categories with 4 or more instances.

    python bench/render.py [--sections profile,quality,gpu,assets,pipeline,idle,tours] [--options]
                           [--episodes 4] [--frames 16] [--repeats 2] [--quality-frames 8]
                           [--idle-rounds 2]
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

from synth.backends.blender.renderer import BlenderRenderer  # noqa: E402
from synth.backends.registry import open_renderer, prepare_source, renderer_settings, scene_source  # noqa: E402
from synth.degradations.gaussians import psnr  # noqa: E402
from synth.flows.config import RunConfig  # noqa: E402
from synth.flows.episode import shoot_episode  # noqa: E402
from synth.flows.run import run  # noqa: E402
from synth.storage.media import decode_mp4, encode_mp4  # noqa: E402

REFERENCE_SPP = 64  # samples of the reference frames the noise is measured against
# the frame the asset table's ratios are measured against: primitive furniture at 320x240, 8 samples
# (the defaults before Infinigen assets and 448x336 became the dataset defaults)
BASELINE = dict(assets="primitives", width=320, height=240, samples=8)
BEFORE_SAMPLES = 4  # the default samples before issue 31
SECTIONS = ("profile", "quality", "gpu", "assets", "pipeline", "idle", "tours")
# Cycles options tried one at a time (--options): samples, then attributes of scene.cycles
OPTIONS: dict[str, tuple[int, dict[str, object]]] = {
    "4 spp, no prefilter (before)": (4, {"denoising_prefilter": "NONE"}),
    "4 spp, light tree": (4, {"denoising_prefilter": "NONE", "use_light_tree": True}),
    "4 spp, path guiding": (4, {"denoising_prefilter": "NONE", "use_guiding": True}),
    "4 spp, adaptive 0.1": (
        4,
        {"denoising_prefilter": "NONE", "use_adaptive_sampling": True, "adaptive_threshold": 0.1},
    ),
    "4 spp, prefilter accurate, quality high": (4, {"denoising_prefilter": "ACCURATE", "denoising_quality": "HIGH"}),
    "4 spp, prefilter fast": (4, {}),
    "3 spp, prefilter fast": (3, {}),
    "2 spp, no prefilter": (2, {"denoising_prefilter": "NONE"}),
    "2 spp, prefilter fast (default)": (2, {}),
    "2 spp, prefilter fast, light tree": (2, {"use_light_tree": True}),
    "2 spp, prefilter fast, quality balanced": (2, {"denoising_quality": "BALANCED"}),
    "2 spp, prefilter accurate, quality high": (2, {"denoising_prefilter": "ACCURATE", "denoising_quality": "HIGH"}),
    "1 spp, prefilter fast": (1, {}),
    "1 spp, prefilter accurate, balanced": (1, {"denoising_prefilter": "ACCURATE", "denoising_quality": "BALANCED"}),
}


class Tuned(BlenderRenderer):
    """The Blender renderer with scene settings changed after its own: ``cycles`` attributes
    of ``scene.cycles``, ``persistent`` for ``render.use_persistent_data``, ``passes`` False
    to drop the depth and object-index passes."""

    def __init__(self, settings, cycles: dict | None = None, persistent: bool = True, passes: bool = True):
        super().__init__(settings)
        self.cycles, self.persistent, self.passes = cycles or {}, persistent, passes

    def _configure_engine(self) -> None:
        super()._configure_engine()
        bs = self.bpy.context.scene
        for k, v in self.cycles.items():
            setattr(bs.cycles, k, v)
        bs.render.use_persistent_data = self.persistent
        bs.view_layers[0].use_pass_z = bs.view_layers[0].use_pass_object_index = self.passes

    def _render_exr(self) -> dict[str, np.ndarray]:
        channels = super()._render_exr()
        if not self.passes:  # zeros where the passes were: the frames' cost without them
            zeros = np.zeros_like(channels["ViewLayer.Combined.R"])
            channels |= {"ViewLayer.Depth.Z": zeros, "ViewLayer.IndexOB.X": zeros}
        return channels


def before(samples: int = BEFORE_SAMPLES) -> Tuned:
    """Cycles as it was before issue 31: 4 samples, OIDN without prefilter, every frame from scratch."""
    return Tuned(renderer_settings("blender", samples=samples), {"denoising_prefilter": "NONE"}, persistent=False)


def planned(cfg: RunConfig) -> list:
    """The episodes of ``cfg`` (scenes, camera paths, object motion), planned once; rendered below
    with each setting."""
    renderer = open_renderer(cfg.renderer.model_copy(update={"quality": "draft"}))
    episodes = [shoot_episode(cfg, i, renderer, {})[1] for i in range(cfg.episodes)]
    renderer.close()
    return episodes


def render_planned(renderer: BlenderRenderer, episodes: list, video, events: list | None = None):
    """Seconds per frame and the buffers of every episode; with ``events``, (time, what) per
    render-stats line Blender emits and per step of the renderer's read-back."""
    bpy = renderer.bpy
    if events is not None:
        read_back = renderer._render_exr

        def timed_read_back():  # the render call, the EXR write, then the read-back
            out = read_back()
            events.append((time.perf_counter(), "EXR read"))
            return out

        renderer._render_exr = timed_read_back
        # persistent: loading a scene (read_factory_settings) drops the other handlers
        stats = bpy.app.handlers.persistent(lambda text: events.append((time.perf_counter(), text)))
        written = bpy.app.handlers.persistent(lambda *_: events.append((time.perf_counter(), "EXR written")))
        bpy.app.handlers.render_stats.append(stats)
        bpy.app.handlers.render_write.append(written)
    note = (lambda what: events.append((time.perf_counter(), what))) if events is not None else (lambda what: None)
    total, out, n = 0.0, [], 0
    for ep in episodes:
        session = renderer.open(ep.scene, video)
        note("episode")
        t = time.perf_counter()
        out.append(session.render(ep.frames, lambda: note("frame done")))
        total += time.perf_counter() - t
        note("episode end")
        n += len(ep.frames)
    if events is not None:
        bpy.app.handlers.render_stats.clear()
        bpy.app.handlers.render_write.clear()
    renderer.close()
    return total / n, out


def phase(text: str) -> str:
    """The stage of one render-stats line (Blender's words after the last ``|``), or a read-back step."""
    what = text.split("|", 4)[-1]
    for name, marks in (
        ("sky and light importance maps", ("sky_nishita", "Updating Lights", "Updating Background")),
        ("textures (image loads)", ("Updating Images",)),
        ("scene sync (objects, camera)", ("Synchronizing", "Initializing", "Updating Camera", "Waiting")),
        ("geometry and BVH", ("Mesh", "BVH", "Updating Objects", "Primitive Offsets")),
        ("shaders", ("Updating Shaders",)),
        ("path tracing and denoising", ("Sample ",)),
        ("render finished, EXR write", ("Finished", "Time:")),
    ):
        if any(m in what for m in marks):
            return name
    return "other scene updates"


def profile_table(events: list) -> dict[str, tuple[float, float]]:
    """Seconds per stage of an episode's first frame and of its later frames (means): each
    interval between two events goes to the stage of the earlier one; the episode's exposure and
    sRGB conversion go to its last frame; loading the scene (between episodes) to none."""
    frames: list[tuple[int, dict[str, float]]] = []
    current: dict[str, float] = {}
    after = {"EXR written": "EXR read-back", "EXR read": "passes to arrays (RGB, depth, ids)"}
    for (t0, a), (t1, b) in zip(events, events[1:]):
        if a == "episode end":
            continue
        if a == "episode" or (a == "frame done" and b != "episode end"):
            current = {}
            frames.append((0 if a == "episode" else frames[-1][0] + 1, current))
            stage = "camera and object poses set"
        elif a == "frame done":
            stage = "exposure and sRGB (per episode)"
        else:
            stage = after.get(a) or phase(a)
        current[stage] = current.get(stage, 0.0) + t1 - t0
    table = {}
    for stage in {k for _, f in frames for k in f}:
        first = [f.get(stage, 0.0) for i, f in frames if i == 0]
        later = [f.get(stage, 0.0) for i, f in frames if i > 0]
        table[stage] = (float(np.mean(first)), float(np.mean(later)) if later else 0.0)
    return table


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (all its threads)."""
    t = os.times()
    return t.user + t.system


def rendered(cfg: RunConfig) -> tuple[float, list, float]:
    """Render time of the episodes' final frames alone (the scene's load and the planning
    excluded), their RGB frames, and the CPU seconds of those renders (all Blender's threads)."""
    renderer = open_renderer(cfg.renderer)
    inner, cpu = renderer.render, [0.0]

    def render(frames, on_frame=None):
        start = _cpu_seconds()
        try:
            return inner(frames, on_frame)
        finally:
            cpu[0] += _cpu_seconds() - start

    renderer.render = render  # what the sessions render with
    total, frames = 0.0, []
    for i in range(cfg.episodes):
        timings: dict[str, float] = {}
        _, _, buffers = shoot_episode(cfg, i, renderer, timings)
        total += timings["render"]
        frames += list(buffers.rgb)
    renderer.close()
    return total, frames, cpu[0]


def pure_render_seconds(cfg: RunConfig) -> float:
    return rendered(cfg)[0]


class TreeCPU:
    """CPU seconds (user + system) of this process and the processes it starts within the block
    (render workers, the sandbox), read with psutil every ``every`` seconds (a process that ends
    between two readings keeps its last one): ``seconds`` once the block is done."""

    def __init__(self, every: float = 0.2):
        import threading

        self.every, self.seconds = every, 0.0
        self._last: dict[int, float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._done.wait(self.every):
            for child in me.children(recursive=True):
                try:
                    t = child.cpu_times()
                except psutil.Error:
                    continue
                self._last[child.pid] = t.user + t.system

    def __enter__(self) -> TreeCPU:
        self._start = _cpu_seconds()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.seconds = _cpu_seconds() - self._start + sum(self._last.values())


def frame_profile(episodes: list, video) -> None:
    """Issue 31, item 1: the default frame by stage, before and now (one run, same episodes)."""
    now_settings = renderer_settings("blender")
    runs = {"before": before(), "now": Tuned(now_settings)}
    tables, per_frame = {}, {}
    for name, renderer in runs.items():
        events: list = []
        per_frame[name], _ = render_planned(renderer, episodes, video, events)
        tables[name] = profile_table(events)
    # what the denoiser and the depth and id passes cost now: the same frames without each
    bare = {
        "denoising (OIDN, fast prefilter)": Tuned(now_settings, {"use_denoising": False}),
        "depth and object-index passes": Tuned(now_settings, passes=False),
    }
    print(f"\nframe profile: {len(episodes)} episodes x {video.frames} frames, {video.width}x{video.height}, "
          f"Infinigen furniture (seconds; first frame of an episode / each later frame)")  # fmt: skip
    print(f"  {'stage':38s} {'before: first':>14s} {'later':>7s}   {'now: first':>11s} {'later':>7s}")
    order = sorted(tables["before"], key=lambda k: -tables["before"][k][0] - tables["now"].get(k, (0, 0))[1])
    for stage in order + [k for k in tables["now"] if k not in tables["before"]]:
        b, n = tables["before"].get(stage, (0.0, 0.0)), tables["now"].get(stage, (0.0, 0.0))
        print(f"  {stage:38s} {b[0]:14.3f} {b[1]:7.3f}   {n[0]:11.3f} {n[1]:7.3f}")
    for name in runs:
        first, later = (sum(v[i] for v in tables[name].values()) for i in (0, 1))
        print(f"  {name}: first frame {first:.3f} s, later frames {later:.3f} s, mean {per_frame[name]:.3f} s/frame")
    for what, renderer in bare.items():
        sec, _ = render_planned(renderer, episodes, video)
        print(f"  now, {what}: {per_frame['now'] - sec:+.3f} s/frame (the same frames without it: {sec:.3f})")


def quality_comparison(episodes: list, video, options: bool) -> None:
    """Issue 31, item 2: s/frame now against before, both with their noise against 64 samples."""
    sec_before, buf_before = render_planned(before(), episodes, video)
    sec_now, buf_now = render_planned(Tuned(renderer_settings("blender")), episodes, video)
    _, buf_ref = render_planned(before(REFERENCE_SPP), episodes, video)
    ref = np.concatenate([b.rgb for b in buf_ref])

    def noise(buffers) -> str:
        scores = [psnr(a, b) for a, b in zip(np.concatenate([b.rgb for b in buffers]), ref, strict=True)]
        return f"worst {min(scores):5.2f} dB, mean {np.mean(scores):5.2f} dB"

    same = all(
        np.array_equal(a.depth, b.depth) and np.array_equal(a.instance, b.instance)
        for a, b in zip(buf_before, buf_now, strict=True)
    )
    n = sum(len(e.frames) for e in episodes)
    print(f"\nhalf the cost at equal quality: {len(episodes)} episodes x {video.frames} frames ({n}), "
          f"{video.width}x{video.height}, PSNR against the same frames at {REFERENCE_SPP} samples")  # fmt: skip
    print(f"  before (4 spp, no prefilter, from scratch) {sec_before:6.3f} s/frame  {noise(buf_before)}")
    print(f"  now (defaults)                             {sec_now:6.3f} s/frame  {noise(buf_now)}")
    print(f"  ratio now / before {sec_now / sec_before:.2f} (target <= 0.5); depth and ids bit-identical: {same}")
    if not options:
        return
    print("  options one at a time (render data kept between frames in all):")
    for name, (spp, cycles) in OPTIONS.items():
        sec, buffers = render_planned(Tuned(renderer_settings("blender", samples=spp), cycles), episodes, video)
        print(f"    {name:44s} {sec:6.3f} s/frame  {sec / sec_before:4.2f}x  {noise(buffers)}")


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
            sec, frames, _ = rendered(RunConfig.from_options(samples=spp, **options))
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
    rooms = max(3, min(4, int(duration // 15)))  # a room takes about 15 s of a tour (the preset's own check)
    tour = RunConfig.from_options(preset="vsi-tour", duration=duration, max_rooms=rooms, **common)
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


def levels_and_devices(cfg: RunConfig) -> None:
    """Seconds per frame of each quality level at ``cfg``'s settings and, where Blender sees a
    CUDA/OptiX device, Cycles frames/s on it against this machine's CPU."""
    print(f"\nseconds per frame, {cfg.video.width}x{cfg.video.height}, {cfg.source.assets} furniture "
          f"(in-process, {cfg.episodes} episodes x {cfg.video.frames} frames):")  # fmt: skip
    per_frame = {}
    for quality in ("draft", "photoreal"):
        one = cfg.model_copy(update={"renderer": cfg.renderer.model_copy(update={"quality": quality})})
        per_frame[quality] = pure_render_seconds(one) / (cfg.episodes * cfg.video.frames)
        print(f"  {quality:10s} {per_frame[quality]:.3f} s/frame")
    print(f"  photoreal / draft = {per_frame['photoreal'] / per_frame['draft']:.1f}x")
    probe = open_renderer(renderer_settings("blender", device="cpu"))
    gpu = probe._gpu()
    probe.close()
    if not gpu:
        print("  (Blender sees no CUDA/OptiX device here: no GPU figure)")
        return
    seconds = {}
    for device in ("cpu", "gpu"):
        one = cfg.model_copy(update={"renderer": cfg.renderer.model_copy(update={"device": device})})
        seconds[device] = pure_render_seconds(one) / (cfg.episodes * cfg.video.frames)
    cpu_s, gpu_s = seconds["cpu"], seconds["gpu"]
    print(f"  Cycles on {gpu}: {1 / gpu_s:.1f} frames/s, CPU: {1 / cpu_s:.1f} frames/s ({cpu_s / gpu_s:.1f}x)")


def pipeline_overhead(cfg: RunConfig, repeats: int) -> None:
    """The pipeline's wall time against pure rendering of the same episodes (target <= 1.03):
    ``repeats`` pure renders and pipeline runs in alternation (the machine's speed drifts by a
    few percent between minutes: one of each would measure the drift), ratio of the sums; and
    the CPU seconds of each (the pipeline's over all its processes, ``TreeCPU``): on a machine
    whose cores Cycles keeps busy, what the stages around the render add is CPU, which overlap
    cannot hide."""
    pure, whole, split, pure_cpu, whole_cpu = [], [], {}, [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(repeats):
            seconds, _, cpu = rendered(cfg)
            pure.append(seconds)
            pure_cpu.append(cpu)
            timings: dict[str, float] = {}
            t = time.perf_counter()
            with TreeCPU() as tree:
                run(cfg, Path(tmp) / f"run{k}", timings=timings)
            whole.append(time.perf_counter() - t)
            whole_cpu.append(tree.seconds)
            for stage, sec in timings.items():
                split[stage] = split.get(stage, 0.0) + sec / repeats
    n = cfg.episodes * cfg.video.frames
    p, w = sum(pure) / repeats, sum(whole) / repeats
    what = f"{cfg.episodes} episodes x {cfg.video.frames} frames, {cfg.renderer.quality} at {cfg.video.width}x"
    print(f"\npipeline overhead, {what}{cfg.video.height}, {cfg.source.assets} furniture, {repeats} alternating runs:")
    print(f"  pure Blender render   {' '.join(f'{x:6.1f}' for x in pure)} s  mean {p:6.1f} s ({p / n:.3f} s/frame)")
    print(f"  pipeline (default)    {' '.join(f'{x:6.1f}' for x in whole)} s  mean {w:6.1f} s")
    print(f"  ratio {w / p:.3f} (target <= 1.03); per run: {', '.join(f'{b / a:.3f}' for a, b in zip(pure, whole))}")
    once = split.get("start-up", 0.0) + split.get("finalize", 0.0)
    print(f"  per episode, without the run's start-up and finalize: ratio {(w - once) / p:.3f}")
    pc, wc = sum(pure_cpu) / repeats, sum(whole_cpu) / repeats
    print(f"  CPU (all processes' threads): pure render {pc:.1f} core-s ({pc / p:.2f} cores busy), pipeline "
          f"{wc:.1f} core-s ({wc / w:.2f} cores busy): ratio {wc / pc:.3f}; outside the render "
          f"{(wc - pc) / cfg.episodes:.2f} core-s an episode")  # fmt: skip
    print("  where the pipeline's time went (seconds, summed over episodes, mean of the runs):")
    split["render (pipeline - pure)"] = split.pop("render") - p
    rest = w - p - sum(v for v in split.values())
    for stage, sec in sorted({**split, "other (waits, overlap)": rest}.items(), key=lambda kv: -kv[1]):
        print(f"    {stage:26s} {sec:6.2f} s  {100 * sec / p:5.1f}% of pure render")


def cpu_left_beside_cycles(cfg: RunConfig, rounds: int) -> None:
    """What a busy-looping process gets beside a Cycles render, and what it costs the render,
    at several priorities (none: the render alone; nice N: ``os.nice(N)``; idle: Linux
    ``SCHED_IDLE``): ``rounds`` rounds of each, in alternation. The question behind it: can the
    stages around the render (plan, evidence, encoding, questions) run on the CPU Cycles leaves,
    where at the same priority they cost render time (the pipeline section's CPU ratio)?"""
    import subprocess

    import psutil

    start = {  # what the busy loop runs first: its priority
        "none": None,
        "nice 19": "import os; os.nice(19)",
        "nice 10": "import os; os.nice(10)",
        "idle": "import os; os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))",
        "nice 0": "pass",
    }
    rendered(cfg)  # Blender, the assets and the render data warm
    seconds: dict[str, list[float]] = {mode: [] for mode in start}
    got: dict[str, list[float]] = {mode: [] for mode in start}
    for _ in range(rounds):
        for mode, code in start.items():
            hog = subprocess.Popen([sys.executable, "-c", f"{code}\nwhile True: pass"]) if code else None
            try:
                sec = rendered(cfg)[0]
                times = psutil.Process(hog.pid).cpu_times() if hog else None
            finally:
                if hog:
                    hog.kill()
                    hog.wait()
            seconds[mode].append(sec)
            got[mode].append(times.user + times.system if times else 0.0)
    alone = sum(seconds["none"]) / rounds
    what = f"{cfg.episodes} episodes x {cfg.video.frames} frames, {cfg.renderer.quality} at {cfg.video.width}x"
    print(f"\nCPU beside Cycles, {what}{cfg.video.height}, a busy-looping process at each priority, {rounds} rounds:")
    for mode in start:
        sec, cpu = sum(seconds[mode]) / rounds, sum(got[mode]) / rounds
        print(f"  {mode:8s} render {sec:6.1f} s ({' '.join(f'{x:.1f}' for x in seconds[mode])})  "
              f"{sec / alone:5.3f}x the render alone; the process got {cpu:5.1f} core-s "
              f"({cpu / sec:.2f} of a core, {cpu / cfg.episodes:.1f} core-s an episode)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of: {', '.join(SECTIONS)}")
    ap.add_argument("--options", action="store_true", help="also the Cycles options one at a time (quality)")
    ap.add_argument("--quality-frames", type=int, default=8, help="frames per episode of the profile and quality")
    ap.add_argument("--episodes", type=int, default=4, help="episodes of the pipeline overhead")
    ap.add_argument("--frames", type=int, default=16, help="frames per episode of the pipeline overhead")
    ap.add_argument("--repeats", type=int, default=2, help="alternating pure and pipeline runs of the overhead")
    ap.add_argument("--quality", default="photoreal", choices=("photoreal", "draft"))
    ap.add_argument("--no-assets", action="store_true", help="skip the Infinigen asset and resolution table")
    ap.add_argument("--idle-rounds", type=int, default=2, help="rounds of each priority of the idle section")
    ap.add_argument("--tours-only", action="store_true", help="only the house-tour ratios")
    ap.add_argument("--tour-episodes", type=int, default=2)
    ap.add_argument("--duration", type=float, default=60.0, help="tour length, seconds")
    args = ap.parse_args()
    sections = {"tours"} if args.tours_only else {x.strip() for x in args.sections.split(",") if x.strip()}
    if unknown := sections - set(SECTIONS):
        ap.error(f"unknown section(s) {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}")
    if args.no_assets:
        sections.discard("assets")
    if sections & {"profile", "quality"}:
        default = RunConfig.from_options(preset="default", episodes=2, frames=args.quality_frames, seed=100)
        episodes = planned(default)
        if "profile" in sections:
            frame_profile(episodes, default.video)
        if "quality" in sections:
            quality_comparison(episodes, default.video, args.options)
    if "gpu" in sections:
        levels_and_devices(RunConfig.from_options(preset="default", episodes=2, frames=8, seed=100))
    if "assets" in sections:
        asset_costs()
    if "pipeline" in sections:
        options = dict(episodes=args.episodes, frames=args.frames, quality=args.quality, seed=0)
        pipeline_overhead(RunConfig.from_options(preset="default", **options), args.repeats)
    if "idle" in sections:
        options = dict(episodes=2, frames=args.frames, quality=args.quality, seed=0)
        cpu_left_beside_cycles(RunConfig.from_options(preset="default", **options), args.idle_rounds)
    if "tours" in sections:
        tour_costs(args.tour_episodes, args.duration, args.quality)


if __name__ == "__main__":
    main()
