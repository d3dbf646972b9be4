"""Scene sources and renderer backends, registered by name (Kubric-style plugins).

To add a simulator: write its scene source (seed or reference -> ``Scene``) and, if it renders,
its renderer module with a settings model tagged ``backend: Literal["<name>"]`` (see
``synth.core.plugin``), then add one line to each table below. Nothing else in synth imports
a backend: the flow, the worker pool and the planner go through ``scene_source`` and
``open_renderer``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, TypeAdapter

from synth.backends.ai2thor.renderer import ThorSettings
from synth.backends.blender.renderer import BlenderSettings
from synth.backends.habitat.renderer import HabitatSettings
from synth.backends.zbuffer.renderer import ZBufferSettings
from synth.core.describe import describe
from synth.core.plugin import BackendUnavailable, Renderer, RendererSettings, SceneSource
from synth.core.scene import Scene

# the renderer settings a run configuration may hold, told apart by their ``backend`` tag
RendererConfig = Annotated[
    BlenderSettings | ZBufferSettings | HabitatSettings | ThorSettings, Field(discriminator="backend")
]


def default_renderer() -> BlenderSettings:
    """The embedded default: Blender, photoreal."""
    return BlenderSettings()


@dataclass(frozen=True)
class RendererEntry:
    module: str
    cls: str
    needs: str  # what to install when the module cannot load


RENDERERS: dict[str, RendererEntry] = {
    "blender": RendererEntry(
        "synth.backends.blender.renderer", "BlenderRenderer", "the 'bpy' wheel (pip install 'bpy==4.5.*')"
    ),
    "zbuffer": RendererEntry("synth.backends.zbuffer.renderer", "ZBufferRenderer", "numba (pip install numba)"),
    "habitat": RendererEntry(
        "synth.backends.habitat.renderer",
        "HabitatRenderer",
        "habitat-sim from conda in its own environment, named by SYNTH_HABITAT_PYTHON",
    ),
    "ai2thor": RendererEntry(
        "synth.backends.ai2thor.renderer", "ThorRenderer", "the ai2thor package (pip install ai2thor)"
    ),
}


def _procedural(seed: int, assets: str = "primitives", asset_variants: int = 4) -> Scene:
    """A sampled room; ``assets``: "primitives" (synth's furniture built from boxes, cylinders
    and lathed parts) or "infinigen" (Infinigen's meshes where it has a factory, cached:
    ``synth.backends.procedural.infinigen``, ``asset_variants`` per category)."""
    from synth.backends.procedural.sampler import sample_scene

    if assets == "primitives":
        return sample_scene(seed)
    if assets != "infinigen":
        raise ValueError(f"unknown asset set {assets!r}; available: infinigen, primitives")
    from synth.backends.procedural.infinigen import InfinigenAssets

    return sample_scene(seed, assets=InfinigenAssets(asset_variants))


def prepare_source(name: str, log: Callable[[str], None] = lambda msg: None, **options) -> None:
    """Make what the scene source ``name`` needs before its first scene, once per run and
    machine, in the calling process (before render workers start, so none waits on another):
    the procedural source with ``assets="infinigen"`` generates its missing assets (``log`` says
    how many and where first). ``BackendUnavailable`` (one line: what to install) where they
    are missing and Infinigen is not installed; a full cache needs no Infinigen."""
    if name != "procedural" or options.get("assets", "primitives") != "infinigen":
        return
    from synth.backends.procedural.infinigen import InfinigenAssets

    lib = InfinigenAssets(int(options.get("asset_variants", 4)))
    missing = lib.missing()
    if missing:
        log(f"generating {len(missing)} Infinigen assets once into {lib.root} (~3 s each)")
        lib.ensure()


def _habitat(seed: int, scene_dataset: str | None = None, scene: str | None = None) -> Scene:
    """A scene instance of a Habitat scene dataset: ``scene``, or the dataset's scene number
    ``seed`` modulo their count (``synth.backends.habitat.source``)."""
    from synth.backends.habitat.source import read_scene, scene_names

    if not scene_dataset:
        raise ValueError("the habitat scene source needs scene_dataset (--scene-dataset)")
    if not scene:
        names = scene_names(scene_dataset)
        if not names:
            raise ValueError(f"the Habitat scene dataset {scene_dataset} has no scene instances")
        scene = names[seed % len(names)]
    return read_scene(scene_dataset, scene, seed)


def _ai2thor(seed: int, renderer: Renderer | None = None, scene: str | None = None, house: str | None = None) -> Scene:
    """An iTHOR ``scene`` or a ProcTHOR ``house``, read from the running AI2-THOR of the
    ``ai2thor`` renderer (``synth.backends.ai2thor.renderer``): THOR's metadata is the scene."""
    if renderer is None or getattr(renderer, "name", "") != "ai2thor":
        raise ValueError("AI2-THOR scenes are read from AI2-THOR itself: use the ai2thor renderer (--renderer ai2thor)")
    return renderer.scene(seed, scene=scene, house=house)


# name -> source(seed, **reference): a sampled source ignores the reference; others need it
SIMULATORS: dict[str, Callable[..., Scene]] = {"procedural": _procedural, "habitat": _habitat, "ai2thor": _ai2thor}
READ_FROM_RENDERER = frozenset({"ai2thor"})  # sources whose scenes come from the simulator that renders them


def scene_source(name: str, renderer: Renderer | None = None, **reference: str | int | None) -> SceneSource:
    """The registered scene source ``name`` for the scene ``reference`` (``scene_dataset``,
    ``scene``, ``house``: what the run configuration names), its look-alike objects told apart
    (``describe``); ``renderer``: the open renderer, which sources in ``READ_FROM_RENDERER``
    read their scenes from. ``ValueError`` listing the available ones."""
    try:
        source = SIMULATORS[name]
    except KeyError:
        raise ValueError(f"unknown simulator {name!r}; available: {', '.join(sorted(SIMULATORS))}") from None
    given = {k: v for k, v in reference.items() if v}
    if name == "procedural":
        options = {k: given[k] for k in ("assets", "asset_variants") if k in given}
        return lambda seed: describe(source(seed, **options))
    for option in ("assets", "asset_variants"):  # the procedural sampler's own options
        given.pop(option, None)
    if name in READ_FROM_RENDERER:
        given["renderer"] = renderer
    return lambda seed: describe(source(seed, **given))


def renderer_settings(backend: str, **options) -> RendererSettings:
    """Validated settings of the renderer ``backend`` (e.g. ``renderer_settings("blender", quality="draft")``)."""
    return TypeAdapter(RendererConfig).validate_python({"backend": backend, **options})


def open_renderer(settings, threads: int = 0) -> Renderer:
    """A renderer for ``settings`` (one of ``RendererConfig``); ``threads``: render threads of
    this process (0 = all). ``BackendUnavailable`` names what to install when it cannot load."""
    entry = RENDERERS.get(settings.backend)
    if entry is None:
        raise ValueError(f"unknown renderer {settings.backend!r}; available: {', '.join(sorted(RENDERERS))}")
    try:
        module = importlib.import_module(entry.module)
    except ImportError as e:
        raise BackendUnavailable(f"renderer {settings.backend!r} needs {entry.needs}: {e}") from e
    return getattr(module, entry.cls)(settings, threads=threads)
