"""3D Gaussians from an episode's rendered RGB-D frames and cameras.

Every (subsampled) pixel with a surface becomes one flat Gaussian (a surfel) at its
back-projected point: its two long axes are the pixel's footprint on the surface (the 3D
offsets to the neighbouring pixels, taken on the side without a depth or instance jump, so
slanted surfaces get stretched surfels and silhouettes do not bridge to the background), its
short axis (THICKNESS of the shorter one) is along the surface normal, its colour is the
pixel's linear RGB, and it keeps the pixel's object id. Re-projected into its own view its
screen covariance is ``(KAPPA * stride)^2 I`` (before gsplat's ``eps2d`` low-pass).

Several keyframes are fused so the whole trajectory is covered: keyframes are chosen greedily
to cover the most not-yet-covered pixels of all frames (a pixel is covered by a keyframe when
its 3D point re-projects there onto the same object at the same depth), and each keyframe only
adds the pixels no earlier keyframe sees. Object Gaussians are stored in their object's frame
(the room's in the world frame), so they follow the episode's object motion at any time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from synth.core.camera import depth_to_camera, to_camera, to_world
from synth.core.render_types import FrameBuffers
from synth.core.rotations import matrix_quaternion, turn_quaternions
from synth.core.scene import ROOM_ID, Episode
from synth.degradations.path import camera_at, object_poses_at

KAPPA = 0.5  # surfel std-dev in units of the pixel footprint
MAX_STRETCH = 4.0  # longest surfel axis, in frontal pixel footprints (1/cos of ~75 degrees)
THICKNESS = 0.05  # normal axis relative to the shorter tangent axis
COVER_SAMPLE = 4  # pixel stride of the coverage test used to choose keyframes
MAX_GAUSSIANS_PER_FRAME = 80_000
PARTICLE_ID = -1  # id of Gaussians that are not scene surfaces (rain, snow)
# what an episode's Gaussians keep for its variants while they are made (a frame's anchored
# Gaussians, clean re-render and ids: ~7.5 MB at 448x336, so a 16-frame clip fits; a long tour
# keeps its first frames and makes the rest again per variant)
MEMO_BYTES = 128 * 2**20
Kept = TypeVar("Kept")


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB uint8 -> linear float32 in [0, 1] (inverse of Blender's 'Standard' transform)."""
    x = np.asarray(rgb, np.float32) / 255.0
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """Linear float RGB -> sRGB uint8, clipping to [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    s = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.round(s * 255.0).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images in dB (inf when identical)."""
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


@dataclass(frozen=True)
class Gaussians:
    """N anisotropic 3D Gaussians (gsplat's parameterisation)."""

    means: np.ndarray  # (N, 3) float32
    quats: np.ndarray  # (N, 4) float32 (w, x, y, z)
    scales: np.ndarray  # (N, 3) float32 standard deviations along the rotated axes
    opacities: np.ndarray  # (N,) float32
    colors: np.ndarray  # (N, 3) float32 linear RGB radiance
    ids: np.ndarray  # (N,) int32 object id (0 = room, PARTICLE_ID = not a surface)

    def __len__(self) -> int:
        return len(self.means)

    def with_(self, **fields: np.ndarray) -> Gaussians:
        return dataclasses.replace(self, **fields)

    def take(self, index: np.ndarray) -> Gaussians:
        return Gaussians(*(getattr(self, f.name)[index] for f in dataclasses.fields(self)))

    @staticmethod
    def concat(parts: list[Gaussians]) -> Gaussians:
        return Gaussians(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(Gaussians)))


