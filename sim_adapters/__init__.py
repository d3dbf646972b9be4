"""Simulator-neutral scene model, scene sources and renderer backends."""

from .planner import Plan, plan_episode
from .procedural import sample_scene
from .scene import ROOM_ID, Box3D, CameraFrame, Episode, Frame, Light, Material, Part, Pose, Room, Scene, SceneObject
from .visibility import visibility_table

__all__ = [
    "ROOM_ID",
    "Box3D",
    "CameraFrame",
    "Episode",
    "Frame",
    "Light",
    "Material",
    "Part",
    "Pose",
    "Room",
    "Scene",
    "SceneObject",
    "Plan",
    "plan_episode",
    "sample_scene",
    "visibility_table",
]
