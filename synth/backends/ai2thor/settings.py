"""The ai2thor backend's settings: its renderer's (``RunConfig.renderer`` with ``backend:
ai2thor``) and its scene source's (``RunConfig.source`` with ``simulator: ai2thor``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from synth.core.plugin import RendererSettings, SourceSettings


class ThorSettings(RendererSettings):
    """AI2-THOR's Unity build through ``ai2thor.controller.Controller`` (``synth.backends.ai2thor.renderer``)."""

    backend: Literal["ai2thor"] = "ai2thor"
    platform: Literal["CloudRendering", "Linux64"] = Field(
        "CloudRendering", description="AI2-THOR build: CloudRendering (headless, Vulkan) or Linux64 (X server)"
    )
    local_executable_path: str = Field("", description="a Unity build of AI2-THOR to run instead of downloading one")
    commit_id: str = Field("", description="AI2-THOR build commit (default: the ai2thor package's)")
    x_display: str = Field("", description="X display for the Linux64 platform, e.g. :0")
    vfov_deg: float = Field(90.0, gt=1.0, lt=179.0, description="vertical field of view, degrees (THOR fieldOfView)")
    grid_size: float = Field(0.25, gt=0.0, le=1.0, description="THOR gridSize: spacing of reachable positions, m")

    def describe(self) -> dict[str, str | int | float]:
        return self.model_dump(mode="json", exclude={"local_executable_path", "x_display"})

    def processes(self, cores: int) -> int:
        return 1  # one Unity process renders; it uses the GPU


class ThorSource(SourceSettings):
    """An iTHOR scene or a ProcTHOR house, read from the running AI2-THOR (its renderer's ``scene``)."""

    simulator: Literal["ai2thor"] = "ai2thor"
    scene: str | None = Field(None, description="an iTHOR scene to load, e.g. FloorPlan1")
    house: str | None = Field(None, description="a ProcTHOR house (house.json) for --simulator ai2thor")

    @model_validator(mode="after")
    def _one_scene(self) -> ThorSource:
        if bool(self.scene) == bool(self.house):
            raise ValueError("--simulator ai2thor needs one of --scene (an iTHOR scene, e.g. FloorPlan1) and --house")
        return self
