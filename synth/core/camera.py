"""The pinhole camera, OpenCV convention: intrinsics, extrinsics, projection, back-projection
and Brown-Conrady lens distortion (numpy).

Conventions (those of the scene model, ``synth.core.scene``):
- ``K`` is the 3x3 intrinsic matrix ``[[fx, s, cx], [0, fy, cy], [0, 0, 1]]`` in pixels, with
  pixel centres at integer coordinates (the top-left pixel's centre is (0, 0)).
- ``world_to_camera`` is the 4x4 matrix ``[[R, t], [0, 1]]`` mapping world points (right-handed,
  +Z up, metres) to camera coordinates ``x_cam = R x_world + t``: +X right, +Y down, +Z forward.
  ``z`` is camera-space (planar) depth, not the distance along the ray.
- Normalised coordinates are ``(x / z, y / z)``; a pixel is ``(fx x + cx, fy y + cy)`` (the
  skew ``s`` is 0 in every camera synth makes; projection and back-projection ignore it).
- Lens distortion is Brown-Conrady ``(k1, k2, p1, p2, k3)`` in OpenCV's order, applied to
  normalised coordinates (``CameraFrame.distortion``, set on degraded variants only).
- Fields of view are full angles in radians; settings that users type are in degrees
  (:data:`HfovDeg`).
"""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
from pydantic import Field

from synth.core.scene import CameraFrame

Coeffs = tuple[float, float, float, float, float]  # Brown-Conrady (k1, k2, p1, p2, k3), OpenCV order

DEFAULT_HFOV_DEG = 70.0
HfovDeg = Annotated[float, Field(gt=1, lt=179, description="horizontal field of view, degrees")]


# ------------------------------------------------------------------------------ intrinsics
def intrinsics(width: int, height: int, hfov: float) -> np.ndarray:
    """Pinhole K (3x3) of a ``width`` x ``height`` image with horizontal field of view ``hfov``
    (radians), square pixels, principal point at the image centre."""
    f = (width / 2.0) / math.tan(hfov / 2.0)
    return np.array([[f, 0.0, width / 2.0 - 0.5], [0.0, f, height / 2.0 - 0.5], [0.0, 0.0, 1.0]])


def horizontal_fov(K, width: int) -> float:
    """Horizontal field of view (radians) of a centred camera ``K`` over ``width`` pixels."""
    return 2 * math.atan(width / 2 / K[0][0])


def vertical_fov(K, height: int) -> float:
    """Vertical field of view (radians) of a centred camera ``K`` over ``height`` pixels."""
    return 2 * math.atan(height / 2 / K[1][1])


def scale_intrinsics(K, scale: int) -> np.ndarray:
    """K (3x3) of the image downscaled by ``scale`` (each output pixel covers ``scale`` x
    ``scale`` input pixels), pixel centres kept: ``c' + 1/2 = (c + 1/2) / scale``, as Blender's
    ``resolution_percentage`` does."""
    K = np.array(K, dtype=float)
    K[0, 0], K[0, 1], K[1, 1] = K[0, 0] / scale, K[0, 1] / scale, K[1, 1] / scale
    K[0, 2], K[1, 2] = (K[0, 2] + 0.5) / scale - 0.5, (K[1, 2] + 0.5) / scale - 0.5
    return K


# ------------------------------------------------------------------------------ extrinsics
def extrinsics(rotation: np.ndarray, center: np.ndarray) -> np.ndarray:
    """4x4 world-to-camera matrix of a camera at ``center`` (world, metres) whose world-to-camera
    rotation is ``rotation`` (3x3; its rows are the camera's right, down, forward axes in world
    coordinates)."""
    T = np.eye(4)
    T[:3, :3] = rotation
    T[:3, 3] = -rotation @ center
    return T


def look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """4x4 world-to-camera matrix for a camera at ``eye`` looking at ``target`` with no roll
    (image up is as close to world +Z as possible)."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-9:
        raise ValueError("camera looks straight up or down: roll is undefined")
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return extrinsics(np.stack([right, down, forward]), eye)


def camera_center(world_to_camera) -> np.ndarray:
    """The camera's position (3,) in the world frame."""
    T = np.asarray(world_to_camera, float)
    R, t = T[:3, :3], T[:3, 3]
    return -R.T @ t


