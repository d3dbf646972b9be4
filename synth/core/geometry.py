"""Camera and rigid-body geometry shared by adapters, planners and programs (numpy)."""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Polygon

from synth.core.scene import Box3D, CameraFrame, Pose


def yaw_rotation(yaw: float) -> np.ndarray:
    """3x3 rotation about +Z by ``yaw`` radians."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rotation(pose: Pose | Box3D) -> np.ndarray:
    """3x3 local-to-world rotation of a pose or box (about +Z only for upright ones)."""
    return yaw_rotation(pose.yaw) if pose.upright else np.asarray(pose.matrix())


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


def intrinsics(width: int, height: int, hfov: float) -> np.ndarray:
    """Pinhole K for a horizontal field of view (radians), square pixels, centred."""
    f = (width / 2.0) / math.tan(hfov / 2.0)
    return np.array([[f, 0.0, width / 2.0 - 0.5], [0.0, f, height / 2.0 - 0.5], [0.0, 0.0, 1.0]])


def look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """4x4 OpenCV world-to-camera matrix for a camera at ``eye`` looking at ``target``
    with no roll (image up is as close to world +Z as possible)."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-9:
        raise ValueError("camera looks straight up or down: roll is undefined")
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    R = np.stack([right, down, forward])
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = -R @ eye
    return T


def camera_center(world_to_camera: np.ndarray) -> np.ndarray:
    R, t = world_to_camera[:3, :3], world_to_camera[:3, 3]
    return -R.T @ t


def to_camera(camera: CameraFrame, points: np.ndarray) -> np.ndarray:
    """World (N, 3) -> camera coordinates (N, 3)."""
    T = np.asarray(camera.world_to_camera)
    return points @ T[:3, :3].T + T[:3, 3]


def project(camera: CameraFrame, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World (N, 3) -> pixel coordinates (N, 2) and camera-space depth z (N,)."""
    pc = to_camera(camera, points)
    z = pc[:, 2]
    uvw = pc @ np.asarray(camera.K).T
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = uvw[:, :2] / uvw[:, 2:3]
    return uv, z


Coeffs = tuple[float, float, float, float, float]  # Brown-Conrady (k1, k2, p1, p2, k3), OpenCV order


def distort(xn: np.ndarray, c: Coeffs) -> np.ndarray:
    """Normalised (N, 2) points -> distorted normalised points."""
    k1, k2, p1, p2, k3 = c
    x, y = xn[:, 0], xn[:, 1]
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    return np.stack(
        [x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x), y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y], 1
    )


def undistort(xd: np.ndarray, c: Coeffs, iterations: int = 30) -> np.ndarray:
    """Inverse of :func:`distort` by fixed-point iteration (as OpenCV's undistortPoints)."""
    k1, k2, p1, p2, k3 = c
    x = xd.copy()
    for _ in range(iterations):
        u, v = x[:, 0], x[:, 1]
        r2 = u * u + v * v
        radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
        dx = 2 * p1 * u * v + p2 * (r2 + 2 * u * u)
        dy = p1 * (r2 + 2 * v * v) + 2 * p2 * u * v
        x = np.stack([(xd[:, 0] - dx) / radial, (xd[:, 1] - dy) / radial], 1)
    return x
