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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict

from synth.core.render_types import FrameBuffers
from synth.core.scene import Frame, Scene, VideoSpec


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

    def intrinsics(self, video: VideoSpec) -> np.ndarray:
        """The 3x3 K this renderer renders at ``video``'s size."""
        ...

    def open(self, scene: Scene, video: VideoSpec) -> RenderSession:
        """Load ``scene`` (replacing any open one) for frames of ``video``'s size."""
        ...

    def close(self) -> None: ...


class SceneSource(Protocol):
    """Seed (sampled sources) or the configured scene reference -> ``Scene``."""

    def __call__(self, seed: int) -> Scene: ...
