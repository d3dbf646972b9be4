"""Scale-out benchmark and cost model (root: it builds hosts from network namespaces).

Measures, in one run:
1. the cost of one episode by stage on one CPU, in-process (scene, plan, render, encode,
   degradations, questions), and the upload of the finished dataset to S3 per episode;
2. episodes/hour and QA/hour of the whole pipeline (``synth`` flow, driver on host 0) on a Ray
   cluster of 1, 2 and 3 nodes of one CPU each, every node its own network namespace
   (``tests/hosts.py``), output on the local SeaweedFS reached over the veth links; the scaling
   efficiency is the throughput on n nodes over n times the throughput on one;
and prints the projected wall time and CPU-hours of a SAT-scale dataset (SAT: 175K QA over 20K
scenes; here >= 20K episodes and >= 175K verified QA, clean plus the degradation variants) on a
128-core cluster at the efficiency measured on the largest cluster.

    sudo .venv/bin/python bench/scale.py [--episodes 4] [--frames 16] [--quality photoreal]
        [--degradations motion_blur:2,fog:2,low_light:2] [--nodes 1,2,3]

A node count above this machine's physical cores measures the machine, not Ray: the printout
says how many cores there are.

``--cost-model`` (issue 31, no root needed) instead prints, for today's presets at their default
settings (``sat-dynamic``: 16-frame clips; ``vsi-tour``: house tours, ``--tour-duration`` s at
4 fps) measured on one core in-process (pinned to it; Blender with one thread): core-seconds per frame and per
episode by stage, episodes/hour and QA/hour per core, and the core-hours and wall time of
SAT scale (175K QA) and VSI-590K scale (590K QA) on 128 cores (linear in cores: the scaling
efficiency is what the cluster runs above measure); on 8 GPUs where Blender sees one here,
else a line saying the GPU figure was not measured.

    .venv/bin/python bench/scale.py --cost-model [--episodes 2] [--tour-episodes 1] [--tour-duration 45]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

# run as a script, bench/ would be sys.path[0] and bench/programs.py would shadow the package
sys.path[0] = str(Path(__file__).resolve().parents[1])

from synth.backends.registry import open_renderer  # noqa: E402
from synth.flows.config import RunConfig  # noqa: E402
from synth.flows.episode import ask, render_episode  # noqa: E402
from synth.programs.sandbox import SandboxPool  # noqa: E402
from tests.hosts import Hosts, netns_available  # noqa: E402

SAT_EPISODES, SAT_QA, CLUSTER_CORES = 20_000, 175_000, 128
VSI_590K_QA, CLUSTER_GPUS = 590_000, 8
RAY = str(Path(sys.executable).with_name("ray"))
PORT = 6379
RUN = """
import json, sys
from synth.flows.config import RunConfig
from synth.flows.flow import synth
cfg = RunConfig.model_validate_json(sys.argv[1])
synth(config=cfg, out=sys.argv[2], ray_address=sys.argv[3])
"""


def stage_split(cfg: RunConfig, count_questions: bool = False):
    """Seconds per episode by stage, one CPU, in-process; with ``count_questions``, also the
    questions per episode over its samples (clean and variants)."""
    renderer = open_renderer(cfg.renderer, threads=1)
    pool = SandboxPool(workers=1)
    total: dict[str, float] = {}
    questions = 0
    try:
        for i in range(cfg.episodes):
            rendered = render_episode(cfg, i, renderer)
            t = time.perf_counter()
            samples = ask(cfg, rendered, pool)
            rendered.timings["questions"] = time.perf_counter() - t
            questions += sum(len(json.loads(s.files["json"])["questions"]) for s in samples)
            for k, v in rendered.timings.items():
                total[k] = total.get(k, 0.0) + v
    finally:
        pool.close()
        renderer.close()
    split = {k: v / cfg.episodes for k, v in total.items()}
    return (split, questions / cfg.episodes) if count_questions else split


def cluster_run(cfg: RunConfig, nodes: int, tmp: Path) -> tuple[float, int, float]:
    """Wall seconds, verified QA and upload seconds of a run on ``nodes`` one-CPU Ray nodes."""
    from synth.storage.s3 import local_dataset, push
    from synth.storage.seaweed import LocalS3

    with Hosts(nodes) as hosts:
        s3 = LocalS3(tmp / f"s3-{nodes}", ip=hosts.bridge_ip).start()
        try:
            env = {
                **os.environ,
                **s3.env(),
                "RAY_USAGE_STATS_ENABLED": "0",
                "PREFECT_HOME": str(tmp / f"prefect-{nodes}"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_LOGGING_LEVEL": "WARNING",
                "SYNTH_CACHE": str(tmp / f"cache-{nodes}"),
            }
            env.pop("PREFECT_API_URL", None)
            s3.create_bucket("bench")
            head = [RAY, "start", "--head", f"--node-ip-address={hosts.ips[0]}", f"--port={PORT}", "--num-cpus=1"]
            head += ["--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={tmp}/ray-{nodes}"]
            hosts.run(0, head, env=env, check=True, capture_output=True, timeout=300)
            for i in range(1, nodes):
                worker = [RAY, "start", f"--address={hosts.ips[0]}:{PORT}", f"--node-ip-address={hosts.ips[i]}"]
                hosts.run(i, [*worker, "--num-cpus=1", "--disable-usage-stats"], env=env, check=True,
                          capture_output=True, timeout=300)  # fmt: skip
            uri = f"s3://bench/n{nodes}"
            t = time.perf_counter()
            done = hosts.run(0, [sys.executable, "-c", RUN, cfg.model_dump_json(), uri, f"{hosts.ips[0]}:{PORT}"],
                             env=env, capture_output=True, text=True)  # fmt: skip
            wall = time.perf_counter() - t
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-3000:])
            for k, v in env.items():
                os.environ[k] = v
            root = local_dataset(uri)
            qa = sum(len(json.loads(line)["questions"]) for line in _sample_jsons(root))
            t = time.perf_counter()
            push(root, f"s3://bench/upload-{nodes}")
            upload = time.perf_counter() - t
        finally:
            s3.stop()
    return wall, qa, upload


def _sample_jsons(root: Path):
    from synth.storage.dataset import iter_samples

    for sample in iter_samples(root):
        yield sample.files["json"].decode()


def cost_model(episodes: int, tour_episodes: int, tour_duration: float) -> None:
    """Issue 31, item 5: core-seconds and throughput per core of today's presets, and projections.
    The process (and the sandbox it spawns) is pinned to one core first, so that the stages that
    run on several threads (the planner's z-buffer, the evidence, the encoders) count their CPU."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from synth.backends.registry import open_renderer as probe_renderer
    from synth.backends.registry import prepare_source, renderer_settings

    probe = probe_renderer(renderer_settings("blender", device="cpu"))
    gpu = probe._gpu()
    probe.close()
    for preset, options in (
        ("sat-dynamic", dict(episodes=episodes)),
        # a room takes about 15 s of a tour (the preset's own check): shorter tours visit fewer
        (
            "vsi-tour",
            dict(episodes=tour_episodes, duration=tour_duration, max_rooms=max(3, min(4, int(tour_duration // 15)))),
        ),
    ):
        cfg = RunConfig.from_options(preset=preset, seed=0, **options)
        prepare_source(cfg.source, print)
        per_episode, qa = stage_split(cfg, count_questions=True)
        core_s = sum(per_episode.values())
        frames = cfg.video.frames
        print(f"\n{preset}: {cfg.episodes} episodes x {frames} frames, {cfg.video.width}x{cfg.video.height}, "
              f"{cfg.source.assets} furniture, {cfg.renderer.quality} ({cfg.renderer.samples} spp), "
              f"variants: clean + {cfg.degradations or 'none'}; one core, in-process")  # fmt: skip
        for stage, sec in sorted(per_episode.items(), key=lambda kv: -kv[1]):
            share = 100 * sec / core_s
            print(f"  {stage:12s} {sec:8.2f} core-s per episode  {sec / frames:7.3f} per frame  {share:5.1f}%")
        print(f"  {'total':12s} {core_s:8.2f} core-s per episode  {core_s / frames:7.3f} per frame")
        print(f"  per core: {3600 / core_s:.1f} episodes/h, {qa * 3600 / core_s:.0f} QA/h ({qa:.1f} QA per episode, "
              f"clean + variants, abstentions included)")  # fmt: skip
        for name, target, least in (("SAT scale", SAT_QA, SAT_EPISODES), ("VSI-590K scale", VSI_590K_QA, 0)):
            needed = max(least, int(-(-target // max(qa, 1e-9))))  # SAT: also its 20K scenes
            hours = needed * core_s / 3600
            print(f"  {name} ({target // 1000}K QA): {needed:,} episodes, {hours:,.0f} core-hours, "
                  f"{hours / CLUSTER_CORES:,.1f} h on {CLUSTER_CORES} cores (at full scaling efficiency)")  # fmt: skip
        if not gpu:
            print(f"  on {CLUSTER_GPUS} GPUs: not measured (Blender sees no CUDA/OptiX device on this machine)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=4)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--quality", default="photoreal", choices=("photoreal", "draft"))
    ap.add_argument("--degradations", default="motion_blur:2,fog:2,low_light:2")
    ap.add_argument("--nodes", default="1,2,3")
    ap.add_argument("--cost-model", action="store_true", help="the cost model of today's presets (no root)")
    ap.add_argument("--tour-episodes", type=int, default=1)
    ap.add_argument("--tour-duration", type=float, default=45.0)
    args = ap.parse_args()
    if args.cost_model:
        cost_model(
            min(args.episodes, 2) if args.episodes == 4 else args.episodes, args.tour_episodes, args.tour_duration
        )
        return
    why = netns_available()
    if why:
        sys.exit(f"bench/scale.py builds hosts from network namespaces: {why}")
    cfg = RunConfig.from_options(  # the configuration docs/benchmarks.md records: primitives at 320x240
        episodes=args.episodes, frames=args.frames, quality=args.quality, degradations=args.degradations, seed=0,
        assets="primitives", width=320, height=240, samples=8,
    )  # fmt: skip
    print(f"{os.cpu_count()} cores here; {cfg.episodes} episodes x {cfg.video.frames} frames, "
          f"{cfg.renderer.quality}, variants: clean + {cfg.degradations or 'none'}")  # fmt: skip
    split = stage_split(cfg)
    print("\nper-episode cost by stage (1 CPU, in-process; upload: push of the finished dataset):", flush=True)
    print("".join(f"  {k:12s} {v:7.2f} s\n" for k, v in sorted(split.items(), key=lambda kv: -kv[1])), flush=True)
    runs: dict[int, tuple[float, int, float]] = {}
    base = None
    print("nodes  wall s  episodes/h    QA/h  efficiency", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.nodes.split(",")):
            runs[n] = wall, qa, _ = cluster_run(cfg, n, Path(tmp))
            eph = cfg.episodes / wall * 3600
            base = base if base is not None else eph / n
            print(f"{n:5d} {wall:7.1f} {eph:11.1f} {qa / wall * 3600:7.0f} {eph / (n * base):11.2f}", flush=True)
    split["upload"] = min(u for _, _, u in runs.values()) / cfg.episodes
    cpu_s = sum(split.values())
    print("\nshare of one episode's CPU time by stage:")
    for stage, sec in sorted(split.items(), key=lambda kv: -kv[1]):
        print(f"  {stage:12s} {sec:7.2f} s  {100 * sec / cpu_s:5.1f}%")
    print(f"  {'total':12s} {cpu_s:7.2f} s")
    n_max = max(runs)
    wall, qa, _ = runs[n_max]
    efficiency = cfg.episodes / wall * 3600 / (n_max * base)
    qa_per_episode = qa / cfg.episodes
    episodes = max(SAT_EPISODES, int(-(-SAT_QA // max(qa_per_episode, 1e-9))))
    per_episode = runs[min(runs)][0] * min(runs) / cfg.episodes  # CPU-seconds per episode, whole pipeline
    cpu_hours = episodes * per_episode / 3600
    wall_hours = cpu_hours / (CLUSTER_CORES * efficiency)
    print(
        f"\nSAT scale: {episodes} episodes (>= {SAT_EPISODES} scenes, {qa_per_episode:.1f} verified QA per episode "
        f"over clean + variants -> >= {SAT_QA} QA)\n"
        f"  CPU-hours {cpu_hours:,.0f} (the whole pipeline on one node: {per_episode:.1f} CPU-s per episode)\n"
        f"  wall time on {CLUSTER_CORES} cores at the {n_max}-node efficiency {efficiency:.2f}: {wall_hours:,.1f} h"
    )


if __name__ == "__main__":
    main()
