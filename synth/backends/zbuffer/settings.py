"""The z-buffer renderer's settings (``RunConfig.renderer`` with ``backend: zbuffer``)."""

from __future__ import annotations

from typing import Literal

from synth.core.camera import DEFAULT_HFOV_DEG, HfovDeg
from synth.core.plugin import RendererSettings


class ZBufferSettings(RendererSettings):
    """The software z-buffer (sketch RGB, exact depth and instance ids)."""

    backend: Literal["zbuffer"] = "zbuffer"
    hfov_deg: HfovDeg = DEFAULT_HFOV_DEG
