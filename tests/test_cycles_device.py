"""Cycles' device (``--device cpu|gpu|auto``): a GPU where Blender sees one (CUDA / OptiX),
one clear error when a GPU is asked for and there is none, and GPU frames that agree with CPU
frames. The GPU comparison runs where Blender sees a GPU (bench/render.py measures both speeds)."""

from __future__ import annotations

import numpy as np
import pytest

from synth.backends.blender.renderer import BlenderRenderer
from synth.backends.procedural.sampler import sample_scene
from synth.backends.registry import open_renderer, renderer_settings
from synth.core.plugin import BackendUnavailable
from synth.core.scene import VideoSpec, VisibilityRule
from synth.planning.shoot import shoot

VIDEO = VideoSpec(frames=2, width=160, height=120)


def _gpu_visible() -> bool:
    r = open_renderer(renderer_settings("blender", device="cpu"))
    try:
        return r._gpu() is not None
    finally:
        r.close()


GPU = _gpu_visible()


def test_device_gpu_and_auto_say_where_they_render():
    scene = sample_scene(2)
    auto = open_renderer(renderer_settings("blender", samples=2))
    episode, _ = shoot(auto, scene, VIDEO, VisibilityRule(min_pixels=20), np.random.default_rng(2), dynamic=False)
    assert episode.renderer["device"] == ("gpu" if GPU else "cpu")
    auto.close()
    gpu = open_renderer(renderer_settings("blender", device="gpu", samples=2))
    try:
        if GPU:
            assert gpu.open(scene, VIDEO) is not None and gpu.device == "gpu"
        else:
            with pytest.raises(BackendUnavailable, match="no CUDA or OptiX device.*--device cpu"):
                gpu.open(scene, VIDEO)
    finally:
        gpu.close()


@pytest.mark.skipif(not GPU, reason="Blender sees no CUDA/OptiX device on this machine")
def test_gpu_frames_agree_with_cpu_frames():
    scene = sample_scene(3)
    cpu = open_renderer(renderer_settings("blender", device="cpu"))
    episode, a = shoot(cpu, scene, VIDEO, VisibilityRule(min_pixels=20), np.random.default_rng(3), dynamic=False)
    cpu.close()
    gpu = open_renderer(renderer_settings("blender", device="gpu"))
    b = gpu.open(scene, VIDEO).render(episode.frames)
    gpu.close()
    assert (a.instance == b.instance).mean() > 0.995
    finite = np.isfinite(a.depth) & np.isfinite(b.depth)
    assert np.median(np.abs(a.depth[finite] - b.depth[finite])) < 1e-3
    assert np.abs(a.rgb.astype(float) - b.rgb.astype(float)).mean() < 6.0  # sampling noise only


class _FromScratch(BlenderRenderer):
    """Cycles as it rendered before issue 31: every frame synced and built from scratch."""

    def _configure_engine(self) -> None:
        super()._configure_engine()
        self.bpy.context.scene.render.use_persistent_data = False


def test_persistent_render_data_renders_the_same_pixels():
    """Render data kept between an episode's frames (camera and moving objects synced again,
    the rest reused) gives the pixels, depth and ids that rendering every frame from scratch
    gives, with objects moving between the frames."""
    scene = sample_scene(4)
    video = VideoSpec(frames=6, width=160, height=120)  # object motion needs 4 frames or more
    kept = open_renderer(renderer_settings("blender", device="cpu"))
    episode, a = shoot(kept, scene, video, VisibilityRule(min_pixels=20), np.random.default_rng(4), dynamic=True)
    kept.close()
    poses = [{p.id: (p.position, p.yaw, p.rotation) for p in f.object_poses} for f in episode.frames]
    assert any(poses[0][i] != poses[-1][i] for i in poses[0]), "no object moves in this episode"
    scratch = _FromScratch(renderer_settings("blender", device="cpu"))
    b = scratch.open(scene, video).render(episode.frames)
    scratch.close()
    assert np.array_equal(a.instance, b.instance) and np.array_equal(a.depth, b.depth)
    assert np.array_equal(a.rgb, b.rgb)
