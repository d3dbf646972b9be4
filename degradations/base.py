"""What every degradation reads and returns, and the shared evidence (answerability) rule.

A degradation turns the clean frames of an episode into degraded ones and says, per pixel,
which object the degraded pixel still carries evidence of (``evidence``), next to the same
measure without the degradation (``reference``). An object's visible pixels under the
degradation are its clean (rendered instance-mask) pixels scaled by the share of its reference
evidence pixels that survive: ``round(pixels * min(1, n_evidence / n_reference))`` (unchanged
where ``n_reference`` is 0). The pipeline applies its usual ``min_pixels`` / ``min_frames``
rule to these counts, so an object the degradation hides turns its questions into abstentions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim_adapters.render_types import FrameBuffers
from sim_adapters.scene import Episode, ObjectVisibility

from . import raster
from .gaussians import EpisodeSplats, Gaussians, build_splats, linear_to_srgb, srgb_to_linear

EVIDENCE_WEIGHT = 0.5  # a pixel shows an object when that object holds at least half of its radiance
SEVERITIES = (1, 2, 3, 4, 5)
LUMA = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 luminance of linear RGB


@dataclass
class Source:
    """The episode, its clean buffers, the frames to degrade, and its Gaussians (built on first use)."""

    episode: Episode
    buffers: FrameBuffers
    frames: list[int]
    model: EpisodeSplats | None = None  # built on first use when not given

    @property
    def splats(self) -> EpisodeSplats:
        if self.model is None:
            self.model = build_splats(self.episode, self.buffers)
        return self.model

    @property
    def size(self) -> tuple[int, int]:
        return self.episode.width, self.episode.height

    def K(self, index: int) -> np.ndarray:
        return np.asarray(self.episode.frames[index].camera.K, float)

    def time(self, index: int) -> float:
        return self.episode.frames[index].time

    def linear(self, index: int) -> np.ndarray:
        """The clean rendered frame as linear RGB."""
        return srgb_to_linear(self.buffers.rgb[index])

    def render(self, local: Gaussians, t: float, index: int) -> raster.Image:
        """Render object-local Gaussians posed at time ``t`` through the camera at ``t``."""
        w, h = self.size
        return raster.render(self.splats.at(t, local), self.splats.camera(t), self.K(index), w, h)


@dataclass
class Output:
    """One degradation's result for the selected frames."""

    rgb: np.ndarray  # (F, H, W, 3) uint8 sRGB
    params: dict[str, Any]
    evidence: np.ndarray  # (F, H, W) int32 object id each degraded pixel still shows (raster.NO_ID: none)
    reference: np.ndarray  # (F, H, W) int32 the same without the degradation
    camera_K: list[np.ndarray] | None = None  # per frame, where the degradation changes the intrinsics
    distortion: tuple[float, float, float, float, float] | None = None  # (k1, k2, p1, p2, k3), OpenCV order
    depth: np.ndarray | None = None  # (F, H, W) where the degradation moves pixels
    instance: np.ndarray | None = None


def fill_holes(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite premultiplied ``color`` over a pull-push estimate of itself: pixels no
    Gaussian covers take the average colour of their nearest covered surroundings."""
    levels = [(color.astype(np.float32), np.clip(alpha, 0.0, 1.0).astype(np.float32))]
    while min(levels[-1][1].shape) > 1:
        c, a = levels[-1]
        h, w = a.shape
        c = np.pad(c, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        a = np.pad(a, ((0, h % 2), (0, w % 2)), mode="edge")
        levels.append(
            (
                c.reshape(c.shape[0] // 2, 2, c.shape[1] // 2, 2, -1).mean((1, 3)),
                a.reshape(a.shape[0] // 2, 2, a.shape[1] // 2, 2).mean((1, 3)),
            )
        )
    c, a = levels[-1]
    est = c / np.maximum(a, 1e-6)[..., None]
    for c, a in reversed(levels[:-1]):
        up = np.repeat(np.repeat(est, 2, 0), 2, 1)[: a.shape[0], : a.shape[1]]
        est = c + (1.0 - a)[..., None] * up
    return est


def finish(img: raster.Image) -> np.ndarray:
    """Linear RGB of a rendered image with its (rare) holes filled."""
    return fill_holes(img.color[..., :3], img.alpha)


def shown(img: raster.Image, keep: np.ndarray | None = None) -> np.ndarray:
    """Object id each pixel shows (its id holds >= EVIDENCE_WEIGHT of the pixel), where ``keep``."""
    ok = img.id_weight >= EVIDENCE_WEIGHT
    if keep is not None:
        ok &= keep
    return np.where(ok, img.ids, raster.NO_ID).astype(np.int32)


def dominant(ids: list[np.ndarray], weights: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel, the id with the largest mean weight over several renders (e.g. the sub-frames
    of an exposure) and that mean weight."""
    h, w = ids[0].shape
    top = max(int(i.max(initial=0)) for i in ids) + 2  # ids shifted by one: NO_ID -> 0
    pix = np.arange(h * w)
    codes = np.concatenate([pix * top + (i.ravel() + 1) for i in ids])
    total = np.bincount(codes, weights=np.concatenate([x.ravel() for x in weights]), minlength=h * w * top)
    total = total.reshape(h * w, top) / len(ids)
    best = total.argmax(1)
    return (best - 1).reshape(h, w).astype(np.int32), total[pix, best].reshape(h, w)


def recount(episode: Episode, out: Output, frames: list[int]) -> list[ObjectVisibility]:
    """Visible pixels per object per selected frame under the degradation (see module doc)."""
    result = []
    for obj in episode.scene.objects:
        clean = episode.visible_pixels(obj.id)
        pixels = []
        for j, f in enumerate(frames):
            n_ref = int((out.reference[j] == obj.id).sum())
            n_ev = int((out.evidence[j] == obj.id).sum())
            share = 1.0 if n_ref == 0 else min(1.0, n_ev / n_ref)
            pixels.append(int(round(clean[f] * share)))
        result.append(ObjectVisibility(id=obj.id, pixels=pixels))
    return result


def to_uint8(linear: list[np.ndarray]) -> np.ndarray:
    return np.stack([linear_to_srgb(x) for x in linear])
