"""What every degradation reads and returns, and the shared evidence (answerability) rule.

A degradation turns the clean frames of an episode into degraded ones and says, per pixel,
which object the degraded pixel still carries evidence of (``evidence``), next to the same
measure without the degradation (``reference``). An object's visible pixels under the
degradation are its clean (rendered instance-mask) pixels scaled by the share of its reference
evidence pixels that survive: ``round(pixels * min(1, n_evidence / n_reference))`` (unchanged
where ``n_reference`` is 0).

Then one test on the delivered pixels, the same for every type (:func:`discernibility`): in
each frame the object must still stand out of its surroundings in the delivered frame (the
degraded uint8 frames encoded as the sample's H.264 video, the bytes that ship, and decoded
again), measured against the clean frame over the object's mask and a ring around it. An object
that passes it keeps its pixels; one that fails it by far (below ``FAINT_MARGIN`` of the
thresholds) gets 0 visible pixels in that frame; one in between is faint, a glimpse: at most
``min_pixels - 1`` pixels, never visible, but not absent either, so an answer that needs it
absent from that frame (``first_glimpsed``, ``glimpsed``: which appears first, when it appears,
how many there are) is not given. The pipeline applies its usual ``min_pixels`` /
``min_frames`` rule to these counts, so an object the degradation hides turns its questions
into abstentions, and one the delivered video still shows keeps them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from synth.core.render_types import FrameBuffers
from synth.core.scene import Episode, ObjectVisibility
from synth.degradations import raster
from synth.degradations.gaussians import (
    EpisodeSplats,
    Gaussians,
    Kept,
    build_splats,
    linear_to_srgb,
    srgb_to_linear,
)

EVIDENCE_WEIGHT = 0.5  # a pixel shows an object when that object holds at least half of its radiance
SEVERITIES = (1, 2, 3, 4, 5)
LUMA = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 luminance of linear RGB

# The discernibility test (see :func:`discernibility`); calibrated on rendered episodes, see
# docs/degradations.md "Answerability under degradation".
RING_GAP_PX = 1  # the surroundings start this far outside the object's mask (skips its blurred edge)
RING_WIDTH_PX = 3  # ... and are this wide: the pixels at 2-4 px (Chebyshev) from the mask
MIN_RING_PX = 8  # fewer surrounding pixels in the frame: nothing to compare with, the object is kept
MIN_CONTRAST = 4.0  # retained contrast against the surroundings, 8-bit sRGB levels (strongest channel)
MIN_SNR = 18.0  # matched-filter (Rose) SNR of the retained pattern over the object's area, against clutter
BLUR_MATCH_STEPS = (0.5, 1.0)  # blur types: the clean pattern is also matched blurred by these shares of the blur
QUANTISATION_NOISE = 1 / np.sqrt(12)  # 8-bit levels: the noise floor of any uint8 frame
FAINT_MARGIN = 0.5  # below half the thresholds (2 levels, SNR 9) it cannot be made out; between: faint, a glimpse
DISCERNIBILITY = (
    f"discernible in the delivered frame: against its surroundings (the pixels {RING_GAP_PX + 1}-"
    f"{RING_GAP_PX + RING_WIDTH_PX} px outside its mask) the object keeps gain a = <x, y> / <x, x> of its "
    f"clean contrast pattern x (y: the same in the delivered frame, decoded from the sample's H.264 video), "
    f"with retained contrast "
    f"a * rms(x) >= {MIN_CONTRAST:g}/255 in its strongest channel and matched-filter SNR "
    f"a * |x| / rms(y - a x) >= {MIN_SNR:g} over the object's pixels and channels (for blur types x is also taken "
    f"from the clean frame blurred by {' and '.join(f'{k:g}' for k in BLUR_MATCH_STEPS)} x the type's blur, "
    f"whichever the degraded frame matches best: blur is not noise); else, at {FAINT_MARGIN:g} x those "
    f"thresholds or more, faint: a glimpse of at most min_pixels - 1 pixels in that frame, and 0 pixels below"
)


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

    def memo(self, key: tuple, make: Callable[[], Kept]) -> Kept:
        """``make()``, kept for the episode's other variants on its Gaussians where the caller
        shares them (``degrade``'s ``splats``), else made each time."""
        return make() if self.model is None else self.model.memo(key, make)

    def clean(self, index: int) -> raster.Image:
        """The clean re-render of frame ``index`` (its anchored Gaussians at its own time), the
        same for every type formed in the Gaussians: made once per episode (``EpisodeSplats.memo``)."""
        t = self.time(index)
        return self.splats.memo(("clean", index), lambda: self.render(self.splats.anchored(index), t, index))

    def reference(self, index: int) -> np.ndarray:
        """(H, W) int32 object id each pixel shows in the clean re-render of frame ``index``: the
        evidence without any degradation."""
        return self.memo(("reference", index), lambda: shown(self.clean(index)))


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
    clean: np.ndarray | None = None  # (F, H, W, 3) uint8 the clean frames moved the same way, where pixels move
    blur_sigma_px: list[float] | None = None  # per frame, the blur's Gaussian-equivalent sigma (blur types)


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
    of an exposure) and that mean weight; ties go to the smaller id, NO_ID where no render puts
    weight on the pixel."""
    stack_ids = np.ascontiguousarray(np.stack(ids), dtype=np.int32)
    stack_w = np.ascontiguousarray(np.stack(weights), dtype=np.float64)
    pick, best = _dominant(stack_ids.reshape(len(ids), -1), stack_w.reshape(len(ids), -1))
    shape = stack_ids.shape[1:]
    return pick.reshape(shape), best.reshape(shape)


@numba.njit(cache=True)
def _dominant(ids: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """``dominant`` on (renders, pixels) arrays: each render's id a candidate, its weight summed
    over the renders showing it (in render order), over the number of renders."""
    n, m = ids.shape
    pick = np.empty(m, np.int32)
    best = np.empty(m, np.float64)
    for p in range(m):
        top, chosen = -1.0, raster.NO_ID
        for c in range(n):
            total = 0.0
            for r in range(n):
                if ids[r, p] == ids[c, p]:
                    total += weights[r, p]
            total /= n
            if total > top or (total == top and ids[c, p] < chosen):
                top, chosen = total, ids[c, p]
        pick[p] = chosen if top > 0 else raster.NO_ID
        best[p] = top
    return pick, best


@dataclass(frozen=True)
class Discernibility:
    """How well one object stands out of its surroundings in a degraded frame."""

    gain: float  # share of the clean contrast pattern the degraded frame keeps (negative: reversed)
    contrast: float  # retained contrast, 8-bit levels, strongest channel
    snr: float  # matched-filter SNR of the retained pattern against everything else on the object
    blur_px: float = 0.0  # the blur (Gaussian sigma) of the clean pattern that the degraded frame matches best

    @property
    def margin(self) -> float:
        """How far it clears the weaker of the two thresholds (>= 1: discernible)."""
        return min(self.contrast / MIN_CONTRAST, self.snr / MIN_SNR)

    @property
    def ok(self) -> bool:
        return self.margin >= 1.0


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """Pixels within Chebyshev distance ``r`` of ``mask``."""
    from scipy.ndimage import binary_dilation

    return binary_dilation(mask, structure=np.ones((2 * r + 1, 2 * r + 1), bool))


@dataclass(frozen=True)
class Surround:
    """An object's pixels and the ring of surrounding pixels in one frame, on a crop of it."""

    rows: slice
    cols: slice
    mask: np.ndarray  # (h, w) bool, the object on the crop
    ring: np.ndarray  # (h, w) bool, its surroundings


