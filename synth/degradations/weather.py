"""Fog, rain and snow, formed in the Gaussians.

Fog (Koschmieder): every Gaussian's radiance is attenuated by ``t = exp(-beta d)`` over its
distance d from the camera and the in-scattered airlight ``A (1 - t)`` is added, so far
surfaces fade to the airlight first. ``beta = -ln(0.05) / MOR`` for the meteorological optical
range MOR (the distance where a black object's contrast falls to the CIE threshold of 5%).

Rain and snow are 3D particle Gaussians in a box around the camera path: drops have
Marshall-Palmer sizes for the rain rate and fall at their terminal velocity (Gunn-Kinzer fit),
flakes fall at ~1 m/s with a wind drift. During the exposure
(1/250 s, a daylight video shutter) each particle sweeps a segment, so it is a
Gaussian stretched along its velocity (the segment's variance ``(v e)^2 / 12``) whose opacity
keeps its projected cross-section: ``o = min(1, rho pi r_px^2 / (2 pi sqrt(det cov2d)))``, so a
streak is as faint as the fraction of the exposure the drop covers each pixel. Particles move
continuously with time, so they are consistent across frames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from synth.core.camera import camera_center
from synth.core.rotations import matrix_quaternion
from synth.degradations import raster
from synth.degradations.base import LUMA, Output, Source, finish, shown, to_uint8
from synth.degradations.gaussians import PARTICLE_ID, Gaussians
from synth.degradations.path import camera_at

MOR_M = (100.0, 40.0, 16.0, 8.0, 4.0)  # meteorological optical range by severity
CONTRAST_THRESHOLD = 0.05  # CIE contrast threshold behind the MOR
RAIN_MM_PER_H = (5.0, 20.0, 50.0, 100.0, 200.0)  # 200 mm/h: a cloudburst
MP_N0, MP_LAMBDA, MP_EXPONENT = 8000.0, 4.1, -0.21  # Marshall-Palmer drop sizes (per m^3 per mm; 1/mm)
MIN_DROP_MM = 0.5  # smaller drops are sub-pixel and too faint to draw
SNOW_PER_M3 = (50.0, 150.0, 400.0, 1000.0, 2500.0)
FLAKE_DIAMETER_MM = (2.0, 3.0, 4.0, 6.0, 8.0)
SNOW_FALL_M_S = 1.0
EXPOSURE_S = 1 / 250  # a daylight video shutter: drops streak, flakes barely
PARTICLE_RANGE_M = 4.0  # particles fill the space within this distance of the camera path


def episode_luminance(src: Source, q: float) -> float:
    """A percentile of the episode's linear luminance (sets airlight and particle radiance)."""
    step = max(1, len(src.episode.frames) // 8)
    lum = np.concatenate([(src.linear(i) @ LUMA).ravel() for i in range(0, len(src.episode.frames), step)])
    return float(np.percentile(lum, q))


def fog(src: Source, severity: int, rng: np.random.Generator) -> Output:
    mor = MOR_M[severity - 1]
    beta = -np.log(CONTRAST_THRESHOLD) / mor
    airlight = episode_luminance(src, 90.0)
    rgb, evidence, reference = [], [], []
    for i in src.frames:
        t = src.time(i)
        local = src.splats.anchored(i)
        view = src.splats.camera(t)
        g = src.splats.at(t, local)
        centre = camera_center(view)
        trans = np.exp(-beta * np.linalg.norm(g.means - centre, axis=1))[:, None].astype(np.float32)
        colors = np.concatenate([g.colors * trans + airlight * (1.0 - trans), trans], axis=1)
        img = raster.render(g, view, src.K(i), *src.size, colors=colors)
        rgb.append(finish(img))
        with np.errstate(divide="ignore", invalid="ignore"):
            pixel_trans = np.where(img.alpha > 0, img.color[..., 3] / img.alpha, 0.0)
        evidence.append(shown(img, pixel_trans >= CONTRAST_THRESHOLD))
        # fog changes colours only: this render's ids and weights are the clean re-render's
        reference.append(shown(img))
    params = {
        "mor_m": mor,
        "extinction_per_m": round(float(beta), 5),
        "airlight": round(airlight, 5),
        "contrast_threshold": CONTRAST_THRESHOLD,
    }
    return Output(to_uint8(rgb), params, np.stack(evidence), np.stack(reference))


def terminal_velocity(diameter_m: np.ndarray) -> np.ndarray:
    """Raindrop fall speed in m/s (Atlas et al.'s fit to Gunn and Kinzer's measurements)."""
    return np.maximum(9.65 - 10.3 * np.exp(-600.0 * diameter_m), 0.0)


def _axis_quats(v: np.ndarray) -> np.ndarray:
    """Quaternions that turn local +Z onto the directions ``v`` (N, 3)."""
    z = v / np.linalg.norm(v, axis=1, keepdims=True)
    helper = np.where(np.abs(z[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return matrix_quaternion(np.stack([x, np.cross(z, x), z], axis=2))


@dataclass(frozen=True)
class Precipitation:
    density: float  # particles per m^3
    min_diameter_m: float
    mean_excess_m: float  # diameters are min + an exponential with this mean (0: all the same)
    fall_speed: Callable[[np.ndarray], np.ndarray]  # diameter (m) -> fall speed (m/s)
    wind_m_s: tuple[float, float]  # horizontal drift shared by all particles
    jitter_m_s: float  # per-particle random velocity (turbulence), standard deviation
    radiance: float  # linear
    rho: float  # opacity of a particle's cross-section


def _particle_box(src: Source) -> tuple[np.ndarray, np.ndarray]:
    """Box around the camera path within PARTICLE_RANGE_M, clipped to the room."""
    views = [camera_at(src.episode, f.time) for f in src.episode.frames]
    centres = np.array([camera_center(T) for T in views])
    rooms = src.episode.scene.rooms
    if not rooms:
        return centres.min(0) - PARTICLE_RANGE_M, centres.max(0) + PARTICLE_RANGE_M
    fp = np.concatenate([np.asarray(r.footprint) for r in rooms])
    lo = np.maximum(centres.min(0) - PARTICLE_RANGE_M, [*fp.min(0), 0.0])
    hi = np.minimum(centres.max(0) + PARTICLE_RANGE_M, [*fp.max(0), max(r.height for r in rooms)])
    return lo, hi


@dataclass(frozen=True)
class Particles:
    """One seed's particles in a periodic box: they keep falling through it, the same particles
    at every time (so they are consistent across frames)."""

    lo: np.ndarray  # (3,) box corner, metres
    hi: np.ndarray  # (3,) opposite corner
    start: np.ndarray  # (N, 3) positions at t = 0
    velocity: np.ndarray  # (N, 3) m/s
    diameter: np.ndarray  # (N,) metres
    quats: np.ndarray  # (N, 4) local +Z along the velocity
    scales: np.ndarray  # (N, 3) a disc streaked along its velocity over the exposure
    radiance: float

    def at(self, t: float) -> Gaussians:
        """World particle Gaussians at time ``t``; opacities are set per view (zero here)."""
        pos = self.lo + np.mod(self.start + self.velocity * t - self.lo, self.hi - self.lo)
        n = len(pos)
        return Gaussians(
            means=pos.astype(np.float32),
            quats=self.quats,
            scales=self.scales,
            opacities=np.zeros(n, np.float32),
            colors=np.full((n, 3), self.radiance, np.float32),
            ids=np.full(n, PARTICLE_ID, np.int32),
        )


def _particles(src: Source, spec: Precipitation, seed: int, exposure: float) -> Particles:
    """The particles of ``spec`` for one seed, each streaked along its velocity over the exposure."""
    rng = np.random.default_rng(seed)
    lo, hi = _particle_box(src)
    n = int(spec.density * np.prod(hi - lo))
    p0 = lo + rng.random((n, 3)) * (hi - lo)
    diameter = spec.min_diameter_m + rng.exponential(1.0, n) * spec.mean_excess_m
    fall = spec.fall_speed(diameter)
    velocity = np.stack([np.full(n, spec.wind_m_s[0]), np.full(n, spec.wind_m_s[1]), -fall], 1)
    velocity += rng.normal(0.0, spec.jitter_m_s, (n, 3))
    sigma = diameter / 4.0  # a disc of radius r has variance r^2 / 4 per axis
    sweep = np.linalg.norm(velocity, axis=1) * exposure
    scales = np.stack([sigma, sigma, np.sqrt(sigma**2 + sweep**2 / 12.0)], 1)
    quats = _axis_quats(velocity).astype(np.float32)
    return Particles(lo, hi, p0, velocity, diameter, quats, scales.astype(np.float32), spec.radiance)


def _precipitate(src: Source, spec: Precipitation, seed: int) -> Output:
    exposure = EXPOSURE_S
    w, h = src.size
    cloud = _particles(src, spec, seed, exposure)
    rgb, evidence, reference, counts = [], [], [], []
    for i in src.frames:
        t, K = src.time(i), src.K(i)
        view = src.splats.camera(t)
        parts = cloud.at(t)
        near = raster.in_view(parts.means, parts.scales, view, K, w, h)  # the rest are culled in project too
        parts = parts.take(near)
        p = raster.project(parts.means, parts.quats, parts.scales, view, K, w, h)
        conic_det = p.conics[:, 0] * p.conics[:, 2] - p.conics[:, 1] ** 2  # 1 / det(cov2d)
        r_px = cloud.diameter[near] / 2 * K[0, 0] / np.maximum(p.depths, 1e-3)
        cover = spec.rho * np.pi * r_px**2 * np.sqrt(np.maximum(conic_det, 0.0)) / (2 * np.pi)
        parts = parts.with_(opacities=np.where(p.radii[:, 0] > 0, np.minimum(cover, 1.0), 0.0).astype(np.float32))
        parts = parts.take(parts.opacities > 0)  # the rest draw nothing: not projected again
        local = src.splats.anchored(i)
        img = raster.render(Gaussians.concat([src.splats.at(t, local), parts]), view, K, w, h)
        rgb.append(finish(img))
        evidence.append(shown(img))
        reference.append(src.reference(i))
        counts.append(int((parts.opacities >= raster.ALPHA_MIN).sum()))
    d0, m = spec.min_diameter_m, spec.mean_excess_m
    extinction = spec.density * np.pi / 2 * (d0**2 + 2 * d0 * m + 2 * m**2)  # N * 2 * mean cross-section
    params = {
        "particles_per_m3": round(spec.density, 1),
        "min_diameter_mm": round(spec.min_diameter_m * 1000, 3),
        "mean_excess_diameter_mm": round(spec.mean_excess_m * 1000, 3),
        "wind_m_s": [round(x, 3) for x in spec.wind_m_s],
        "radiance": round(spec.radiance, 4),
        "exposure_s": round(exposure, 5),
        "extinction_per_m": round(float(extinction), 5),
        "mor_m": round(float(-np.log(CONTRAST_THRESHOLD) / extinction), 1),
        "visible_particles": counts,
    }
    return Output(to_uint8(rgb), params, np.stack(evidence), np.stack(reference))


def rain(src: Source, severity: int, rng: np.random.Generator) -> Output:
    rate = RAIN_MM_PER_H[severity - 1]
    lam = MP_LAMBDA * rate**MP_EXPONENT  # Marshall-Palmer: N(D) = N0 exp(-lam D), D in mm
    density = MP_N0 / lam * np.exp(-lam * MIN_DROP_MM)  # drops per m^3 above the smallest size
    radiance = episode_luminance(src, 99.0)
    spec = Precipitation(density, MIN_DROP_MM / 1000, 1 / lam / 1000, terminal_velocity, (0.0, 0.0), 0.0, radiance, 1.0)
    out = _precipitate(src, spec, int(rng.integers(2**63)))
    out.params = {"rate_mm_per_h": rate, "size_distribution": "marshall-palmer", **out.params}
    return out


def snow(src: Source, severity: int, rng: np.random.Generator) -> Output:
    heading = rng.uniform(0, 2 * np.pi)
    wind = rng.uniform(0.0, 1.0)
    spec = Precipitation(
        SNOW_PER_M3[severity - 1],
        FLAKE_DIAMETER_MM[severity - 1] / 1000.0,
        0.0,
        lambda d: np.full(d.shape, SNOW_FALL_M_S),
        (float(wind * np.cos(heading)), float(wind * np.sin(heading))),
        0.2,
        episode_luminance(src, 99.0),
        0.9,
    )
    out = _precipitate(src, spec, int(rng.integers(2**63)))
    out.params = {"fall_speed_m_s": SNOW_FALL_M_S, **out.params}
    return out
