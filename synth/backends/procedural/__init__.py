"""The procedural scene source: sampled furnished rooms or houses of several rooms, with synth's
primitive furniture or Infinigen's meshes (generated once, cached)."""

from __future__ import annotations

from collections.abc import Callable

from synth.backends.procedural.settings import ProceduralSource
from synth.core.plugin import Plugin, Renderer
from synth.core.scene import Scene


def _scene(seed: int, settings: ProceduralSource, renderer: Renderer | None) -> Scene:
    """The room (``settings.layout`` "room": ``sampler.sample_scene``) or house ("house":
    ``house.sample_house``, ``settings.rooms`` rooms, else 3 to ``settings.max_rooms``) sampled
    from ``seed``, furnished with ``settings.assets``: "primitives" (synth's furniture built from
    boxes, cylinders and lathed parts) or "infinigen" (Infinigen's meshes where it has a factory,
    ``settings.asset_variants`` per category: ``synth.backends.procedural.infinigen_assets``)."""
    assets = None
    if settings.assets == "infinigen":
        from synth.backends.procedural.infinigen_assets import InfinigenAssets

        assets = InfinigenAssets(settings.asset_variants)
    if settings.layout == "house":
        from synth.backends.procedural.house import sample_house

        return sample_house(seed, settings.rooms, assets=assets, max_rooms=settings.max_rooms)
    from synth.backends.procedural.sampler import sample_scene

    return sample_scene(seed, settings.min_objects, settings.max_objects, assets=assets)


def _prepare(settings: ProceduralSource, log: Callable[[str], None]) -> None:
    """With Infinigen furniture, generate the missing assets (``log`` says how many and where
    first); ``BackendUnavailable`` (one line: what to install) where they are missing and
    Infinigen is not installed. A full cache needs no Infinigen."""
    if settings.assets != "infinigen":
        return
    from synth.backends.procedural.infinigen_assets import InfinigenAssets

    lib = InfinigenAssets(settings.asset_variants)
    missing = lib.missing()
    if missing:
        log(f"generating {len(missing)} Infinigen assets once into {lib.root} (~6 s each)")
        lib.ensure()


PLUGIN = Plugin(
    name="procedural",
    install_hint="nothing beyond synth; Infinigen's furniture (--assets infinigen): infra/bootstrap.sh --infinigen",
    source=_scene,
    source_settings=ProceduralSource,
    prepare=_prepare,
)
