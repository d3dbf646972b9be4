"""Habitat: scene datasets read as synth scenes, habitat-sim as a renderer, synth scenes written
in Habitat's formats (``synth export habitat``)."""

from __future__ import annotations

from synth.backends.habitat.settings import HabitatSettings, HabitatSource
from synth.core.plugin import Plugin, Renderer
from synth.core.scene import Scene


def _scene(seed: int, settings: HabitatSource, renderer: Renderer | None) -> Scene:
    """A scene instance of the scene dataset: ``settings.scene``, or the dataset's scene number
    ``seed`` modulo their count (``synth.backends.habitat.source``)."""
    from synth.backends.habitat.source import read_scene, scene_names

    scene = settings.scene
    if not scene:
        names = scene_names(settings.scene_dataset)
        if not names:
            raise ValueError(f"the Habitat scene dataset {settings.scene_dataset} has no scene instances")
        scene = names[seed % len(names)]
    return read_scene(settings.scene_dataset, scene, seed)


PLUGIN = Plugin(
    name="habitat",
    install_hint="habitat-sim from conda in its own environment, named by SYNTH_HABITAT_PYTHON",
    renderer="synth.backends.habitat.renderer:HabitatRenderer",
    renderer_settings=HabitatSettings,
    source=_scene,
    source_settings=HabitatSource,
    scene_writer="synth.backends.habitat.format",
)
