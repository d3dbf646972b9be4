"""What every renderer backend returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FrameBuffers:
    rgb: np.ndarray  # (F, H, W, 3) uint8, sRGB
    depth: np.ndarray  # (F, H, W) float32, camera-space z in metres; inf where nothing was hit
    instance: np.ndarray  # (F, H, W) uint16 scene object ids (0 = room)
