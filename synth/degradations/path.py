"""Continuous camera and object motion between an episode's frames.

Camera poses are interpolated on SE(3) (centre linearly, rotation along the geodesic) and
extrapolated at constant velocity past the first/last frame, so an exposure that straddles
a frame time follows the real path. Object poses are interpolated linearly (yaw unwrapped)
and held before the first and after the last frame.
"""

from __future__ import annotations

import numpy as np

from synth.core.camera import camera_center, extrinsics
from synth.core.rotations import rotation_exp, rotation_log
from synth.core.scene import Episode


def _segment(times: np.ndarray, t: float) -> tuple[int, float]:
    """Index a of the segment [times[a], times[a+1]] used at time t and the fraction s along it
    (s < 0 or s > 1 past the ends)."""
    a = int(np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2))
    return a, (t - times[a]) / (times[a + 1] - times[a])


def camera_at(episode: Episode, t: float) -> np.ndarray:
    """4x4 OpenCV world-to-camera matrix at time ``t`` (seconds)."""
    frames = episode.frames
    if len(frames) == 1:
        return np.asarray(frames[0].camera.world_to_camera, float)
    a, s = _segment(np.array([f.time for f in frames]), t)
    Ta = np.asarray(frames[a].camera.world_to_camera, float)
    Tb = np.asarray(frames[a + 1].camera.world_to_camera, float)
    # camera-to-world rotations and centres
    Ra, Rb = Ta[:3, :3].T, Tb[:3, :3].T
    ca, cb = camera_center(Ta), camera_center(Tb)
    R = Ra @ rotation_exp(s * rotation_log(Ra.T @ Rb))
    return extrinsics(R.T, ca + s * (cb - ca))


def object_poses_at(episode: Episode, t: float) -> dict[int, tuple[float, np.ndarray]]:
    """Object id -> (yaw, position) at time ``t``."""
    frames = episode.frames
    if len(frames) == 1:
        return {p.id: (p.yaw, np.asarray(p.position, float)) for p in frames[0].object_poses}
    a, s = _segment(np.array([f.time for f in frames]), t)
    s = float(np.clip(s, 0.0, 1.0))  # held past the ends
    out = {}
    pb = {p.id: p for p in frames[a + 1].object_poses}
    for p in frames[a].object_poses:
        q = pb[p.id]
        dyaw = (q.yaw - p.yaw + np.pi) % (2 * np.pi) - np.pi
        out[p.id] = (p.yaw + s * dyaw, np.asarray(p.position) + s * (np.asarray(q.position) - np.asarray(p.position)))
    return out
