"""Lens distortion (Brown-Conrady) with the camera metadata kept exact.

A camera point (X, Y, Z) projects to normalised ``x = X / Z, y = Y / Z``, is distorted as in
OpenCV, ``x_d = x (1 + k1 r^2 + k2 r^4 + k3 r^6) + 2 p1 x y + p2 (r^2 + 2 x^2)`` (and the
symmetric ``y_d``), then ``u = fx' x_d + cx``. The degraded frame is resampled from the clean
one: each output pixel is undistorted (fixed-point iteration) and looked up through the clean
intrinsics. The new focal length ``fx' = s fx`` is the smallest zoom that keeps every output
pixel inside the rendered frame, so no pixel is invented; K' and (k1, k2, p1, p2, k3) ship
with the sample and reproject world points exactly onto the degraded frame. Depth and instance
maps are resampled the same way (nearest) so the ground truth follows the pixels.
"""

from __future__ import annotations

import numpy as np

from synth.core.camera import Coeffs, normalized_to_pixels, pixels_to_normalized, undistort
from synth.degradations.base import Output, Source, to_uint8

K1 = (-0.05, -0.10, -0.16, -0.23, -0.30)  # barrel distortion by severity
TANGENTIAL = 0.001  # |p1|, |p2| up to this times the severity (decentring, random sign)


def _sources(K: np.ndarray, K_new: np.ndarray, c: Coeffs, px: np.ndarray) -> np.ndarray:
    """Clean-frame pixels that distorted output pixels ``px`` (N, 2) show."""
    return normalized_to_pixels(K, undistort(pixels_to_normalized(K_new, px), c))


def source_pixels(K: np.ndarray, K_new: np.ndarray, c: Coeffs, width: int, height: int) -> np.ndarray:
    """(H, W, 2) clean-frame pixel that each distorted output pixel shows."""
    ys, xs = np.mgrid[0:height, 0:width]
    return _sources(K, K_new, c, np.stack([xs.ravel(), ys.ravel()], 1).astype(float)).reshape(height, width, 2)


def fit_intrinsics(K: np.ndarray, c: Coeffs, width: int, height: int) -> np.ndarray:
    """K with the smallest focal scale that keeps every output pixel inside the clean frame
    (checked on the border, where a monotonic distortion reaches farthest)."""
    xs, ys = np.arange(width, dtype=float), np.arange(height, dtype=float)
    border = np.concatenate(
        [
            np.stack([xs, np.zeros(width)], 1),
            np.stack([xs, np.full(width, height - 1.0)], 1),
            np.stack([np.zeros(height), ys], 1),
            np.stack([np.full(height, width - 1.0), ys], 1),
        ]
    )

    def scaled(scale: float) -> np.ndarray:
        Kn = K.copy()
        Kn[0, 0] *= scale
        Kn[1, 1] *= scale
        return Kn

    lo, hi = 0.5, 3.0
    for _ in range(40):
        mid = (lo + hi) / 2
        src = _sources(K, scaled(mid), c, border)
        inside = ((src >= -1e-6) & (src <= [width - 1 + 1e-6, height - 1 + 1e-6])).all()
        lo, hi = (lo, mid) if inside else (mid, hi)
    return scaled(hi)


def sample(img: np.ndarray, src: np.ndarray, nearest: bool = False) -> np.ndarray:
    """Look ``img`` (H, W[, C]) up at pixel positions ``src`` (h, w, 2), bilinear or nearest."""
    h, w = img.shape[:2]
    x = np.clip(src[..., 0], 0, w - 1)
    y = np.clip(src[..., 1], 0, h - 1)
    if nearest:
        return img[np.round(y).astype(int), np.round(x).astype(int)]
    x0, y0 = np.minimum(np.floor(x).astype(int), w - 2), np.minimum(np.floor(y).astype(int), h - 2)
    fx, fy = x - x0, y - y0
    if img.ndim == 3:
        fx, fy = fx[..., None], fy[..., None]
    top = img[y0, x0] * (1 - fx) + img[y0, x0 + 1] * fx
    bottom = img[y0 + 1, x0] * (1 - fx) + img[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def lens_distortion(src: Source, severity: int, rng: np.random.Generator) -> Output:
    k1 = K1[severity - 1]
    p1, p2 = (rng.choice([-1.0, 1.0], 2) * rng.uniform(0.5, 1.0, 2) * TANGENTIAL * severity).tolist()
    coeffs: Coeffs = (k1, 0.5 * k1 * k1, p1, p2, 0.0)
    w, h = src.size
    out, depth, inst, Ks = [], [], [], []
    maps: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}  # per distinct K
    for i in src.frames:
        K = src.K(i)
        if K.tobytes() not in maps:
            K_new = fit_intrinsics(K, coeffs, w, h)
            maps[K.tobytes()] = K_new, source_pixels(K, K_new, coeffs, w, h)
        K_new, where = maps[K.tobytes()]
        out.append(sample(src.linear(i), where))
        depth.append(sample(src.buffers.depth[i], where, nearest=True))
        inst.append(sample(src.buffers.instance[i], where, nearest=True))
        Ks.append(K_new)
    instance = np.stack(inst)
    rgb = to_uint8(out)
    params = {
        "model": "brown-conrady",
        "distortion": list(coeffs),  # exact: with camera_K it reprojects onto the degraded frames
        "camera_K": Ks[0].tolist(),
        "focal_scale": float(Ks[0][0, 0] / src.K(src.frames[0])[0, 0]),
    }
    return Output(
        rgb,
        params,
        instance.astype(np.int32),
        src.buffers.instance[src.frames].astype(np.int32),
        camera_K=Ks,
        distortion=coeffs,
        depth=np.stack(depth),
        instance=instance,
        clean=rgb,  # the clean frame seen through the distorted camera is the delivered frame itself
    )