def to_camera(world_to_camera, points: np.ndarray) -> np.ndarray:
    """World points (N, 3) -> camera coordinates (N, 3)."""
    T = np.asarray(world_to_camera, float)
    return points @ T[:3, :3].T + T[:3, 3]


def to_world(world_to_camera, points: np.ndarray) -> np.ndarray:
    """Camera coordinates (N, 3) -> world points (N, 3) (the inverse of :func:`to_camera`)."""
    T = np.asarray(world_to_camera, float)
    return (points - T[:3, 3]) @ T[:3, :3]


# ------------------------------------------------------------------------------ lens distortion
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


# ------------------------------------------------------------------------------ projection
def normalized_to_pixels(K, xy: np.ndarray) -> np.ndarray:
    """Normalised coordinates (N, 2) -> pixels (N, 2): ``(fx x + cx, fy y + cy)``."""
    K = np.asarray(K, float)
    return np.stack([K[0, 0] * xy[:, 0] + K[0, 2], K[1, 1] * xy[:, 1] + K[1, 2]], axis=1)


def pixels_to_normalized(K, uv: np.ndarray) -> np.ndarray:
    """Pixels (N, 2) -> normalised coordinates (N, 2): ``((u - cx) / fx, (v - cy) / fy)``."""
    K = np.asarray(K, float)
    return np.stack([(uv[:, 0] - K[0, 2]) / K[0, 0], (uv[:, 1] - K[1, 2]) / K[1, 1]], axis=1)


def camera_to_pixels(K, points: np.ndarray, distortion: Coeffs | None = None) -> np.ndarray:
    """Camera-space points (N, 3) -> pixels (N, 2), through the lens ``distortion`` if given.
    Points with ``|z| < 1e-9`` are divided by 1e-9 (finite pixels; callers keep ``z > 0``)."""
    z = points[:, 2]
    safe = np.where(np.abs(z) < 1e-9, 1e-9, z)
    xy = points[:, :2] / safe[:, None]
    if distortion is not None:
        xy = distort(xy, distortion)
    return normalized_to_pixels(K, xy)


def pixels_to_camera(K, uv: np.ndarray, z: np.ndarray, distortion: Coeffs | None = None) -> np.ndarray:
    """Pixels (N, 2) with planar depth ``z`` (N,) -> camera-space points (N, 3), through the lens
    ``distortion`` if given (the inverse of :func:`camera_to_pixels`)."""
    xy = pixels_to_normalized(K, uv)
    if distortion is not None:
        xy = undistort(xy, distortion)
    return np.concatenate([xy * z[:, None], z[:, None]], axis=1)


def depth_to_camera(depth: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Camera-space points (H, W, 3) of every pixel of a planar depth map (H, W) (``inf`` where
    the depth is), pinhole: each pixel's ray ``K^-1 (u, v, 1)`` times its depth."""
    h, w = depth.shape
    ys, xs = np.mgrid[0:h, 0:w]
    rays = np.stack([xs, ys, np.ones_like(xs)], -1) @ np.linalg.inv(K).T
    return (rays * depth[..., None]).astype(np.float64)


def project(camera: CameraFrame, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World points (N, 3) -> pixels (N, 2) (through the camera's lens distortion, if any) and
    camera-space depth z (N,)."""
    cam = to_camera(camera.world_to_camera, points)
    return camera_to_pixels(camera.K, cam, camera.distortion), cam[:, 2]


def back_project(camera: CameraFrame, uv: np.ndarray, z: np.ndarray) -> np.ndarray:
    """World points (N, 3) of pixels ``uv`` (N, 2) with planar depth ``z`` (N,) metres (through
    the camera's lens distortion, if any)."""
    return to_world(camera.world_to_camera, pixels_to_camera(camera.K, uv, z, camera.distortion))
