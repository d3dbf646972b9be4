"""Motion blur and defocus, formed in the Gaussians.

Motion blur integrates radiance over the exposure: the shutter is open for ``exposure``
seconds centred on the frame time, and the image is the mean of sub-frames rendered at poses
sampled along the real camera path (and object motion) inside that interval (midpoint rule, as
many sub-frames as keep successive ones within ~1.5 px of image motion).

Defocus is a thin lens misfocused at its minimum focus distance (an autofocus that parked at
its near end), so blur grows with depth: a point at depth z images as a disc of diameter
``c = A f_px |z - s| / (z (s - F))`` pixels (aperture A = F / N, focal length F from the
camera's 36 mm sensor width). Each Gaussian's screen covariance grows by the disc's variance
``c^2 / 16`` (in screen space, so always on the CPU rasteriser) and its opacity shrinks so its
integrated opacity is kept: a defocused foreground turns translucent at its edges, as it does
through a real lens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from synth.core.camera import to_camera
from synth.degradations import raster
from synth.degradations.base import Output, Source, dominant, finish, shown, to_uint8
from synth.degradations.gaussians import move_points, world_points
from synth.degradations.path import camera_at, object_poses_at

EXPOSURE_S = (1 / 120, 1 / 60, 1 / 30, 1 / 15, 1 / 8)  # shutter time by severity (capped at 1 / fps)
SUBFRAME_PX = 1.5
MIN_SUBFRAMES, MAX_SUBFRAMES = 2, 32
F_NUMBERS = (5.6, 4.0, 2.8, 2.0, 1.4)  # by severity
SENSOR_WIDTH_M = 0.036  # the Blender camera's sensor width (synth.backends.blender.renderer)
MIN_FOCUS_M = 0.35  # a hunting autofocus parked at its near end: everything beyond is blurred


def exposure_times(t: float, exposure: float, n: int) -> np.ndarray:
    """Midpoints of ``n`` equal slices of an exposure centred on ``t``."""
    return t + exposure * ((np.arange(n) + 0.5) / n - 0.5)


def integrate_exposure(render_at: Callable[[float], raster.Image], times: Sequence[float]) -> raster.Image:
    """Mean radiance (and coverage, depth, shown object) over the sub-frames at ``times``."""
    imgs = [render_at(float(t)) for t in times]
    ids, weights = dominant([i.ids for i in imgs], [i.id_weight for i in imgs])
    alpha = np.mean([i.alpha for i in imgs], axis=0)
    dsum = np.mean([np.where(i.alpha > 0, i.depth, 0.0) * i.alpha for i in imgs], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = np.where(alpha > 0, dsum / alpha, np.inf)
    return raster.Image(
        color=np.mean([i.color for i in imgs], axis=0),
        alpha=alpha,
        depth=depth.astype(np.float32),
        ids=ids,
        id_weight=weights.astype(np.float32),
    )


def image_motion(src: Source, index: int, t0: float, t1: float) -> float:
    """99th percentile of how far the frame's surface points move in the image between t0 and t1."""
    ep = src.episode
    pts, ids = world_points(ep, src.buffers, index, 4)
    local = move_points(pts, ids, object_poses_at(ep, src.time(index)), inverse=True)
    uv = []
    for t in (t0, t1):
        T = camera_at(ep, t)
        pc = to_camera(T, move_points(local, ids, object_poses_at(ep, t)))
        uv.append((pc[:, :2] / pc[:, 2:3]) * np.diag(src.K(index))[:2])
    ok = np.isfinite(uv[0]).all(1) & np.isfinite(uv[1]).all(1)
    return float(np.percentile(np.linalg.norm(uv[1] - uv[0], axis=1)[ok], 99)) if ok.any() else 0.0


def motion_blur(src: Source, severity: int, rng: np.random.Generator) -> Output:
    exposure = min(EXPOSURE_S[severity - 1], 1.0 / src.episode.fps)
    rgb, evidence, reference, subframes, blur_px = [], [], [], [], []
    for i in src.frames:
        t = src.time(i)
        local = src.splats.anchored(i)
        motion = image_motion(src, i, t - exposure / 2, t + exposure / 2)
        n = int(np.clip(np.ceil(motion / SUBFRAME_PX), MIN_SUBFRAMES, MAX_SUBFRAMES))
        times = exposure_times(t, exposure, n)  # an odd n has its middle slice at t: the clean re-render
        img = integrate_exposure(
            lambda s, local=local, i=i, t=t: src.clean(i) if s == t else src.render(local, s, i), times
        )
        rgb.append(finish(img))
        evidence.append(shown(img))
        reference.append(src.reference(i))
        subframes.append(n)
        blur_px.append(round(motion, 2))
    params = {
        "exposure_s": exposure,
        "shutter": "centred on the frame time",
        "subframes": subframes,
        "blur_px": blur_px,
    }
    sigma = [b / np.sqrt(12) for b in blur_px]  # a uniform streak of length b
    return Output(to_uint8(rgb), params, np.stack(evidence), np.stack(reference), blur_sigma_px=sigma)


def circle_of_confusion(z: np.ndarray, focus: float, f_number: float, f_px: float, width: int) -> np.ndarray:
    """Thin-lens blur-disc diameter in pixels of points at depth ``z`` (metres)."""
    focal = f_px * SENSOR_WIDTH_M / width
    aperture = focal / f_number
    return aperture * f_px * np.abs(z - focus) / (np.maximum(z, 1e-6) * (focus - focal))


def defocus(src: Source, severity: int, rng: np.random.Generator) -> Output:
    f_number = F_NUMBERS[severity - 1]
    w, h = src.size
    rgb, evidence, reference, far_coc = [], [], [], []
    for i in src.frames:
        t, K = src.time(i), src.K(i)
        local = src.splats.anchored(i)
        g = src.splats.at(t, local)
        view = src.splats.camera(t)
        coc = circle_of_confusion(g.means @ view[2, :3] + view[2, 3], MIN_FOCUS_M, f_number, K[0, 0], w)
        p = raster.project(g.means, g.quats, g.scales, view, K, w, h, extra_var=coc**2 / 16.0)
        img = raster.rasterize(p, g.opacities * p.widening, g.colors, g.ids, w, h)
        rgb.append(finish(img))
        evidence.append(shown(img))
        reference.append(src.reference(i))
        depth = src.buffers.depth[i][np.isfinite(src.buffers.depth[i])]
        far = np.percentile(depth, 95)
        far_coc.append(round(float(circle_of_confusion(far, MIN_FOCUS_M, f_number, K[0, 0], w)), 2))
    focal = float(src.K(src.frames[0])[0, 0] * SENSOR_WIDTH_M / w)
    params = {
        "f_number": f_number,
        "focal_length_m": round(focal, 5),
        "aperture_m": round(focal / f_number, 5),
        "sensor_width_m": SENSOR_WIDTH_M,
        "focus_m": MIN_FOCUS_M,
        "coc_px_at_95th_depth": far_coc,
        "renderer": raster.backend_name("numba"),  # screen-space widening: the CPU rasteriser
    }
    sigma = [c / 4.0 for c in far_coc]  # the disc's Gaussian stand-in above (variance coc^2 / 16), far surfaces
    return Output(to_uint8(rgb), params, np.stack(evidence), np.stack(reference), blur_sigma_px=sigma)
