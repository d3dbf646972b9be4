"""The plugin boundary between synth and a simulator (after Kubric's scene / renderer split).

A **scene source** turns a seed or a scene reference into a simulator-neutral ``Scene``
(``synth.core.scene``). A **renderer** opens a scene for a ``VideoSpec`` and returns a
**session** that renders frames (every object at the frame's pose: that is how objects move),
counts visible pixels for the planner, and closes. Both are registered by name in
``synth.backends.registry``; each renderer has its own pydantic settings model, tagged by its
``backend`` name, which the run configuration holds (``RunConfig.renderer``).

What a session returns (``FrameBuffers``), for F frames of H x W pixels:
- ``rgb``: (F, H, W, 3) uint8, sRGB;
- ``depth``: (F, H, W) float32, camera-space z (planar depth) in metres, ``inf`` where nothing
  was hit;
- ``instance``: (F, H, W) uint16 object ids (``SceneObject.id``; 0 = room or background).
Cameras follow ``scene.py``'s OpenCV convention. A renderer that cannot honour an arbitrary
``K`` says which one it can (``Renderer.intrinsics``); the planner uses that one.

Each backend describes itself once, in a ``Plugin`` (its ``synth/backends/<name>/__init__.py``):
its name, its renderer and renderer settings, its scene source and source settings, what to
install, and how its source and renderer depend on each other. The registry derives every table
from these descriptors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from synth.core.meshes import MeshCache
from synth.core.render_types import FrameBuffers
from synth.core.scene import Episode, Frame, MeshAsset, Room, Scene, SceneObject, VideoSpec


class BackendUnavailable(RuntimeError):
    """A registered backend cannot run here; the message says what to install or start."""


class RendererSettings(BaseModel):
    """Base of every renderer's settings (subclasses add a ``backend: Literal[name]`` tag)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def describe(self) -> dict[str, str | int | float]:
        """What the episode records about the renderer (``Episode.renderer``)."""
        return self.model_dump(mode="json")

    def processes(self, cores: int) -> int:
        """Render processes that use ``cores`` cores best (default: one per core)."""
        return cores


class SourceSettings(BaseModel):
    """Base of every scene source's settings (subclasses add a ``simulator: Literal[name]`` tag
    and the options that name or shape its scenes, with their defaults): one arm of
    ``RunConfig.source``. An option of another source is refused (``not_mine``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _own_options(cls, data: Any) -> Any:
        if isinstance(data, dict):
            other = [k for k in data if k not in cls.model_fields]
            if other:
                raise ValueError(cls.not_mine(other))
        return data

    @classmethod
    def not_mine(cls, options: list[str]) -> str:
        """The error for ``options`` (field names) that this source does not take."""
        flags = ", ".join(f"--{o.replace('_', '-')}" for o in options)
        verb = "does" if len(options) == 1 else "do"
        return f"{flags} {verb} not apply to --simulator {cls.model_fields['simulator'].default}"


class RenderSession(Protocol):
    """One scene, open in a renderer."""

    def render(self, frames: list[Frame], on_frame: Callable[[], None] | None = None) -> FrameBuffers:
        """RGB, depth and instance ids of ``frames`` (each object at ``frame.object_poses``);
        ``on_frame()`` after each frame (progress)."""
        ...

    def measure_visibility(self, frames: list[Frame]) -> dict[int, list[int]]:
        """Visible pixels per object id per frame, on the full-resolution pixel scale (may be
        measured at a lower resolution and scaled: it guides the planner only)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Renderer(Protocol):
    """A renderer backend; one per process where the simulator holds global state (Blender)."""

    name: str
    settings: RendererSettings
    meshes: MeshCache  # objects' meshes kept from scene to scene (the planner's z-buffer, the evidence)

    def intrinsics(self, video: VideoSpec) -> np.ndarray:
        """The 3x3 K this renderer renders at ``video``'s size."""
        ...

    def open(self, scene: Scene, video: VideoSpec) -> RenderSession:
        """Load ``scene`` (replacing any open one) for frames of ``video``'s size: each piece of
        its geometry (``scene_geometry``) by the renderer's handler for that kind."""
        ...

    def describe(self) -> dict[str, str | int | float]:
        """What an episode records about the renderer (``Episode.renderer``): its settings
        (``RendererSettings.describe``), with what resolved at run time (e.g. Cycles' device)."""
        ...

    def close(self) -> None: ...


