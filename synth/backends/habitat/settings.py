"""The habitat backend's settings: its renderer's (``RunConfig.renderer`` with ``backend:
habitat``) and its scene source's (``RunConfig.source`` with ``simulator: habitat``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from synth.core.camera import DEFAULT_HFOV_DEG, HfovDeg
from synth.core.plugin import RendererSettings, SourceSettings


class HabitatSettings(RendererSettings):
    """habitat-sim, in its own interpreter (``synth.backends.habitat.renderer``)."""

    backend: Literal["habitat"] = "habitat"
    hfov_deg: HfovDeg = DEFAULT_HFOV_DEG
    habitat_python: str = Field("", description="the interpreter with habitat-sim (default $SYNTH_HABITAT_PYTHON)")
    gpu_device_id: int = Field(-1, ge=-1, description="CUDA device for habitat-sim, -1 = CPU (EGL)")

    def describe(self) -> dict[str, str | int | float]:
        return self.model_dump(mode="json", exclude={"habitat_python"})

    def processes(self, cores: int) -> int:
        return 1  # one worker renders; habitat-sim uses the cores it needs


class HabitatSource(SourceSettings):
    """The scene instances of a Habitat scene dataset (``synth.backends.habitat.source``)."""

    simulator: Literal["habitat"] = "habitat"
    scene_dataset: str = Field(
        description="Habitat scene dataset (folder or *.scene_dataset_config.json) for --simulator habitat"
    )
    scene: str | None = Field(
        None, description="a scene instance of --scene-dataset to load (default: its scenes in turn)"
    )

    @model_validator(mode="before")
    @classmethod
    def _dataset(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("scene_dataset"):
            raise ValueError("--simulator habitat needs --scene-dataset (a Habitat scene dataset folder)")
        return data
