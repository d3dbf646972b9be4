"""Typed run configuration shared by the CLI and the flow."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RunConfig(BaseModel):
    """Everything that determines the data a run produces (not how fast it runs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    episodes: int = Field(1, ge=1)
    seed: int = Field(0, ge=0)
    simulator: Literal["procedural"] = "procedural"
    frames: int = Field(16, ge=2, le=10_000)
    width: int = Field(320, ge=16, le=8192)
    height: int = Field(240, ge=16, le=8192)
    fps: float = Field(8.0, gt=0, le=240)
    quality: Literal["photoreal", "draft"] = "photoreal"
    samples: int = Field(8, ge=1, le=4096)  # Cycles samples per pixel (photoreal)
    preset: str = "default"
    questions_per_family: int = Field(3, ge=1)
    dynamic_share: float = Field(0.5, ge=0.0, le=1.0)  # episodes in which an object moves
    abstention_share: float = Field(0.1, ge=0.0, le=1.0)  # chance per family and episode of an abstention item
    targets: int = Field(3, ge=1, le=10)  # objects each camera path is planned to show
    plan_candidates: int = Field(8, ge=1, le=100)
    families_dir: str | None = None  # compiled families (synth compile --out) asked besides the library
    degradations: str = ""  # e.g. "motion_blur:3,fog:2": one extra sample per episode and variant
    min_visible_pixels: int = Field(100, ge=1)
    min_visible_frames: int = Field(2, ge=1)
    samples_per_shard: int = Field(64, ge=1)

    @field_validator("degradations")
    @classmethod
    def _spec(cls, v: str) -> str:
        if not v.strip():
            return ""
        from degradations import parse_spec

        return ",".join(f"{k}:{s}" for k, s in parse_spec(v))

    def variants(self) -> list[tuple[str, int]]:
        if not self.degradations:
            return []
        from degradations import parse_spec

        return parse_spec(self.degradations)

    @field_validator("width", "height")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError("must be even (H.264 yuv420p)")
        return v

    def sample_settings(self) -> dict:
        """The options that shape each sample (not how many samples or how they are sharded):
        episode i of a run is the same whatever the run's size."""
        return self.model_dump(mode="json", exclude={"episodes", "samples_per_shard"})


def build_config(preset: str = "default", **options) -> RunConfig:
    """A preset's defaults (flows/presets.py) overridden by the options that are not None;
    ``resolution`` may be given as "WxH"."""
    from .presets import PRESETS

    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; available: {', '.join(sorted(PRESETS))}")
    resolution = options.pop("resolution", None)
    if resolution:
        w, _, h = str(resolution).lower().partition("x")
        options["width"], options["height"] = int(w), int(h)
    return RunConfig(**{**PRESETS[preset], "preset": preset, **{k: v for k, v in options.items() if v is not None}})
