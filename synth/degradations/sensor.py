"""Low light, overexposure and compression: models of the sensor and the codec, applied to
the rendered frame's linear radiance (these do not move anything in 3D).

Low light: the scene gets a fraction ``light`` of its illumination; a linear sensor collects
``x * light * FULL_SCALE_E`` photo-electrons per pixel (x = linear radiance in [0, 1]), with
Poisson shot noise and Gaussian read noise; auto-exposure applies the gain ``1 / light`` that
restores the mean level, amplifying both; the result is clipped and sRGB-encoded (gamma).
Whether an object still shows through the noise is the shared discernibility test's call
(``base.discernibility``: a viewer integrates over the object's area), not a per-pixel SNR.

Overexposure: the exposure rises by ``ev`` stops; veiling glare scatters a fraction of every
pixel's light into a wide point-spread function (three Gaussians of widths 1%, 4% and 12% of
the image width), so highlights bloom into their surroundings; the sensor clips at full well.

Compression: the frames are encoded with H.264 (libx264, yuv420p) at a high constant rate
factor and decoded again; what the codec smooths away is the discernibility test's call.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from synth.degradations.base import Output, Source, to_uint8
from synth.storage.media import decode_mp4, encode_mp4

LIGHT_FRACTION = (1 / 3, 1 / 6, 1 / 12, 1 / 25, 1 / 50)  # illumination by severity
FULL_SCALE_E = 1000.0  # photo-electrons at linear radiance 1 under the normal illumination
READ_NOISE_E = 2.5
EXPOSURE_EV = (1.0, 1.5, 2.0, 2.5, 3.0)
GLARE_FRACTION = (0.02, 0.04, 0.06, 0.08, 0.10)
GLARE_WIDTHS = (0.01, 0.04, 0.12)  # Gaussian PSF standard deviations, share of the image width
CRF = (30, 36, 42, 47, 51)  # x264 constant rate factor by severity (51 is its maximum)


def sensor(linear: np.ndarray, light: float, gain: float, rng: np.random.Generator) -> np.ndarray:
    """Linear radiance -> noisy, gained, clipped linear signal of a photon-counting sensor."""
    electrons = rng.poisson(linear * light * FULL_SCALE_E) + rng.normal(0.0, READ_NOISE_E, linear.shape)
    return np.clip(electrons * gain / FULL_SCALE_E, 0.0, 1.0)


def low_light(src: Source, severity: int, rng: np.random.Generator) -> Output:
    light = LIGHT_FRACTION[severity - 1]
    gain = 1.0 / light
    seed = int(rng.integers(2**63))
    # one generator per frame: any subset of frames gets the same noise
    out = [sensor(src.linear(i), light, gain, np.random.default_rng([seed, i])) for i in src.frames]
    params = {
        "light_fraction": round(light, 6),
        "gain": round(gain, 3),
        "full_scale_electrons": FULL_SCALE_E,
        "read_noise_electrons": READ_NOISE_E,
        "gamma": "sRGB",
    }
    inst = src.buffers.instance[src.frames].astype(np.int32)
    return Output(to_uint8(out), params, inst, inst)


def gaussian_blur(img: np.ndarray, *sigmas: float) -> np.ndarray:
    """Gaussian blur of an (H, W, C) image through the FFT, edges reflected; with several
    ``sigmas``, the mean of the blurs by each (one transform: the mean of their transfer
    functions, padded for the widest)."""
    pad = int(np.ceil(3 * max(sigmas)))
    h, w = img.shape[:2]
    x = np.pad(img, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    fy = np.fft.fftfreq(x.shape[0])[:, None]
    fx = np.fft.rfftfreq(x.shape[1])[None, :]
    f2 = 2 * np.pi**2 * (fx**2 + fy**2)
    transfer = np.mean([np.exp(-(s**2) * f2) for s in sigmas], axis=0)[..., None].astype(x.dtype)  # float32 stays
    y = scipy.fft.irfft2(scipy.fft.rfft2(x, axes=(0, 1), workers=-1) * transfer, s=x.shape[:2], axes=(0, 1), workers=-1)
    return y[pad : pad + h, pad : pad + w]


def glare(linear: np.ndarray, fraction: float) -> np.ndarray:
    """Veiling glare: ``fraction`` of the light spread over the wide point-spread function."""
    spread = gaussian_blur(linear, *(s * linear.shape[1] for s in GLARE_WIDTHS))
    return (1.0 - fraction) * linear + fraction * spread


def overexposure(src: Source, severity: int, rng: np.random.Generator) -> Output:
    ev, fraction = EXPOSURE_EV[severity - 1], GLARE_FRACTION[severity - 1]
    out = []
    for i in src.frames:
        # a clipped object still shows as a silhouette where its surroundings are not clipped:
        # whether it can be made out is the shared discernibility test's call, not a per-pixel one
        out.append(np.clip(glare(src.linear(i) * 2.0**ev, fraction), 0.0, 1.0))
    inst = src.buffers.instance[src.frames].astype(np.int32)
    params = {
        "exposure_ev": ev,
        "glare_fraction": fraction,
        "glare_psf_sigma_px": [s * src.size[0] for s in GLARE_WIDTHS],
    }
    return Output(to_uint8(out), params, inst, inst)


def compression(src: Source, severity: int, rng: np.random.Generator) -> Output:
    crf = CRF[severity - 1]
    # x264's default rate control (macroblock tree), with which the severities were calibrated;
    # with Blender in the process its bytes (so these pixels) can differ between runs
    rgb = decode_mp4(encode_mp4(src.buffers.rgb[src.frames], src.episode.fps, crf=crf, mbtree=True))
    inst = src.buffers.instance[src.frames].astype(np.int32)
    params = {"codec": "h264", "encoder": "libx264", "pix_fmt": "yuv420p", "preset": "medium", "crf": crf}
    return Output(rgb, params, inst, inst)
