"""The Blender renderer (``bpy``): Cycles for datasets, Workbench for previews and tests."""

from __future__ import annotations

from synth.backends.blender.settings import BlenderSettings
from synth.core.plugin import Plugin

PLUGIN = Plugin(
    name="blender",
    install_hint="the 'bpy' wheel (pip install 'bpy==4.5.*')",
    renderer="synth.backends.blender.renderer:BlenderRenderer",
    renderer_settings=BlenderSettings,
)
