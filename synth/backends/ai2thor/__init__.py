"""AI2-THOR: iTHOR scenes and ProcTHOR houses, read from and rendered by the running AI2-THOR."""

from __future__ import annotations

from synth.backends.ai2thor.settings import ThorSettings, ThorSource
from synth.core.plugin import Plugin, Renderer
from synth.core.scene import Scene


def _scene(seed: int, settings: ThorSource, renderer: Renderer | None) -> Scene:
    """The iTHOR ``scene`` or ProcTHOR ``house``, read from the running AI2-THOR of the ai2thor
    renderer (``ThorRenderer.scene``): THOR's metadata is the scene."""
    if renderer is None or getattr(renderer, "name", "") != "ai2thor":
        raise ValueError("AI2-THOR scenes are read from AI2-THOR itself: use the ai2thor renderer (--renderer ai2thor)")
    return renderer.scene(seed, scene=settings.scene, house=settings.house)


PLUGIN = Plugin(
    name="ai2thor",
    install_hint="the ai2thor package (pip install ai2thor)",
    renderer="synth.backends.ai2thor.renderer:ThorRenderer",
    renderer_settings=ThorSettings,
    source=_scene,
    source_settings=ThorSource,
    native_renderer="ai2thor",  # THOR's objects are Unity assets: only THOR draws them
    reads_from_renderer=True,
)
