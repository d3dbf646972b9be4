"""Scene sources and renderer backends, registered by name (Kubric-style plugins).

Every table here is derived from the backends' plugin descriptors (``synth.core.plugin.Plugin``,
the ``PLUGIN`` of each ``synth/backends/<name>/__init__.py``). To add a simulator or a renderer,
write its folder (settings models, scene source and/or renderer, its ``PLUGIN``) and name it in
``PLUGINS``. Nothing else in synth imports a backend: the flow, the worker pool, the planner and
the exports go through ``scene_source``, ``open_renderer`` and ``scene_writer``.
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable, Mapping
from functools import reduce
from types import MappingProxyType
from typing import Annotated

from pydantic import Field, TypeAdapter

from synth.backends import ai2thor, blender, habitat, procedural, zbuffer
from synth.core.describe import describe
from synth.core.plugin import (
    BackendUnavailable,
    Plugin,
    Renderer,
    RendererSettings,
    SceneSource,
    SceneWriter,
    SourceSettings,
)

PLUGINS: tuple[Plugin, ...] = (blender.PLUGIN, zbuffer.PLUGIN, habitat.PLUGIN, ai2thor.PLUGIN, procedural.PLUGIN)

PLUGIN_BY_NAME: Mapping[str, Plugin] = MappingProxyType({p.name: p for p in PLUGINS})
RENDERERS: Mapping[str, Plugin] = MappingProxyType({p.name: p for p in PLUGINS if p.renderer})
SIMULATORS: Mapping[str, Plugin] = MappingProxyType({p.name: p for p in PLUGINS if p.source})
# sources whose scenes come from the simulator that renders them
READ_FROM_RENDERER = frozenset(p.name for p in PLUGINS if p.reads_from_renderer)
# simulators whose scenes only their own renderer can draw (THOR's objects are Unity assets)
NATIVE_RENDERER: Mapping[str, str] = MappingProxyType({p.name: p.native_renderer for p in PLUGINS if p.native_renderer})

RENDERER_SETTINGS: tuple[type[RendererSettings], ...] = tuple(p.renderer_settings for p in RENDERERS.values())
SOURCE_SETTINGS: tuple[type[SourceSettings], ...] = tuple(p.source_settings for p in SIMULATORS.values())

# the renderer settings a run configuration may hold, told apart by their ``backend`` tag
RendererConfig = Annotated[reduce(operator.or_, RENDERER_SETTINGS), Field(discriminator="backend")]
# the scene source settings a run configuration may hold, told apart by their ``simulator`` tag
SourceConfig = Annotated[reduce(operator.or_, SOURCE_SETTINGS), Field(discriminator="simulator")]


def renderer_settings(backend: str, **options) -> RendererSettings:
    """Validated settings of the renderer ``backend`` (e.g. ``renderer_settings("blender", quality="draft")``)."""
    return TypeAdapter(RendererConfig).validate_python({"backend": backend, **options})


def source_settings(simulator: str, **options) -> SourceSettings:
    """Validated settings of the scene source ``simulator``, its own defaults under ``options``
    (e.g. ``source_settings("procedural", assets="primitives")``); ``ValueError`` listing the
    available ones."""
    if simulator not in SIMULATORS:
        raise ValueError(f"unknown simulator {simulator!r}; available: {', '.join(sorted(SIMULATORS))}")
    return TypeAdapter(SourceConfig).validate_python({"simulator": simulator, **options})


def default_renderer() -> RendererSettings:
    """The embedded default: Blender, photoreal."""
    return renderer_settings("blender")


def default_source() -> SourceSettings:
    """The embedded default: procedural rooms with the procedural source's defaults."""
    return source_settings("procedural")


def scene_source(source: SourceSettings | str, renderer: Renderer | None = None, **options) -> SceneSource:
    """The scene source ``source`` (its settings, e.g. ``RunConfig.source``, or its name and
    ``options``, e.g. ``scene_source("habitat", scene_dataset=path)``), its look-alike objects
    told apart (``describe``); ``renderer``: the open renderer, which sources in
    ``READ_FROM_RENDERER`` read their scenes from."""
    settings = source_settings(source, **options) if isinstance(source, str) else source
    plugin = SIMULATORS[settings.simulator]
    make = plugin.source
    given = renderer if plugin.reads_from_renderer else None
    return lambda seed: describe(make(seed, settings, given))


def prepare_source(source: SourceSettings, log: Callable[[str], None] = lambda msg: None) -> None:
    """Make what the scene source needs before its first scene, once per run and machine, in the
    calling process (before render workers start, so none waits on another): e.g. the procedural
    source with Infinigen furniture generates its missing assets (``log`` says how many and where
    first). ``BackendUnavailable`` (one line: what to install) where that cannot be done."""
    prepare = SIMULATORS[source.simulator].prepare
    if prepare is not None:
        prepare(source, log)


def _load(plugin: Plugin, path: str, what: str):
    """The object at ``path`` ("module:attribute", or a module); ``BackendUnavailable`` naming
    what to install when its module cannot load."""
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise BackendUnavailable(f"{what} {plugin.name!r} needs {plugin.install_hint}: {e}") from e
    return getattr(module, attribute) if attribute else module


def open_renderer(settings: RendererSettings, threads: int = 0) -> Renderer:
    """A renderer for ``settings`` (one of ``RendererConfig``); ``threads``: render threads of
    this process (0 = all). ``BackendUnavailable`` names what to install when it cannot load."""
    plugin = RENDERERS.get(settings.backend)
    if plugin is None:
        raise ValueError(f"unknown renderer {settings.backend!r}; available: {', '.join(sorted(RENDERERS))}")
    return _load(plugin, plugin.renderer, "renderer")(settings, threads=threads)


def scene_writer(name: str) -> SceneWriter:
    """The writer of scene datasets in the format of the simulator ``name`` (``synth export``)."""
    plugin = PLUGIN_BY_NAME.get(name)
    if plugin is None or plugin.scene_writer is None:
        known = sorted(p.name for p in PLUGINS if p.scene_writer)
        raise ValueError(f"no scene dataset writer for {name!r}; available: {', '.join(known)}")
    return _load(plugin, plugin.scene_writer, "scene writer")
