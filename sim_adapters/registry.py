"""Scene sources and renderer backends, registered by name (Kubric-style plugins)."""

from __future__ import annotations

from collections.abc import Callable

from .scene import Scene

SceneSource = Callable[[int], Scene]


def _procedural(seed: int) -> Scene:
    from .procedural import sample_scene

    return sample_scene(seed)


SIMULATORS: dict[str, SceneSource] = {"procedural": _procedural}


def scene_source(name: str) -> SceneSource:
    try:
        return SIMULATORS[name]
    except KeyError:
        raise ValueError(f"unknown simulator {name!r}; available: {', '.join(sorted(SIMULATORS))}") from None
