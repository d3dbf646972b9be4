"""The one run configuration: ``RunConfig`` is the Prefect flow's parameter (the UI renders its
form and validates it from this model) and the source of ``synth run``'s flags (``synth.cli.main``
generates them from its fields: names, types, defaults and help)."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.fields import FieldInfo

from synth.backends.registry import SIMULATORS, RendererConfig, default_renderer
from synth.core.scene import VideoSpec, VisibilityRule
from synth.flows.presets import PRESETS

# simulators whose scenes only their own renderer can draw (THOR's objects are Unity assets)
NATIVE_RENDERER = {"ai2thor": "ai2thor"}


def _merge(base: dict, over: dict) -> dict:
    """``over`` on top of ``base``, nested dicts merged (a different renderer backend replaces)."""
    out = dict(base)
    for k, v in over.items():
        b = out.get(k)
        nested = isinstance(b, dict) and isinstance(v, dict)
        if nested and v.get("backend", b.get("backend")) == b.get("backend", v.get("backend")):
            out[k] = _merge(b, v)
        else:
            out[k] = v
    return out


class RunConfig(BaseModel):
    """Everything that determines the data a run produces (not how fast it runs or where it goes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: str = Field("default", description="named defaults (synth/flows/presets.py) that explicit options override")
    episodes: int = Field(4, ge=1, description="episodes to generate")
    seed: int = Field(0, ge=0, description="run seed: episode i of a run is the same whatever the run's size")
    simulator: str = Field("procedural", description="scene source (synth/backends/registry.py)")
    scene_dataset: str | None = Field(
        None, description="Habitat scene dataset (folder or *.scene_dataset_config.json) for --simulator habitat"
    )
    scene: str | None = Field(
        None,
        description="the scene to load (habitat: a scene instance of --scene-dataset, default: its scenes in turn; "
        "ai2thor: an iTHOR scene, e.g. FloorPlan1)",
    )
    house: str | None = Field(None, description="a ProcTHOR house (house.json) for --simulator ai2thor")
    assets: Literal["primitives", "infinigen"] = Field(
        "infinigen",
        description="furniture of the procedural scenes: synth's primitive parts, or Infinigen's procedural meshes "
        "and materials (needs .venv-infinigen: infra/bootstrap.sh --infinigen; generated once, cached)",
    )
    asset_variants: int = Field(4, ge=1, le=64, description="Infinigen assets per category (--assets infinigen)")
    renderer: RendererConfig = Field(
        default_factory=default_renderer,
        description="renderer backend and its settings",
    )
    video: VideoSpec = Field(default_factory=VideoSpec, description="frames, size and rate of each video")
    visibility: VisibilityRule = Field(
        default_factory=VisibilityRule, description="when an object counts as visible (planner, programs, audit)"
    )
    questions_per_family: int = Field(3, ge=1, description="questions asked per family and episode")
    dynamic_share: float = Field(0.5, ge=0.0, le=1.0, description="share of episodes in which an object moves")
    abstention_share: float = Field(
        0.1, ge=0.0, le=1.0, description="chance per family and episode of an abstention item"
    )
    targets: int = Field(3, ge=1, le=10, description="objects each camera path is planned to show")
    plan_candidates: int = Field(8, ge=1, le=100, description="camera paths tried per episode")
    families: str | None = Field(
        None, description="also ask the compiled families in this folder (synth compile --out)"
    )
    degradations: str = Field(
        "", description="extra variants, e.g. motion_blur:3,fog:2: one more sample per episode and variant"
    )
    debias: bool = Field(
        True,
        description="at the end of the run, drop the questions a blind (text-only) model answers until no family "
        "can be answered without the video (iterative bias pruning, synth/evaluation/baselines.py)",
    )
    samples_per_shard: int = Field(64, ge=1, description="samples per WebDataset shard")

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        """The preset's defaults under the given values."""
        if not isinstance(data, dict):
            return data
        name = data.get("preset", "default")
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; available: {', '.join(sorted(PRESETS))}")
        base = PRESETS[name]
        if data.get("simulator") in NATIVE_RENDERER and "renderer" not in data:
            # a simulator that renders its own scenes brings its renderer
            base = {**base, "renderer": {"backend": NATIVE_RENDERER[data["simulator"]]}}
        return _merge(base, data)

    @field_validator("video")
    @classmethod
    def _video(cls, v: VideoSpec) -> VideoSpec:
        if v.frames < 2:
            raise ValueError("a video needs at least 2 frames (--frames)")
        return v

    @field_validator("simulator")
    @classmethod
    def _simulator(cls, v: str) -> str:
        if v not in SIMULATORS:
            raise ValueError(f"unknown simulator {v!r}; available: {', '.join(sorted(SIMULATORS))}")
        return v

    @model_validator(mode="after")
    def _scene_reference(self) -> RunConfig:
        if self.simulator == "habitat" and not self.scene_dataset:
            raise ValueError("--simulator habitat needs --scene-dataset (a Habitat scene dataset folder)")
        if self.simulator == "procedural" and (self.scene_dataset or self.scene or self.house):
            raise ValueError(
                "--scene-dataset, --scene and --house name scenes of a simulator; procedural scenes are sampled"
            )
        if self.simulator == "ai2thor" and bool(self.scene) == bool(self.house):
            raise ValueError("--simulator ai2thor needs one of --scene (an iTHOR scene, e.g. FloorPlan1) and --house")
        if self.house and self.simulator != "ai2thor":
            raise ValueError("--house is a ProcTHOR house: it needs --simulator ai2thor")
        native = NATIVE_RENDERER.get(self.simulator)
        if native and self.renderer.backend != native:
            raise ValueError(f"--simulator {self.simulator} scenes render in {native} only (--renderer {native})")
        return self

    @field_validator("degradations")
    @classmethod
    def _spec(cls, v: str) -> str:
        if not v.strip():
            return ""
        from synth.degradations import parse_spec

        return ",".join(f"{k}:{s}" for k, s in parse_spec(v))

    def variants(self) -> list[tuple[str, int]]:
        if not self.degradations:
            return []
        from synth.degradations import parse_spec

        return parse_spec(self.degradations)

    @classmethod
    def from_options(cls, renderer_backend: str | None = None, **options: Any) -> RunConfig:
        """A config from flat options named like ``FLAGS`` (``frames=8, quality="draft",
        min_pixels=30``), as the command line gives them. ``KeyError`` for an option that is not
        a field, or belongs to another renderer than ``renderer_backend`` (default: the preset's)."""
        backend = (
            renderer_backend
            or NATIVE_RENDERER.get(options.get("simulator", ""))
            or cls(preset=options.get("preset", "default")).renderer.backend
        )
        data: dict[str, Any] = {}
        for name, value in options.items():
            flag = FLAGS.get(name)
            if flag is None:
                raise KeyError(f"option {name} is not a RunConfig field")
            if flag.backends and backend not in flag.backends:
                raise KeyError(f"option {name} does not apply to renderer {backend!r}")
            node = data
            for part in flag.path[:-1]:
                node = node.setdefault(part, {})
            node[flag.path[-1]] = value
        if renderer_backend or RENDERER in data:
            data.setdefault(RENDERER, {})["backend"] = backend
        return cls(**data)

    def sample_settings(self) -> dict:
        """The options that shape each sample (not how many samples, how they are sharded, or the
        run-level pruning of questions): episode i of a run is the same whatever the run's size."""
        return self.model_dump(mode="json", exclude={"episodes", "samples_per_shard", "debias"})


RENDERER = "renderer"


@dataclass(frozen=True)
class Flag:
    """One leaf field of ``RunConfig``: a command-line flag and a flat option."""

    path: tuple[str, ...]  # where the value goes in RunConfig's nested form
    field: FieldInfo
    backends: tuple[str, ...] = ()  # renderer settings: the backends that have this field


def renderer_models() -> list[type[BaseModel]]:
    union = typing.get_args(RunConfig.model_fields[RENDERER].annotation)
    return [m for m in union if isinstance(m, type) and issubclass(m, BaseModel)]


def _leaves(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> dict[str, Flag]:
    out: dict[str, Flag] = {}
    for name, f in model.model_fields.items():
        ann = f.annotation
        if name == RENDERER and not prefix:
            for settings in renderer_models():
                backend = settings.model_fields["backend"].default
                for leaf, g in settings.model_fields.items():
                    if leaf != "backend":
                        known = out.get(leaf)
                        out[leaf] = Flag((RENDERER, leaf), g, (known.backends if known else ()) + (backend,))
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            out.update(_leaves(ann, (*prefix, name)))
        else:
            out[name] = Flag((*prefix, name), f)
    return out


FLAGS: dict[str, Flag] = _leaves(RunConfig)
