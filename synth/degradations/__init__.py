"""Physically grounded degradations of rendered episodes, formed through 3D Gaussian splatting.

``degrade(episode, buffers, kind, severity, seed)`` returns the degraded frames, their H.264
video (the bytes a sample ships), a JSON record of every parameter, and the objects' visibility
recomputed under the degradation on that video decoded (so questions about objects it hides
become abstentions). ``DEGRADATIONS`` lists the nine types;
``parse_spec("motion_blur:3,fog:2")`` reads a command-line list; ``contact_sheet`` draws a
types x severities preview. See docs/degradations.md.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from synth.core.render_types import FrameBuffers
from synth.core.scene import Episode, ObjectVisibility
from synth.degradations import raster
from synth.degradations.base import (
    DISCERNIBILITY,
    EVIDENCE_WEIGHT,
    FAINT_MARGIN,
    MIN_CONTRAST,
    MIN_SNR,
    SEVERITIES,
    Output,
    Source,
    recount,
)
from synth.degradations.blur import defocus, motion_blur
from synth.degradations.gaussians import EpisodeSplats, build_splats
from synth.degradations.lens import lens_distortion
from synth.degradations.sensor import compression, low_light, overexposure
from synth.degradations.sheet import contact_sheet
from synth.degradations.weather import fog, rain, snow
from synth.storage.media import decode_mp4, encode_mp4

METHOD_3DGS = "3dgs"  # rendered from the episode's Gaussians (CPU rasteriser, or gsplat on CUDA)
METHOD_IMAGE = "image"  # applied to the rendered frame's pixels
PIXEL_OWNER = {
    METHOD_3DGS: f"the object holding >= {EVIDENCE_WEIGHT} of the pixel's rendered radiance",
    METHOD_IMAGE: "the rendered instance map (resampled where pixels move)",
}


@dataclass(frozen=True)
class Degradation:
    id: str
    description: str
    params: tuple[str, ...]  # the parameters its record carries
    method: str
    signal_test: str  # when a pixel of an object still counts as evidence of it (before the shared discernibility test)
    apply: Callable[[Source, int, np.random.Generator], Output]


DEGRADATIONS: dict[str, Degradation] = {
    d.id: d
    for d in (
        Degradation(
            "motion_blur",
            "radiance integrated over the exposure along the real camera and object path",
            ("exposure_s", "shutter", "subframes", "blur_px"),
            METHOD_3DGS,
            "none beyond ownership (the exposure spreads radiance over objects)",
            motion_blur,
        ),
        Degradation(
            "defocus",
            "thin-lens circle of confusion from each Gaussian's depth, focused on the nearest surfaces",
            ("f_number", "focal_length_m", "aperture_m", "sensor_width_m", "focus_m", "coc_px_at_95th_depth"),
            METHOD_3DGS,
            "none beyond ownership (blur discs spread radiance over objects)",
            defocus,
        ),
        Degradation(
            "fog",
            "Koschmieder attenuation and airlight by each Gaussian's distance",
            ("mor_m", "extinction_per_m", "airlight", "contrast_threshold"),
            METHOD_3DGS,
            "fog transmittance >= 0.05 (the CIE contrast threshold behind the visual range)",
            fog,
        ),
        Degradation(
            "rain",
            "falling 3D drop Gaussians at terminal velocity, streaked over the exposure",
            (
                "rate_mm_per_h",
                "size_distribution",
                "particles_per_m3",
                "min_diameter_mm",
                "mean_excess_diameter_mm",
                "wind_m_s",
                "radiance",
                "exposure_s",
                "extinction_per_m",
                "mor_m",
                "visible_particles",
            ),
            METHOD_3DGS,
            "none beyond ownership (drops take radiance)",
            rain,
        ),  # fmt: skip
        Degradation(
            "snow",
            "drifting 3D flake Gaussians, streaked over the exposure",
            (
                "fall_speed_m_s",
                "particles_per_m3",
                "min_diameter_mm",
                "mean_excess_diameter_mm",
                "wind_m_s",
                "radiance",
                "exposure_s",
                "extinction_per_m",
                "mor_m",
                "visible_particles",
            ),
            METHOD_3DGS,
            "none beyond ownership (flakes take radiance)",
            snow,
        ),  # fmt: skip
        Degradation(
            "low_light",
            "dim light on a linear sensor: shot and read noise, gain, gamma",
            ("light_fraction", "gain", "full_scale_electrons", "read_noise_electrons", "gamma"),
            METHOD_IMAGE,
            "none beyond ownership (whether an object shows through the noise is the discernibility test's call)",
            low_light,
        ),
        Degradation(
            "overexposure",
            "extra exposure stops, veiling glare (bloom) and sensor clipping",
            ("exposure_ev", "glare_fraction", "glare_psf_sigma_px"),
            METHOD_IMAGE,
            "none beyond ownership (a clipped object against unclipped surroundings is a visible silhouette: "
            "the discernibility test's call)",
            overexposure,
        ),
        Degradation(
            "lens_distortion",
            "Brown-Conrady radial and tangential distortion; new intrinsics and coefficients ship with the sample",
            ("model", "distortion", "camera_K", "focal_scale"),
            METHOD_IMAGE,
            "none beyond ownership (pixels move, and leave the frame)",
            lens_distortion,
        ),
        Degradation(
            "compression",
            "H.264 encoding at a high constant rate factor",
            ("codec", "encoder", "pix_fmt", "preset", "crf"),
            METHOD_IMAGE,
            "none beyond ownership (what the codec smooths away is the discernibility test's call)",
            compression,
        ),
    )
}


@dataclass
class Degraded:
    """A degraded variant of an episode's frames."""

    rgb: np.ndarray  # (F, H, W, 3) uint8 sRGB, one per selected frame
    mp4: bytes  # the sample's video, ``encode_mp4(rgb, episode.fps)``: visibility is judged on it decoded
    record: dict[str, Any]  # JSON-serialisable: type, severity, seed, method, params, answerability
    visibility: list[ObjectVisibility]  # visible pixels per object per selected frame, under the degradation
    camera_K: list[list[list[float]]] | None = None  # per selected frame, where the intrinsics change
    distortion: tuple[float, float, float, float, float] | None = None  # (k1, k2, p1, p2, k3)
    depth: np.ndarray | None = None  # (F, H, W) float32 metres, where pixels moved
    instance: np.ndarray | None = None  # (F, H, W) uint16, where pixels moved


