"""Gaussian-splatting rasteriser that follows gsplat 1.5.3's rules, on CPU.

Projection mirrors ``gsplat.cuda._torch_impl._fully_fused_projection`` (EWA with the
Jacobian clamped to 1.3x the field of view, ``eps2d`` low-pass, 3.33-sigma radii); compositing
mirrors gsplat's ``rasterize_to_pixels`` kernel: Gaussians sorted by camera depth, per pixel
front to back, ``alpha = min(0.999, opacity * exp(-sigma))``, skipped when ``sigma < 0`` or
``alpha < 1/255``, and the pixel is done (exclusive) once the transmittance would drop to 1e-4.

Pixel coordinates follow OpenCV (the top-left pixel's centre is (0, 0)); gsplat samples pixel
centres at ``j + 0.5``, so its K is ours shifted by half a pixel (:func:`gsplat_K`).

Backends: numba (parallel over 16x16 tiles) when it imports, otherwise numpy (vectorised over
Gaussian-pixel pairs per row band, identical rules); gsplat's CUDA rasteriser when torch sees a
CUDA device (gsplat is imported lazily, so nothing CUDA is touched on a CPU machine).
``$SYNTH_RASTERISER`` (numba, numpy or cuda) overrides the automatic choice, e.g. to reproduce
a CPU machine's frames on a GPU machine.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from typing import Literal

import numpy as np

from synth.core.rotations import quaternion_matrix
from synth.degradations.gaussians import Gaussians

try:
    import numba
except ImportError:  # pragma: no cover - depends on the install
    numba = None

ALPHA_MAX = 0.999  # gsplat 1.5.3 (the original 3DGS used 0.99)
ALPHA_MIN = 1.0 / 255.0
T_MIN = 1e-4
EPS2D = 0.3
TILE = 4  # gsplat uses 16; the tile size changes only speed, never the image
MAX_IDS = 8  # distinct ids tracked per pixel
ROW_MARGIN = 0.01  # a Gaussian is culled from a row of a tile where its least falloff there exceeds smax by this
NO_ID = -1

Backend = Literal["auto", "numba", "numpy", "cuda"]
BACKENDS: tuple[str, ...] = ("auto", "numba", "numpy", "cuda")


@dataclass
class Projection:
    """Gaussians projected into one view (OpenCV pixel coordinates)."""

    means2d: np.ndarray  # (N, 2)
    conics: np.ndarray  # (N, 3) inverse 2D covariance (xx, xy, yy)
    depths: np.ndarray  # (N,) camera-space z
    radii: np.ndarray  # (N, 2) int32 pixel radii, 0 = culled
    compensations: np.ndarray  # (N,) sqrt(det(cov2d) / det(cov2d + eps2d)): gsplat's antialiasing factor
    widening: np.ndarray  # (N,) sqrt(det(cov2d + eps2d) / det(cov2d + eps2d + extra_var)): keeps integrated opacity


@dataclass
class Image:
    """What compositing returns; colours are premultiplied (no background added)."""

    color: np.ndarray  # (H, W, C) float32, sum of weight * colour
    alpha: np.ndarray  # (H, W) float32, 1 - final transmittance
    depth: np.ndarray  # (H, W) float32, expected depth sum(w z) / alpha; inf where alpha == 0
    ids: np.ndarray  # (H, W) int32, id with the largest summed weight (NO_ID where none)
    id_weight: np.ndarray  # (H, W) float32, that id's summed weight


def covariances(quats: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """World covariances R S S^T R^T, (N, 3, 3)."""
    M = quaternion_matrix(quats, normalize=True) * scales[..., None, :]
    return M @ np.swapaxes(M, -1, -2)


def project(
    means: np.ndarray,
    quats: np.ndarray,
    scales: np.ndarray,
    viewmat: np.ndarray,
    K: np.ndarray,
    width: int,
    height: int,
    eps2d: float = EPS2D,
    near: float = 0.01,
    far: float = 1e10,
    extra_var: np.ndarray | None = None,
) -> Projection:
    """EWA projection of world Gaussians into a pinhole view (gsplat's fully fused projection:
    ``cov2d = J W Sigma W^T J^T + eps2d I`` with the Jacobian J at the clamped mean).
    ``extra_var`` (N,) adds isotropic screen variance in px^2 (e.g. a circle of confusion)."""
    W = np.asarray(viewmat, np.float64)[:3, :3].astype(np.float32)
    mc = (means @ W.T + viewmat[:3, 3]).astype(np.float32)
    fx, fy, cx, cy = (float(v) for v in (K[0, 0], K[1, 1], K[0, 2], K[1, 2]))
    gcx, gcy = cx + 0.5, cy + 0.5  # gsplat's principal point
    tz = mc[:, 2]
    tan_x, tan_y = 0.5 * width / fx, 0.5 * height / fy
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tx = tz * np.clip(mc[:, 0] / tz, -(gcx / fx + 0.3 * tan_x), (width - gcx) / fx + 0.3 * tan_x)
        ty = tz * np.clip(mc[:, 1] / tz, -(gcy / fy + 0.3 * tan_y), (height - gcy) / fy + 0.3 * tan_y)
        # rows of J W (2 x 3 per Gaussian), then T = J W R S and cov2d = T T^T
        j0 = (fx / tz)[:, None] * W[0] - (fx * tx / tz**2)[:, None] * W[2]
        j1 = (fy / tz)[:, None] * W[1] - (fy * ty / tz**2)[:, None] * W[2]
        M = quaternion_matrix(quats, normalize=True) * scales[:, None, :]
        t0 = np.einsum("nk,nkc->nc", j0, M)
        t1 = np.einsum("nk,nkc->nc", j1, M)
        a = (t0 * t0).sum(1)
        b = (t0 * t1).sum(1)
        c = (t1 * t1).sum(1)
        means2d = np.stack([fx * mc[:, 0] / tz + cx, fy * mc[:, 1] / tz + cy], axis=1)
    det_orig = a * c - b * b
    a, c = a + eps2d, c + eps2d
    det_eps = a * c - b * b
    if extra_var is not None:
        a, c = a + extra_var, c + extra_var
    det = a * c - b * b
    valid = (det > 0) & (tz > near) & (tz < far)
    det = np.maximum(det, 1e-10)
    conics = np.stack([c / det, -b / det, a / det], axis=1)
    with np.errstate(invalid="ignore"):
        radii = np.ceil(3.33 * np.sqrt(np.stack([a, c], axis=1)))
        g = means2d + 0.5  # gsplat pixel coordinates for its inside test
        inside = (
            (g[:, 0] + radii[:, 0] > 0)
            & (g[:, 0] - radii[:, 0] < width)
            & (g[:, 1] + radii[:, 1] > 0)
            & (g[:, 1] - radii[:, 1] < height)
        )
        comp = np.sqrt(np.clip(det_orig / det_eps, 0.0, None))
        widening = np.sqrt(np.clip(det_eps / det, 0.0, 1.0))
    keep = valid & inside & np.isfinite(means2d).all(axis=1)
    radii = np.where(keep[:, None], np.nan_to_num(radii), 0).astype(np.int32)
    return Projection(
        means2d=np.nan_to_num(means2d).astype(np.float32),
        conics=conics.astype(np.float32),
        depths=tz,
        radii=radii,
        compensations=comp.astype(np.float32),
        widening=widening.astype(np.float32),
    )


def in_view(
    means: np.ndarray,
    scales: np.ndarray,
    viewmat: np.ndarray,
    K: np.ndarray,
    width: int,
    height: int,
    eps2d: float = EPS2D,
    near: float = 0.01,
    far: float = 1e10,
) -> np.ndarray:
    """Indices of the world Gaussians (``means``, ``scales``) that can reach the image: a
    conservative bound on :func:`project`'s radii (its Jacobian rows are at most
    ``f / z * sqrt(1 + lim^2)`` long for the clamp ``lim``, the covariance's largest axis is the
    largest scale), 2 px wider, so what it drops :func:`project` culls too. It costs a third of
    a projection: worth it before projecting a cloud mostly out of view (rain, snow)."""
    viewmat = np.asarray(viewmat, np.float64)
    mc = means @ viewmat[:3, :3].T + viewmat[:3, 3]
    fx, fy, cx, cy = (float(v) for v in (K[0, 0], K[1, 1], K[0, 2], K[1, 2]))
    z = mc[:, 2].astype(np.float64)
    ok = (z > near - 1e-6) & (z < far * (1 + 1e-6))  # float32 depths round either way in project
    z = np.where(ok, z, 1.0)
    lim_x = max(cx + 0.5, width - cx - 0.5) / fx + 0.15 * width / fx
    lim_y = max(cy + 0.5, height - cy - 0.5) / fy + 0.15 * height / fy
    s = np.abs(scales).max(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        rx = 3.33 * np.sqrt((s * fx / z) ** 2 * (1 + lim_x**2) + eps2d) + 2.0
        ry = 3.33 * np.sqrt((s * fy / z) ** 2 * (1 + lim_y**2) + eps2d) + 2.0
        u = fx * mc[:, 0] / z + cx + 0.5
        v = fy * mc[:, 1] / z + cy + 0.5
        ok &= (u + rx > 0) & (u - rx < width) & (v + ry > 0) & (v - ry < height)
    return np.nonzero(ok)[0]


def _pixel_ranges(p: Projection, opacities: np.ndarray, width: int, height: int):
    """Depth-sorted visible Gaussians and the pixel box each can reach with alpha >= 1/255
    (gsplat's opacity-aware extent, arXiv:2402.00525 B.2: nothing outside it contributes)."""
    vis = (p.radii > 0).any(axis=1) & (opacities >= ALPHA_MIN)
    idx = np.nonzero(vis)[0]
    idx = idx[np.argsort(p.depths[idx], kind="stable")]
    op = np.minimum(opacities[idx], 1.0)
    extend = np.minimum(3.33, np.sqrt(2.0 * np.log(op / ALPHA_MIN)))
    # the conic's inverse gives the blurred covariance diagonal back
    a, b, c = p.conics[idx, 0].astype(np.float64), p.conics[idx, 1], p.conics[idx, 2]
    det = a * c - b * b
    sx, sy = np.sqrt(c / det), np.sqrt(a / det)
    rx = np.minimum(np.ceil(extend * sx), p.radii[idx, 0])
    ry = np.minimum(np.ceil(extend * sy), p.radii[idx, 1])
    m = p.means2d[idx]
    x0 = np.clip(np.ceil(m[:, 0] - rx), 0, width).astype(np.int32)
    x1 = np.clip(np.floor(m[:, 0] + rx), -1, width - 1).astype(np.int32)
    y0 = np.clip(np.ceil(m[:, 1] - ry), 0, height).astype(np.int32)
    y1 = np.clip(np.floor(m[:, 1] + ry), -1, height - 1).astype(np.int32)
    ok = (x1 >= x0) & (y1 >= y0)
    return idx[ok], x0[ok], x1[ok], y0[ok], y1[ok]


# --- numba backend --------------------------------------------------------------------------
if numba is not None:

    @numba.njit(cache=True)
    def _bin_tiles(x0, x1, y0, y1, tiles_x, n_tiles):  # pragma: no cover - compiled
        counts = np.zeros(n_tiles + 1, np.int64)
        for k in range(len(x0)):
            for ty in range(y0[k] // TILE, y1[k] // TILE + 1):
                for tx in range(x0[k] // TILE, x1[k] // TILE + 1):
                    counts[ty * tiles_x + tx + 1] += 1
        offsets = np.cumsum(counts)
        fill = offsets[:-1].copy()
        lists = np.empty(offsets[-1], np.int32)
        for k in range(len(x0)):  # in depth order, so every tile's list is depth-sorted
            for ty in range(y0[k] // TILE, y1[k] // TILE + 1):
                for tx in range(x0[k] // TILE, x1[k] // TILE + 1):
                    t = ty * tiles_x + tx
                    lists[fill[t]] = k
                    fill[t] += 1
        return offsets, lists

    @numba.njit(parallel=True, cache=True)
    def _composite_tiles(
        offsets,
        lists,
        xy,
        conic,
        opac,
        smax,
        colors,
        depth,
        ids,
        width,
        height,
        tiles_x,
        stride,
        margin,
        out_c,
        out_a,
        out_d,
        out_id,
        out_w,
    ):  # pragma: no cover - compiled
        n_tiles = len(offsets) - 1
        n_ch = colors.shape[1]
        longest = 0
        for t in range(n_tiles):
            longest = max(longest, offsets[t + 1] - offsets[t])
        rows = n_tiles // tiles_x
        for task in numba.prange(rows):  # a row of tiles per task (its scratch made once), rows spread
            ty = (task * stride) % rows
            slot_id = np.empty(MAX_IDS, np.int32)
            slot_w = np.empty(MAX_IDS, np.float32)
            acc = np.empty(n_ch, np.float32)
            row = np.empty(longest, np.int32)
            for tx in range(tiles_x):
                start, end = offsets[ty * tiles_x + tx], offsets[ty * tiles_x + tx + 1]
                x_lo, x_hi = tx * TILE, min((tx + 1) * TILE, width) - 1
                for py in range(ty * TILE, min((ty + 1) * TILE, height)):
                    # the tile's Gaussians whose falloff reaches this row's pixel centres: the least
                    # sigma along the row (a parabola in dx, clamped to the row) within smax + margin
                    # (ROW_MARGIN: far beyond float32 rounding); the others are skipped at every pixel
                    n_row = 0
                    for j in range(start, end):
                        k = lists[j]
                        a, b, c = np.float64(conic[k, 0]), np.float64(conic[k, 1]), np.float64(conic[k, 2])
                        if a > 0.0 and a * c - b * b > 0.0:
                            dy = np.float64(xy[k, 1]) - py
                            mx = np.float64(xy[k, 0])
                            dx = min(max(-b * dy / a, mx - x_hi), mx - x_lo)
                            if 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy > smax[k] + margin:
                                continue
                        row[n_row] = k
                        n_row += 1
                    fy = np.float32(py)  # float32 pixel coordinates keep the Gaussian's falloff in float32
                    for px in range(x_lo, x_hi + 1):
                        fx = np.float32(px)
                        T = np.float32(1.0)
                        for ch in range(n_ch):
                            acc[ch] = 0.0
                        dsum = np.float32(0.0)
                        n_slots = 0
                        for j in range(n_row):
                            k = row[j]
                            dx = xy[k, 0] - fx
                            dy = xy[k, 1] - fy
                            sigma = (
                                np.float32(0.5) * (conic[k, 0] * dx * dx + conic[k, 2] * dy * dy)
                                + conic[k, 1] * dx * dy
                            )
                            if sigma < 0.0 or sigma > smax[k]:  # alpha < 1/255 without the exp
                                continue
                            alpha = min(ALPHA_MAX, opac[k] * np.exp(-sigma))
                            if alpha < ALPHA_MIN:
                                continue
                            next_T = T * (1.0 - alpha)
                            if next_T <= T_MIN:
                                break
                            w = alpha * T
                            for ch in range(n_ch):
                                acc[ch] += colors[k, ch] * w
                            dsum += depth[k] * w
                            gid = ids[k]
                            s = 0
                            while s < n_slots and slot_id[s] != gid:
                                s += 1
                            if s == n_slots:
                                if n_slots < MAX_IDS:
                                    n_slots += 1
                                    slot_id[s] = gid
                                    slot_w[s] = 0.0
                                else:
                                    s = MAX_IDS - 1
                            slot_w[s] += w
                            T = next_T
                        a = 1.0 - T
                        for ch in range(n_ch):
                            out_c[py, px, ch] = acc[ch]
                        out_a[py, px] = a
                        out_d[py, px] = dsum / a if a > 0.0 else np.inf
                        best = -1
                        for s in range(n_slots):
                            if best < 0 or slot_w[s] > slot_w[best]:
                                best = s
                        out_id[py, px] = slot_id[best] if best >= 0 else NO_ID
                        out_w[py, px] = slot_w[best] if best >= 0 else 0.0


def _spread(n: int) -> int:
    """A stride coprime to ``n`` near its square root: ``(i * stride) % n`` visits 0..n-1 in a
    spread order, so that the contiguous blocks of a parallel loop's iterations each thread gets
    hold rows from all over the image (the floor and the ceiling cost differently)."""
    return next((p for p in range(max(2, math.isqrt(n)), n) if math.gcd(p, n) == 1), 1)


def _rasterize_numba(order, x0, x1, y0, y1, p, opacities, colors, ids, width, height, margin=None) -> Image:
    """``margin``: of the per-row cull (default ``ROW_MARGIN``; ``np.inf`` culls nothing)."""
    tiles_x, tiles_y = -(-width // TILE), -(-height // TILE)
    offsets, lists = _bin_tiles(x0, x1, y0, y1, tiles_x, tiles_x * tiles_y)
    n_ch = colors.shape[1]
    out = Image(
        color=np.zeros((height, width, n_ch), np.float32),
        alpha=np.zeros((height, width), np.float32),
        depth=np.zeros((height, width), np.float32),
        ids=np.zeros((height, width), np.int32),
        id_weight=np.zeros((height, width), np.float32),
    )
    _composite_tiles(
        offsets,
        lists,
        np.ascontiguousarray(p.means2d[order]),
        np.ascontiguousarray(p.conics[order]),
        np.ascontiguousarray(opacities[order], dtype=np.float32),
        np.log(255.0 * opacities[order].astype(np.float64)) + 1e-3,
        np.ascontiguousarray(colors[order], dtype=np.float32),
        np.ascontiguousarray(p.depths[order]),
        np.ascontiguousarray(ids[order], dtype=np.int32),
        width,
        height,
        tiles_x,
        _spread(tiles_y),
        ROW_MARGIN if margin is None else margin,
        out.color,
        out.alpha,
        out.depth,
        out.ids,
        out.id_weight,
    )
    return out


# --- numpy backend --------------------------------------------------------------------------
def _rasterize_numpy(order, x0, x1, y0, y1, p, opacities, colors, ids, width, height, band: int = TILE) -> Image:
    n_ch = colors.shape[1]
    color = np.zeros((height * width, n_ch), np.float32)
    alpha = np.zeros(height * width, np.float32)
    dsum = np.zeros(height * width, np.float64)
    best_id = np.full(height * width, NO_ID, np.int32)
    best_w = np.zeros(height * width, np.float32)
    for r0 in range(0, height, band):
        r1 = min(r0 + band, height) - 1
        sel = np.nonzero((y0 <= r1) & (y1 >= r0))[0]
        if len(sel) == 0:
            continue
        ya, yb = np.maximum(y0[sel], r0), np.minimum(y1[sel], r1)
        nx, ny = x1[sel] - x0[sel] + 1, yb - ya + 1
        counts = nx * ny
        g = np.repeat(sel, counts)  # Gaussian (depth rank) of each pair
        local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        px = np.repeat(x0[sel], counts) + local % np.repeat(nx, counts)
        py = np.repeat(ya, counts) + local // np.repeat(nx, counts)
        k = order[g]
        dx, dy = p.means2d[k, 0] - px, p.means2d[k, 1] - py
        c = p.conics[k]
        sigma = 0.5 * (c[:, 0] * dx * dx + c[:, 2] * dy * dy) + c[:, 1] * dx * dy
        a = np.minimum(ALPHA_MAX, opacities[k] * np.exp(-sigma)).astype(np.float32)
        use = (sigma >= 0) & (a >= ALPHA_MIN)
        pix = (py * width + px)[use]
        g, k, a = g[use], k[use], a[use]
        srt = np.lexsort((g, pix))  # per pixel, front to back (g is the depth rank)
        pix, k, a = pix[srt], k[srt], a[srt]
        start = np.r_[True, pix[1:] != pix[:-1]]
        seg = np.cumsum(start) - 1
        log_t = np.cumsum(np.log1p(-a.astype(np.float64)))
        seg_base = np.r_[0.0, log_t][np.nonzero(start)[0]]
        next_t = np.exp(log_t - seg_base[seg])
        keep = next_t > T_MIN  # monotone per pixel: exactly the pairs before the exclusive stop
        w = a * np.exp(log_t - seg_base[seg] - np.log1p(-a.astype(np.float64)))
        pix, k, w = pix[keep], k[keep], w[keep]
        np.add.at(color, pix, colors[k] * w[:, None])
        np.add.at(alpha, pix, w)
        np.add.at(dsum, pix, p.depths[k] * w)
        # summed weight per (pixel, id), then the largest per pixel
        key, inv = np.unique(pix.astype(np.int64) * 65537 + (ids[k] - NO_ID), return_inverse=True)
        wsum = np.bincount(inv, weights=w)
        kp, kid = key // 65537, (key % 65537 + NO_ID).astype(np.int32)
        o = np.lexsort((-wsum, kp))
        first = o[np.r_[True, kp[o][1:] != kp[o][:-1]]]
        best_id[kp[first]] = kid[first]
        best_w[kp[first]] = wsum[first]
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = np.where(alpha > 0, dsum / alpha, np.inf)
    return Image(
        color=color.reshape(height, width, n_ch),
        alpha=alpha.reshape(height, width),
        depth=depth.reshape(height, width).astype(np.float32),
        ids=best_id.reshape(height, width),
        id_weight=best_w.reshape(height, width),
    )


def rasterize(
    p: Projection,
    opacities: np.ndarray,
    colors: np.ndarray,
    ids: np.ndarray,
    width: int,
    height: int,
    backend: Literal["auto", "numba", "numpy"] = "auto",
) -> Image:
    """Composite projected Gaussians front to back on the CPU."""
    if backend == "numba" and numba is None:
        raise RuntimeError("numba is not installed")
    order, x0, x1, y0, y1 = _pixel_ranges(p, opacities, width, height)
    fn = _rasterize_numpy if backend == "numpy" or numba is None else _rasterize_numba
    return fn(order, x0, x1, y0, y1, p, opacities.astype(np.float32), colors, ids.astype(np.int32), width, height)


@functools.cache
def cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return torch.cuda.is_available()


def resolve(backend: Backend = "auto") -> str:
    """The rasteriser ``backend`` runs on this machine: ``cuda``, ``numba`` or ``numpy``.
    ``auto`` takes ``$SYNTH_RASTERISER`` when set, else CUDA when torch sees a device, else numba."""
    if backend == "auto":
        backend = os.environ.get("SYNTH_RASTERISER", "").strip().lower() or "auto"
        if backend not in BACKENDS:
            raise ValueError(f"SYNTH_RASTERISER={backend!r}: expected one of {', '.join(BACKENDS)}")
    if backend == "auto":
        backend = "cuda" if cuda_available() else "numba"
    if backend == "cuda" and not cuda_available():
        raise RuntimeError("the cuda rasteriser (gsplat) needs a CUDA device, and torch sees none on this machine")
    return "numpy" if backend == "numba" and numba is None else backend


def backend_name(backend: Backend = "auto") -> str:
    """The name a degradation record gives the rasteriser ``backend`` resolves to."""
    name = resolve(backend)
    return "gsplat-cuda" if name == "cuda" else name


def gsplat_K(K: np.ndarray) -> np.ndarray:
    """Our OpenCV K as gsplat expects it (pixel centres at j + 0.5)."""
    Kg = np.array(K, dtype=np.float64)
    Kg[0, 2] += 0.5
    Kg[1, 2] += 0.5
    return Kg


def _render_cuda(g: Gaussians, colors: np.ndarray, viewmat, K, width, height, eps2d) -> Image:
    """gsplat's CUDA rasteriser; object ids travel as one-hot colour channels, reduced on the GPU."""
    import torch
    from gsplat import rasterization

    dev = torch.device("cuda")
    uniq, inv = np.unique(g.ids, return_inverse=True)
    t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32, device=dev)  # noqa: E731
    one_hot = torch.nn.functional.one_hot(torch.as_tensor(inv.ravel(), device=dev), len(uniq)).float()
    out, alphas, _ = rasterization(
        t(g.means),
        t(g.quats),
        t(g.scales),
        t(g.opacities),
        torch.cat([t(colors), one_hot], dim=1),
        t(viewmat)[None],
        t(gsplat_K(K))[None],
        width,
        height,
        eps2d=eps2d,
        render_mode="RGB+ED",
        packed=False,
    )
    n_ch = colors.shape[1]
    best_w, best = out[0, ..., n_ch : n_ch + len(uniq)].max(dim=-1)
    alpha = alphas[0, ..., 0]
    depth = torch.where(alpha > 0, out[0, ..., -1], torch.inf)  # RGB+ED: expected depth, last
    best_w, best, alpha, depth, color = (x.cpu().numpy() for x in (best_w, best, alpha, depth, out[0, ..., :n_ch]))
    return Image(
        color=color,
        alpha=alpha,
        depth=depth.astype(np.float32),
        ids=np.where(best_w > 0, uniq[best], NO_ID).astype(np.int32),
        id_weight=best_w.astype(np.float32),
    )


def render(
    g: Gaussians,
    viewmat: np.ndarray,
    K: np.ndarray,
    width: int,
    height: int,
    colors: np.ndarray | None = None,
    opacities: np.ndarray | None = None,
    eps2d: float = EPS2D,
    backend: Backend = "auto",
) -> Image:
    """Render Gaussians into one view. ``colors`` (N, C) and ``opacities`` (N,) override the
    Gaussians' own (e.g. per-view fog); ``auto`` uses CUDA when available, else numba/numpy."""
    colors = g.colors if colors is None else colors
    opacities = g.opacities if opacities is None else opacities
    viewmat, K = np.asarray(viewmat, np.float64), np.asarray(K, np.float64)
    backend = resolve(backend)
    if backend == "cuda":
        return _render_cuda(g.with_(opacities=opacities), colors, viewmat, K, width, height, eps2d)
    p = project(g.means, g.quats, g.scales, viewmat, K, width, height, eps2d)
    return rasterize(p, opacities, colors, g.ids, width, height, backend)
