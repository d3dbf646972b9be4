"""``synth export habitat DIR_OR_SEED --out PATH``: synth scenes as a Habitat scene dataset.

``DIR_OR_SEED`` is a finished synth dataset (folder or s3://: every clean sample's scene, named
by the sample key, with its camera trajectory in ``episodes/{key}.trajectory.json``) or a
procedural seed (``7``, or several: ``0,1,2``; scenes named ``procedural_0007``, with synth's
primitive furniture). Written by the habitat backend's scene writer (``scene_writer("habitat")``;
layout and conventions: ``synth.backends.habitat.format``). The result is a scene source again:
``synth run --simulator habitat --scene-dataset PATH``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.backends.registry import scene_source, scene_writer
from synth.core.camera import horizontal_fov
from synth.evaluation.items import CLEAN, iter_metas
from synth.storage.s3 import local_dataset


@dataclass(frozen=True)
class HabitatExport:
    out: Path
    dataset_config: Path
    scenes: list[str]
    trajectories: int


def _seeds(text: str) -> list[int] | None:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        return None


def export_habitat(source: str, out: Path) -> HabitatExport:
    """Write the scenes of ``source`` (a dataset or procedural seeds) into the Habitat scene
    dataset ``out`` (created, or added to)."""
    out = Path(out)
    habitat = scene_writer("habitat")
    scenes, trajectories = [], 0
    seeds = _seeds(source)
    if seeds is not None:
        make = scene_source("procedural", assets="primitives")
        for seed in seeds:
            name = f"procedural_{seed:04d}"
            habitat.write_scene(make(seed), out, name)
            scenes.append(name)
    else:
        root = local_dataset(source)
        for _, meta in iter_metas(root, {CLEAN}):
            habitat.write_scene(meta.episode.scene, out, meta.key)
            K = np.asarray(meta.episode.frames[0].camera.K)
            hfov = math.degrees(horizontal_fov(K, meta.episode.video.width))
            habitat.write_trajectory(meta.episode, out, meta.key, meta.key, hfov)
            scenes.append(meta.key)
            trajectories += 1
    if not scenes:
        raise ValueError(f"{source} has no scenes to export")
    return HabitatExport(out, out / f"{habitat.DATASET_NAME}.scene_dataset_config.json", scenes, trajectories)
