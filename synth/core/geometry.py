"""Rigid-body geometry of posed objects shared by backends, planners and programs: local <->
world frames and floor-plane footprints (numpy, shapely). Rotations are in
``synth.core.rotations``, the camera in ``synth.core.camera``."""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Polygon

from synth.core.rotations import quaternion_matrix, yaw_rotation
from synth.core.scene import Box3D, Pose


def rotation(pose: Pose | Box3D) -> np.ndarray:
    """3x3 local-to-world rotation of a pose or box (about +Z only for upright ones)."""
    return yaw_rotation(pose.yaw) if pose.upright else quaternion_matrix(pose.rotation)


def local_to_world(points: np.ndarray, pose: Pose) -> np.ndarray:
    """Map (N, 3) points from an object's local frame to the world frame."""
    return points @ rotation(pose).T + np.asarray(pose.position)


def world_to_local(points: np.ndarray, pose: Pose) -> np.ndarray:
    """Map (N, 3) world points into an object's local frame (inverse of :func:`local_to_world`)."""
    return (points - np.asarray(pose.position)) @ rotation(pose)


def footprint(box: Box3D) -> Polygon:
    """The box's floor-plane outline: its rectangle when upright, else the convex hull of its
    corners seen from above."""
    if not box.upright:
        return Polygon([c[:2] for c in box.corners()]).convex_hull
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    hx, hy = box.size[0] / 2, box.size[1] / 2
    pts = [
        (box.center[0] + c * x - s * y, box.center[1] + s * x + c * y)
        for x, y in ((-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy))
    ]
    return Polygon(pts)