def surround(mask: np.ndarray) -> Surround | None:
    """The object's pixels ``mask`` (H, W) and the pixels ``RING_GAP_PX + 1`` to ``RING_GAP_PX +
    RING_WIDTH_PX`` px outside them, on the crop that holds both; None where the object has no
    pixels or the ring fewer than ``MIN_RING_PX`` (nothing to compare with)."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if rows.size == 0:
        return None
    r = RING_GAP_PX + RING_WIDTH_PX
    h, w = mask.shape
    ys = slice(max(rows[0] - r, 0), min(rows[-1] + r + 1, h))
    xs = slice(max(cols[0] - r, 0), min(cols[-1] + r + 1, w))
    m = mask[ys, xs]
    ring = _dilate(m, r) & ~_dilate(m, RING_GAP_PX)
    return None if ring.sum() < MIN_RING_PX else Surround(ys, xs, m, ring)


def discernibility(
    clean: np.ndarray,
    degraded: np.ndarray,
    mask: np.ndarray,
    blur_sigma_px: float = 0.0,
    around: Surround | None = None,
) -> Discernibility | None:
    """The shared delivered-pixel test for one object in one frame.

    ``clean`` and ``degraded`` are (H, W, 3) uint8 sRGB frames in the same geometry, ``mask``
    the object's (H, W) pixels. Its surroundings are the ring of pixels ``RING_GAP_PX + 1`` to
    ``RING_GAP_PX + RING_WIDTH_PX`` px outside the mask. Over the mask, ``x`` is the clean
    frame minus the ring's mean colour (the object's contrast pattern against its surroundings)
    and ``y`` the same in the degraded frame. ``a = <x, y> / <x, x>`` is the share of that
    pattern the degraded frame keeps (fog, glare, codec smoothing and blur lower it; noise
    does not); ``y - a x`` is everything else on the object: sensor noise, codec blocks and
    smear, particles, blur from its neighbours. Retained contrast: ``a * rms(x)`` in the
    strongest channel, 8-bit levels. SNR: ``a * |x| / sigma`` with ``sigma = rms(y - a x)`` (at
    least the 8-bit quantisation noise), the matched filter of the pattern over the object's
    whole area: a viewer integrates over the object (Rose's criterion), so a large object shows
    through noise that hides a small one. None where the ring has fewer than ``MIN_RING_PX``
    pixels in the frame (nothing to compare with). ``around``: :func:`surround` of ``mask``
    where the caller has it already (it depends on the mask alone).
    """
    from scipy.ndimage import gaussian_filter

    around = around or surround(mask)
    if around is None:
        return None
    ys, xs, m, ring = around.rows, around.cols, around.mask, around.ring
    scales = [0.0, *(k * blur_sigma_px for k in BLUR_MATCH_STEPS if blur_sigma_px > 0.25)]
    pad = int(np.ceil(3 * max(scales)))  # what the blurs read beyond the crop
    h, w = mask.shape
    by, bx = slice(max(ys.start - pad, 0), min(ys.stop + pad, h)), slice(max(xs.start - pad, 0), min(xs.stop + pad, w))
    inner = (slice(ys.start - by.start, ys.stop - by.start), slice(xs.start - bx.start, xs.stop - bx.start))
    wide = clean[by, bx].astype(np.float64)
    d = degraded[ys, xs].astype(np.float64)
    y = d[m] - d[ring].mean(0)
    best = None
    for scale in scales:
        cs = (wide if scale == 0 else gaussian_filter(wide, (scale, scale, 0), mode="nearest"))[inner]
        x = cs[m] - cs[ring].mean(0)
        xx = float((x * x).sum())
        if xx == 0.0:
            continue
        a = float((x * y).sum()) / xx
        sigma = max(float(np.sqrt(((y - a * x) ** 2).mean())), QUANTISATION_NOISE)
        found = Discernibility(a, a * float(np.sqrt((x * x).mean(0)).max()), a * float(np.sqrt(xx)) / sigma, scale)
        if best is None or found.margin > best.margin:
            best = found
    return best or Discernibility(0.0, 0.0, 0.0)  # not different from its surroundings even when clean


@dataclass(frozen=True)
class Judged:
    """One object under a degradation, per selected frame."""

    id: int
    owned: list[int]  # its clean visible pixels x the ownership share (see module doc)
    margin: list[float | None]  # Discernibility.margin on the delivered frame where owned > 0; None: not tested


def judge(src: Source, out: Output, delivered: np.ndarray) -> list[Judged]:
    """Every object's ownership-share pixels and, where it has any, the :func:`discernibility`
    margin on the ``delivered`` frames, (F, H, W, 3) uint8: what the user receives, the
    degraded frames through the sample's H.264 video (``Degraded.mp4``). None where there is
    nothing to compare with (see :func:`discernibility`)."""
    episode, frames = src.episode, src.frames
    moved = out.instance is not None
    masks = out.instance if moved else src.buffers.instance[frames]
    clean = src.buffers.rgb[frames] if out.clean is None else out.clean
    ref_counts, ev_counts = (
        _id_counts(ids, [o.id for o in episode.scene.objects]) for ids in (out.reference, out.evidence)
    )
    result = []
    for obj in episode.scene.objects:
        counts = episode.visible_pixels(obj.id)
        owned, margin = [], []
        for j, f in enumerate(frames):
            n_ref, n_ev = ref_counts[j].get(obj.id, 0), ev_counts[j].get(obj.id, 0)
            share = 1.0 if n_ref == 0 else min(1.0, n_ev / n_ref)
            n = int(round(counts[f] * share))
            test = None
            if n > 0:
                blur = 0.0 if out.blur_sigma_px is None else out.blur_sigma_px[j]
                mask = masks[j] == obj.id
                # the rendered masks are every variant's but the one that moves pixels: kept for the others
                around = surround(mask) if moved else src.memo(("surround", f, obj.id), lambda m=mask: surround(m))
                test = discernibility(clean[j], delivered[j], mask, blur, around) if around else None
            owned.append(n)
            margin.append(None if test is None else test.margin)
        result.append(Judged(obj.id, owned, margin))
    return result


def _id_counts(ids: np.ndarray, objects: list[int]) -> list[dict[int, int]]:
    """Per frame of ``ids`` (F, H, W; object ids, or ``raster.NO_ID``), how many pixels show each
    of ``objects``: one count of the frame's values instead of one comparison per object."""
    out = []
    for frame in ids:
        counts = np.bincount(frame.ravel() - raster.NO_ID)
        out.append({o: int(counts[o - raster.NO_ID]) if o - raster.NO_ID < len(counts) else 0 for o in objects})
    return out


def counted(owned: int, margin: float | None, min_pixels: int) -> int:
    """The pixels an object counts in one frame (see module doc): ``owned`` where it is
    discernible (``margin`` >= 1) or there is nothing to compare with (None), a glimpse of at
    most ``min_pixels - 1`` where it is faint, 0 where it cannot be made out."""
    if margin is None or margin >= 1.0:
        return owned
    return min(owned, min_pixels - 1) if margin >= FAINT_MARGIN else 0


def recount(src: Source, out: Output, delivered: np.ndarray) -> list[ObjectVisibility]:
    """Visible pixels per object per selected frame under the degradation (see module doc):
    the ownership share, then :func:`counted` by the :func:`discernibility` margin on the
    ``delivered`` frames (see :func:`judge`)."""
    min_pixels = src.episode.visibility_rule.min_pixels
    return [
        ObjectVisibility(id=j.id, pixels=[counted(n, m, min_pixels) for n, m in zip(j.owned, j.margin)])
        for j in judge(src, out, delivered)
    ]


def to_uint8(linear: list[np.ndarray]) -> np.ndarray:
    return np.stack([linear_to_srgb(x) for x in linear])