ANSWERABILITY_RULE = (
    "visible pixels = clean mask pixels x min(1, evidence pixels / evidence pixels without it), "
    "and in a frame where the object is not discernible in the delivered frame: 0 where it cannot be made "
    "out, at most min_pixels - 1 (a glimpse, never visible) where it is faint"
)


def parse_spec(spec: str) -> list[tuple[str, int]]:
    """``"motion_blur:3,fog:2"`` -> ``[("motion_blur", 3), ("fog", 2)]``."""
    out = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        kind, sep, sev = item.partition(":")
        kind = kind.strip()
        if kind not in DEGRADATIONS:
            raise ValueError(f"unknown degradation {kind!r}; known: {', '.join(DEGRADATIONS)}")
        if not sep:
            raise ValueError(f"{item!r}: give a severity, e.g. {kind}:3")
        try:
            severity = int(sev)
        except ValueError:
            raise ValueError(f"{item!r}: severity must be an integer 1-5") from None
        if severity not in SEVERITIES:
            raise ValueError(f"{item!r}: severity must be 1-5, got {severity}")
        out.append((kind, severity))
    if not out:
        raise ValueError("empty degradation list")
    return out


def degrade(
    episode: Episode,
    buffers: FrameBuffers,
    kind: str,
    severity: int,
    seed: int,
    *,
    frames: Sequence[int] | None = None,
    splats: EpisodeSplats | None = None,
) -> Degraded:
    """Degrade the episode's frames (all, or ``frames``). Pass ``splats`` from
    :func:`build_splats` to reuse one Gaussian model across several variants. The frames are
    encoded as the sample's video (``Degraded.mp4``, the default H.264 settings of
    ``encode_mp4`` at the episode's fps, byte-identical from call to call) and visibility is
    judged on that video decoded: what the user receives. Costs one encode and one decode of
    the frames (0.6-1 s together for 16 frames at 448x336 on a busy 2-core machine, next to
    0.8 s for the discernibility tests; the encode is the one a caller shipping ``mp4`` no
    longer does)."""
    if kind not in DEGRADATIONS:
        raise ValueError(f"unknown degradation {kind!r}; known: {', '.join(DEGRADATIONS)}")
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be 1-5, got {severity}")
    d = DEGRADATIONS[kind]
    selected = list(range(len(episode.frames))) if frames is None else [int(f) for f in frames]
    src = Source(episode, buffers, selected, splats)
    rng = np.random.default_rng([seed, zlib.crc32(kind.encode())])
    out = d.apply(src, severity, rng)
    mp4 = encode_mp4(out.rgb, episode.fps)
    record: dict[str, Any] = {"type": kind, "severity": severity, "seed": seed, "method": d.method}
    if d.method == METHOD_3DGS:
        record["renderer"] = out.params.pop("renderer", raster.backend_name())
    record["params"] = out.params
    record["answerability"] = {
        "rule": ANSWERABILITY_RULE,
        "pixel_owner": PIXEL_OWNER[d.method],
        "signal_test": d.signal_test,
        "discernible": DISCERNIBILITY,
        "min_contrast_levels": MIN_CONTRAST,
        "min_snr": MIN_SNR,
        "faint_margin": FAINT_MARGIN,
    }
    return Degraded(
        rgb=out.rgb,
        mp4=mp4,
        record=record,
        visibility=recount(src, out, decode_mp4(mp4)),
        camera_K=None if out.camera_K is None else [K.tolist() for K in out.camera_K],
        distortion=out.distortion,
        depth=None if out.depth is None else out.depth.astype(np.float32),
        instance=None if out.instance is None else out.instance.astype(np.uint16),
    )


__all__ = [
    "DEGRADATIONS",
    "Degradation",
    "Degraded",
    "EpisodeSplats",
    "build_splats",
    "contact_sheet",
    "degrade",
    "parse_spec",
]
