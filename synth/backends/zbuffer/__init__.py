"""synth's software z-buffer as a renderer: exact depth and ids, sketch RGB, no simulator."""

from __future__ import annotations

from synth.backends.zbuffer.settings import ZBufferSettings
from synth.core.plugin import Plugin

PLUGIN = Plugin(
    name="zbuffer",
    install_hint="numba (pip install numba)",
    renderer="synth.backends.zbuffer.renderer:ZBufferRenderer",
    renderer_settings=ZBufferSettings,
)