class SceneSource(Protocol):
    """Seed (sampled sources) or the configured scene reference -> ``Scene``."""

    def __call__(self, seed: int) -> Scene: ...


Geometry = Literal["room", "stage", "parts", "mesh"]


def scene_geometry(scene: Scene) -> Iterator[tuple[Geometry, int, Room | MeshAsset | SceneObject]]:
    """Every piece of ``scene``'s geometry with its kind and its index among that kind, in the
    order a renderer loads them (as Kubric's ``add_asset`` dispatches on the asset's type):
    ``room`` (floor, walls and ceiling of ``scene.rooms[k]``; instance id 0), ``stage`` (the
    static mesh asset ``scene.stage`` in world coordinates; id 0), then each object as primitive
    ``parts`` or as a ``mesh`` asset (``SceneObject.mesh``; the object's id)."""
    for k, room in enumerate(scene.rooms):
        yield "room", k, room
    if scene.stage is not None:
        yield "stage", 0, scene.stage
    for k, obj in enumerate(scene.objects):
        yield ("mesh" if obj.mesh is not None else "parts"), k, obj


class SceneWriter(Protocol):
    """Writes synth scenes, and episodes' camera paths, as a dataset in a simulator's own format
    (the module a backend names in ``Plugin.scene_writer``; ``synth export``)."""

    DATASET_NAME: str  # the dataset's own files are named after it

    def write_scene(self, scene: Scene, out: Path, scene_name: str) -> Path:
        """Write ``scene`` as ``scene_name`` into the dataset folder ``out`` (created, or added to)."""
        ...

    def write_trajectory(self, episode: Episode, out: Path, key: str, scene_name: str, hfov_deg: float) -> Path:
        """Write ``episode``'s camera path (and object poses) over the scene ``scene_name``."""
        ...


@dataclass(frozen=True)
class Plugin:
    """One backend, described once (``synth/backends/<name>/__init__.py`` exports it as
    ``PLUGIN``). Importing a descriptor imports no simulator: the renderer is named by its import
    path and loaded when one is opened; the source and prepare hooks import what they need when
    called."""

    name: str  # the renderer's ``backend`` tag and the source's ``simulator`` tag
    install_hint: str  # what to install when the backend cannot load
    renderer: str | None = None  # "module:Class" of its ``Renderer`` (made as ``Class(settings, threads=...)``)
    renderer_settings: type[RendererSettings] | None = None
    source: Callable[[int, Any, Renderer | None], Scene] | None = None  # (seed, source settings, renderer)
    source_settings: type[SourceSettings] | None = None
    # make what the source needs before its first scene, once per run and machine: (settings, log)
    prepare: Callable[[Any, Callable[[str], None]], None] | None = None
    native_renderer: str | None = None  # the only renderer that can draw this source's scenes
    reads_from_renderer: bool = False  # the source reads its scenes from the open (native) renderer
    scene_writer: str | None = None  # module writing scenes in the simulator's format (a ``SceneWriter``)

    def __post_init__(self) -> None:
        if (self.renderer is None) != (self.renderer_settings is None):
            raise ValueError(f"plugin {self.name}: a renderer needs its settings model and the other way round")
        if (self.source is None) != (self.source_settings is None):
            raise ValueError(f"plugin {self.name}: a scene source needs its settings model and the other way round")
        for model, tag in ((self.renderer_settings, "backend"), (self.source_settings, "simulator")):
            if model is not None and model.model_fields[tag].default != self.name:
                raise ValueError(f"plugin {self.name}: {model.__name__}.{tag} must be {self.name!r}")