def _pose_arrays(poses: dict[int, tuple[float, np.ndarray]], ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-Gaussian yaw and translation (identity for the room and particles)."""
    size = max([0, *poses, int(ids.max(initial=0))]) + 1
    yaw, pos = np.zeros(size), np.zeros((size, 3))
    for oid, (y, p) in poses.items():
        yaw[oid], pos[oid] = y, p
    idx = np.where(ids > ROOM_ID, ids, 0)
    return yaw[idx], pos[idx]


def move_points(
    points: np.ndarray, ids: np.ndarray, poses: dict[int, tuple[float, np.ndarray]], inverse: bool = False
) -> np.ndarray:
    """Object-local -> world points with ``poses`` (id -> (yaw, position)), or world -> local."""
    yaw, pos = _pose_arrays(poses, ids)
    c, s = np.cos(yaw), np.sin(yaw)
    if inverse:
        x, y = points[:, 0] - pos[:, 0], points[:, 1] - pos[:, 1]
        return np.stack([c * x + s * y, -s * x + c * y, points[:, 2] - pos[:, 2]], 1)
    x, y = points[:, 0], points[:, 1]
    return np.stack([c * x - s * y + pos[:, 0], s * x + c * y + pos[:, 1], points[:, 2] + pos[:, 2]], 1)


def pose(g: Gaussians, poses: dict[int, tuple[float, np.ndarray]], inverse: bool = False) -> Gaussians:
    """Object-local -> world Gaussians with ``poses``, or world -> local (the room's and the
    particles' stay as they are: their frame is the world's)."""
    idx = np.nonzero(g.ids > ROOM_ID)[0]
    if idx.size == 0:
        return g
    ids = g.ids[idx]
    yaw = _pose_arrays(poses, ids)[0]
    means, quats = g.means.copy(), g.quats.copy()
    means[idx] = move_points(g.means[idx], ids, poses, inverse)
    quats[idx] = turn_quaternions(-yaw if inverse else yaw, g.quats[idx])
    return g.with_(means=means, quats=quats)


def stride_for(width: int, height: int) -> int:
    """Pixel stride that keeps one frame under MAX_GAUSSIANS_PER_FRAME Gaussians."""
    return max(1, int(np.ceil(np.sqrt(width * height / MAX_GAUSSIANS_PER_FRAME))))


def _tangent(P: np.ndarray, inst: np.ndarray, axis: int, step: int, frontal: np.ndarray) -> np.ndarray:
    """3D offset to the neighbouring sample along image ``axis`` on the smooth side, else the
    frontal footprint; capped at MAX_STRETCH frontal footprints. Pixels with no surface (sky seen
    through a window: infinite depth) have no smooth side."""
    diffs, jumps = [], []
    for sign in (1, -1):
        Q = np.roll(P, -sign * step, axis=axis)
        same = np.roll(inst, -sign * step, axis=axis) == inst
        edge = np.zeros(inst.shape, bool)
        if sign == 1:
            edge[(slice(None),) * axis + (slice(-step, None),)] = True
        else:
            edge[(slice(None),) * axis + (slice(None, step),)] = True
        with np.errstate(invalid="ignore"):  # inf - inf where both have no surface
            d = sign * (Q - P)
            length = np.linalg.norm(d, axis=-1)
        bad = edge | ~same | ~np.isfinite(length) | (length > MAX_STRETCH * frontal * step)
        diffs.append(d)
        jumps.append(np.where(bad, np.inf, np.abs(d[..., 2])))
    pick = jumps[1] < jumps[0]
    d = np.where(pick[..., None], diffs[1], diffs[0])
    smooth = np.isfinite(np.minimum(*jumps))
    unit = np.zeros(3)
    unit[1 - axis] = 1.0  # image x -> camera x, image y -> camera y
    with np.errstate(invalid="ignore"):  # 0 * inf where there is no surface
        return np.where(smooth[..., None], d, unit * (frontal * step)[..., None])


def frame_surfels(
    depth: np.ndarray,
    rgb: np.ndarray,
    instance: np.ndarray,
    K: np.ndarray,
    world_to_camera: np.ndarray,
    stride: int = 1,
    mask: np.ndarray | None = None,
) -> Gaussians:
    """World-space surfels of one RGB-D frame, one per ``stride``-th pixel (where ``mask``)."""
    K, T = np.asarray(K, float), np.asarray(world_to_camera, float)
    P = depth_to_camera(depth, K)
    frontal = depth / K[0, 0]
    a = _tangent(P, instance, 1, stride, frontal)
    b = _tangent(P, instance, 0, stride, frontal)
    keep = np.zeros(depth.shape, bool)
    keep[::stride, ::stride] = np.isfinite(depth[::stride, ::stride])
    if mask is not None:
        keep &= mask
    P, a, b = P[keep], a[keep], b[keep]
    # principal axes of kappa^2 (a a^T + b b^T) in the tangent plane, in closed form
    la = np.linalg.norm(a, axis=1)
    e1 = a / la[:, None]
    b1 = (b * e1).sum(1)
    e2 = b - b1[:, None] * e1
    b2 = np.maximum(np.linalg.norm(e2, axis=1), 1e-12)
    e2 /= b2[:, None]
    m11, m12, m22 = la**2 + b1**2, b1 * b2, b2**2
    half = np.sqrt(((m11 - m22) / 2) ** 2 + m12**2)
    theta = 0.5 * np.arctan2(2 * m12, m11 - m22)
    c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
    u1, u2 = c * e1 + s * e2, c * e2 - s * e1
    axes = np.stack([u1, u2, np.cross(u1, u2)], axis=2)  # columns; a proper rotation
    sigma12 = KAPPA * np.sqrt(np.maximum(np.stack([(m11 + m22) / 2 + half, (m11 + m22) / 2 - half], 1), 1e-12))
    thin = THICKNESS * sigma12[:, 1:]
    return Gaussians(
        means=to_world(T, P).astype(np.float32),
        quats=matrix_quaternion(T[:3, :3].T @ axes).astype(np.float32),
        scales=np.concatenate([sigma12, thin], 1).astype(np.float32),
        opacities=np.ones(len(P), np.float32),
        colors=srgb_to_linear(rgb[keep]),
        ids=instance[keep].astype(np.int32),
    )


def _seen(
    points: np.ndarray,
    ids: np.ndarray,
    episode: Episode,
    buffers: FrameBuffers,
    src: int,
    dst: int,
    slope: np.ndarray | None = None,
) -> np.ndarray:
    """Which world points of frame ``src`` (with their object ids) frame ``dst`` sees: moved
    with their objects, they project inside ``dst`` onto the same id at the same depth (within
    2% plus the local depth slope, ``_depth_slope`` of ``dst``, passed in when reused)."""
    local = move_points(points, ids, object_poses_at(episode, episode.frames[src].time), inverse=True)
    moved = move_points(local, ids, object_poses_at(episode, episode.frames[dst].time))
    frame = episode.frames[dst]
    K = np.asarray(frame.camera.K)
    pc = to_camera(frame.camera.world_to_camera, moved)
    z = pc[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.round(K[0, 0] * pc[:, 0] / z + K[0, 2])
        v = np.round(K[1, 1] * pc[:, 1] / z + K[1, 2])
    h, w = buffers.depth.shape[1:]
    inside = (z > 0.05) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    out = np.zeros(len(points), bool)
    ui, vi = u[inside].astype(int), v[inside].astype(int)
    d = buffers.depth[dst][vi, ui]
    grad = (_depth_slope(buffers.depth[dst]) if slope is None else slope)[vi, ui]
    out[inside] = (buffers.instance[dst][vi, ui] == ids[inside]) & (np.abs(d - z[inside]) <= 0.02 * z[inside] + grad)
    return out


def _depth_slope(depth: np.ndarray) -> np.ndarray:
    """Largest depth change to a 4-neighbour on the same surface scale (for depth tolerances)."""
    d = np.where(np.isfinite(depth), depth, 0.0)
    gx = np.abs(np.diff(d, axis=1, append=d[:, -1:]))
    gy = np.abs(np.diff(d, axis=0, append=d[-1:]))
    return np.minimum(np.maximum(gx, gy), 0.25 * np.where(np.isfinite(depth), depth, 0.0))


def world_points(episode: Episode, buffers: FrameBuffers, index: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """World points and ids of every ``step``-th pixel of a frame that hit a surface."""
    cam = episode.frames[index].camera
    P = depth_to_camera(buffers.depth[index][::step, ::step], np.asarray(cam.K) / [[step], [step], [1]])
    ok = np.isfinite(P[..., 2])
    return to_world(cam.world_to_camera, P[ok]), buffers.instance[index][::step, ::step][ok].astype(np.int32)


def choose_keyframes(
    episode: Episode, buffers: FrameBuffers, max_keyframes: int = 8, target: float = 0.003
) -> tuple[list[int], float]:
    """Greedy keyframes covering every frame's pixels; returns them and the largest share of a
    frame's (sampled) pixels that none of them sees."""
    n = len(episode.frames)
    pts = [world_points(episode, buffers, f, COVER_SAMPLE) for f in range(n)]
    slopes = [_depth_slope(d) for d in buffers.depth]
    cover = [[_seen(*pts[f], episode, buffers, f, k, slopes[k]) for f in range(n)] for k in range(n)]
    covered = [np.zeros(len(p[0]), bool) for p in pts]
    keys: list[int] = []
    worst = 1.0
    while len(keys) < min(max_keyframes, n):
        gains = [-1 if k in keys else sum(int((cover[k][f] & ~covered[f]).sum()) for f in range(n)) for k in range(n)]
        k = int(np.argmax(gains))
        keys.append(k)
        for f in range(n):
            covered[f] |= cover[k][f]
        worst = max(1.0 - c.mean() if len(c) else 0.0 for c in covered)
        if worst <= target:
            break
    return keys, worst


def local_surfels(
    episode: Episode, buffers: FrameBuffers, index: int, stride: int, mask: np.ndarray | None = None
) -> Gaussians:
    """Surfels of frame ``index`` in object-local frames."""
    b, frame = buffers, episode.frames[index]
    g = frame_surfels(
        b.depth[index], b.rgb[index], b.instance[index], frame.camera.K, frame.camera.world_to_camera, stride, mask
    )
    return pose(g, object_poses_at(episode, frame.time), inverse=True)


@dataclass
class EpisodeSplats:
    """Gaussians of an episode: fused keyframes, plus each frame's own pixels on demand. What
    every degraded variant of the episode needs per frame (:meth:`anchored`, :meth:`memo`) is
    kept here, up to ``MEMO_BYTES``, so that one model shared by the variants computes it once."""

    episode: Episode
    buffers: FrameBuffers
    keyframes: list[int]
    fused: Gaussians  # keyframe surfels, object Gaussians in their object's frame
    stride: int
    uncovered: float  # worst share of a frame's pixels no keyframe sees (coverage test)
    kept: dict[tuple, Any] = dataclasses.field(default_factory=dict, repr=False)  # see memo
    kept_bytes: int = dataclasses.field(default=0, repr=False)  # of the arrays in ``kept``

    def memo(self, key: tuple, make: Callable[[], Kept]) -> Kept:
        """``make()``, kept under ``key`` for the next caller while the kept values (numpy arrays
        and Gaussians) hold under ``MEMO_BYTES`` together; beyond that, made again each time."""
        if key in self.kept:
            return self.kept[key]
        value = make()
        size = _nbytes(value)
        if self.kept_bytes + size <= MEMO_BYTES:
            self.kept[key] = value
            self.kept_bytes += size
        return value

    def anchored(self, index: int) -> Gaussians:
        """Frame ``index``'s own surfels plus the fused ones it does not see (they fill what a
        nearby pose disoccludes): re-renders frame ``index`` as rendered, covers its neighbourhood."""
        return self.memo(("anchored", index), lambda: self._anchored(index))

    def _anchored(self, index: int) -> Gaussians:
        t = self.episode.frames[index].time
        world = pose(self.fused, object_poses_at(self.episode, t))
        seen = _seen(world.means.astype(np.float64), world.ids, self.episode, self.buffers, index, index)
        own = local_surfels(self.episode, self.buffers, index, self.stride)
        return Gaussians.concat([own, self.fused.take(~seen)])

    def at(self, t: float, local: Gaussians | None = None) -> Gaussians:
        """``local`` (default: the fused keyframes) posed in the world at time ``t``."""
        return pose(self.fused if local is None else local, object_poses_at(self.episode, t))

    def camera(self, t: float) -> np.ndarray:
        return camera_at(self.episode, t)


def _nbytes(value: Any) -> int:
    """Bytes of the arrays in a kept value (an array, a dataclass of them, or a tuple)."""
    if dataclasses.is_dataclass(value):
        return sum(_nbytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, tuple):
        return sum(_nbytes(v) for v in value)
    return int(getattr(value, "nbytes", 0))


def build_splats(episode: Episode, buffers: FrameBuffers, max_keyframes: int = 8) -> EpisodeSplats:
    """Fuse greedily chosen keyframes into one Gaussian model of the episode. Objects move as
    rigid bodies turning about +Z: ``ValueError`` for an episode with tilted object poses."""
    tilted = sorted({p.id for f in episode.frames for p in f.object_poses if not p.upright})
    if tilted:
        raise ValueError(f"degradations move objects by yaw only; objects {tilted} are tilted (rotation not about +Z)")
    stride = stride_for(episode.width, episode.height)
    keys, uncovered = choose_keyframes(episode, buffers, max_keyframes)
    parts: list[Gaussians] = []
    for i, k in enumerate(keys):
        mask = None
        if i:
            pts, ids = world_points(episode, buffers, k, 1)
            seen = np.zeros(len(ids), bool)
            for j in keys[:i]:
                seen |= _seen(pts, ids, episode, buffers, k, j)
            mask = np.zeros(buffers.depth.shape[1:], bool)
            mask[np.isfinite(buffers.depth[k])] = ~seen
        parts.append(local_surfels(episode, buffers, k, stride, mask))
    return EpisodeSplats(episode, buffers, keys, Gaussians.concat(parts), stride, uncovered)
