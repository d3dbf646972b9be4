"""The one run configuration: ``RunConfig`` is the Prefect flow's parameter (the UI renders its
form and validates it from this model) and the source of ``synth run``'s flags (``synth.cli.main``
generates them from its fields: names, types, defaults and help)."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.fields import FieldInfo

from synth.backends.procedural.settings import MIN_ROOMS
from synth.backends.registry import (
    NATIVE_RENDERER,
    SIMULATORS,
    SOURCE_SETTINGS,
    RendererConfig,
    SourceConfig,
    default_renderer,
    default_source,
)
from synth.core.scene import VideoSpec, VisibilityRule
from synth.evaluation.adapt import BAND, SEVERITY_KNOB, adapt, read_report
from synth.flows.presets import PRESETS
from synth.planning.tour import ROOM_SECONDS
from synth.programs.difficulty import Adaptation

RENDERER = "renderer"
SOURCE = "source"
TAG = "simulator"  # the tag of ``RunConfig.source``: which scene source
COMPUTED = ("adaptation",)  # fields the configuration computes (no flag)
TAGS = ("backend", TAG)  # nested settings with another tag are replaced, not merged
DEFAULT_SIMULATOR = default_source().simulator
# the source options a configuration held at its top level before ``source`` (every older run.json)
FLAT_SOURCE_OPTIONS = frozenset({TAG}.union(*(m.model_fields for m in SOURCE_SETTINGS)))


def _merge(base: dict, over: dict) -> dict:
    """``over`` on top of ``base``, nested dicts merged (a different renderer backend or scene
    source replaces)."""
    out = dict(base)
    for k, v in over.items():
        b = out.get(k)
        nested = isinstance(b, dict) and isinstance(v, dict)
        if nested and all(v.get(t, b.get(t)) == b.get(t, v.get(t)) for t in TAGS):
            out[k] = _merge(b, v)
        else:
            out[k] = v
    return out


def _tag(settings: Any) -> str | None:
    """The ``simulator`` of source settings given as a dict or a model."""
    return settings.get(TAG) if isinstance(settings, dict) else getattr(settings, TAG, None)


def _written_default(option: str, value: Any) -> bool:
    """Whether ``value`` is the default of ``option`` in a source that has it."""
    return any(option in m.model_fields and m.model_fields[option].default == value for m in SOURCE_SETTINGS)


def _fold_source(data: dict, default: str) -> dict:
    """``data`` with the flat source options (``FLAT_SOURCE_OPTIONS``: what older run.json files
    and flat options hold) moved into ``source``, on top of a given ``source`` of the same
    simulator (default ``default``). ``None`` is an option not given; an option of another
    source at its default is one that older files wrote for every source, and is dropped."""
    flat = {k: v for k, v in data.items() if k in FLAT_SOURCE_OPTIONS}
    if not flat:
        return data
    out = {k: v for k, v in data.items() if k not in flat}
    given = out.get(SOURCE)
    given = given.model_dump() if isinstance(given, BaseModel) else dict(given or {})
    name = flat.pop(TAG, None) or given.get(TAG) or default
    source = {**(given if given.get(TAG, name) == name else {}), TAG: name}
    own = SIMULATORS[name].source_settings.model_fields if name in SIMULATORS else {}
    for option, value in flat.items():
        if value is None or (own and option not in own and _written_default(option, value)):
            continue
        source[option] = value
    out[SOURCE] = source
    return out


def _frames_from_duration(merged: dict, given: dict) -> dict:
    """``duration`` seconds become ``video.frames`` at the video's rate; ``ValueError`` when the
    caller also gave ``frames`` and they disagree."""
    seconds = merged.get("duration")
    if seconds is None:
        return merged
    video = merged.get("video") or {}
    video = video.model_dump() if isinstance(video, BaseModel) else dict(video)
    fps = float(video.get("fps", VideoSpec.model_fields["fps"].default))
    frames = max(2, round(float(seconds) * fps))
    asked = (given.get("video") or {}) if isinstance(given.get("video"), dict) else {}
    if "frames" in asked and int(asked["frames"]) != frames:
        raise ValueError(f"--frames {asked['frames']} and --duration {seconds:g} s at {fps:g} fps disagree: give one")
    return {**merged, "video": {**video, "frames": frames}}


class RunConfig(BaseModel):
    """Everything that determines the data a run produces (not how fast it runs or where it goes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: str = Field("default", description="named defaults (synth/flows/presets.py) that explicit options override")
    episodes: int = Field(4, ge=1, description="episodes to generate")
    seed: int = Field(0, ge=0, description="run seed: episode i of a run is the same whatever the run's size")
    source: SourceConfig = Field(
        default_factory=default_source, description="scene source (synth/backends/registry.py)"
    )
    renderer: RendererConfig = Field(
        default_factory=default_renderer,
        description="renderer backend and its settings",
    )
    video: VideoSpec = Field(default_factory=VideoSpec, description="frames, size and rate of each video")
    visibility: VisibilityRule = Field(
        default_factory=VisibilityRule, description="when an object counts as visible (planner, programs, audit)"
    )
    questions_per_family: int = Field(3, ge=1, description="questions asked per family and episode")
    balance_perspective: bool = Field(
        False,
        description="depth families (contrast: true) ask as many items against the perspective prior (the farther "
        "object lower in the frame) as with it (QA.perspective; issue #34)",
    )
    settle_views: bool = Field(
        False,
        description="render 4 candidate views after each video (one showing an object the video never shows, "
        "three not) and ask, for questions about that object, which view would make them answerable (exactly one "
        "does: QA.settles; the views in views.npz and json.views; issue #34)",
    )
    minimal_pairs: bool = Field(
        False,
        description="render each episode once more with one object moved (mirrored across a frame's view, turned "
        "half a turn) and ship the items whose answer flips, asked of both, as a linked sample <key>-pair "
        "(QA.pair; issue #34); doubles the rendering",
    )
    dynamic_share: float = Field(0.5, ge=0.0, le=1.0, description="share of episodes in which an object moves")
    abstention_share: float = Field(
        0.1, ge=0.0, le=1.0, description="chance per family and episode of an abstention item"
    )
    trajectory: Literal["clip", "tour"] = Field(
        "clip",
        description="camera paths: task-aware clips of a few seconds, or tours that walk through every room of "
        "the house as a person filming it (synth/planning/tour.py; --duration 30-180 s at --fps 2-8)",
    )
    duration: float | None = Field(
        None,
        ge=1.0,
        le=3600.0,
        description="video length in seconds (sets --frames to duration x fps); tours: 30-180",
    )
    targets: int = Field(3, ge=1, le=10, description="objects each camera path is planned to show")
    plan_candidates: int = Field(8, ge=1, le=100, description="camera paths tried per episode")
    families: str | None = Field(
        None, description="also ask the compiled families in this folder (synth compile --out)"
    )
    streaming: str = Field(
        "",
        description="families also asked at 3 moments of the video, each answered from the frames up to it "
        "(streaming questions, QA.query_frame), comma-separated ids, e.g. object_counting,obj_appearance_order "
        "(families whose YAML says streaming: true always are)",
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
    adapt_from: str = Field(
        "",
        description="a synth eval report (JSON) of some model: steer this run's families and difficulty levels "
        "toward the accuracy band (synth/evaluation/adapt.py); the weights are recorded in the manifest",
    )
    adapt_band: tuple[float, float] = Field(BAND, description="target accuracy band of --adapt-from, e.g. 0.4,0.7")
    adapt_scene: bool = Field(
        False,
        description="with --adapt-from, also steer the scenes where choosing questions cannot reach the band: a "
        "procedural room's object range (counting and relative-direction families; 4-40 objects), a procedural "
        "house's most rooms (house families; 3-8, as many as a tour's duration visits), the objects a clip's "
        "camera path shows (temporal families; 1-10) and each degradation type's severity (its variants' score; 1-5)",
    )
    # computed from adapt_from when the configuration is made (not an option: no flag, no form field)
    adaptation: Adaptation | None = None

    @field_validator("adapt_band", mode="before")
    @classmethod
    def _band(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = tuple(float(x) for x in v.split(","))
        if len(v) != 2 or not 0 <= v[0] < v[1] <= 1:
            raise ValueError("adapt_band must be two fractions LOW,HIGH with 0 <= LOW < HIGH <= 1, e.g. 0.4,0.7")
        return v

    @model_validator(mode="after")
    def _adaptation(self) -> RunConfig:
        """Reads ``adapt_from`` once: the weights it gives, kept with the configuration."""
        if self.adapt_from and self.adaptation is None:
            report, digest = read_report(self.adapt_from)
            adaptation = adapt(report, digest, self.adapt_band, scene=self.adapt_scene)
            object.__setattr__(self, "adaptation", adaptation)
            self._turn_knobs(adaptation.scene)
        elif not self.adapt_from and self.adaptation is not None:
            raise ValueError("adaptation is computed from adapt_from; give the report instead")
        return self

    def _turn_knobs(self, knobs: dict[str, int]) -> None:
        """Sets the scene knobs of an adaptation (``synth.evaluation.adapt``) that fit this run: a
        procedural room's object range, a procedural house's most rooms (a house of drawn size, as
        many as the tour's duration visits), the objects a clip's camera path shows, the severity of
        each of its degradation types."""
        layout = getattr(self.source, "layout", None)
        wanted = {"room": ("min_objects", "max_objects"), "house": ("max_rooms",)}.get(layout, ())
        update = {k: v for k, v in knobs.items() if k in wanted}
        if "max_rooms" in update and self.trajectory == "tour":
            fits = int((self.video.frames / self.video.fps + 1e-6) // ROOM_SECONDS)
            update["max_rooms"] = max(MIN_ROOMS, min(update["max_rooms"], fits))
        if layout == "house" and self.source.rooms is not None:
            update.pop("max_rooms", None)
        if update:
            object.__setattr__(self, "source", self.source.model_copy(update=update))
        if "targets" in knobs and self.trajectory == "clip":
            object.__setattr__(self, "targets", knobs["targets"])
        if self.degradations:
            spec = [(k, knobs.get(SEVERITY_KNOB + k, s)) for k, s in self.variants()]
            object.__setattr__(self, "degradations", ",".join(f"{k}:{s}" for k, s in dict.fromkeys(spec)))

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        """The preset's defaults under the given values; the flat source options of older
        configurations (``FLAT_SOURCE_OPTIONS``) moved into ``source`` first."""
        if not isinstance(data, dict):
            return data
        name = data.get("preset", "default")
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; available: {', '.join(sorted(PRESETS))}")
        base = PRESETS[name]
        default = _tag(base.get(SOURCE, {})) or DEFAULT_SIMULATOR
        data = _fold_source(data, default)
        if isinstance(data.get(SOURCE), dict) and TAG not in data[SOURCE]:
            data = {**data, SOURCE: {TAG: default, **data[SOURCE]}}
        native = NATIVE_RENDERER.get(_tag(data.get(SOURCE, base.get(SOURCE, {}))) or default)
        if native and RENDERER not in data:
            # a simulator that renders its own scenes brings its renderer
            base = {**base, RENDERER: {"backend": native}}
        return _frames_from_duration(_merge(base, data), data)

    @model_validator(mode="after")
    def _tour(self) -> RunConfig:
        """Tours last 30-180 s at 2-8 frames per second (the issue's walkthroughs), in houses."""
        if self.trajectory != "tour":
            return self
        seconds = self.video.frames / self.video.fps
        if not 2.0 <= self.video.fps <= 8.0:
            raise ValueError(f"a tour is filmed at 2-8 frames per second (--fps), not {self.video.fps:g}")
        if not 30.0 - 1e-6 <= seconds <= 180.0 + 1e-6:
            raise ValueError(f"a tour lasts 30-180 s (--duration), not {seconds:g} s")
        if getattr(self.source, "layout", None) != "house":
            return self
        rooms = self.source.rooms or self.source.max_rooms
        if seconds < rooms * ROOM_SECONDS - 1e-6:
            few = "" if self.source.rooms else f", or --max-rooms {max(3, int(seconds // ROOM_SECONDS))}"
            raise ValueError(
                f"a {seconds:g} s tour cannot visit houses of {rooms} rooms: a room takes about {ROOM_SECONDS:g} s "
                f"(walk and look-around): --duration {rooms * ROOM_SECONDS:g} or more{few}"
            )
        return self

    @field_validator("video")
    @classmethod
    def _video(cls, v: VideoSpec) -> VideoSpec:
        if v.frames < 2:
            raise ValueError("a video needs at least 2 frames (--frames)")
        return v

    @field_validator(SOURCE, mode="before")
    @classmethod
    def _simulator(cls, v: Any) -> Any:
        name = _tag(v)
        if isinstance(v, dict) and name not in SIMULATORS:
            raise ValueError(f"unknown simulator {name!r}; available: {', '.join(sorted(SIMULATORS))}")
        return v

    @model_validator(mode="after")
    def _native_renderer(self) -> RunConfig:
        simulator = self.source.simulator
        native = NATIVE_RENDERER.get(simulator)
        if native and self.renderer.backend != native:
            raise ValueError(f"--simulator {simulator} scenes render in {native} only (--renderer {native})")
        return self

    @model_validator(mode="after")
    def _streaming(self) -> RunConfig:
        """Streaming ids name library families (compiled ones, with --families, are checked when
        the run loads them)."""
        from synth.programs.library import FAMILIES

        unknown = [f for f in filter(None, (f.strip() for f in self.streaming.split(","))) if f not in FAMILIES]
        if unknown and not self.families:
            raise ValueError(f"--streaming names {', '.join(unknown)}: not a library family")
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
        min_pixels=30, simulator="habitat", scene_dataset=path``), as the command line gives them.
        ``KeyError`` for an option that is not a field, or belongs to another renderer than
        ``renderer_backend`` (default: the preset's). Source options stay flat: the model moves
        them into ``source`` (``FLAT_SOURCE_OPTIONS``)."""
        backend = (
            renderer_backend
            or NATIVE_RENDERER.get(options.get(TAG, ""))
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


@dataclass(frozen=True)
class Flag:
    """One leaf field of ``RunConfig``: a command-line flag and a flat option."""

    path: tuple[str, ...]  # where the value goes in RunConfig's input (source options: flat)
    field: FieldInfo
    backends: tuple[str, ...] = ()  # renderer settings: the backends that have this field
    simulators: tuple[str, ...] = ()  # source settings: the simulators that have this field


def _union_models(name: str) -> list[type[BaseModel]]:
    union = typing.get_args(RunConfig.model_fields[name].annotation)
    return [m for m in union if isinstance(m, type) and issubclass(m, BaseModel)]


def renderer_models() -> list[type[BaseModel]]:
    """The settings models of ``RunConfig.renderer``, one per renderer."""
    return _union_models(RENDERER)


def source_models() -> list[type[BaseModel]]:
    """The settings models of ``RunConfig.source``, one per scene source."""
    return _union_models(SOURCE)


def _source_leaves(source: FieldInfo) -> dict[str, Flag]:
    """The flags of the scene sources: ``--simulator`` (the tag; its help is ``source``'s) and
    every option of every source; an option several sources have says what it is for each."""
    owners: dict[str, list[tuple[str, FieldInfo]]] = {}
    for settings in source_models():
        simulator = settings.model_fields[TAG].default
        for leaf, g in settings.model_fields.items():
            if leaf != TAG:
                owners.setdefault(leaf, []).append((simulator, g))
    out = {TAG: Flag((TAG,), FieldInfo(annotation=str, description=source.description), (), tuple(SIMULATORS))}
    for leaf, fields in owners.items():
        g = fields[0][1]
        if len(fields) > 1:
            g = FieldInfo.merge_field_infos(g, description="; ".join(f"{sim}: {f.description}" for sim, f in fields))
        out[leaf] = Flag((leaf,), g, (), tuple(sim for sim, _ in fields))
    return out


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
        elif name == SOURCE and not prefix:
            out.update(_source_leaves(f))
        elif name in COMPUTED and not prefix:
            continue
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            out.update(_leaves(ann, (*prefix, name)))
        else:
            out[name] = Flag((*prefix, name), f)
    return out


FLAGS: dict[str, Flag] = _leaves(RunConfig)
