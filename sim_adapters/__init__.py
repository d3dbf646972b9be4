"""Simulator-neutral scene model, scene sources and renderer backends."""

from .procedural import sample_scene
from .scene import ROOM_ID, Box3D, CameraFrame, Episode, Frame, Light, Material, Part, Pose, Room, Scene, SceneObject
from .trajectory import plan_dolly
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
    "plan_dolly",
    "sample_scene",
    "visibility_table",
]
