"""Simulator-neutral scene model, the plugin boundary (scene sources, renderers) and the planner.

Backends are reached through ``sim_adapters.registry`` (``scene_source``, ``open_renderer``),
never imported directly."""

from .planner import Plan, plan_episode
from .procedural import sample_scene
from .scene import (
    ROOM_ID,
    Box3D,
    CameraFrame,
    Episode,
    Frame,
    Light,
    Material,
    MeshAsset,
    Part,
    Pose,
    Room,
    Scene,
    SceneObject,
    VideoSpec,
    VisibilityRule,
)
from .shoot import shoot
from .visibility import visibility_table

__all__ = [
    "ROOM_ID",
    "Box3D",
    "CameraFrame",
    "Episode",
    "Frame",
    "Light",
    "Material",
    "MeshAsset",
    "Part",
    "Pose",
    "Room",
    "Scene",
    "SceneObject",
    "VideoSpec",
    "VisibilityRule",
    "Plan",
    "plan_episode",
    "sample_scene",
    "shoot",
    "visibility_table",
]
