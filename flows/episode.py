"""One episode, stage by stage: sample -> plan -> render -> questions -> encode."""

from __future__ import annotations

import time

import numpy as np

from programs.generate import generate_questions
from sim_adapters.blender_backend import BlenderRenderer
from sim_adapters.registry import scene_source
from sim_adapters.scene import Episode, Frame, Scene
from sim_adapters.trajectory import plan_dolly
from sim_adapters.visibility import visibility_table
from storage.dataset import Sample, build_sample

from .config import RunConfig

MAX_SCENE_ATTEMPTS = 8


def episode_key(index: int) -> str:
    return f"ep{index:07d}"


def episode_seed(run_seed: int, index: int, attempt: int = 0) -> int:
    """Per-episode seed derived from the run seed: same run, same data however scheduled."""
    return int(np.random.SeedSequence([run_seed, index, attempt]).generate_state(1, np.uint32)[0])


def episode_inputs(cfg: RunConfig, index: int) -> tuple[int, Scene, list[Frame]]:
    """Seed, scene and camera frames of episode ``index``. A scene that leaves no feasible
    camera path is replaced by the next attempt's, deterministically."""
    for attempt in range(MAX_SCENE_ATTEMPTS):
        seed = episode_seed(cfg.seed, index, attempt)
        scene = scene_source(cfg.simulator)(seed)
        try:
            frames = plan_dolly(scene, cfg.frames, cfg.width, cfg.height, cfg.fps, np.random.default_rng([seed, 1]))
        except ValueError:
            continue
        return seed, scene, frames
    raise RuntimeError(f"episode {index}: no scene with a feasible camera path in {MAX_SCENE_ATTEMPTS} attempts")


def make_episode(cfg: RunConfig, index: int, renderer: BlenderRenderer) -> tuple[Sample, dict[str, float]]:
    """Build one sample; returns it and the seconds spent per stage."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    seed, scene, frames = episode_inputs(cfg, index)
    timings["sample+plan"] = time.perf_counter() - t

    t = time.perf_counter()
    renderer.load(scene, cfg.width, cfg.height)
    buffers = renderer.render(scene, frames)
    timings["render"] = time.perf_counter() - t

    t = time.perf_counter()
    episode = Episode(
        scene=scene,
        width=cfg.width,
        height=cfg.height,
        fps=cfg.fps,
        frames=frames,
        visibility=visibility_table(buffers.instance, [o.id for o in scene.objects]),
        renderer={"backend": renderer.name, "quality": cfg.quality, "samples": cfg.samples},
    )
    questions = generate_questions(
        episode,
        np.random.default_rng([seed, 2]),
        per_family=cfg.questions_per_family,
        min_pixels=cfg.min_visible_pixels,
        min_frames=cfg.min_visible_frames,
    )
    timings["questions"] = time.perf_counter() - t

    t = time.perf_counter()
    sample = build_sample(
        episode_key(index),
        episode,
        buffers,
        [q.model_dump(mode="json") for q in questions],
        index=index,
        seed=seed,
        config=cfg.sample_settings(),
    )
    timings["encode"] = time.perf_counter() - t
    return sample, timings
