"""The Blender renderer's settings (``RunConfig.renderer`` with ``backend: blender``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synth.core.camera import DEFAULT_HFOV_DEG, HfovDeg
from synth.core.plugin import RendererSettings

Quality = Literal["photoreal", "draft"]


class BlenderSettings(RendererSettings):
    """Blender (``bpy``, CPU, headless)."""

    backend: Literal["blender"] = "blender"
    quality: Quality = Field(
        "photoreal", description="photoreal = Cycles (datasets), draft = Workbench (previews, tests)"
    )
    samples: int = Field(2, ge=1, le=4096, description="Cycles samples per pixel (photoreal, denoised)")
    max_bounces: int = Field(2, ge=0, le=64, description="Cycles light bounces (photoreal)")
    hfov_deg: HfovDeg = DEFAULT_HFOV_DEG
    device: Literal["auto", "cpu", "gpu"] = Field(
        "auto", description="Cycles device (photoreal): gpu = CUDA/OptiX, auto = gpu when Blender sees one, else cpu"
    )

    def processes(self, cores: int) -> int:
        """Cycles uses every core of one process as well as several processes do (measured in
        bench/render.py: 2 single-threaded processes were slower than 1 with 2 threads);
        Workbench is single-threaded, so draft renders get a process per core."""
        return 1 if self.quality == "photoreal" else cores
