"""What every renderer backend returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FrameBuffers:
    rgb: np.ndarray  # (F, H, W, 3) uint8, sRGB
    depth: np.ndarray  # (F, H, W) float32, camera-space z in metres; inf where nothing was hit
    instance: np.ndarray  # (F, H, W) uint16 scene object ids (0 = room)


def linear_to_srgb8(rgb: np.ndarray) -> np.ndarray:
    """Scene-linear float RGB -> sRGB uint8 (Blender's 'Standard' view transform)."""
    x = np.clip(rgb, 0.0, 1.0)
    s = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.round(s * 255.0).astype(np.uint8)
